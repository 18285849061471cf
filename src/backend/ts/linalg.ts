// Batched matrix products — the readable reference of native/linalg.cc: one gemm per matrix of the batch.
import type { FloatArray } from '../../tensor';
import { gemm } from './gemm';

/** C[b] = op(A[b]) op(B[b]) for b < batch; broadcastA: the one A for every b, broadcastB alike. */
export function gemmBatched(transA: boolean, transB: boolean, batch: number, M: number, N: number, K: number,
  broadcastA: boolean, broadcastB: boolean, A: FloatArray, B: FloatArray, C: FloatArray): void {
  for (let b = 0; b < batch; b++) {
    const a = broadcastA ? A : A.subarray(b * M * K, (b + 1) * M * K);
    const bb = broadcastB ? B : B.subarray(b * K * N, (b + 1) * K * N);
    gemm(transA, transB, M, N, K, 1, a, bb, 0, C.subarray(b * M * N, (b + 1) * M * N));
  }
}
