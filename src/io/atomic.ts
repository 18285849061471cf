// Atomic file writes: a crash or a full disk never leaves a half-written file under the target name.
//
// What writeFileAtomic does with the target:
// - a symbolic link is followed (through every hop) and the file it points to is replaced, the link kept;
// - an existing regular file keeps its permission bits (and, when root writes, its owner); a file this process
//   may not write is refused (EACCES), as open() for writing would;
// - anything that is not a regular file (directory, FIFO, device, socket) is refused and left alone;
// - the data goes to `.<name>.<pid>.<random>.tmp` in the target's directory, is fsynced and renamed over it;
// - temporary files of the same target left by processes that no longer run (killed mid-save) and untouched
//   for STALE_TEMP_MS are removed.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Reads and writes go to the file system in calls of at most this many bytes (fs takes int32 lengths). */
export const IO_CHUNK_BYTES = 2 ** 30;

/**
 * A temporary file of a dead process is removed only once it is this old: a process in another PID namespace
 * (a container sharing the directory) may look dead from here while it is still writing.
 */
export const STALE_TEMP_MS = 10 * 60_000;

/** Symbolic links followed before giving up, as the kernel's own limit (ELOOP). */
const MAX_LINK_HOPS = 40;

/** Writes all of `data` at the descriptor's position, in calls of at most `chunkBytes`. */
export function writeAll(fd: number, data: Uint8Array, chunkBytes = IO_CHUNK_BYTES): void {
  let off = 0;
  while (off < data.length) off += fs.writeSync(fd, data, off, Math.min(chunkBytes, data.length - off));
}

/** 'a directory', 'a FIFO', ... for a file that is not a regular one. */
export function fileKind(st: fs.Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

export interface WriteTarget {
  /** The file that will be replaced: `file` with every symbolic link resolved. */
  path: string;
  /** Its stat, or null when it does not exist yet. */
  stat: fs.Stats | null;
}

/** Follows symbolic links from `file` to the file a write replaces; refuses anything but a regular file. */
export function resolveWriteTarget(file: string): WriteTarget {
  let p = file;
  for (let hops = 0; ; hops++) {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { path: p, stat: null };
      throw e;
    }
    if (st.isSymbolicLink()) {
      if (hops >= MAX_LINK_HOPS) {
        throw Object.assign(new Error(`ELOOP: too many symbolic links from ${file}`), { code: 'ELOOP', path: file });
      }
      p = path.resolve(path.dirname(p), fs.readlinkSync(p));
      continue;
    }
    if (!st.isFile()) {
      const via = p === file ? '' : ` (${file} links to it)`;
      throw new TypeError(`${p} is ${fileKind(st)}, not a regular file${via}: refusing to replace it`);
    }
    fs.accessSync(p, fs.constants.W_OK);
    return { path: p, stat: st };
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';  // alive, owned by someone else
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Removes `.<base>.<pid>.<hex>.tmp` files in `dir` whose process is gone and that nothing touched for
 * `minAgeMs`; returns their names. Best effort: a file that cannot be removed is left.
 */
export function removeStaleTemps(dir: string, base: string, minAgeMs = STALE_TEMP_MS): string[] {
  const pattern = new RegExp(`^\\.${escapeRegExp(base)}\\.(\\d+)\\.[0-9a-f]+\\.tmp$`);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  const now = Date.now();
  for (const name of names) {
    const m = pattern.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (!Number.isSafeInteger(pid) || pid <= 0 || isAlive(pid)) continue;
    const p = path.join(dir, name);
    try {
      const st = fs.lstatSync(p);
      if (!st.isFile() || now - st.mtimeMs < minAgeMs) continue;
      fs.unlinkSync(p);
      removed.push(name);
    } catch {
      // removed by someone else meanwhile, or not ours to remove
    }
  }
  return removed;
}

/**
 * Writes `chunks` to a temporary file next to the target, fsyncs it, then renames it over the target (see the
 * top of this file for links, modes, non-regular files and stale temporary files).
 */
export function writeFileAtomic(file: string, ...chunks: Uint8Array[]): void {
  const target = resolveWriteTarget(file);
  const dir = path.dirname(target.path), base = path.basename(target.path);
  removeStaleTemps(dir, base);
  // node:crypto on the first write, not for every program that imports this module (~10 ms)
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { randomBytes } = require('node:crypto') as typeof import('node:crypto');
  const tmp = path.join(dir, `.${base}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = fs.openSync(tmp, 'wx', 0o666);
  try {
    for (const data of chunks) writeAll(fd, data);
    if (target.stat) keepOwnerAndMode(fd, target.stat);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, target.path);
  } catch (e) {
    try { fs.closeSync(fd); } catch { /* already closed */ }
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  // Make the rename itself durable where the platform allows syncing a directory.
  try {
    const dfd = fs.openSync(dir, 'r');
    try { fs.fsyncSync(dfd); } finally { fs.closeSync(dfd); }
  } catch {
    // Windows and some file systems refuse to open or fsync a directory; the rename has still happened.
  }
}

/** The replaced file's permission bits (and owner, where root writes it) carry over to the new one. */
function keepOwnerAndMode(fd: number, st: fs.Stats): void {
  if (process.getuid?.() === 0) {
    try { fs.fchownSync(fd, st.uid, st.gid); } catch { /* e.g. a file system without owners */ }
  }
  fs.fchmodSync(fd, st.mode & 0o777);
}
