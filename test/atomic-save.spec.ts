// Model save is atomic: a child process saves a network over the same file again and again (each save with its
// own generation number, every weight set to that number) and is killed with SIGKILL at a random moment; then
// the file must load (Sequential.load) and hold exactly one whole generation. Repeated many times, the kills
// land at every stage of save(): encoding, writing the temporary file, fsync, rename.
// The kill moments scale with the time a save takes on this machine (measured by the child), so a slow or loaded
// machine spreads them over the same stages; rounds go on (up to 4x) until kills have landed at different points.
// NODENN_KILL_ROUNDS sets the number of kills (CI default below). Then what save() does with its target: links,
// modes, non-regular files, unwritable files and the temporary files killed saves leave.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Dense, Sequential } from '../src/index';
import { removeStaleTemps, STALE_TEMP_MS } from '../src/io/atomic';
import { loadSafetensors } from '../src/io/safetensors';
import { rng } from './helpers';

const ROUNDS = Number(process.env.NODENN_KILL_ROUNDS || 24);
const root = path.join(__dirname, '..');

// A few MB of weights, so that a save spends real time writing.
const child = `
const nn = require(${JSON.stringify(path.join(root, 'dist/cjs/index.js'))});
const file = process.argv[1];
const net = new nn.Sequential([new nn.Dense(256, 1024), new nn.ReLU(), new nn.Dense(1024, 512)], { seed: 1 });
(async () => {
  for (let g = Number(process.argv[2]); ; g++) {
    for (const p of net.parameters()) p.param.data.fill(g);
    const t = performance.now();
    await net.save(file, { metadata: { generation: String(g) } });
    if (g === Number(process.argv[2])) process.stdout.write('saved in ' + (performance.now() - t) + ' ms\\n');
  }
})();
`;

