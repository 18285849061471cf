// Behaviour that only a fresh process shows: environment switches, the fallback when the addon cannot load,
// and the package's two module faces. Runs the compiled package (dist/), as users get it.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeAddon, nativeAvailable } from '../src/backend/index';

const root = path.join(__dirname, '..');

function run(code: string, env: Record<string, string> = {}, module = false) {
  const args = module ? ['--input-type=module', '-e', code] : ['-e', code];
  const r = spawnSync(process.execPath, args, {
    cwd: root, encoding: 'utf8', env: { ...process.env, NODENN_BACKEND: '', NODENN_ISA: '', NODENN_ADDON: '', NODENN_THREADS: '', ...env },
  });
  return { status: r.status, stdout: r.stdout.trim(), stderr: r.stderr };
}

const info = "const nn = require('nodenn'); console.log(JSON.stringify(nn.backendInfo()));";

describe('the compiled package', () => {
  it('is built (npm run build:ts)', () => {
    expect(fs.existsSync(path.join(root, 'dist/cjs/index.js')), 'run `npm run build` first').toBe(true);
    expect(fs.existsSync(path.join(root, 'dist/esm/index.mjs'))).toBe(true);
  });

  it('loads from require and from import, sharing one module instance', () => {
    const cjs = run("const nn = require('nodenn'); console.log(typeof nn.Tensor, nn.version);");
    expect(cjs.stdout).toBe('function 0.1.0');
    const esm = run("import * as nn from 'nodenn'; import def from 'nodenn'; import { createRequire } from 'node:module';" +
      "const req = createRequire(import.meta.url); console.log(typeof nn.Tensor, nn.Tensor === req('nodenn').Tensor, def.Tensor === nn.Tensor);", {}, true);
    expect(esm.stdout).toBe('function true true');
    // every export of the CommonJS face is defined and is the very same value in the ES module face
    const all = run("import * as nn from 'nodenn'; import { createRequire } from 'node:module'; const cjs = createRequire(import.meta.url)('nodenn');" +
      "const names = Object.keys(cjs).filter((k) => k !== '__esModule');" +
      'console.log(names.length > 90, names.filter((k) => cjs[k] === undefined || nn[k] !== cjs[k]).join());', {}, true);
    expect(all.stdout).toBe('true');
  });

  it('the ES module face names the API contract\'s top-level tensor functions and the new Tensor methods', () => {
    const r = run("import { concat, stack, split, where, tensor, ops } from 'nodenn';" +
      'const a = tensor([1, 2]), b = tensor([3, 4]);' +
      'console.log(JSON.stringify([concat([a, b]).toArray(), stack([a, b], 1).toNested(), split(concat([a, b]), 2).map((p) => p.toArray()),' +
      'where(tensor([1, 0]), a, b).toArray(), a.outer(b).toNested(), tensor([1, 0]).oneHot(2).toNested(), concat === ops.concat]));', {}, true);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual([[1, 2, 3, 4], [[1, 3], [2, 4]], [[1, 2], [3, 4]], [1, 4], [[3, 4], [6, 8]],
      [[0, 1], [1, 0]], true]);
  });

  // The CLI loads the model formats when a command needs them (nodenn train reads and writes none): the compiled
  // modules' dynamic import() of a CommonJS file must still give its functions, and the same instances.
  it('the CLI leaves the ONNX, TensorFlow.js and plot modules unloaded; export and load through them still work', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodenn-lazy-'));
    try {
      // the exports before the package's index (which loads every module) is required
      const r = run("require('./dist/cjs/cli.js'); const loaded = (m) => Object.keys(require.cache).some((k) => k.endsWith(m));" +
        "const mods = ['io/onnx/export.js', 'io/onnx/import.js', 'io/tfjs.js', 'plot.js'], before = mods.map(loaded);" +
        "const { Sequential } = require('./dist/cjs/network.js'), { Dense } = require('./dist/cjs/layers/index.js');" +
        "const { Tensor } = require('./dist/cjs/tensor.js');" +
        'const net = new Sequential([new Dense(3, 2)], { seed: 3 }); const x = new Tensor(new Float32Array([1, 2, 3]), [1, 3]);' +
        `(async () => { await net.exportOnnx(${JSON.stringify(path.join(dir, 'm.onnx'))}); await net.exportTfjs(${JSON.stringify(dir)});` +
        "const after = mods.map(loaded), nn = require('nodenn');" +
        `const a = await nn.loadOnnx(${JSON.stringify(path.join(dir, 'm.onnx'))}), b = await nn.loadTfjs(${JSON.stringify(dir)});` +
        'console.log(JSON.stringify([before, after, [a, b].map((m) => m instanceof Sequential && ' +
        'Array.from(m.predict(x).data).join() === Array.from(net.predict(x).data).join())]));})();');
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toEqual([[false, false, false, false], [true, false, true, false], [true, true]]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('package.json and src/version.ts agree', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    expect(run("console.log(require('nodenn').version)").stdout).toBe(pkg.version);
  });
});

describe('backend switches', () => {
  it('NODENN_BACKEND=ts selects the TS backend without a warning', () => {
    const r = run(info, { NODENN_BACKEND: 'ts' });
    expect(JSON.parse(r.stdout)).toMatchObject({ name: 'ts', isa: null, threads: 1 });
    expect(r.stderr).not.toMatch(/Warning/);
  });

  it('NODENN_BACKEND=bogus is refused with a clear error', () => {
    const r = run(info, { NODENN_BACKEND: 'gpu' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/NODENN_BACKEND must be 'ts' or 'native', got "gpu"/);
  });

  it('with no usable binary (none built, none prebuilt) nodenn falls back to TS, warns exactly once, and still computes', () => {
    // A copy of the compiled package without build/ or prebuilds/: node-gyp-build finds nothing to load.
    const pkg = fs.mkdtempSync(path.join(os.tmpdir(), 'nodenn-nobinary-'));
    try {
      fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: 'nodenn', version: '0.0.0' }));
      fs.cpSync(path.join(root, 'dist/cjs'), path.join(pkg, 'dist/cjs'), { recursive: true });
      fs.symlinkSync(path.join(root, 'node_modules'), path.join(pkg, 'node_modules'));
      const r = run(`const nn = require(${JSON.stringify(path.join(pkg, 'dist/cjs/index.js'))});
        const b = nn.getBackend(); nn.getBackend(); nn.backendInfo();
        const C = new Float32Array(4); b.gemm(false, false, 2, 2, 2, 1, new Float32Array([1,2,3,4]), new Float32Array([5,6,7,8]), 0, C);
        console.log(JSON.stringify({ name: nn.backendInfo().name, C: Array.from(C) }));`);
      expect(JSON.parse(r.stdout)).toEqual({ name: 'ts', C: [19, 22, 43, 50] });
      expect(r.stderr.match(/NODENN_NO_NATIVE/g)).toHaveLength(1);
      expect(r.stderr).toMatch(/using the pure-TypeScript backend/);
    } finally {
      fs.rmSync(pkg, { recursive: true, force: true });
    }
  });

  it('NODENN_ADDON naming a file that does not load is an error when the backend is first needed, not a silent fallback', () => {
    const junk = path.join(os.tmpdir(), `nodenn-junk-${process.pid}.node`);
    fs.writeFileSync(junk, 'this is not a shared object');
    try {
      const code = `const nn = require('nodenn'); console.log('loaded');
        try { nn.getBackend(); console.log('no error'); } catch (e) { console.log(e.constructor.name + ': ' + e.message); }`;
      const r = run(code, { NODENN_ADDON: junk });
      expect(r.stdout.split('\n')[0]).toBe('loaded');
      expect(r.stdout.split('\n')[1]).toMatch(new RegExp(`^Error: nodenn: the native backend is not available: NODENN_ADDON=${junk.replace(/[.]/g, '\\.')} cannot be loaded: .+`));
      expect(r.stderr).not.toMatch(/NODENN_NO_NATIVE/);
      // Not needed, not loaded: NODENN_BACKEND=ts never touches it.
      expect(run(code, { NODENN_ADDON: junk, NODENN_BACKEND: 'ts' }).stdout).toBe('loaded\nno error');
    } finally {
      fs.rmSync(junk);
    }
  });

  it('NODENN_ADDON must name a .node file: anything else is refused, never run as JavaScript', () => {
    const script = path.join(os.tmpdir(), `nodenn-not-an-addon-${process.pid}.js`);
    fs.writeFileSync(script, "console.log('RAN AS JAVASCRIPT'); module.exports = {};");
    try {
      for (const file of [script, '/etc/passwd']) {
        const r = run("try { require('nodenn').getBackend() } catch (e) { console.log(e.message) }", { NODENN_ADDON: file });
        expect(r.stdout).toBe(`nodenn: the native backend is not available: NODENN_ADDON must name a compiled addon (a .node file), got ${JSON.stringify(file)}`);
      }
    } finally {
      fs.rmSync(script);
    }
  });

  it('setBackend("native") with no addon throws, naming the variable, the path and the reason', () => {
    const r = run("const nn = require('nodenn'); try { nn.setBackend('native') } catch (e) { console.log(e.message) }",
      { NODENN_ADDON: '/nonexistent/nodenn.node' });
    expect(r.stdout).toMatch(/native backend is not available: NODENN_ADDON=\/nonexistent\/nodenn\.node cannot be loaded: Cannot find module/);
  });
});

