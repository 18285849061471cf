// gemm — the readable reference: C = alpha * op(A) op(B) + beta * C, row-major.
// Loop orders keep the innermost loop on contiguous memory: i-k-j when B is read by rows, dot products when
// op(B) is B transposed. beta == 0 overwrites C without reading it (as in BLAS: NaN in C does not leak).
import type { FloatArray } from '../../tensor';
import * as check from './checks';

export function gemm(transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
  A: FloatArray, B: FloatArray, beta: number, C: FloatArray): void {
  check.bool(transA, 'transA'); check.bool(transB, 'transB');
  check.size(M, 'M'); check.size(N, 'N'); check.size(K, 'K');
  check.finite(alpha, 'alpha'); check.finite(beta, 'beta');
  check.floats([A, 'A', check.product(M, K, 'M * K')], [B, 'B', check.product(K, N, 'K * N')],
    [C, 'C', check.product(M, N, 'M * N')]);
  check.noAlias(C, 'C', A, 'A', false);
  check.noAlias(C, 'C', B, 'B', false);
  if (N === 0) return; // C is empty (and no empty loop over up to 2^31 rows)

  for (let i = 0; i < M; i++) {
    const c0 = i * N;
    if (beta === 0) C.fill(0, c0, c0 + N);
    else if (beta !== 1) for (let j = 0; j < N; j++) C[c0 + j] *= beta;
    if (K === 0 || alpha === 0) continue;
    if (!transB) {
      for (let k = 0; k < K; k++) {
        const a = alpha * (transA ? A[k * M + i] : A[i * K + k]);
        const b0 = k * N;
        for (let j = 0; j < N; j++) C[c0 + j] += a * B[b0 + j];
      }
    } else {
      for (let j = 0; j < N; j++) {
        const b0 = j * K;
        let s = 0;
        if (transA) for (let k = 0; k < K; k++) s += A[k * M + i] * B[b0 + k];
        else for (let k = 0, a0 = i * K; k < K; k++) s += A[a0 + k] * B[b0 + k];
        C[c0 + j] += alpha * s;
      }
    }
  }
}
