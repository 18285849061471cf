// nn.Module: a model written as a class whose forward() uses tensor operations; autograd gives its backward.
// Parameters and sub-modules are found from the object's own properties, PyTorch's way: a Tensor that requires a
// gradient is a parameter, a Module a sub-module, a built-in layer (nn.Dense, ...) a leaf module whose parameters
// are its own, and an array of them (PyTorch's ModuleList/ParameterList) holds several; names are the property
// paths ('fc.weight', 'blocks.0.bias'). Built-in layers are called with layer.call(x) (see Layer.call).
//
//   class Affine extends nn.Module {
//     constructor() { super(); this.weight = nn.randn([3, 2]).requiresGrad_(); this.bias = nn.zeros([2]).requiresGrad_(); }
//     forward(x) { return x.matmul(this.weight).add(this.bias); }
//   }
//   const model = new Affine(), opt = new nn.SGD({ lr: 0.1 });
//   model.call(x).sub(y).square().mean().backward(); opt.step(model.parameters()); opt.zeroGrad();
//
// A Module also works where a Layer does (module.asLayer(), src/autograd/module-layer.ts): inside a Sequential, and
// through one in fit/evaluate/predict/save/load (module.fit(...) builds that Sequential of one layer itself).
import { Tensor, formatShape } from '../tensor';
import { describeValue } from '../validate';
import { noGrad } from './tape';
import { Layer, type LayerConfig } from '../layers/layer';
import { ModuleLayer } from './module-layer';
import {
  Sequential, type EvaluateOptions, type EvaluateResult, type FitOptions, type History, type Input, type SaveOptions,
  type Targets, type CompileOptions, type LoadOptions,
} from '../network';
import type { Dataset } from '../data/dataset';
import type { Batch } from '../data/batches';
import type { ExportOnnxOptions } from '../io/onnx/export';

/** The Layer view of each Module (asLayer), and the Sequential of one layer that module.fit() and the like run. */
const layerViews = new WeakMap<Module, ModuleLayer>();
const networks = new WeakMap<Module, Sequential>();
/** The input shape of each Module's last call (summary's default). */
const lastInputShapes = new WeakMap<Module, readonly number[]>();

/**
 * A model written as a class: parameters and sub-modules are its properties, forward() uses tensor operations and
 * built-in layers (layer.call(x)), and autograd gives the backward (PyTorch's nn.Module).
 */
export abstract class Module {
  /** Training mode (dropout and batch statistics on); train() and eval() set it on every sub-module. */
  training = true;

  /** The computation; call() runs it. */
  abstract forward(...inputs: Tensor[]): Tensor;

  /**
   * Optional: the output shape for an input shape (batch axis included). Without it, a Sequential or summary()
   * that needs the shape runs forward() once on a batch of one zeros (eval mode, nothing recorded).
   */
  outputShape?(inputShape: readonly number[]): number[];

  /** forward(...inputs) (PyTorch's module(x)). */
  call(...inputs: Tensor[]): Tensor {
    if (inputs[0] instanceof Tensor) lastInputShapes.set(this, inputs[0].shape);
    return this.forward(...inputs);
  }

  /** This module ('') and its sub-modules by name, depth first, each once (a module reachable twice, or a cycle). */
  namedModules(): [string, Module][] {
    const out: [string, Module][] = [];
    const seen = new Set<Module>();
    const visit = (m: Module, prefix: string): void => {
      if (seen.has(m)) return;
      seen.add(m);
      out.push([prefix, m]);
      for (const [name, c] of m.children()) visit(c, prefix === '' ? name : `${prefix}.${name}`);
    };
    visit(this, '');
    return out;
  }

