// Batched matrix products — the readable reference of native/linalg.cc: one gemm per matrix of the batch.
import type { FloatArray } from '../../tensor';
import { gemm } from './gemm';

/** C[b] = op(A[b]) op(B[b]) for b < batch; broadcastA: the one A for every b, broadcastB alike. */
export function gemmBatched(transA: boolean, transB: boolean, batch: number, M: number, N: number, K: number,
  broadcastA: boolean, broadcastB: boolean, A: FloatArray, B: FloatArray, C: FloatArray): void {
  if (batch * M * N === 0) return;
  // matrix b of an operand (an empty operand as it is: a view of a shrunk buffer cannot be cut)
  const part = (x: FloatArray, b: number, size: number, broadcast: boolean) =>
    broadcast || size === 0 ? x : x.subarray(b * size, (b + 1) * size);
  for (let b = 0; b < batch; b++) {
    gemm(transA, transB, M, N, K, 1, part(A, b, M * K, broadcastA), part(B, b, K * N, broadcastB), 0,
      part(C, b, M * N, false));
  }
}
