#!/usr/bin/env node
// Portability check of the prebuilt addon: only the per-ISA kernel code (namespaces nodenn::avx2 and
// nodenn::avx512) may use instructions beyond the x86-64 baseline (SSE2). Everything else — N-API glue,
// dispatch, the thread pool, and every library function the linker kept — must run on any x86-64 CPU,
// because it runs before (or regardless of) the cpuid check that picks a kernel table.
//
//   node scripts/check-portability.js [unstripped.node] [shipped.node]
// defaults: build-prebuild/<platform>-<arch>/nodenn.node (kept by scripts/strip-prebuild.js during
// `npm run build:prebuilds`) and prebuilds/<platform>-<arch>/nodenn.node. The per-function check needs symbols, so
// it reads the unstripped copy and first proves that its code (.text) is byte for byte the shipped one's.
// Then it loads the shipped binary in a fresh process, selects the scalar kernels and runs a small GEMM.
// Prints a JSON summary; exits 1 on any violation.
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

// Mnemonics (AT&T, as objdump prints them) beyond SSE2: SSE3, SSSE3, SSE4.1/4.2, POPCNT, LZCNT, BMI1/2, MOVBE,
// ADX. `tzcnt` is absent on purpose: it is encoded as `rep bsf`, which older CPUs execute as bsf (GCC emits it
// in baseline code for __builtin_ctz).
const BEYOND_SSE2 = new Set([
  'addsubps', 'addsubpd', 'haddps', 'haddpd', 'hsubps', 'hsubpd', 'lddqu', 'movddup', 'movshdup', 'movsldup',
  'fisttp', 'fisttps', 'fisttpl', 'fisttpll',
  'pabsb', 'pabsw', 'pabsd', 'palignr', 'phaddw', 'phaddd', 'phaddsw', 'phsubw', 'phsubd', 'phsubsw', 'pmaddubsw',
  'pmulhrsw', 'pshufb', 'psignb', 'psignw', 'psignd',
  'blendpd', 'blendps', 'blendvpd', 'blendvps', 'dppd', 'dpps', 'extractps', 'insertps', 'movntdqa', 'mpsadbw',
  'packusdw', 'pblendvb', 'pblendw', 'pcmpeqq', 'pextrb', 'pextrd', 'pextrq', 'phminposuw', 'pinsrb', 'pinsrd',
  'pinsrq', 'pmaxsb', 'pmaxsd', 'pmaxud', 'pmaxuw', 'pminsb', 'pminsd', 'pminud', 'pminuw', 'pmuldq', 'pmulld',
  'ptest', 'roundpd', 'roundps', 'roundsd', 'roundss',
  'pcmpestri', 'pcmpestrm', 'pcmpistri', 'pcmpistrm', 'pcmpgtq',
  'popcnt', 'lzcnt', 'andn', 'bextr', 'blsi', 'blsmsk', 'blsr', 'bzhi', 'mulx', 'pdep', 'pext', 'rorx', 'sarx',
  'shlx', 'shrx', 'movbe', 'adcx', 'adox',
]);
const BEYOND_SSE2_PREFIX = /^(crc32|pmovsx|pmovzx)/;
// v-mnemonics that are not AVX (virtualization, segment verification).
const NOT_AVX = /^(verr|verw|vmcall|vmlaunch|vmresume|vmxoff|vmxon|vmread|vmwrite|vmptrld|vmptrst|vmclear|vmfunc)$/;
// Instructions that exist only with an EVEX encoding (AVX-512), for checking the AVX2 kernels.
const AVX512_ONLY = /^(vpternlog|vperm[ti]2|vmovdq[au](8|16|32|64)|vp?compress|vp?expand|vp?blendm|vscalef|vrndscale|vgetexp|vgetmant|vfixupimm|vrcp14|vrsqrt14|vpbroadcastm|vextract[fi](32x|64x)|vinsert[fi](32x|64x)|vshuf[fi](32x|64x)|vpmov(?!zx|sx|mskb)[a-z]*[bwdq]$|vpro[lr]|vpsra[q]|vpabsq|vpm(ax|in)[su]q|vpmullq|vcvt[a-z]*2u|vcvtu|vcvt[a-z]*qq|vcvtqq|vrange|vreduce|vfpclass|vpconflict|vplzcnt|vpcmpu?[bwdq]$|vpcmp(eq|gt)?[bwdq]?\s*.*%k|vdbpsadbw|vpermw|vpsllvw|vpsrlvw|vpsravw)/;
const PREFIXES = new Set(['rep', 'repz', 'repe', 'repnz', 'repne', 'lock', 'notrack', 'bnd', 'data16', 'addr32',
  'cs', 'ds', 'es', 'ss', 'fs', 'gs']);

/** The ISA a function belongs to: 'avx512', 'avx2' or 'baseline' (by its demangled name). */
function isaOf(name) {
  if (/\bnodenn::avx512::/.test(name)) return 'avx512';
  if (/\bnodenn::avx2::/.test(name)) return 'avx2';
  return 'baseline';
}