  /**
   * The built-in layers in this module and its sub-modules by name ('fc', 'body.0'), each once: properties that are
   * layers, and the layers of a Sequential property (named by their index in it, as PyTorch names nn.Sequential's).
   */
  namedLayers(): [string, Layer][] {
    const out: [string, Layer][] = [];
    const seen = new Set<Layer>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, v] of m.ownEntries()) {
        if (!(v instanceof Layer) || seen.has(v)) continue;
        seen.add(v);
        out.push([prefix === '' ? name : `${prefix}.${name}`, v]);
      }
    }
    return out;
  }

  /**
   * The parameters by name ('fc.weight', 'body.0.bias'), each once, in property order, this module's own before its
   * sub-modules'. A built-in layer's parameters (also those of a Sequential property's layers) are named by the
   * layer's names for them, and become autograd parameters (requiresGrad).
   */
  namedParameters(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, v] of m.ownEntries()) {
        const full = prefix === '' ? name : `${prefix}.${name}`;
        const entries: [string, unknown][] = v instanceof Layer ? v.params.map((p, i) => [`${full}.${v.paramNames[i]}`, p]) : [[full, v]];
        for (const [n, t] of entries) {
          if (!(t instanceof Tensor) || seen.has(t) || !(t.requiresGrad || v instanceof Layer)) continue;
          if (!t.requiresGrad) t.requiresGrad = true;
          seen.add(t);
          out.push([n, t]);
        }
      }
    }
    return out;
  }

  /** The parameters (tensors that require a gradient), for an optimizer: `opt.step(model.parameters())`. */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** The built-in layers' buffers by name ('bn.running_mean'): state that is saved but not trained. */
  namedBuffers(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [name, l] of this.namedLayers()) l.buffers.forEach((b, i) => out.push([`${name}.${l.bufferNames[i]}`, b]));
    return out;
  }

  /** Every parameter and buffer by name, detached (sharing the data): what saving a model keeps (PyTorch's state_dict). */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [name, t] of [...this.namedParameters(), ...this.namedBuffers()]) out[name] = t.detach();
    return out;
  }

  /**
   * Copies the values of a stateDict() into the parameters and buffers of the same names. Strict, as PyTorch's
   * default: a missing or unexpected name, or a shape that differs, is an error naming it, and nothing is copied then.
   */
  loadStateDict(state: Record<string, Tensor>): void {
    if (state === null || typeof state !== 'object') {
      throw new TypeError(`loadStateDict: state must be an object of tensors by name, got ${describeValue(state)}`);
    }
    const params = new Map([...this.namedParameters(), ...this.namedBuffers()]);
    const missing = [...params.keys()].filter((k) => !(k in state));
    const unexpected = Object.keys(state).filter((k) => !params.has(k));
    if (missing.length > 0 || unexpected.length > 0) {
      throw new RangeError(`loadStateDict: ${missing.length > 0 ? `missing ${missing.join(', ')}` : ''}` +
        `${missing.length > 0 && unexpected.length > 0 ? '; ' : ''}` +
        `${unexpected.length > 0 ? `unexpected ${unexpected.join(', ')}` : ''}`);
    }
    for (const [name, p] of params) {
      const v = state[name];
      if (!(v instanceof Tensor)) throw new TypeError(`loadStateDict: ${name} must be a Tensor, got ${describeValue(v)}`);
      if (v.shape.length !== p.shape.length || v.shape.some((d, i) => d !== p.shape[i])) {
        throw new RangeError(`loadStateDict: ${name} has shape ${formatShape(v.shape)} but the parameter has ${formatShape(p.shape)}`);
      }
    }
    noGrad(() => { for (const [name, p] of params) p.data.set(state[name].data); });
  }

  /** Training mode for this module, every sub-module and every built-in layer and Sequential in them; returns this. */
  train(mode = true): this {
    if (typeof mode !== 'boolean') throw new TypeError(`train: mode must be a boolean, got ${describeValue(mode)}`);
    for (const [, m] of this.namedModules()) {
      m.training = mode;
      for (const v of Object.values(m)) {
        if (v instanceof Sequential && v.isTraining !== mode) {
          if (mode) v.train(); else v.eval();
        }
      }
    }
    for (const [, l] of this.namedLayers()) l.training = mode;
    return this;
  }

  /** Inference mode (train(false)); returns this. */
  eval(): this {
    return this.train(false);
  }

  /**
   * Writes the module as an ONNX model (torch.onnx.export): forward() is traced on example inputs of
   * options.inputShape (one sample, without the batch axis) and the tensor operations and built-in layers it runs
   * become the graph, in inference mode. An operation without an ONNX counterpart is an OnnxExportError naming it.
   */
  async exportOnnx(path: string, options: ExportOnnxOptions): Promise<void> {
    const { exportOnnx } = await import('../io/onnx/export.js');  // when first used, as Sequential's
    await exportOnnx(this, path, options);
  }

  /** Sets every parameter's .grad to null (PyTorch's default). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /**
   * What rebuilds this module from a saved file: { type } and the constructor's options. The type is the class
   * name unless overridden; register how to build it with `nn.registerLayer(type, (c) => new MyModule(...))` in
   * the script that saves and in the one that loads. A module whose constructor takes options overrides this.
   */
  config(): LayerConfig {
    return { type: this.constructor.name };
  }

  /**
   * This module as a Layer (one per module): what a Sequential holds when given a Module. Its forward runs
   * forward() recording, its backward autograd; parameters keep their names ('fc.weight').
   */
  asLayer(): ModuleLayer {
    let l = layerViews.get(this);
    if (l === undefined) {
      l = new ModuleLayer(this);
      layerViews.set(this, l);
    }
    return l;
  }

  /** The Sequential of this one module that fit(), evaluate(), predict() and save() run (in the parameters' dtype). */
  private network(): Sequential {
    let net = networks.get(this);
    if (net === undefined) {
      const p = this.parameters()[0];
      net = new Sequential([this], { dtype: p?.dtype ?? 'float32' });
      networks.set(this, net);
    }
    return net;
  }

  /** Sequential.compile for this module: the loss, optimizer and metrics fit() and evaluate() use by default. */
  compile(options: CompileOptions): this {
    this.network().compile(options);
    return this;
  }

  /**
   * Trains the module with Sequential's loop: the same options and callbacks (loss, optimizer, epochs, batchSize,
   * validation, callbacks, signal, ...), the same Datasets; the module is in training mode during it and in eval
   * mode for validation.
   */
  fit(x: Input, y: Targets, options?: FitOptions): Promise<History>;
  fit(data: Dataset<Batch>, options?: FitOptions): Promise<History>;
  fit(x: Input | Dataset<Batch>, y?: Targets | FitOptions, options?: FitOptions): Promise<History> {
    return (this.network().fit as (a: unknown, b?: unknown, c?: unknown) => Promise<History>)(x, y, options);
  }

  /** Sequential.evaluate for this module (eval mode, nothing recorded). */
  evaluate(x: Input, y: Targets, options?: EvaluateOptions): EvaluateResult;
  evaluate(data: Dataset<Batch>, options?: EvaluateOptions): Promise<EvaluateResult>;
  evaluate(x: Input | Dataset<Batch>, y?: Targets | EvaluateOptions, options?: EvaluateOptions): EvaluateResult | Promise<EvaluateResult> {
    return (this.network().evaluate as (a: unknown, b?: unknown, c?: unknown) => EvaluateResult)(x, y, options);
  }

  /** The outputs for a batch (or one sample), in eval mode, nothing recorded (Sequential.predict). */
  predict(x: Input, opts: { batchSize?: number } = {}): Tensor {
    return this.network().predict(x, opts);
  }

  /** The predicted class of each sample (Sequential.predictClasses). */
  predictClasses(x: Input, opts: { batchSize?: number } = {}): Int32Array {
    return this.network().predictClasses(x, opts);
  }

  /**
   * Saves the module as a model file: float32 safetensors with nodenn's architecture metadata, as a Sequential of
   * this one module (tensors '0.fc.weight', ...), so Module.load and Sequential.load both read it. Its type
   * (config().type) must be registered with nn.registerLayer. Options as Sequential.save.
   */
  async save(path: string, options: SaveOptions = {}): Promise<void> {
    await this.network().save(path, options);
  }

  /**
   * Loads a module saved by save(): its type must be registered (nn.registerLayer) in this script too. A file of
   * a Sequential of several layers is a RangeError (load it with Sequential.load).
   */
  static async load(path: string, opts: LoadOptions = {}): Promise<Module> {
    const net = await Sequential.load(path, opts);
    const only = net.layers.length === 1 ? net.layers[0] : null;
    if (!(only instanceof ModuleLayer)) {
      throw new RangeError(`Module.load: ${path} holds a Sequential of ${net.layers.length} layer(s) ` +
        `(${net.layers.map((l) => l.name).join(', ')}), not one Module: load it with Sequential.load`);
    }
    networks.set(only.module, net);
    return only.module;
  }

  /**
   * A table of the sub-modules and built-in layers (by name), their output shapes for samples of `inputShape`
   * (default: the last input's; shown where known) and parameter counts (a module's own, its sub-modules' on their
   * own rows).
   */
  summary(inputShape?: readonly number[]): string {
    const rows: [string, string, string, string][] = [['Name', 'Type', 'Output shape', 'Params']];
    const shapes = new Map<object, readonly number[]>();
    const last = lastInputShapes.get(this);
    const sample = inputShape ?? (last ? last.slice(1) : null);
    if (sample !== null) this.traceShapes(sample, shapes);
    const shown = (o: object) => { const s = shapes.get(o); return s ? `(N, ${s.slice(1).join(', ')})` : '?'; };
    let total = 0;
    const seen = new Set<object>();
    const row = (name: string, v: Module | Layer, count: number) => {
      total += count;
      rows.push([name === '' ? '(root)' : name, v instanceof Module ? v.constructor.name : v.name, shown(v), String(count)]);
    };
    const visit = (m: Module, prefix: string) => {
      seen.add(m);
      const own = m.ownEntries();
      row(prefix, m, own.reduce((s, [, t]) => s + (t instanceof Tensor && t.requiresGrad ? t.size : 0), 0));
      for (const [name, v] of own) {
        const full = prefix === '' ? name : `${prefix}.${name}`;
        if (seen.has(v as object)) continue;
        if (v instanceof Module) visit(v, full);
        else if (v instanceof Layer) {
          seen.add(v);
          row(full, v, v.params.reduce((s, p) => s + p.size, 0));
        }
      }
    };
    visit(this, '');
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    const line = (r: string[]) => r.map((cell, c) => (c === 3 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ');
    const rule = '-'.repeat(widths.reduce((a, b) => a + b + 2, -2));
    const dtype = this.parameters()[0]?.dtype ?? 'float32';
    return [line(rows[0]), rule, ...rows.slice(1).map(line), rule, `Total parameters: ${total} (${dtype})`].join('\n');
  }

  /** Runs forward on a batch of one zeros (eval mode, nothing recorded), noting each sub-module's and layer's output shape. */
  private traceShapes(sample: readonly number[], into: Map<object, readonly number[]>): void {
    const modules = this.namedModules().map(([, m]) => m);
    const layers = this.namedLayers().map(([, l]) => l);
    const patched: object[] = [];
    const watch = (o: Module | Layer) => {
      const original = (o as unknown as { call: (...a: Tensor[]) => Tensor }).call;
      (o as { call: unknown }).call = (...xs: Tensor[]) => {
        const y = original.apply(o, xs);
        if (y instanceof Tensor) into.set(o, y.shape);
        return y;
      };
      patched.push(o);
    };
    for (const o of [...modules, ...layers]) watch(o);
    try {
      const dtype = this.parameters()[0]?.dtype ?? 'float32';
      inEvalMode(this, () => noGrad(() => this.call(Tensor.zeros([1, ...sample], dtype))));
    } catch {
      // a shape forward refuses: the shapes stay unknown
    } finally {
      for (const o of patched) delete (o as { call?: unknown }).call;
    }
  }

  /**
   * The own properties as [name, value]: arrays flattened to 'name.0', 'name.1', ...; a Sequential's layers as
   * 'name.0', ... (a Module in it as that Module); a Module wrapped as a layer as the Module.
   */
  private ownEntries(): [string, unknown][] {
    const out: [string, unknown][] = [];
    const push = (name: string, v: unknown) => out.push([name, v instanceof ModuleLayer ? v.module : v]);
    for (const [name, v] of Object.entries(this)) {
      if (Array.isArray(v)) v.forEach((e, i) => push(`${name}.${i}`, e));
      else if (v instanceof Sequential) v.layers.forEach((l, i) => push(`${name}.${i}`, l));
      else push(name, v);
    }
    return out;
  }

  private children(): [string, Module][] {
    return this.ownEntries().filter((e): e is [string, Module] => e[1] instanceof Module);
  }
}

/**
 * fn() with the module (its sub-modules and layers) in eval mode, the modes as they were afterwards: a forward
 * run only to learn shapes must not update batch statistics or draw dropout masks.
 */
export function inEvalMode<T>(module: Module, fn: () => T): T {
  const modules = module.namedModules().map(([, m]) => m);
  const layers = module.namedLayers().map(([, l]) => l);
  const modes = [...modules, ...layers].map((o) => o.training);
  module.eval();
  try {
    return fn();
  } finally {
    module.train(modes[0]);
    [...modules, ...layers].forEach((o, i) => { o.training = modes[i]; });
  }
}
