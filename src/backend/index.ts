// Backend selection: native by default, NODENN_BACKEND or setBackend() to choose; if the addon cannot load,
// the TS backend is used and one warning says why (unless NODENN_ADDON named it: then it is an error).
// Everything here is per JS environment: the main thread and each worker load the addon and read their own
// process.env (NODENN_BACKEND, NODENN_ADDON, NODENN_ISA, NODENN_THREADS); their ISA and thread counts are
// independent, while the native thread pool is shared.
import type { Backend, BackendInfo, BackendName, Isa } from './backend';
import { applyIsaEnv, loadAddon, nativeBackend, type NativeAddon } from './native';
import { checkThreads, defaultThreads } from './threads';
import { tsBackend } from './ts';
import { VERSION } from '../version';

type Native = { addon: NativeAddon; backend: Backend; isaError: string | null } | { error: string; explicit: boolean };

let current: Backend | undefined;
let native: Native | undefined;
let warned = false;
let threads: number | undefined;

function loadNative(): Native {
  if (native === undefined) {
    const r = loadAddon();
    if ('addon' in r) {
      const isaError = applyIsaEnv(r.addon);
      threads ??= defaultThreads(process.env.NODENN_THREADS,
        (message) => process.emitWarning(message, { code: 'NODENN_BAD_THREADS' }));
      r.addon.setThreads(threads);
      native = { addon: r.addon, backend: nativeBackend(r.addon), isaError };
    } else {
      native = r;
    }
  }
  return native;
}

function nativeOrThrow(): { addon: NativeAddon; backend: Backend } {
  const n = loadNative();
  if ('error' in n) throw new Error(`nodenn: the native backend is not available: ${n.error}`);
  // NODENN_ISA asked for an instruction set this CPU lacks (or a name that does not exist): refuse.
  if (n.isaError) throw new Error(`nodenn: ${n.isaError}`);
  return n;
}

function parseName(name: unknown, what: string): BackendName {
  if (name !== 'ts' && name !== 'native') throw new TypeError(`${what} must be 'ts' or 'native', got ${JSON.stringify(name)}`);
  return name;
}

/** The active backend; chosen on first use. */
export function getBackend(): Backend {
  if (current) return current;
  const env = process.env.NODENN_BACKEND;
  if (env) {
    current = parseName(env, 'NODENN_BACKEND') === 'ts' ? tsBackend : nativeOrThrow().backend;
    return current;
  }
  const n = loadNative();
  if ('error' in n && !n.explicit) {
    if (!warned) {
      warned = true;
      process.emitWarning(`native addon unavailable (${n.error}); using the pure-TypeScript backend, which is slower`,
        { code: 'NODENN_NO_NATIVE' });
    }
    current = tsBackend;
  } else {
    current = nativeOrThrow().backend;
  }
  return current;
}

/** Selects a backend. 'native' throws if the addon cannot be loaded. */
export function setBackend(name: BackendName): void {
  current = parseName(name, 'backend') === 'ts' ? tsBackend : nativeOrThrow().backend;
}

/** Whether the native addon loads (without selecting it). */
export function nativeAvailable(): boolean {
  return 'addon' in loadNative();
}

/** The native addon itself (for ISA control and tests); throws if unavailable. */
export function nativeAddon(): NativeAddon {
  return nativeOrThrow().addon;
}

/** Forces the native kernels' instruction set in this JS environment (not other workers); throws if this CPU lacks it. */
export function setIsa(isa: Isa): void {
  nativeOrThrow().addon.setIsa(isa);
}

/**
 * Threads of the native backend in this JS environment (the main thread and each worker have their own count;
 * the pool is shared). Default: NODENN_THREADS, else the CPUs available (affinity mask and cgroup quota). At
 * most 4 per available CPU (THREADS_PER_CPU): a TypeError or RangeError otherwise.
 */
export function setThreads(n: number): void {
  threads = checkThreads(n);
  const nat = loadNative();
  if ('addon' in nat) nat.addon.setThreads(threads);
}

/** The backend in use, with the native kernels' ISA and thread count. */
export function backendInfo(): BackendInfo {
  const b = getBackend();
  if (b.name === 'ts') return { name: 'ts', isa: null, threads: 1, version: VERSION };
  const info = nativeOrThrow().addon.info();
  return { name: 'native', isa: info.isa, threads: info.threads, version: VERSION };
}

export type {
  AsyncKernelName, AsyncKernels, Backend, BackendInfo, BackendName, Isa, ActivationKind, ArgReduceOpKind, BinaryOp,
  Kernels, PreparedPlan, ReduceOpKind, UnaryOp,
} from './backend';
export { tsBackend };
