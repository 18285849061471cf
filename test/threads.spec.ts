// Results must not depend on the number of threads: 1 and 2 threads give bitwise-identical outputs.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { getBackend, nativeAddon, setThreads } from '../src/backend/index';
import { availableCpus, cgroupCpuQuota, maxThreads, THREADS_PER_CPU } from '../src/backend/threads';
import { dtypes, expectBitwiseEqual, nativeIsas, randomArray, useBackend, withThreads } from './helpers';

describe.skipIf(nativeIsas.length === 0).each(nativeIsas)('threads on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  it.each(dtypes)('gemm is bitwise identical with 1 and 2 threads (%s)', (_n, C) => {
    for (const [M, N, K, ta, tb] of [[512, 300, 700, false, false], [257, 1030, 513, true, true],
      [1000, 64, 2000, false, true], [300, 7, 500, false, true], [3, 200, 300, true, false],
      [2, 300, 1000, true, true]] as const) {
      const A = randomArray(C, M * K, 1), B = randomArray(C, K * N, 2), C0 = randomArray(C, M * N, 3);
      const out = [1, 2, 3].map((t) => withThreads(t, () => {
        const c = C0.slice();
        getBackend().gemm(ta, tb, M, N, K, 0.5, A, B, 0.25, c);
        return c;
      }));
      expectBitwiseEqual(out[0], out[1]);
      expectBitwiseEqual(out[0], out[2]);
    }
  });

  it('setThreads changes the pool size reported by the addon', () => {
    withThreads(1, () => expect(nativeAddon().info().threads).toBe(1));
    withThreads(2, () => expect(nativeAddon().info().threads).toBe(2));
  });
});

describe('thread count: default, limit and NODENN_THREADS', () => {
  const root = path.join(__dirname, '..');
  function info(env: Record<string, string>, prefix: string[] = []) {
    const code = `const nn = require(${JSON.stringify(path.join(root, 'dist/cjs/index.js'))});
      nn.getBackend(); nn.backendInfo(); console.log(JSON.stringify(nn.backendInfo()));`;
    const base: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('NODENN_') || k === 'NODENN_ADDON') base[k] = v;
    const [cmd, ...args] = [...prefix, process.execPath, '-e', code];
    const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...base, ...env }, timeout: 60_000 });
    return { status: r.status, info: r.status === 0 ? JSON.parse(r.stdout) : null, stderr: r.stderr };
  }

  it('setThreads accepts a positive integer up to THREADS_PER_CPU per available CPU, else a TypeError/RangeError naming threads', () => {
    const max = maxThreads();
    expect(max).toBe(Math.min(1024, THREADS_PER_CPU * availableCpus()));
    expect(() => setThreads('2' as unknown as number)).toThrow(new TypeError('threads must be a number, got the string \'2\''));
    expect(() => setThreads(undefined as unknown as number)).toThrow(new TypeError('threads must be a number, got undefined'));
    const range = `threads must be an integer in [1, ${max}] (at most ${THREADS_PER_CPU} per available CPU, ${availableCpus()} here), got `;
    for (const bad of [0, -1, 2.5, NaN, Infinity, max + 1]) {
      expect(() => setThreads(bad)).toThrow(new RangeError(range + bad));
    }
    if (nativeIsas.length > 0) {
      const before = nativeAddon().info().threads;
      withThreads(max, () => expect(nativeAddon().info().threads).toBe(max));
      expect(nativeAddon().info().threads).toBe(before);
    }
  });

  it('the CPU quota of the cgroup (v2 cpu.max or v1 CFS), the smallest along its ancestry', () => {
    const files = (f: Record<string, string>) => (file: string) => f[file];
    expect(cgroupCpuQuota(files({}))).toBeUndefined();
    expect(cgroupCpuQuota(files({ '/proc/self/cgroup': '0::/a/b\n', '/sys/fs/cgroup/a/b/cpu.max': 'max 100000\n' }))).toBeUndefined();
    expect(cgroupCpuQuota(files({
      '/proc/self/cgroup': '0::/a/b\n', '/sys/fs/cgroup/a/b/cpu.max': '300000 100000\n',
      '/sys/fs/cgroup/a/cpu.max': '150000 100000\n', '/sys/fs/cgroup/cpu.max': 'max 100000\n',
    }))).toBe(1.5);
    // A container that sees its own cgroup at the mount root, not the host path /proc/self/cgroup names.
    expect(cgroupCpuQuota(files({ '/proc/self/cgroup': '0::/docker/abc\n', '/sys/fs/cgroup/cpu.max': '50000 100000' }))).toBe(0.5);
    expect(cgroupCpuQuota(files({
      '/proc/self/cgroup': '4:cpu,cpuacct:/job\n3:memory:/job\n',
      '/sys/fs/cgroup/cpu,cpuacct/job/cpu.cfs_quota_us': '200000\n', '/sys/fs/cgroup/cpu,cpuacct/job/cpu.cfs_period_us': '100000\n',
    }))).toBe(2);
    expect(cgroupCpuQuota(files({
      '/proc/self/cgroup': '4:cpu,cpuacct:/\n', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000',
    }))).toBeUndefined();
  });

  it.skipIf(nativeIsas.length === 0 || spawnSync('taskset', ['-c', '0', 'true']).status !== 0)(
    'the default follows the CPU affinity: one thread under taskset -c 0', () => {
      const r = info({}, ['taskset', '-c', '0']);
      expect(r.info).toMatchObject({ name: 'native', threads: 1 });
      expect(r.stderr).not.toMatch(/Warning/);
    });

  it.skipIf(nativeIsas.length === 0)('NODENN_THREADS that is not an integer in range: one warning naming it and its value, then the default', () => {
    for (const value of ['0', '-1', 'abc', '2abc', '3.7', String(maxThreads() + 1)]) {
      const r = info({ NODENN_THREADS: value });
      expect(r.info?.threads, value).toBe(availableCpus());
      const warnings = r.stderr.match(/NODENN_BAD_THREADS/g) ?? [];
      expect(warnings, `${value}: ${r.stderr}`).toHaveLength(1);
      expect(r.stderr).toContain(`NODENN_THREADS=${JSON.stringify(value)} is ignored: expected an integer in [1, ${maxThreads()}]`);
    }
    const ok = info({ NODENN_THREADS: ' 3 ' });
    expect(ok.info.threads).toBe(3);
    expect(ok.stderr).not.toMatch(/Warning/);
  });
});
