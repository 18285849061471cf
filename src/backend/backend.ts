// The kernel interface. Layers never loop over numbers themselves: they call these kernels on a Backend.
// Both backends ('ts' and 'native') implement every kernel for Float32Array and Float64Array (all float
// arguments of one call share a dtype), with the same argument checks and the same errors. The kernels are
// declared once, in the kernel spec (spec.ts); the Kernels interface is generated from it (kernels.gen.ts).
import type { Kernels } from './kernels.gen';

export type { ActivationKind, ArgReduceOpKind, BinaryOp, Kernels, ReduceOpKind, UnaryOp } from './kernels.gen';
/** The backends: 'native' (the C++ addon) and 'ts' (pure TypeScript, everywhere). */
export type BackendName = 'ts' | 'native';
/** The instruction sets the native kernels are compiled for: scalar, avx2, avx512 on x86-64; scalar, neon on arm64. */
export type Isa = 'avx512' | 'avx2' | 'neon' | 'scalar';

/** The kernels that also run off the main thread (the augmentation kernels, overlapped with training). */
export type AsyncKernelName = 'translate2d' | 'flip2d' | 'affine2d' | 'normalizeChannels';
/** @internal */
export const ASYNC_KERNELS: readonly AsyncKernelName[] = ['translate2d', 'flip2d', 'affine2d', 'normalizeChannels'];

/**
 * A kernel's Async form: the same arguments, checked at once (a bad one throws as the kernel does); the promise
 * resolves once the kernel has run, off the main thread, after the calls made before it. The arrays must be left
 * alone until then.
 */
export type AsyncKernels = { [K in AsyncKernelName]: (...args: Parameters<Kernels[K]>) => Promise<void> };

export interface Backend extends Kernels {
  readonly name: BackendName;
  /** The Async forms, where the backend has threads to run them on (native); the ts backend has none. */
  readonly async?: AsyncKernels;
  /**
   * planForward (the same arguments, checks and result), returning the plan of that call for planRun (native only:
   * an addon built before it, or the ts backend, has none; the caller then calls planForward each time).
   */
  readonly planPrepare?: (...args: Parameters<Kernels['planForward']>) => PreparedPlan;
  /**
   * The prepared pass again over `rows` rows of x into y (rows at most the prepared rows): bitwise planForward with
   * the plan's program and sizes and the weights' current values. A weight whose buffer was detached or shrunk since
   * is an error; that the caller's parameters are still the arrays it prepared with is for the caller to check.
   */
  readonly planRun?: (plan: PreparedPlan, rows: number, x: Float32Array | Float64Array, y: Float32Array | Float64Array) => void;
}

/** A plan of planPrepare (opaque). */
export interface PreparedPlan { readonly __preparedPlan: never }

/** What backendInfo() reports: the backend in use, its ISA and thread count, nodenn's version. */
export interface BackendInfo {
  name: BackendName;
  /** The native kernels' instruction set, null on the ts backend. */
  isa: Isa | null;
  threads: number;
  version: string;
}
