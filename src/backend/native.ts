// Loads the native addon: NODENN_ADDON (an explicit .node path) if set, else the prebuilt binary or the local
// build found by node-gyp-build. Never throws: a failure is returned as a reason; the caller decides between the
// fallback warning and an error (an explicit NODENN_ADDON that fails is always an error).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ASYNC_KERNELS, type AsyncKernelName, type AsyncKernels, type Backend, type Isa, type Kernels } from './backend';
import { kernelNames } from './spec';

export interface NativeAddon extends Kernels, Record<`${AsyncKernelName}Async`, (...args: unknown[]) => Promise<void>> {
  /** This JS environment's ISA and thread count (each worker has its own), and what the CPU offers. */
  info(): { isa: Isa; bestIsa: Isa; supportedIsas: Isa[]; threads: number; napiVersion: number; mallocTuned: boolean };
  setIsa(isa: string): void;
  setThreads(n: number): void;
  /**
   * A regular file's bytes over a private (copy-on-write) mapping of it, or null where it cannot be mapped; the
   * caller then reads the file. Absent from addons built before it (NODENN_ADDON may name one).
   */
  mapFile?(file: string): ArrayBuffer | null;
  /** Backend.planPrepare and planRun (src/backend/backend.ts); absent from addons built before them. */
  planPrepare?: Backend['planPrepare'];
  planRun?: Backend['planRun'];
}

/** The package root: the nearest directory above this file holding nodenn's package.json. */
export function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        if ((JSON.parse(fs.readFileSync(pj, 'utf8')) as { name?: unknown }).name === 'nodenn') return dir;
      } catch {
        // not ours; keep walking up
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find nodenn's package.json above ${__dirname}`);
    dir = up;
  }
}

export type LoadResult = { addon: NativeAddon } | { error: string; explicit: boolean };

export function loadAddon(explicit = process.env.NODENN_ADDON): LoadResult {
  try {
    let addon: NativeAddon;
    if (explicit) {
      // Only a compiled addon: require() of any other file would run it as JavaScript.
      if (path.extname(explicit) !== '.node') {
        return { error: `NODENN_ADDON must name a compiled addon (a .node file), got ${JSON.stringify(explicit)}`, explicit: true };
      }
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        addon = require(path.resolve(explicit)) as NativeAddon;
      } catch (e) {
        return { error: `NODENN_ADDON=${explicit} cannot be loaded: ${firstLine(e)}`, explicit: true };
      }
    } else {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      addon = (require('node-gyp-build') as (dir: string) => NativeAddon)(packageRoot());
    }
    const missing = missingExports(addon as unknown as Record<string, unknown>);
    if (missing.length) {
      return { error: `the native addon does not export the expected kernels (missing: ${missing.join(', ')})`,
        explicit: Boolean(explicit) };
    }
    return { addon };
  } catch (e) {
    return { error: firstLine(e), explicit: false };
  }
}

function firstLine(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0] : String(e);
}

/**
 * Applies this environment's NODENN_ISA to a freshly loaded addon; returns why it was refused, or null. Each JS
 * environment (the main thread, each worker) reads its own process.env (a worker's `env` option).
 */
export function applyIsaEnv(addon: NativeAddon, isa = process.env.NODENN_ISA): string | null {
  if (!isa) return null;
  try {
    addon.setIsa(isa);
    return null;
  } catch (e) {
    return `NODENN_ISA=${isa}: ${firstLine(e).replace(/^isa: /, '')}`;
  }
}

/** What the addon exports besides the spec's kernels. */
export const ADDON_CONTROLS = ['info', 'setIsa', 'setThreads'] as const;

/** What the addon exports that the library can do without (an older addon, named by NODENN_ADDON, may lack it). */
export const ADDON_OPTIONAL = ['mapFile', 'planPrepare', 'planRun'] as const;

/** The Async forms the addon exports (kernels queued off the main thread). */
export const ADDON_ASYNC = ASYNC_KERNELS.map((k) => `${k}Async` as const);

/** The functions an addon must export (every kernel of the spec, the controls, the Async forms) that this one lacks. */
export function missingExports(addon: Record<string, unknown>): string[] {
  return [...ADDON_CONTROLS, ...kernelNames, ...ADDON_ASYNC].filter((k) => typeof addon[k] !== 'function');
}

/** The backend over the addon: its kernels are the addon's own functions (no wrapper per call). */
export function nativeBackend(addon: NativeAddon): Backend {
  const backend: Record<string, unknown> = { name: 'native' };
  // eslint-disable-next-line @typescript-eslint/unbound-method -- the addon's kernels are plain functions
  for (const name of kernelNames) backend[name] = addon[name];
  backend.async = Object.fromEntries(ASYNC_KERNELS.map((k) => [k, addon[`${k}Async`]])) as unknown as AsyncKernels;
  if (addon.planPrepare && addon.planRun) {
    backend.planPrepare = addon.planPrepare;
    backend.planRun = addon.planRun;
  }
  return backend as unknown as Backend;
}
