// Training progress as text, shared by `nodenn train` and fit({ verbose }): on a terminal a live line (bar, running
// loss and accuracy, throughput, time left) redrawn in place, then one line per epoch; elsewhere (a pipe, a log file)
// the epoch lines only. Also the guarded output both write through.
import type { BatchInfo, Callback, EpochInfo, TrainBeginInfo } from './callbacks';
import { describeValue, invalid, knownOptions, oneOf, optionsObject } from './validate';

export interface Output {
  out: (s: string) => void;
  err: (s: string) => void;
  /** A live line (progress bar) is only drawn on a terminal. */
  isTTY: boolean;
  columns: number;
}

/** What streamOutput needs of process.stdout / process.stderr. */
export interface OutStream {
  write(s: string): unknown;
  on(event: 'error', listener: (e: Error) => void): unknown;
  isTTY?: boolean;
  columns?: number;
}

/**
 * An Output on two streams that outlives them: a write error (the reader of a pipe has gone: `| head`, a full disk:
 * `> /dev/full`) marks that stream broken and later writes to it are dropped, so training and saving go on and the
 * exit code stays that of the run. A broken pipe is how a reader says it has read enough, so it passes silently;
 * any other error is noted once on the other stream.
 */
export function streamOutput(stdout: OutStream, stderr: OutStream): Output {
  const guard = (stream: OutStream, name: string, note: (s: string) => void): ((s: string) => void) => {
    let broken = false;
    const fail = (e: Error): void => {
      if (broken) return;
      broken = true;
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EPIPE') note(`nodenn: cannot write to ${name} (${e.message}); the run goes on without it\n`);
    };
    stream.on('error', fail);
    return (s) => {
      if (broken) return;
      try {
        stream.write(s);
      } catch (e) {
        fail(e as Error);
      }
    };
  };
  let err: (s: string) => void = () => undefined;
  const out = guard(stdout, 'stdout', (s) => err(s));
  err = guard(stderr, 'stderr', out);
  return {
    out,
    err,
    isTTY: Boolean(stdout.isTTY),
    // Read at each draw: the terminal may be resized during training.
    get columns() { return stdout.columns || 100; },
  };
}

let processOutput: Output | undefined;
/** process.stdout and process.stderr through streamOutput, made once (one 'error' listener each, however many runs). */
export function processStdio(): Output {
  processOutput ??= streamOutput(process.stdout, process.stderr);
  return processOutput;
}

