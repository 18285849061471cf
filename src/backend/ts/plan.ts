// planForward — a small network's eval-mode forward pass in one call, the readable reference of native/plan.cc:
// the kernels the layers call (gemm, biasAdd, activationForward, softmax), in the order the program says, on the
// layers' own weights; the activations ping-pong between the two halves of the caller's scratch.
import type { FloatArray } from '../../tensor';
import type { ActivationKind } from '../backend';
import { enums } from '../spec';
import { activationForward, biasAdd, softmax } from './elementwise';
import { gemm } from './gemm';

/** The step kinds of a program (src/backend/spec.ts, planForward). */
export const STEP_DENSE = 0, STEP_ACTIVATION = 1, STEP_SOFTMAX = 2;

const bits = new DataView(new ArrayBuffer(8));

/** The float64 whose low and high 32 bits are lo and hi (an activation step's slope). */
export function slopeOf(lo: number, hi: number): number {
  bits.setInt32(0, lo, true);
  bits.setInt32(4, hi, true);
  return bits.getFloat64(0, true);
}

/** [lo, hi]: the words of a slope. */
export function slopeWords(slope: number): [number, number] {
  bits.setFloat64(0, slope, true);
  return [bits.getInt32(0, true), bits.getInt32(4, true)];
}

export function planForward(rows: number, outputs: number, width: number, programLength: number, d0: number,
  d1: number, d2: number, d3: number, d4: number, program: Int32Array, x: FloatArray, y: FloatArray,
  scratch: FloatArray, w0?: FloatArray | null, b0?: FloatArray | null, w1?: FloatArray | null, b1?: FloatArray | null,
  w2?: FloatArray | null, b2?: FloatArray | null, w3?: FloatArray | null, b3?: FloatArray | null): void {
  // no rows: nothing to write, and scratch may be a view past the end of a shrunk resizable buffer, which
  // subarray() would refuse (the native kernel does not touch it either)
  if (rows === 0) return;
  const d = [d0, d1, d2, d3, d4], w = [w0, w1, w2, w3], b = [b0, b1, b2, b3];
  const h = rows * Math.floor(width / 2);
  const half = [scratch.subarray(0, h), scratch.subarray(h, 2 * h)];
  let cur: FloatArray = x, cols = d0, next = 0;
  for (let s = 0; s + 4 <= programLength; s += 4) {
    const op = program[s];
    if (op === STEP_DENSE) {
      const i = program[s + 1], out = d[i + 1], dst = half[next];
      next ^= 1;
      gemm(false, false, rows, out, cols, 1, cur, w[i]!, 0, dst);
      const bias = b[i];
      if (bias) biasAdd(rows, out, dst, bias);
      cur = dst;
      cols = out;
    } else if (op === STEP_ACTIVATION) {
      const kind = enums.activation.values[program[s + 1]] as ActivationKind;
      activationForward(kind, rows * cols, cur, cur, slopeOf(program[s + 2], program[s + 3]));
    } else {
      softmax(rows, cols, cur, cur);
    }
  }
  y.set(cur.subarray(0, rows * outputs));
}
