// The metrics fit() and evaluate() report besides the loss, from the metrics registry (metrics.ts): which ones a
// metrics option asks for, and their values over a whole epoch or data set. Precision, recall, F1 and R² are not
// means over samples, so they are never averaged over batches: the outputs and targets of the epoch are kept (as
// predict() keeps its outputs) and each metric is computed once on all of them.
import type { LossFunction, LossName } from './losses';
import { METRIC_NAMES, type Metric, type MetricName, get as getMetric } from './metrics';
import { describeValue } from './validate';
import { type FloatArray, Tensor, allocate } from './tensor';

/** A metric by name ('f1', 'topKAccuracy', 'mae', ...: the metrics registry), or one made by metrics.get(name, options). */
export type MetricSpec = MetricName | Metric;

/** The metrics that can use a decision threshold for a single output column. */
const THRESHOLD_METRICS: readonly string[] = ['accuracy', 'precision', 'recall', 'f1'];

/** What a metrics option resolves to: whether to report the accuracy fit() counts itself, and the other metrics. */
export interface MetricPlan {
  accuracy: boolean;
  metrics: Metric[];
}

/** 'valF1' for 'f1': the key of a metric's value on the validation data. */
export function validationKey(name: string): string {
  return `val${name[0].toUpperCase()}${name.slice(1)}`;
}

function isMetric(v: unknown): v is Metric {
  const m = v as Partial<Metric> | null;
  return m !== null && typeof m === 'object' && typeof m.name === 'string' && typeof m.compute === 'function' &&
    (m.kind === 'classification' || m.kind === 'regression') && typeof m.greaterIsBetter === 'boolean';
}

/**
 * Checks a metrics option against the loss. The accuracy is reported for a classification loss without being asked;
 * for another loss (mse on 0/1 targets, a function) when asked. A metric named by a string is made with the
 * threshold of the loss (0 for binaryCrossEntropy's logits, 0.5 for a probability). A regression metric (mae, r2,
 * ...) of a classification loss's output compares scores with labels: refused.
 */
export function metricPlan(specs: unknown, loss: LossName | LossFunction, classification: boolean, threshold: number,
  caller: string): MetricPlan {
  const plan: MetricPlan = { accuracy: classification, metrics: [] };
  if (specs === undefined) return plan;
  if (!Array.isArray(specs)) {
    throw new TypeError(`${caller}: metrics must be an array of metric names (${METRIC_NAMES.map((n) => `'${n}'`).join(', ')}) ` +
      `or metrics.get() results, got ${describeValue(specs)}`);
  }
  const seen = new Set<string>();
  specs.forEach((spec: unknown, i) => {
    let metric: Metric | undefined;
    if (typeof spec === 'string') {
      if (!(METRIC_NAMES as readonly string[]).includes(spec)) {
        throw new RangeError(`${caller}: metrics[${i}] must be one of ${METRIC_NAMES.map((n) => `'${n}'`).join(', ')}, ` +
          `got ${describeValue(spec)}`);
      }
      if (spec !== 'accuracy') metric = getMetric(spec as MetricName, THRESHOLD_METRICS.includes(spec) ? { threshold } : {});
    } else if (isMetric(spec)) {
      metric = spec;
    } else {
      throw new TypeError(`${caller}: metrics[${i}] must be a metric name or a metrics.get() result, got ${describeValue(spec)}`);
    }
    const name = metric ? metric.name : 'accuracy';
    if (seen.has(name)) throw new RangeError(`${caller}: metrics names '${name}' twice`);
    seen.add(name);
    if (metric?.kind === 'regression' && classification) {
      throw new TypeError(`${caller}: '${name}' is a regression metric, but the loss ${describeValue(loss)} is a ` +
        "classification loss (its outputs are class scores, its targets labels); use 'accuracy', 'topKAccuracy', " +
        "'precision', 'recall' or 'f1'");
    }
    if (metric) {
      // a metrics.get('accuracy', { ... }) result takes the place of the accuracy fit() counts
      if (name === 'accuracy') plan.accuracy = false;
      plan.metrics.push(metric);
    } else {
      plan.accuracy = true;
    }
  });
  return plan;
}

/** Each metric's value on (output, target), its errors prefixed with the caller and the metric's name. */
export function computeMetrics(metrics: readonly Metric[], output: Tensor, target: Int32Array | Tensor,
  caller: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of metrics) {
    try {
      out[m.name] = m.compute(output, target);
    } catch (e) {
      if (!(e instanceof Error)) throw e;
      const Class = e instanceof TypeError ? TypeError : e instanceof RangeError ? RangeError : Error;
      throw new Class(`${caller}: metric '${m.name}': ${e.message}`);
    }
  }
  return out;
}

/**
 * Output rows and their targets, batch after batch, copied into arrays sized for `capacity` samples (made on first
 * use), grown (doubled) when more come, as from a dataset whose size is not known in advance.
 */
export class OutputCollector {
  private out: FloatArray | null = null;
  private target: Int32Array | FloatArray | null = null;
  private outShape: number[] = [];
  private targetShape: number[] = [];
  private outPer = 0;
  private targetPer = 0;
  private rows = 0;

  constructor(private capacity: number) {}

  reset(): void {
    this.rows = 0;
  }

  add(output: Tensor, target: Int32Array | Tensor): void {
    const m = output.shape[0];
    if (!this.out) {
      this.outShape = output.shape.slice(1);
      this.outPer = output.size / m;
      this.capacity = Math.max(this.capacity, m);
      this.out = allocate(output.dtype, this.capacity * this.outPer);
      if (target instanceof Int32Array) {
        this.targetPer = 1;
        this.target = new Int32Array(this.capacity);
      } else {
        this.targetShape = target.shape.slice(1);
        this.targetPer = target.size / m;
        this.target = allocate(target.dtype, this.capacity * this.targetPer);
      }
    }
    if (this.rows + m > this.capacity) this.grow(Math.max(2 * this.capacity, this.rows + m));
    this.out.set(output.data, this.rows * this.outPer);
    if (target instanceof Int32Array) (this.target as Int32Array).set(target, this.rows);
    else (this.target as FloatArray).set(target.data, this.rows * this.targetPer);
    this.rows += m;
  }

  private grow(capacity: number): void {
    const out = this.out as FloatArray, target = this.target as Int32Array | FloatArray;
    const bigger = allocate(out instanceof Float64Array ? 'float64' : 'float32', capacity * this.outPer);
    bigger.set(out.subarray(0, this.rows * this.outPer));
    const biggerTarget = target instanceof Int32Array ? new Int32Array(capacity)
      : allocate(target instanceof Float64Array ? 'float64' : 'float32', capacity * this.targetPer);
    biggerTarget.set(target.subarray(0, this.rows * this.targetPer));
    this.out = bigger;
    this.target = biggerTarget;
    this.capacity = capacity;
  }

  /** The rows added since the last reset, as an output tensor and targets (views of the kept arrays). */
  collected(): [Tensor, Int32Array | Tensor] {
    const out = this.out as FloatArray, target = this.target as Int32Array | FloatArray;
    const output = new Tensor(out.subarray(0, this.rows * this.outPer), [this.rows, ...this.outShape]);
    return [output, target instanceof Int32Array ? target.subarray(0, this.rows)
      : new Tensor(target.subarray(0, this.rows * this.targetPer), [this.rows, ...this.targetShape])];
  }
}
