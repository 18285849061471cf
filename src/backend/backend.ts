// The kernel interface. Layers never loop over numbers themselves: they call these kernels on a Backend.
// Both backends ('ts' and 'native') implement every kernel for Float32Array and Float64Array (all float
// arguments of one call share a dtype), with the same argument checks and the same errors. The kernels are
// declared once, in the kernel spec (spec.ts); the Kernels interface is generated from it (kernels.gen.ts).
import type { Kernels } from './kernels.gen';

export type { ActivationKind, ArgReduceOpKind, BinaryOp, Kernels, ReduceOpKind, UnaryOp } from './kernels.gen';
/** The backends: 'native' (the C++ addon) and 'ts' (pure TypeScript, everywhere). */
export type BackendName = 'ts' | 'native';
/** The instruction sets the native kernels are compiled for. */
export type Isa = 'avx512' | 'avx2' | 'scalar';

export interface Backend extends Kernels {
  readonly name: BackendName;
}

/** What backendInfo() reports: the backend in use, its ISA and thread count, nodenn's version. */
export interface BackendInfo {
  name: BackendName;
  /** The native kernels' instruction set, null on the ts backend. */
  isa: Isa | null;
  threads: number;
  version: string;
}
