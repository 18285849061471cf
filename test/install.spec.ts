// The three install paths, as a user meets them: the package is staged (the `files` of package.json), its
// prebuilt binary built (`npm run build:prebuilds`), packed (`npm pack`), and the tarball installed into an empty
// project OFFLINE, with an empty private npm cache (its dependencies, and theirs, are installed from tarballs packed
// out of our node_modules), so any download at install time fails the test. Each check runs in a fresh Node
// process inside the installed project:
//   (1) prebuilt binary present: loaded as is (no build/ directory), native backend, trains XOR to 4/4
//       (Sequential + fit, test/fixtures/xor-train.cjs); ONNX export and import work with the protobufjs the
//       install brought (test/fixtures/onnx-roundtrip.cjs);
//   (2) prebuilt binary removed: the install compiles binding.gyp (node-gyp-build -> node-gyp) and works;
//   (3) no usable binary (the compiler fails): the install still succeeds, nodenn warns once, runs on TS.
// Also the portability check of the prebuilt binary (scripts/check-portability.js).
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..');
const tag = `${process.platform}-${process.arch}`;
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const tarballName = `${pkg.name}-${pkg.version}.tgz`;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const portability = require('../scripts/check-portability.js') as {
  analyze(dis: string): { violations: { function: string; why: string }[]; functions: Record<string, number> };
};

/** The environment for nested npm/node: none of the outer `npm test`'s npm_* variables, nothing of ours. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^npm_/i.test(k) && !k.startsWith('NODENN_')) env[k] = v;
  }
  // node-gyp builds against the headers of the running Node where they are installed (no header download).
  const prefix = path.dirname(path.dirname(process.execPath));
  if (fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) env.npm_config_nodedir = prefix;
  return { ...env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', ...extra };
}

function sh(cmd: string, args: string[], cwd: string, env = cleanEnv()) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 1 << 26 });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}`, stdout: r.stdout, stderr: r.stderr };
}

function mustRun(cmd: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv): string {
  const r = sh(cmd, args, cwd, env);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}) in ${cwd}:\n${r.out.slice(-4000)}`);
  return r.out;
}

/** mustRun without waiting: resolves to the output, rejects with the same error. */
function mustRunAsync(cmd: string, args: string[], cwd: string, env = cleanEnv()): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 1 << 26 }, (error, stdout, stderr) => {
      const out = `${stdout}\n${stderr}`;
      if (error) reject(new Error(`${cmd} ${args.join(' ')} failed (${String(error.code)}) in ${cwd}:\n${out.slice(-4000)}`));
      else resolve(out);
    });
  });
}

/** Where Node finds package `name` from directory `from`: the nearest node_modules/name above it. */
function packageDir(name: string, from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`${name} (needed from ${from}) is not in any node_modules above it`);
  }
}

/**
 * The directories of our dependencies and of theirs, each once (a name installed in two versions, as protobufjs'
 * own long@5 under it beside the long@4 of the dev tools, twice): what an offline install needs as tarballs.
 */
function dependencyDirs(from: string): string[] {
  const seen = new Set<string>();
  const visit = (dir: string) => {
    const deps = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).dependencies ?? {};
    for (const name of Object.keys(deps)) {
      const found = fs.realpathSync(packageDir(name, dir));
      if (seen.has(found)) continue;
      seen.add(found);
      visit(found);
    }
  };
  visit(from);
  return [...seen];
}

const canRun = process.platform === 'linux' && process.arch === 'x64' &&
  sh('objdump', ['--version'], root).status === 0 && sh('g++', ['--version'], root).status === 0;

