#!/usr/bin/env node
// Fails when the compiled GEMM keeps an FMA operand on the stack: a `vfmadd...` (or vfmsub, vfnmadd, vfnmsub) that
// reads its operand from (%rsp), or from (%rbp) in a function that sets %rbp up as its frame pointer. In a
// micro-kernel that means an accumulator or a B vector lives in memory and every multiply-add of the k loop loads it
// (and often stores it back): a prefetch loop once made GCC keep one of the 12 x 2 tile's B vectors on the stack
// (12 memory-operand FMAs per k, 1.6x the CPU time), a merge loop not unrolled kept small_row_blocks' accumulators
// there. It also fails when an innermost loop that does FMAs (a k loop) stores a vector register to the stack: an
// accumulator kept in memory without being an FMA operand (round 6: an edge merge that indexed the accumulators at
// run time made GCC store all 18 of the 6 x 3 tile's to the stack at every k, 155 us instead of 85, which the
// operand check could not see). Loops are found from the disassembly: a jump back to an earlier address of the
// same function closes one. Such a build is correct, only slow, so no other test notices.
//   node scripts/check-fma-spills.js              the AVX2 and AVX-512 gemm objects under build/ (npm run lint; CI
//                                                 builds the addon first). No object there (no native build, not
//                                                 x86-64): says so and passes.
//   node scripts/check-fma-spills.js FILE.o ...   those objects
// Needs objdump (binutils).
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');

// The gemm objects of the x86 ISAs in a build tree: cmake-js's build/CMakeFiles/nodenn_avx2.dir/native/gemm.cc.o,
// node-gyp's build/Release/obj.target/nodenn_avx2/native/gemm.o.
function findObjects(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return findObjects(p);
    return /^gemm(\.cc)?\.o$/.test(e.name) && /nodenn_avx(2|512)\b/.test(p) ? [p] : [];
  });
}

const FMA = /\bv(fn?m(add|sub)|fmaddsub|fmsubadd)\d{3}[ps][sd]\b/;
// A vector register stored to the stack: vmovaps %zmm3,0x40(%rsp) (AT&T: the destination last; also masked). Not
// scalars (vmovss, vmovd): a loop that spills alpha or an index around an inlined call keeps no accumulator there.
const STACK_STORE = /\bvmov(ap[sd]|up[sd]|dq[au](32|64)?)\s+%[yz]mm\d+,(-?0x[0-9a-f]+)?\((?<base>%rsp|%rbp)\b/;
// A jump and its target address: "jne    1f0 <fn+0x1f0>".
const JUMP = /^\s*([0-9a-f]+):\s+j\w+\s+([0-9a-f]+) </;
const ADDR = /^\s*([0-9a-f]+):/;

// [function, instruction] of each vector store to the stack in an innermost loop that does FMAs, in one function's
// instructions ([address, text]; frame: it sets %rbp up as its frame pointer). The loops: [target, jump] of each jump back; innermost: no
// other such loop with FMAs strictly inside it.
function loopStores(fn, insns, frame) {
  const loops = [];
  for (const [addr, text] of insns) {
    const m = JUMP.exec(text);
    if (m && parseInt(m[2], 16) < addr) loops.push([parseInt(m[2], 16), addr]);
  }
  const inside = (lo, hi) => insns.filter(([a]) => a >= lo && a <= hi);
  const withFma = loops.filter(([lo, hi]) => inside(lo, hi).some(([, t]) => FMA.test(t)));
  const found = [];
  for (const [lo, hi] of withFma) {
    if (withFma.some(([l, h]) => l >= lo && h <= hi && (l > lo || h < hi))) continue;
    for (const [, t] of inside(lo, hi)) {
      const m = STACK_STORE.exec(t);
      if (m && (m.groups.base === '%rsp' || frame)) found.push([fn, `${t.trim()} (in the loop ${lo.toString(16)}-${hi.toString(16)})`]);
    }
  }
  return found;
}

// [function, instruction] of each FMA with a stack operand in the disassembly of one object.
function spills(file) {
  const r = spawnSync('objdump', ['-d', '-C', '--no-show-raw-insn', file], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.error && r.error.code === 'ENOENT') {
    console.error('check-fma-spills: objdump not found (binutils): it disassembles the built addon');
    process.exit(1);
  }
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`objdump ${file}: ${r.stderr}`);
  const found = [], stores = [];
  let fn = '', frame = false, fmas = 0, pending = [], insns = [];
  const flush = () => {
    for (const [f, insn, rbp] of pending) if (!rbp || frame) found.push([f, insn]);
    pending = [];
    stores.push(...loopStores(fn, insns, frame));
    insns = [];
  };
  for (const line of r.stdout.split('\n')) {
    const head = /^[0-9a-f]+ <(.*)>:$/.exec(line);
    if (head) {
      flush();
      fn = head[1];
      frame = false;
      continue;
    }
    const at = ADDR.exec(line);
    if (at) insns.push([parseInt(at[1], 16), line]);
    if (/\bmov\s+%rsp,%rbp\b/.test(line)) frame = true;
    if (!FMA.test(line)) continue;
    fmas++;
    if (/\(%rsp\b/.test(line)) pending.push([fn, line.trim(), false]);
    else if (/\(%rbp\b/.test(line)) pending.push([fn, line.trim(), true]);
  }
  flush();
  return { found, stores, fmas };
}

const args = process.argv.slice(2);
const objects = args.length > 0 ? args : findObjects(path.join(root, 'build'));
if (objects.length === 0) {
  console.log('check-fma-spills: no AVX2/AVX-512 gemm object under build/ (no native build?): nothing checked');
  process.exit(0);
}
let bad = 0;
for (const file of objects) {
  const { found, stores, fmas } = spills(file);
  if (fmas === 0) {
    console.error(`check-fma-spills: ${path.relative(root, file)} has no FMA at all: not an AVX2/AVX-512 gemm object?`);
    bad++;
  }
  const byFn = new Map();
  for (const [f, insn] of found) byFn.set(f, [...(byFn.get(f) ?? []), insn]);
  for (const [f, insns] of byFn) {
    console.error(`check-fma-spills: ${path.relative(root, file)}: ${insns.length} FMA(s) with a stack operand in ${f}:`);
    for (const insn of insns.slice(0, 4)) console.error(`    ${insn}`);
    bad++;
  }
  const storesByFn = new Map();
  for (const [f, insn] of stores) storesByFn.set(f, [...(storesByFn.get(f) ?? []), insn]);
  for (const [f, insns] of storesByFn) {
    console.error(
      `check-fma-spills: ${path.relative(root, file)}: ${insns.length} vector store(s) to the stack in a k loop of ${f}:`,
    );
    for (const insn of insns.slice(0, 4)) console.error(`    ${insn}`);
    bad++;
  }
}
if (bad > 0) {
  console.error('check-fma-spills: an accumulator or operand of the GEMM is kept in memory (see the script\'s header)');
  process.exit(1);
}
console.log(
  `check-fma-spills: ${objects.length} gemm object(s), no FMA with a stack operand, no vector store to the stack in a k loop`,
);