describe.skipIf(!nativeAvailable())('native switches', () => {
  const supported: string[] = nativeAvailable() ? nativeAddon().info().supportedIsas : [];

  // The ISAs of this architecture's build (native/dispatch.cc), and those of the other one, which it does not know.
  const [built, other] = process.arch === 'arm64' ? [['scalar', 'neon'], ['avx2', 'avx512']] : [['scalar', 'avx2', 'avx512'], ['neon']];

  it.each(built)('NODENN_ISA=%s is used when the CPU has it, refused otherwise', (isa) => {
    const r = run(info, { NODENN_ISA: isa });
    if (supported.includes(isa)) {
      expect(JSON.parse(r.stdout)).toMatchObject({ name: 'native', isa });
    } else {
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(new RegExp(`NODENN_ISA=${isa}: this CPU does not support '${isa}'`));
    }
  });

  it('NODENN_ISA with an unknown name is refused, naming the ISAs of this build', () => {
    const r = run(info, { NODENN_ISA: 'sse9' });
    expect(r.status).not.toBe(0);
    const names = built.map((n) => `'${n}'`);
    expect(r.stderr).toContain(`unknown ISA 'sse9' (expected ${names.slice(0, -1).join(', ')} or ${names.at(-1)})`);
  });

  it.each(other)('NODENN_ISA=%s, an ISA of the other architecture, is refused as unknown', (isa) => {
    const r = run(info, { NODENN_ISA: isa });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(new RegExp(`NODENN_ISA=${isa}: unknown ISA '${isa}'`));
  });

  it('supportedIsas lists the ISAs of this build that this CPU runs, scalar first, the best last', () => {
    const { supportedIsas, bestIsa } = nativeAddon().info();
    expect(supportedIsas[0]).toBe('scalar');
    expect(supportedIsas.at(-1)).toBe(bestIsa);
    expect(built).toEqual(expect.arrayContaining(supportedIsas));
    // NEON is baseline on arm64: both ISAs always.
    if (process.arch === 'arm64') expect(supportedIsas).toEqual(['scalar', 'neon']);
  });

  it('by default the best ISA is picked', () => {
    expect(JSON.parse(run(info).stdout).isa).toBe(nativeAddon().info().bestIsa);
  });

  it('NODENN_THREADS sets the pool size; the default is the number of cores', () => {
    expect(JSON.parse(run(info, { NODENN_THREADS: '1' }).stdout).threads).toBe(1);
    expect(JSON.parse(run(info, { NODENN_THREADS: '3' }).stdout).threads).toBe(3);
    expect(JSON.parse(run(info).stdout).threads).toBe(os.availableParallelism());
  });
});

