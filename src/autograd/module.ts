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
import { Tensor, formatShape } from '../tensor';
import { describeValue } from '../validate';
import { noGrad } from './tape';
import { Layer } from '../layers/layer';
import { type ExportOnnxOptions, exportOnnx } from '../io/onnx/export';

/**
 * A model written as a class: parameters and sub-modules are its properties, forward() uses tensor operations and
 * built-in layers (layer.call(x)), and autograd gives the backward (PyTorch's nn.Module).
 */
export abstract class Module {
  /** Training mode (dropout and batch statistics on); train() and eval() set it on every sub-module. */
  training = true;

  /** The computation; call() runs it. */
  abstract forward(...inputs: Tensor[]): Tensor;

  /** forward(...inputs) (PyTorch's module(x)). */
  call(...inputs: Tensor[]): Tensor {
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

  /** The parameters by name ('fc.weight'), each once, in property order, this module's own before its sub-modules'. */
  namedParameters(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, v] of m.ownEntries()) {
        const full = prefix === '' ? name : `${prefix}.${name}`;
        // a built-in layer's parameters, by its names for them ('fc.weight'); they become autograd parameters
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

  /** Every parameter by name, detached (sharing the data): what saving a model keeps. */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [name, t] of this.namedParameters()) out[name] = t.detach();
    return out;
  }

  /**
   * Copies the values of a stateDict() into the parameters of the same names. Strict, as PyTorch's default: a
   * missing or unexpected name, or a shape that differs, is an error naming it, and nothing is copied then.
   */
  loadStateDict(state: Record<string, Tensor>): void {
    if (state === null || typeof state !== 'object') {
      throw new TypeError(`loadStateDict: state must be an object of tensors by name, got ${describeValue(state)}`);
    }
    const params = new Map(this.namedParameters());
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

  /** Training mode for this module and every sub-module; returns this. */
  train(mode = true): this {
    if (typeof mode !== 'boolean') throw new TypeError(`train: mode must be a boolean, got ${describeValue(mode)}`);
    for (const [, m] of this.namedModules()) {
      m.training = mode;
      for (const [, v] of m.ownEntries()) if (v instanceof Layer) v.training = mode;
    }
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
    await exportOnnx(this, path, options);
  }

  /** Sets every parameter's .grad to null (PyTorch's default). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** The own properties, arrays flattened to 'name.0', 'name.1', ... */
  private ownEntries(): [string, unknown][] {
    const out: [string, unknown][] = [];
    for (const [name, v] of Object.entries(this)) {
      if (Array.isArray(v)) v.forEach((e, i) => out.push([`${name}.${i}`, e]));
      else out.push([name, v]);
    }
    return out;
  }

  private children(): [string, Module][] {
    return this.ownEntries().filter((e): e is [string, Module] => e[1] instanceof Module);
  }
}