describe.skipIf(!canRun)('install paths: pack, install offline into an empty project, run (linux-x64)', () => {
  let work = '';
  let stage = '';
  let withPrebuild = '';
  let withoutPrebuild = '';
  let deps: string[] = [];

  beforeAll(async () => {
    expect(fs.existsSync(path.join(root, 'dist/cjs/index.js')), 'run `npm run build:ts` first').toBe(true);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'nodenn-install-'));
    // Stage exactly what `files` names, plus package.json; node_modules only for the build tools.
    stage = path.join(work, 'pkg');
    fs.mkdirSync(stage);
    for (const entry of ['package.json', ...pkg.files as string[]]) {
      if (entry.startsWith('!') || /[*?]/.test(entry)) continue;
      const from = path.join(root, entry);
      if (entry === 'prebuilds' || !fs.existsSync(from)) continue; // built fresh below
      fs.cpSync(from, path.join(stage, entry), { recursive: true });
    }
    fs.mkdirSync(path.join(stage, 'scripts'), { recursive: true });
    fs.copyFileSync(path.join(root, 'scripts/strip-prebuild.js'), path.join(stage, 'scripts/strip-prebuild.js'));
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(stage, 'node_modules'));

    const packs = path.join(work, 'packs');
    fs.mkdirSync(path.join(packs, 'with'), { recursive: true });
    fs.mkdirSync(path.join(packs, 'without'), { recursive: true });
    fs.mkdirSync(path.join(packs, 'deps'), { recursive: true });
    // --ignore-scripts: dist/ is staged already (`prepare` would need the TypeScript sources). The dependencies'
    // tarballs (one npm pack for them all) are packed while the prebuilt binary compiles, and the tarball without it
    // before it exists.
    const depsPacked = mustRunAsync('npm', ['pack', '--ignore-scripts', '--pack-destination', path.join(packs, 'deps'),
      ...dependencyDirs(root)], root);
    mustRun('npm', ['pack', '--ignore-scripts', '--pack-destination', path.join(packs, 'without')], stage);
    withoutPrebuild = path.join(packs, 'without', tarballName);
    await Promise.all([depsPacked, mustRunAsync('npm', ['run', 'build:prebuilds'], stage)]);
    mustRun('npm', ['pack', '--ignore-scripts', '--pack-destination', path.join(packs, 'with')], stage);
    withPrebuild = path.join(packs, 'with', tarballName);
    deps = fs.readdirSync(path.join(packs, 'deps')).map((f) => path.join(packs, 'deps', f));
  }, 600_000);

  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  /** An empty project with the tarball installed offline; returns its directory and npm's output. */
  function install(name: string, tarball: string, env = cleanEnv(), extraArgs: string[] = []) {
    const app = path.join(work, name);
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }));
    const r = sh('npm', ['install', '--offline', '--cache', path.join(work, 'empty-npm-cache'), ...extraArgs,
      ...deps, tarball], app, env);
    expect(r.status, r.out).toBe(0);
    for (const f of ['xor-train.cjs', 'onnx-roundtrip.cjs']) fs.copyFileSync(path.join(root, 'test/fixtures', f), path.join(app, f));
    return { app, out: r.out, installed: path.join(app, 'node_modules', pkg.name) };
  }

  function trainXor(app: string, env: Record<string, string> = {}) {
    const r = sh(process.execPath, ['xor-train.cjs'], app, cleanEnv(env));
    expect(r.status, r.out).toBe(0);
    return { result: JSON.parse(r.stdout.trim().split('\n').pop() as string), stderr: r.stderr };
  }

  it('the tarball holds only what users need, the prebuilt binary included', () => {
    const list = execFileSync('tar', ['tzf', withPrebuild], { encoding: 'utf8' }).trim().split('\n')
      .map((f) => f.replace(/^package\//, ''));
    expect(list).toContain(`prebuilds/${tag}/${pkg.name}.node`);
    for (const f of ['package.json', 'LICENSE', 'README.md', 'binding.gyp', 'dist/cjs/index.js', 'dist/esm/index.mjs',
      'native/addon.cc', 'scripts/install-fallback.js']) expect(list).toContain(f);
    const unexpected = list.filter((f) => !/^(package\.json|LICENSE|README\.md|binding\.gyp|CMakeLists\.txt)$/.test(f) &&
      !/^(dist\/.*\.(js|mjs|d\.ts|d\.mts)|native\/.*\.(cc|h)|prebuilds\/[^/]+\/[^/]+\.node|scripts\/install-fallback\.js)$/.test(f));
    expect(unexpected).toEqual([]);
    const without = execFileSync('tar', ['tzf', withoutPrebuild], { encoding: 'utf8' });
    expect(without).not.toMatch(/prebuilds\//);
  });

  it('(1) with the prebuilt binary: loads it without compiling, native backend, XOR 4/4', () => {
    const { app, installed } = install('app-prebuilt', withPrebuild);
    expect(fs.existsSync(path.join(installed, 'build')), 'no compilation: no build/ directory').toBe(false);
    const { result, stderr } = trainXor(app);
    expect(result).toMatchObject({ backend: 'native', correct: 4 });
    expect(result.binary).toBe(path.join(installed, 'prebuilds', tag, `${pkg.name}.node`));
    expect(stderr).not.toMatch(/Warning/);
    // The same prebuilt binary forced to baseline code: still correct.
    const scalar = trainXor(app, { NODENN_ISA: 'scalar' }).result;
    expect(scalar).toMatchObject({ backend: 'native', isa: 'scalar', correct: 4 });
    // ONNX is core API: a plain install brings protobufjs (and its long@5), resolved inside the project
    const r = sh(process.execPath, ['onnx-roundtrip.cjs'], app);
    expect(r.status, r.out).toBe(0);
    const onnx = JSON.parse(r.stdout.trim().split('\n').pop() as string);
    expect(onnx.protobufjs.startsWith(path.join(app, 'node_modules', 'protobufjs') + path.sep)).toBe(true);
    expect(onnx.layers).toEqual(['Dense', 'Tanh', 'Dense']);
    expect(onnx.maxDifference).toBeLessThan(1e-6);
    expect(onnx.moduleBytes).toBeGreaterThan(40);
  }, 180_000);

  it('(1b) with install scripts disabled (--ignore-scripts, or npm allowScripts denying us): the prebuilt binary still loads', () => {
    const { app, installed } = install('app-no-scripts', withPrebuild, cleanEnv(), ['--ignore-scripts']);
    expect(fs.existsSync(path.join(installed, 'build'))).toBe(false);
    expect(trainXor(app).result).toMatchObject({ backend: 'native', correct: 4 });
  }, 180_000);

  it('(2) without the prebuilt binary: the install compiles binding.gyp, native backend, XOR 4/4', () => {
    // node-gyp compiles one file at a time unless JOBS says otherwise; every kernel source is built once per ISA
    const { app, installed, out } = install('app-source', withoutPrebuild, cleanEnv({ JOBS: 'max' }));
    const built = path.join(installed, 'build', 'Release', `${pkg.name}.node`);
    expect(fs.existsSync(built), `node-gyp output missing; npm said:\n${out.slice(-3000)}`).toBe(true);
    const { result, stderr } = trainXor(app);
    expect(result).toMatchObject({ backend: 'native', correct: 4, binary: built });
    expect(stderr).not.toMatch(/Warning/);
  }, 900_000);  // a bound for a hang, not a speed test: a loaded 2-core machine took 11 min

  it('(3) no usable binary (the compiler fails): install succeeds, one warning, TS backend, XOR 4/4', () => {
    // --foreground-scripts: npm (7+) hides the output of dependencies' install scripts unless asked; users see
    // the run-time warning below either way.
    const { app, installed, out } = install('app-no-binary', withoutPrebuild, cleanEnv({ CC: 'false', CXX: 'false' }),
      ['--foreground-scripts']);
    expect(out).toMatch(/gyp ERR!/);
    expect(out).toMatch(/nodenn: no prebuilt binary for this platform and the source build failed/);
    expect(fs.existsSync(path.join(installed, 'build', 'Release', `${pkg.name}.node`))).toBe(false);
    const { result, stderr } = trainXor(app);
    expect(result).toMatchObject({ backend: 'ts', binary: null, correct: 4 });
    expect(stderr.match(/NODENN_NO_NATIVE/g)).toHaveLength(1);
    expect(stderr).toMatch(/using the pure-TypeScript backend/);
  }, 180_000);

  it('the prebuilt binary is portable: no AVX outside the per-ISA kernels, same code as shipped, runs on the scalar kernels', () => {
    const r = sh(process.execPath, [path.join(root, 'scripts/check-portability.js'),
      path.join(stage, 'build-prebuild', tag, `${pkg.name}.node`), path.join(stage, 'prebuilds', tag, `${pkg.name}.node`)], root);
    const summary = JSON.parse(r.stdout);
    expect(summary.violations).toEqual([]);
    expect(summary).toMatchObject({ ok: true, sameText: true, scalar: { ok: true, isa: 'scalar' } });
    expect(summary.functions.baseline).toBeGreaterThan(10);
    expect(summary.wideInIsaCode.avx2Ymm).toBeGreaterThan(0);
    expect(summary.wideInIsaCode.avx512Zmm).toBeGreaterThan(0);
    expect(r.status).toBe(0);
  }, 60_000);
});

describe('the portability scan itself', () => {
  const fake = (name: string, ...ins: string[]) =>
    `0000000000001000 <${name}>:\n` + ins.map((s, i) => `    ${(0x1000 + i * 4).toString(16)}:\t${s}`).join('\n') + '\n';

  it('flags AVX, AVX-512 and post-SSE2 instructions outside the ISA namespaces, and AVX-512 inside the AVX2 one', () => {
    const dis = [
      fake('nodenn::(anonymous namespace)::Gemm(Napi::CallbackInfo const&)', 'mov    %rdi,%rax', 'movaps %xmm0,%xmm1', 'rep stos %rax,%es:(%rdi)'),
      fake('std::vector<float, std::allocator<float> >::_M_default_append(unsigned long)', 'vmovups %ymm0,(%rax)'),
      fake('nodenn::threads::run()', 'vzeroupper'),
      fake('helper', 'popcnt %rax,%rax'),
      fake('helper2', 'kmovw  %k1,%eax'),
      fake('void nodenn::avx2::gemm_f32(long)', 'vfmadd231ps %ymm1,%ymm2,%ymm3', 'vaddps %zmm1,%zmm2,%zmm3'),
      fake('void nodenn::avx512::gemm_f32(long)', 'vfmadd231ps %zmm1,%zmm2,%zmm3{%k1}'),
      fake('nodenn::(anonymous namespace)::Sgd(Napi::CallbackInfo const&)', 'tzcnt  %eax,%eax', 'endbr64'),
    ].join('\n');
    const s = portability.analyze(dis);
    expect(s.functions).toEqual({ baseline: 6, avx2: 1, avx512: 1 });
    expect(s.violations.map((v) => v.function)).toEqual([
      'std::vector<float, std::allocator<float> >::_M_default_append(unsigned long)',
      'nodenn::threads::run()', 'helper', 'helper2', 'void nodenn::avx2::gemm_f32(long)',
    ]);
  });
});
