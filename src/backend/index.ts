// Backend selection: native by default, NODENN_BACKEND or setBackend() to choose; if the addon cannot load,
// the TS backend is used and one warning says why.
import type { Backend, BackendInfo, BackendName, Isa } from './backend';
import { loadAddon, nativeBackend, type NativeAddon } from './native';
import { tsBackend } from './ts';
import { VERSION } from '../version';

let current: Backend | undefined;
let native: { addon: NativeAddon; backend: Backend } | { error: string } | undefined;
let warned = false;
let threads: number | undefined;

function loadNative(): { addon: NativeAddon; backend: Backend } | { error: string } {
  if (native === undefined) {
    const r = loadAddon();
    native = 'addon' in r ? { addon: r.addon, backend: nativeBackend(r.addon) } : r;
    if ('addon' in native && threads !== undefined) native.addon.setThreads(threads);
  }
  return native;
}

function nativeOrThrow(): { addon: NativeAddon; backend: Backend } {
  const n = loadNative();
  if ('error' in n) throw new Error(`nodenn: the native backend is not available: ${n.error}`);
  // NODENN_ISA asked for an instruction set this CPU lacks (or a name that does not exist): refuse.
  if (n.addon.initError) throw new Error(`nodenn: ${n.addon.initError}`);
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
  if ('error' in n) {
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

/** Forces the native kernels' instruction set; throws if this CPU lacks it. */
export function setIsa(isa: Isa): void {
  nativeOrThrow().addon.setIsa(isa);
}

/** Threads of the native backend (default: NODENN_THREADS, else the number of cores). */
export function setThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > 1024) throw new RangeError(`threads must be an integer in [1, 1024], got ${n}`);
  threads = n;
  const nat = loadNative();
  if ('addon' in nat) nat.addon.setThreads(n);
}

export function backendInfo(): BackendInfo {
  const b = getBackend();
  if (b.name === 'ts') return { name: 'ts', isa: null, threads: 1, version: VERSION };
  const info = nativeOrThrow().addon.info();
  return { name: 'native', isa: info.isa, threads: info.threads, version: VERSION };
}

export type { Backend, BackendInfo, BackendName, Isa, ActivationKind, Kernels } from './backend';
export { tsBackend };