/** Why this instruction is not allowed in code of the given ISA, or null. */
function violation(isa, mnemonic, operands) {
  if (isa === 'avx512') return null;
  const evexRegs = /%zmm|%[xy]mm(1[6-9]|2\d|3[01])\b|%k[0-7]\b|\{%k[0-7]\}|\{z\}/.test(operands);
  if (isa === 'avx2') {
    if (evexRegs) return 'AVX-512 register or masking in AVX2 code';
    if (AVX512_ONLY.test(`${mnemonic} ${operands}`)) return 'AVX-512-only instruction in AVX2 code';
    return null;
  }
  if (/%ymm|%zmm/.test(operands) || evexRegs) return 'AVX register outside the ISA-specific kernels';
  if (/^v/.test(mnemonic) && !NOT_AVX.test(mnemonic)) return 'VEX/EVEX (AVX) instruction outside the ISA-specific kernels';
  if (/^k[a-z]/.test(mnemonic) && /%k[0-7]/.test(operands)) return 'AVX-512 mask instruction outside the ISA-specific kernels';
  if (BEYOND_SSE2.has(mnemonic) || BEYOND_SSE2_PREFIX.test(mnemonic)) return 'instruction beyond x86-64 baseline (SSE2)';
  return null;
}

/** Scans `objdump -d -C --no-show-raw-insn -w` output function by function. */
function analyze(disassembly) {
  const summary = {
    functions: { baseline: 0, avx2: 0, avx512: 0 },
    instructions: 0,
    wideInIsaCode: { avx2Ymm: 0, avx512Zmm: 0 }, // proves the scan sees the wide code where it should be
    violations: [],
  };
  let fn = null, isa = 'baseline';
  for (const line of disassembly.split('\n')) {
    const head = /^[0-9a-f]+ <(.*)>:$/.exec(line);
    if (head) {
      fn = head[1];
      isa = isaOf(fn);
      summary.functions[isa]++;
      continue;
    }
    const ins = /^\s*[0-9a-f]+:\t(.*)$/.exec(line);
    if (!ins || fn === null) continue;
    const words = ins[1].trim().split(/\s+/);
    while (words.length > 1 && PREFIXES.has(words[0])) words.shift();
    const mnemonic = words[0] || '';
    if (mnemonic === '' || mnemonic === '(bad)') continue;
    const operands = words.slice(1).join(' ').replace(/#.*$/, '');
    summary.instructions++;
    if (isa === 'avx2' && /%ymm/.test(operands)) summary.wideInIsaCode.avx2Ymm++;
    if (isa === 'avx512' && /%zmm/.test(operands)) summary.wideInIsaCode.avx512Zmm++;
    const why = violation(isa, mnemonic, operands);
    if (why && summary.violations.length < 50) summary.violations.push({ function: fn, instruction: ins[1].trim(), why });
  }
  return summary;
}

function textSectionHash(file) {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nodenn-text-')), 'text.bin');
  execFileSync('objcopy', ['-O', 'binary', '--only-section=.text', file, out]);
  const hash = crypto.createHash('sha256').update(fs.readFileSync(out)).digest('hex');
  fs.rmSync(path.dirname(out), { recursive: true, force: true });
  return hash;
}

/** Loads the binary in a fresh process, selects the scalar kernels and multiplies two 2x2 matrices. */
function runsScalar(file) {
  const code = `const a = require(${JSON.stringify(path.resolve(file))});
    a.setIsa('scalar');
    const C = new Float32Array(4);
    a.gemm(false, false, 2, 2, 2, 1, new Float32Array([1, 2, 3, 4]), new Float32Array([5, 6, 7, 8]), 0, C);
    console.log(JSON.stringify({ isa: a.info().isa, C: Array.from(C) }));`;
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8' });
  if (r.status !== 0) return { ok: false, error: r.stderr.trim().split('\n').slice(-3).join(' ') };
  const got = JSON.parse(r.stdout);
  return { ok: got.isa === 'scalar' && got.C.join() === '19,22,43,50', ...got };
}

function check(unstripped, shipped) {
  const dis = execFileSync('objdump', ['-d', '-C', '--no-show-raw-insn', '-w', unstripped],
    { encoding: 'utf8', maxBuffer: 1 << 28 });
  const summary = analyze(dis);
  const sameText = textSectionHash(unstripped) === textSectionHash(shipped);
  const scalar = runsScalar(shipped);
  const ok = summary.violations.length === 0 && sameText && scalar.ok &&
    summary.wideInIsaCode.avx2Ymm > 0 && summary.wideInIsaCode.avx512Zmm > 0;
  return { ok, unstripped, shipped, sameText, scalar, ...summary };
}

module.exports = { analyze, violation, check };

if (require.main === module) {
  const tag = `${process.platform}-${process.arch}`;
  const unstripped = process.argv[2] || path.join('build-prebuild', tag, 'nodenn.node');
  const shipped = process.argv[3] || path.join('prebuilds', tag, 'nodenn.node');
  for (const f of [unstripped, shipped]) {
    if (!fs.existsSync(f)) {
      console.error(`check-portability: ${f} does not exist; run \`npm run build:prebuilds\` first`);
      process.exit(2);
    }
  }
  const result = check(unstripped, shipped);
  console.log(JSON.stringify(result, null, 2));
  process.exit(result.ok ? 0 : 1);
}
