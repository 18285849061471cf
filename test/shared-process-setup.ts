// Setup of the sanitizer run (vitest.asan.config.mts), whose spec files share worker processes: before each file,
// puts back what the file would have found in a fresh process; after it, takes back its mocks. The state is kept
// on globalThis, since this file runs again before every spec file.
import { afterAll, vi } from 'vitest';
import { nativeAddon, setBackend, setIsa, setThreads } from '../src/backend/index';
import type { Isa } from '../src/backend/backend';

interface Fresh { isa: Isa; threads: number; env: Record<string, string | undefined> }
const holder = globalThis as { nodennFreshProcess?: Fresh };

if (holder.nodennFreshProcess === undefined) {
  const info = nativeAddon().info();
  holder.nodennFreshProcess = { isa: info.isa, threads: info.threads, env: { ...process.env } };
} else {
  const fresh = holder.nodennFreshProcess;
  // vitest's own variables (VITEST_WORKER_ID and the like) are set anew for each file: left as they are.
  const ours = (k: string) => !k.startsWith('VITEST');
  for (const k of Object.keys(process.env)) if (ours(k) && !(k in fresh.env)) delete process.env[k];
  for (const [k, v] of Object.entries(fresh.env)) if (ours(k)) process.env[k] = v;
  setBackend('native');
  setIsa(fresh.isa);
  setThreads(fresh.threads);
}

afterAll(() => {
  vi.restoreAllMocks();
});
