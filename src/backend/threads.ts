// How many threads the native backend may use: the CPUs this process can run on (its affinity mask, as
// os.availableParallelism() reports it) lowered to its cgroup CPU quota (a container's --cpus). Computed once per
// JS environment, when the addon loads.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeValue } from '../validate';
import { limits } from './spec';

/** setThreads() accepts at most this many threads per available CPU: more only adds contention. */
export const THREADS_PER_CPU = 4;
/** The native addon's own limit (the kernel spec's, kMaxThreads in native/kernels.gen.h). */
const MAX_THREADS = limits.maxThreads.value;

type ReadFile = (file: string) => string | undefined;

function readFile(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The directory `sub` below `top` and its ancestors up to `top`, deepest first. */
function upTo(top: string, sub: string): string[] {
  const dirs: string[] = [];
  let dir = path.posix.join(top, sub).replace(/\/+$/, '');
  while (dir === top || dir.startsWith(top + '/')) {
    dirs.push(dir);
    if (dir === top) break;
    dir = path.posix.dirname(dir);
  }
  return dirs;
}

/**
 * The CPU quota of this process's cgroup in CPUs (2.5 = 250 ms per 100 ms), the smallest along the cgroup's
 * ancestry (cgroup v2 `cpu.max`, else v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`); undefined when there is none
 * or it cannot be read. Walking up also finds a container's own limit when /proc/self/cgroup names a path of the
 * host's hierarchy that the container does not see.
 */
export function cgroupCpuQuota(read: ReadFile = readFile): number | undefined {
  const cgroups = read('/proc/self/cgroup');
  if (cgroups === undefined) return undefined;
  let quota = Infinity;
  const take = (q: number, period: number) => {
    if (Number.isFinite(q) && q > 0 && Number.isFinite(period) && period > 0) quota = Math.min(quota, q / period);
  };
  for (const line of cgroups.split('\n')) {
    const [id, controllers, sub] = line.split(':');
    if (sub === undefined) continue;
    if (id === '0' && controllers === '') {
      for (const dir of upTo('/sys/fs/cgroup', sub)) {
        const [q, period] = (read(`${dir}/cpu.max`) ?? '').trim().split(/\s+/);
        if (q !== 'max') take(Number(q), Number(period));
      }
    } else if (controllers.split(',').includes('cpu')) {
      for (const mount of ['/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpu,cpuacct']) {
        for (const dir of upTo(mount, sub)) {
          take(Number(read(`${dir}/cpu.cfs_quota_us`)), Number(read(`${dir}/cpu.cfs_period_us`)));
        }
      }
    }
  }
  return quota === Infinity ? undefined : quota;
}

let cpus: number | undefined;

/** CPUs available to this process: the affinity mask, lowered to the cgroup quota (rounded up), at least 1. */
export function availableCpus(): number {
  if (cpus === undefined) {
    const affinity = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
    const quota = cgroupCpuQuota();
    cpus = Math.max(1, Math.min(affinity, quota === undefined ? Infinity : Math.ceil(quota)));
  }
  return cpus;
}

/** The largest thread count setThreads() and NODENN_THREADS accept. */
export function maxThreads(): number {
  return Math.min(MAX_THREADS, THREADS_PER_CPU * availableCpus());
}

/** Checks a thread count given to setThreads(): a positive integer within maxThreads(). */
export function checkThreads(n: unknown): number {
  if (typeof n !== 'number') throw new TypeError(`threads must be a number, got ${describeValue(n)}`);
  const max = maxThreads();
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new RangeError(`threads must be an integer in [1, ${max}] (at most ${THREADS_PER_CPU} per available CPU, ` +
      `${availableCpus()} here), got ${n}`);
  }
  return n;
}

/**
 * The thread count to start with: NODENN_THREADS when it is an integer within maxThreads(), else the number of
 * available CPUs. A value that is set but unusable is reported once through `warn`.
 */
export function defaultThreads(env: string | undefined, warn: (message: string) => void): number {
  const fallback = availableCpus();
  if (env === undefined || env === '') return fallback;
  const n = Number(env);
  if (/^\s*\d+\s*$/.test(env) && n >= 1 && n <= maxThreads()) return n;
  warn(`NODENN_THREADS=${JSON.stringify(env)} is ignored: expected an integer in [1, ${maxThreads()}]; ` +
    `using ${fallback} thread${fallback === 1 ? '' : 's'} (the CPUs available)`);
  return fallback;
}
