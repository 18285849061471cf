// Loads the native addon: NODENN_ADDON (an explicit .node path) if set, else the prebuilt binary or the local
// build found by node-gyp-build. Never throws: a failure is returned as a reason, for the fallback warning.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Backend, Isa, Kernels } from './backend';

export interface NativeAddon extends Kernels {
  initError: string | null;
  info(): { isa: Isa; bestIsa: Isa; supportedIsas: Isa[]; threads: number; napiVersion: number };
  setIsa(isa: string): void;
  setThreads(n: number): void;
}

/** The package root: the nearest directory above this file holding nodenn's package.json. */
export function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        if (JSON.parse(fs.readFileSync(pj, 'utf8')).name === 'nodenn') return dir;
      } catch {
        // not ours; keep walking up
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find nodenn's package.json above ${__dirname}`);
    dir = up;
  }
}

export function loadAddon(): { addon: NativeAddon } | { error: string } {
  try {
    const explicit = process.env.NODENN_ADDON;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const addon: NativeAddon = explicit ? require(path.resolve(explicit)) : require('node-gyp-build')(packageRoot());
    if (typeof addon.gemm !== 'function' || typeof addon.info !== 'function') {
      return { error: 'the native addon does not export the expected kernels' };
    }
    return { addon };
  } catch (e) {
    return { error: e instanceof Error ? e.message.split('\n')[0] : String(e) };
  }
}

const NOT_KERNELS = new Set(['initError', 'info', 'setIsa', 'setThreads']);

/** The backend over the addon: its kernels are the addon's own functions (no wrapper per call). */
export function nativeBackend(addon: NativeAddon): Backend {
  const backend: Record<string, unknown> = { name: 'native' };
  for (const [key, value] of Object.entries(addon)) {
    if (!NOT_KERNELS.has(key) && typeof value === 'function') backend[key] = value;
  }
  return backend as unknown as Backend;
}