describe('build files', () => {
  function cmakeSources(): string[] {
    const text = fs.readFileSync(path.join(root, 'CMakeLists.txt'), 'utf8');
    const lists = [...text.matchAll(/set\((NODENN_(?:COMMON|KERNEL)_SOURCES)([^)]*)\)/g)];
    expect(lists.map((m) => m[1]).sort()).toEqual(['NODENN_COMMON_SOURCES', 'NODENN_KERNEL_SOURCES']);
    return lists.flatMap((m) => m[1] + ':' + m[2].trim().split(/\s+/).sort().join(','));
  }
  function gypSources(): string[] {
    const text = fs.readFileSync(path.join(root, 'binding.gyp'), 'utf8').replace(/^\s*#.*$/gm, '');
    const gyp = JSON.parse(text);
    return [
      'NODENN_COMMON_SOURCES:' + [...gyp.variables.common_sources].sort().join(','),
      'NODENN_KERNEL_SOURCES:' + [...gyp.variables.kernel_sources].sort().join(','),
    ];
  }

  it('CMakeLists.txt and binding.gyp compile the same sources', () => {
    expect(cmakeSources()).toEqual(gypSources());
  });

  it('every native source file is in the build', () => {
    const listed = new Set(gypSources().flatMap((l) => l.split(':')[1].split(',')));
    const onDisk = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', 'native'], { cwd: root, encoding: 'utf8' })
      .split('\n').filter((f) => f.endsWith('.cc'));
    expect(onDisk.length).toBeGreaterThan(0);
    for (const f of onDisk) expect(listed.has(f), `${f} is not built`).toBe(true);
  });

  it('the files the build files and the install fallback name exist, and so does the README section it names', () => {
    for (const f of ['CMakeLists.txt', 'binding.gyp', 'scripts/install-fallback.js']) {
      const text = fs.readFileSync(path.join(root, f), 'utf8');
      const named = [...text.matchAll(/\b(?:test|src|native|scripts)\/[\w./-]+\.(?:ts|js|cc|h)\b/g)].map((m) => m[0]);
      for (const ref of named) expect(fs.existsSync(path.join(root, ref)), `${f} names ${ref}`).toBe(true);
    }
    const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'install-fallback.js')], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const section = /README[^"]*"([^"]+)"/.exec(r.stderr)?.[1];
    const headings = fs.readFileSync(path.join(root, 'README.md'), 'utf8').match(/^#+ .*$/gm)!.map((h) => h.replace(/^#+ /, ''));
    expect(headings).toContain(section);
  });

  it('no -march=native anywhere in the build', () => {
    for (const f of ['CMakeLists.txt', 'binding.gyp']) {
      const code = fs.readFileSync(path.join(root, f), 'utf8').replace(/#.*$/gm, '');
      expect(code).not.toMatch(/-march=native/);
    }
  });
});
