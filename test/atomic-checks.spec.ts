// Atomic writes (src/io/atomic.ts) at the edges test/atomic-save.spec.ts does not reach: the name of every kind of
// non-regular file, the link limit and its error, lstat errors other than "no such file", the stale-temporary rules
// (age boundary, PIDs that cannot be processes, processes of other users), the clean-up after a failed write and
// the owner a root save keeps. Plain file-system code: the same on every backend, so it runs once.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { fileKind, removeStaleTemps, resolveWriteTarget, writeFileAtomic } from '../src/io/atomic';

const posix = process.platform !== 'win32';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodenn-atomic-checks-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
afterEach(() => { vi.restoreAllMocks(); });

/** A stat whose one true predicate is `kind` (none: every predicate false). */
function statOf(kind?: string): fs.Stats {
  const names = ['isFile', 'isDirectory', 'isFIFO', 'isCharacterDevice', 'isBlockDevice', 'isSocket', 'isSymbolicLink'];
  return Object.fromEntries(names.map((n) => [n, () => n === kind])) as unknown as fs.Stats;
}

describe.skipIf(!posix)('atomic writes: the edges', () => {
  it('fileKind names every kind of file that is not a regular one', () => {
    expect(fileKind(statOf('isDirectory'))).toBe('a directory');
    expect(fileKind(statOf('isFIFO'))).toBe('a FIFO');
    expect(fileKind(statOf('isCharacterDevice'))).toBe('a character device');
    expect(fileKind(statOf('isBlockDevice'))).toBe('a block device');
    expect(fileKind(statOf('isSocket'))).toBe('a socket');
    expect(fileKind(statOf('isSymbolicLink'))).toBe('a symbolic link');
    expect(fileKind(statOf())).toBe('not a regular file');
    expect(fileKind(fs.lstatSync('/dev/null'))).toBe('a character device');
  });

  it('follows 40 links and refuses the 41st with ELOOP naming the path; an lstat error other than ENOENT is thrown', () => {
    const target = path.join(dir, 'end.bin');
    fs.writeFileSync(target, 'x');
    const chain = (n: number, prefix: string) => {
      let next = target;
      for (let k = n; k >= 1; k--) {
        const link = path.join(dir, `${prefix}${k}`);
        fs.symlinkSync(next, link);
        next = link;
      }
      return next;
    };
    expect(resolveWriteTarget(chain(40, 'a')).path).toBe(target);
    const first = chain(41, 'b');
    let err: NodeJS.ErrnoException | undefined;
    try { resolveWriteTarget(first); } catch (e) { err = e as NodeJS.ErrnoException; }
    expect(err?.message).toBe(`ELOOP: too many symbolic links from ${first}`);
    expect(err?.code).toBe('ELOOP');
    expect(err?.path).toBe(first);
    // a path through a regular file: lstat says ENOTDIR, which is not "the file does not exist yet"
    expect(() => resolveWriteTarget(path.join(target, 'inside'))).toThrow(/^ENOTDIR: not a directory, lstat /);
    expect(resolveWriteTarget(path.join(dir, 'absent.bin'))).toEqual({ path: path.join(dir, 'absent.bin'), stat: null });
  });

  it('stale temporary files: removed from exactly the minimum age on; PIDs that are no process and other users\' kept', () => {
    const sub = fs.mkdtempSync(path.join(dir, 'stale-'));
    const when = new Date(Math.floor(Date.now() / 1000) * 1000 - 3_600_000);  // whole seconds: mtimeMs is exact
    const temp = (pid: string) => {
      const name = `.m.bin.${pid}.0badc0de.tmp`;
      fs.writeFileSync(path.join(sub, name), 'partial');
      fs.utimesSync(path.join(sub, name), when, when);
      return name;
    };
    const ESRCH = () => { throw Object.assign(new Error('kill ESRCH'), { code: 'ESRCH' }); };
    const EPERM = () => { throw Object.assign(new Error('kill EPERM'), { code: 'EPERM' }); };
    // no such process (ESRCH): removed once at least minAgeMs old, measured from its mtime
    const kill = vi.spyOn(process, 'kill').mockImplementation(ESRCH);
    const age = 60_000;
    const now = vi.spyOn(Date, 'now').mockReturnValue(when.getTime() + age - 1);
    const a = temp('4242');
    expect(removeStaleTemps(sub, 'm.bin', age)).toEqual([]);
    now.mockReturnValue(when.getTime() + age);
    expect(removeStaleTemps(sub, 'm.bin', age)).toEqual([a]);
    // a process of another user (EPERM) is alive: its file stays
    kill.mockImplementation(EPERM);
    const b = temp('4343');
    expect(removeStaleTemps(sub, 'm.bin', age)).toEqual([]);
    kill.mockImplementation(ESRCH);
    expect(removeStaleTemps(sub, 'm.bin', age)).toEqual([b]);
    // a number no process can have is never asked about, and its file stays
    const huge = temp('99999999999999999999');
    expect(removeStaleTemps(sub, 'm.bin', age)).toEqual([]);
    expect(kill).not.toHaveBeenCalledWith(1e20, 0);
    expect(fs.readdirSync(sub)).toEqual([huge]);
    // a directory that cannot be read: nothing removed, nothing thrown
    expect(removeStaleTemps(path.join(sub, 'missing'), 'm.bin', 0)).toEqual([]);
  });

  it('a write that fails after the temporary file is open: the error is thrown, the temporary file removed and closed; no descriptor left', () => {
    const p = path.join(dir, 'fail.bin');
    fs.writeFileSync(p, 'before');
    // the files this process holds open (Linux): none may be the temporary file, removed or not
    const held = () => fs.readdirSync('/proc/self/fd').map((fd) => {
      try { return fs.readlinkSync(`/proc/self/fd/${fd}`); } catch { return ''; }
    }).filter((target) => target.includes('.fail.bin.'));
    // not bytes: fs.writeSync refuses it once the temporary file exists
    expect(() => writeFileAtomic(p, { length: 3 } as unknown as Uint8Array)).toThrow(TypeError);
    expect(fs.readFileSync(p, 'utf8')).toBe('before');
    expect(fs.readdirSync(dir).filter((n) => n.startsWith('.fail.bin.'))).toEqual([]);
    if (fs.existsSync('/proc/self/fd')) expect(held()).toEqual([]);
    // after a save that succeeds, nor the directory it synced
    writeFileAtomic(p, new TextEncoder().encode('after'));
    expect(fs.readFileSync(p, 'utf8')).toBe('after');
    if (fs.existsSync('/proc/self/fd')) {
      expect(fs.readdirSync('/proc/self/fd').filter((fd) => {
        try { return fs.readlinkSync(`/proc/self/fd/${fd}`) === dir; } catch { return false; }
      })).toEqual([]);
    }
  });

  it.skipIf(process.getuid?.() !== 0)('root replacing another user\'s file keeps its owner and group', () => {
    const p = path.join(dir, 'owned.bin');
    fs.writeFileSync(p, 'old');
    fs.chownSync(p, 65534, 65534);
    writeFileAtomic(p, new TextEncoder().encode('new'));
    const st = fs.statSync(p);
    expect([st.uid, st.gid]).toEqual([65534, 65534]);
    expect(fs.readFileSync(p, 'utf8')).toBe('new');
    // and a file of root's stays root's
    const q = path.join(dir, 'root.bin');
    fs.writeFileSync(q, 'old');
    writeFileAtomic(q, new TextEncoder().encode('new'));
    expect([fs.statSync(q).uid, fs.statSync(q).gid]).toEqual([0, 0]);
  });
});