export function formatDuration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s - 60 * m)).padStart(2, '0')}s`;
}

export function pct(a: number): string {
  return `${(100 * a).toFixed(2)}%`;
}

/**
 * A finite integer with commas between groups of three digits, as toLocaleString('en-US') writes it, without the
 * ~30 ms of CPU that its first call spends loading the locale data.
 */
export function thousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * One progress line: epoch, bar, batches, running loss/accuracy, throughput, time left in the epoch. It fits in
 * `columns - 1` characters, since a live line that wraps is redrawn below itself instead of over itself (and some
 * terminals wrap on the last column): on a narrow terminal the throughput, the time left, the bar, the accuracy and
 * the loss go, in that order, and a terminal narrower than what is left gets the line cut. Without an accuracy
 * (a regression loss) that part is left out.
 */
export function progressLine(p: { epoch: number; epochs: number; batch: number; batches: number; loss: number; accuracy?: number;
  samplesPerSec: number; eta: number; columns: number }): string {
  const limit = Math.max(1, Math.floor(p.columns) - 1);
  // The bar's width depends only on the terminal's, so it does not jitter as the numbers change.
  const width = Math.max(10, Math.min(30, p.columns - 95));
  const done = Math.round((p.batch / p.batches) * width);
  const bar = ' [' + '='.repeat(Math.max(0, done - 1)) + (done > 0 ? (done === width ? '=' : '>') : '') + ' '.repeat(width - done) + ']';
  const parts = {
    head: `epoch ${p.epoch}/${p.epochs}`,
    bar,
    count: ` ${p.batch}/${p.batches}`,
    loss: `  loss ${p.loss.toFixed(4)}`,
    acc: p.accuracy === undefined ? '' : `  acc ${pct(p.accuracy)}`,
    rate: `  ${thousands(Math.round(p.samplesPerSec))} samples/s`,
    eta: `  ETA ${formatDuration(p.eta)}`,
  };
  const shown = new Set(Object.keys(parts) as (keyof typeof parts)[]);
  const line = (): string => [...shown].map((k) => parts[k]).join('');
  for (const drop of ['rate', 'eta', 'bar', 'acc', 'loss'] as const) {
    if (line().length <= limit) break;
    shown.delete(drop);
  }
  return line().slice(0, limit);
}

/** An epoch's values after the loss: accuracy as a percentage, the others with 4 decimals, validation ones as val_*. */
function epochValues(e: EpochInfo): string {
  const parts: string[] = [];
  const show = (label: string, v: number | undefined, percent: boolean): void => {
    if (typeof v === 'number') parts.push(`${label} ${percent ? pct(v) : v.toFixed(4)}`);
  };
  show('acc', e.accuracy, true);
  const metrics = Object.keys(e).filter((k) => !['epoch', 'loss', 'accuracy', 'valLoss', 'valAccuracy', 'lr'].includes(k) &&
    !/^val[A-Z]/.test(k) && typeof e[k] === 'number');
  for (const k of metrics) show(k, e[k], false);
  show('val_loss', e.valLoss, false);
  show('val_acc', e.valAccuracy, true);
  for (const k of metrics) show(`val_${k}`, e[`val${k[0].toUpperCase()}${k.slice(1)}`], false);
  return parts.map((p) => `  ${p}`).join('');
}

/** Where a ProgressBar writes: a stream (process.stdout) or anything with write(); isTTY and columns as a stream's. */
export interface ProgressSink {
  /** Writes the text as it is (it holds its own newlines and carriage returns). */
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Options of ProgressBar. */
export interface ProgressBarOptions {
  /** Where to write (default process.stdout, guarded against a closed pipe). */
  output?: ProgressSink;
  /** 1: a live bar on a terminal, epoch lines elsewhere (default); 2: epoch lines only, as Keras's verbose levels. */
  verbose?: 1 | 2;
}

/** The least time between two draws of the live line, in ms: a terminal redrawn for every batch slows training. */
const DRAW_MS = 100;

/**
 * Prints training progress (what fit({ verbose: 1 }) adds): on a terminal a live line redrawn in place after the
 * batches (at most every 100 ms, and after the last), then, for every epoch, a line with its loss, accuracy,
 * metrics, validation values, time and throughput:
 *   epoch 2/5  loss 0.1234  acc 96.10%  val_loss 0.1345  val_acc 95.80%  1.9s  28,012 samples/s
 */
export class ProgressBar implements Callback {
  private readonly sink: ProgressSink;
  private readonly live: boolean;
  private epochs = 0;
  private epochT0 = 0;
  private lastDraw = 0;
  private seen = 0;
  private lossSum = 0;
  private correctSum = 0;
  private hasAccuracy = false;
  private epochSamples = 0;
  /** Whether a live line is on the terminal, not yet replaced by an epoch's line. */
  private lineOpen = false;

  constructor(opts: ProgressBarOptions = {}) {
    const o = optionsObject(opts, 'ProgressBar options');
    knownOptions(o, ['output', 'verbose'], 'ProgressBar');
    if (o.verbose !== undefined) oneOf(o.verbose, [1, 2], 'ProgressBar verbose');
    if (o.output !== undefined && (o.output === null || typeof (o.output as ProgressSink).write !== 'function')) {
      throw invalid('ProgressBar output', 'a stream (an object with write())', o.output, 'type');
    }
    this.sink = o.output ?? (() => {
      const io = processStdio();
      return { write: io.out, get isTTY() { return io.isTTY; }, get columns() { return io.columns; } };
    })();
    this.live = (o.verbose ?? 1) === 1;
  }

  private get tty(): boolean {
    return this.live && Boolean(this.sink.isTTY);
  }

  onTrainBegin(info: TrainBeginInfo): void {
    this.epochs = info.epochs;
    this.epochSamples = info.samples;
  }

  onEpochBegin(): void {
    this.epochT0 = performance.now();
    this.lastDraw = 0;
    this.seen = 0;
    this.lossSum = 0;
    this.correctSum = 0;
  }

  onBatchEnd(b: BatchInfo): void {
    // running means over the epoch so far: a single batch's loss is too noisy to read
    this.seen += b.size;
    this.lossSum += b.loss * b.size;
    this.hasAccuracy = b.accuracy !== undefined;
    if (b.accuracy !== undefined) this.correctSum += b.accuracy * b.size;
    if (!this.tty) return;
    const now = performance.now();
    if (now - this.lastDraw < DRAW_MS && b.batch + 1 < b.batches) return;
    this.lastDraw = now;
    this.lineOpen = true;
    const secs = Math.max((now - this.epochT0) / 1000, 1e-3);
    const rate = this.seen / secs;
    this.sink.write('\r\x1b[2K' + progressLine({
      epoch: b.epoch + 1, epochs: this.epochs, batch: b.batch + 1, batches: b.batches, loss: this.lossSum / this.seen,
      accuracy: this.hasAccuracy ? this.correctSum / this.seen : undefined, samplesPerSec: rate,
      eta: (this.epochSamples - this.seen) / rate, columns: this.sink.columns || 100,
    }));
  }

  onEpochEnd(e: EpochInfo): void {
    const secs = (performance.now() - this.epochT0) / 1000;
    this.lineOpen = false;
    this.sink.write(`${this.tty ? '\r\x1b[2K' : ''}epoch ${e.epoch + 1}/${this.epochs}  loss ${e.loss.toFixed(4)}${epochValues(e)}  ` +
      `${formatDuration(secs)}  ${thousands(Math.round(this.seen / secs))} samples/s\n`);
  }

  /** Ends a live line with a newline, keeping it in view (fit() calls this when training stops on an error or an abort). */
  interrupt(): void {
    if (this.lineOpen) this.sink.write('\n');
    this.lineOpen = false;
  }
}

/** What fit()'s verbose option adds: nothing (0), or a ProgressBar on process.stdout (1: live on a terminal, 2: epoch lines). */
export function verboseCallbacks(verbose: unknown): ProgressBar[] {
  if (verbose === undefined || verbose === 0) return [];
  if (verbose === 1 || verbose === 2) return [new ProgressBar({ verbose })];
  throw new RangeError(`verbose must be 0 (silent), 1 (a progress bar on a terminal, else a line per epoch) or 2 (a line ` +
    `per epoch), got ${describeValue(verbose)}`);
}