/** Starts a saver and kills it `saves` save-durations (a fraction, random) after its first save completed. */
function runAndKill(file: string, firstGeneration: number, saves: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['-e', child, file, String(firstGeneration)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '', out = '', scheduled = false;
    p.stderr.on('data', (d) => { err += d; });
    p.stdout.on('data', (d) => {
      out += d;
      if (scheduled || !out.includes('\n')) return;
      scheduled = true;
      const ms = Number(/^saved in ([\d.]+) ms\n/.exec(out)?.[1]);
      if (Number.isFinite(ms)) setTimeout(() => p.kill('SIGKILL'), Math.floor(saves * Math.max(ms, 2)));
      else { p.kill('SIGKILL'); reject(new Error(`unexpected output of the saver: ${out}`)); }
    });
    p.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited ${code}: ${err}`))));
  });
}

describe('atomic model save under SIGKILL', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodenn-kill-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it(`${ROUNDS} kills at random moments of save(): the file always loads whole`, async () => {
    const r = rng(99);
    const seen = new Set<number>();
    // Four files side by side, each with its own sequence of killed savers.
    const lanes = [0, 1, 2, 3].map((i) => ({ file: path.join(dir, `model${i}.safetensors`), generation: 1 }));
    const stray = () => fs.readdirSync(dir).filter((f) => !/^model\d\.safetensors$/.test(f));
    let kills = 0;
    for (; kills < ROUNDS || ((seen.size < 2 || stray().length === 0) && kills < 4 * ROUNDS); kills += lanes.length) {
      await Promise.all(lanes.map((l) => runAndKill(l.file, l.generation, 3 * r())));
      for (const lane of lanes) {
        const net = await Sequential.load(lane.file); // throws on a torn file
        const g = Number((await loadSafetensors(lane.file)).metadata.generation);
        expect(g).toBeGreaterThanOrEqual(lane.generation);
        for (const { name, param } of net.parameters()) {
          const bad = param.data.findIndex((v) => v !== g);
          expect(bad, `${name}[${bad}] is not generation ${g}`).toBe(-1);
        }
        seen.add(g - lane.generation); // saves completed after the first one in this round
        lane.generation = g + 1;
      }
    }
    // The kills did not all land at the same point: different numbers of completed saves per round.
    expect(seen.size).toBeGreaterThan(1);
    // Temporary files of killed saves stay behind (nothing runs after SIGKILL), never under a model's name.
    const left = stray();
    expect(left.every((f) => /^\.model\d\.safetensors\.\d+\.[0-9a-f]+\.tmp$/.test(f))).toBe(true);
    expect(left.length, 'some kills landed while a temporary file was being written').toBeGreaterThan(0);
    console.log(`${kills} kills: ${[...seen].sort((a, b) => a - b).join(', ')} saves completed after the first; ` +
      `${left.length} temporary files left behind`);
    // The next save of each model removes them once they are older than STALE_TEMP_MS (their processes are gone).
    const old = new Date(Date.now() - STALE_TEMP_MS - 60_000);
    for (const f of left) fs.utimesSync(path.join(dir, f), old, old);
    const net = new Sequential([new Dense(2, 2)]);
    for (const lane of lanes) await net.save(lane.file);
    expect(fs.readdirSync(dir).sort()).toEqual(lanes.map((l) => path.basename(l.file)).sort());
  }, 300_000);
});

/** A process id that ran and is gone. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  return r.pid as number;
}

const posix = process.platform !== 'win32';

describe.skipIf(!posix)('save() targets: links, modes, non-regular files, stale temporary files', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodenn-target-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const netA = new Sequential([new Dense(3, 2)], { seed: 1 });
  const netB = new Sequential([new Dense(3, 2)], { seed: 2 });
  const weightOf = async (file: string) => Array.from((await Sequential.load(file)).stateDict()['0.weight'].data);
  const wB = Array.from(netB.stateDict()['0.weight'].data);
  const temps = () => fs.readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith('.tmp'));

  it('follows symbolic links (relative, chained, dangling): the file linked to is written, the links stay', async () => {
    fs.mkdirSync(path.join(dir, 'real'));
    fs.mkdirSync(path.join(dir, 'links'));
    const real = path.join(dir, 'real', 'm.safetensors');
    const a = path.join(dir, 'links', 'a.safetensors'), b = path.join(dir, 'b.safetensors');
    await netA.save(real);
    fs.symlinkSync('../real/m.safetensors', a);  // relative to the link's directory
    fs.symlinkSync(a, b);  // a link to a link
    await netB.save(b);
    expect(fs.lstatSync(a).isSymbolicLink()).toBe(true);
    expect(fs.lstatSync(b).isSymbolicLink()).toBe(true);
    expect(fs.readlinkSync(a)).toBe('../real/m.safetensors');
    expect(fs.readlinkSync(b)).toBe(a);
    expect(await weightOf(real)).toEqual(wB);
    // a link to a file that does not exist yet: the file is created where the link points
    const dangling = path.join(dir, 'links', 'new.safetensors');
    fs.symlinkSync('../real/new.safetensors', dangling);
    await netA.save(dangling);
    expect(fs.lstatSync(dangling).isSymbolicLink()).toBe(true);
    expect(fs.lstatSync(path.join(dir, 'real', 'new.safetensors')).isFile()).toBe(true);
    // a loop is an error, not a hang
    fs.symlinkSync('loop2', path.join(dir, 'loop1'));
    fs.symlinkSync('loop1', path.join(dir, 'loop2'));
    await expect(netA.save(path.join(dir, 'loop1'))).rejects.toThrow(/ELOOP/);
    expect(temps()).toEqual([]);
  });

  it('keeps the permission bits of the file it replaces; a new file gets 0666 less the umask', async () => {
    const p = path.join(dir, 'private.safetensors');
    await netA.save(p);
    fs.chmodSync(p, 0o600);
    await netB.save(p);
    expect(fs.statSync(p).mode & 0o777).toBe(0o600);
    fs.chmodSync(p, 0o640);
    await netA.save(p);
    expect(fs.statSync(p).mode & 0o777).toBe(0o640);
    const fresh = path.join(dir, 'fresh.safetensors');
    await netA.save(fresh);
    const umask = process.umask();
    expect(fs.statSync(fresh).mode & 0o777).toBe(0o666 & ~umask);
  });

  it('refuses a directory, a FIFO and a link to a device, and leaves them as they were', async () => {
    const sub = path.join(dir, 'sub.safetensors');
    fs.mkdirSync(sub);
    await expect(netA.save(sub)).rejects.toThrow(TypeError);
    await expect(netA.save(sub)).rejects.toThrow(/sub\.safetensors is a directory, not a regular file: refusing to replace it/);
    expect(fs.statSync(sub).isDirectory()).toBe(true);
    const fifo = path.join(dir, 'fifo.safetensors');
    execFileSync('mkfifo', [fifo]);
    await expect(netA.save(fifo)).rejects.toThrow(/fifo\.safetensors is a FIFO, not a regular file/);
    expect(fs.lstatSync(fifo).isFIFO()).toBe(true);
    // a link to /dev/null (the link, not the device, is what an unchecked rename would have replaced)
    const dev = path.join(dir, 'null.safetensors');
    fs.symlinkSync('/dev/null', dev);
    await expect(netA.save(dev)).rejects.toThrow(/\/dev\/null is a character device, not a regular file \(.*null\.safetensors links to it\)/);
    expect(fs.readlinkSync(dev)).toBe('/dev/null');
    expect(fs.statSync('/dev/null').isCharacterDevice()).toBe(true);
    expect(temps()).toEqual([]);
  });

  it('refuses to replace a file it may not write (EACCES) and leaves it as it was', async () => {
    // root may write anything: run the save as an unprivileged user then
    const asRoot = process.getuid?.() === 0;
    const sub = fs.mkdtempSync(path.join(dir, 'ro-'));
    fs.chmodSync(sub, 0o777);
    const p = path.join(sub, 'ro.safetensors');
    await netA.save(p);
    fs.chmodSync(p, 0o444);
    const before = fs.readFileSync(p);
    if (asRoot) {
      // the unprivileged user must reach the library and the folder (mkdtemp makes them 0700): a readable copy
      // of dist, and the test folder opened for the duration, so that the one refusal left is the file's mode
      fs.chmodSync(dir, 0o755);
      const lib = fs.mkdtempSync(path.join(dir, 'lib-'));
      fs.chmodSync(lib, 0o755);
      fs.cpSync(path.join(root, 'dist', 'cjs'), lib, { recursive: true });
      const script = `const nn = require(${JSON.stringify(path.join(lib, 'index.js'))});
        new nn.Sequential([new nn.Dense(3, 2)], { seed: 2 }).save(process.argv[1])
          .then(() => console.log('saved'), (e) => console.log(e.code + ' ' + e.message));`;
      const r = spawnSync(process.execPath, ['-e', script, p], { uid: 65534, gid: 65534, encoding: 'utf8', env: { ...process.env, NODENN_BACKEND: 'ts' } });
      fs.chmodSync(dir, 0o700);
      // refused by the file's own mode (access W_OK), not by a folder on the way (lstat)
      expect(r.stdout.trim()).toBe(`EACCES EACCES: permission denied, access '${p}'`);
    } else {
      await expect(netB.save(p)).rejects.toThrow(/EACCES/);
    }
    expect(fs.readFileSync(p).equals(before)).toBe(true);
    expect(fs.readdirSync(sub)).toEqual(['ro.safetensors']);
  });

  it('removes the temporary files of dead processes once older than STALE_TEMP_MS, and nothing else', async () => {
    const p = path.join(dir, 'm2.safetensors');
    const dead = deadPid();
    const names = {
      stale: `.m2.safetensors.${dead}.0badc0de.tmp`,          // dead and old: removed
      fresh: `.m2.safetensors.${dead}.00ff00ff.tmp`,          // dead but recent (maybe another PID namespace): kept
      alive: `.m2.safetensors.${process.pid}.12345678.tmp`,   // this process: kept
      other: `.other.safetensors.${dead}.0badc0de.tmp`,       // another target: kept
      unlike: `.m2.safetensors.${dead}.xyz.tmp`,              // not a name save() makes: kept
    };
    const old = new Date(Date.now() - STALE_TEMP_MS - 60_000);
    for (const [k, n] of Object.entries(names)) {
      fs.writeFileSync(path.join(dir, n), 'partial');
      if (k !== 'fresh') fs.utimesSync(path.join(dir, n), old, old);
    }
    await netA.save(p);
    const left = fs.readdirSync(dir).filter((n) => n.endsWith('.tmp')).sort();
    expect(left).toEqual([names.fresh, names.alive, names.other, names.unlike].sort());
    expect(removeStaleTemps(dir, 'other.safetensors')).toEqual([names.other]);
    for (const n of left) fs.rmSync(path.join(dir, n), { force: true });
  });
});
