// gemm — C = alpha * op(A) op(B) + beta * C, row-major, in plain TypeScript.
// Register tiling, as in the native kernel but with scalars: a 4 x 4 tile of C is summed in 16 local variables
// over a block of K, reading 4 elements of op(A) and 4 of op(B) per 16 multiply-adds, and added to C once per
// block. Transposes are only strides: op(A)[i][k] = A[i * aRow + k * aCol], op(B)[k][j] = B[k * bRow + j * bCol].
// beta == 0 overwrites C without reading it (as in BLAS: NaN in C does not leak).
import type { FloatArray } from '../../tensor';

const KB = 256;  // depth of a block: the 4 rows of op(A) it reads stay in L1

export function gemm(transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
  A: FloatArray, B: FloatArray, beta: number, C: FloatArray): void {
  if (N === 0) return; // C is empty (and no empty loop over up to 2^31 rows)

  if (beta === 0) C.fill(0, 0, M * N);
  else if (beta !== 1) for (let x = 0; x < M * N; x++) C[x] *= beta;
  if (K === 0 || alpha === 0) return;

  const aRow = transA ? 1 : K, aCol = transA ? M : 1;
  const bRow = transB ? 1 : N, bCol = transB ? K : 1;
  for (let k0 = 0; k0 < K; k0 += KB) {
    const k1 = Math.min(K, k0 + KB);
    let i = 0;
    for (; i + 4 <= M; i += 4) {
      let j = 0;
      for (; j + 4 <= N; j += 4) {
        let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        let a = i * aRow + k0 * aCol, b = k0 * bRow + j * bCol;
        for (let k = k0; k < k1; k++, a += aCol, b += bRow) {
          const x0 = B[b], x1 = B[b + bCol], x2 = B[b + 2 * bCol], x3 = B[b + 3 * bCol];
          const y0 = A[a], y1 = A[a + aRow], y2 = A[a + 2 * aRow], y3 = A[a + 3 * aRow];
          c00 += y0 * x0; c01 += y0 * x1; c02 += y0 * x2; c03 += y0 * x3;
          c10 += y1 * x0; c11 += y1 * x1; c12 += y1 * x2; c13 += y1 * x3;
          c20 += y2 * x0; c21 += y2 * x1; c22 += y2 * x2; c23 += y2 * x3;
          c30 += y3 * x0; c31 += y3 * x1; c32 += y3 * x2; c33 += y3 * x3;
        }
        let c = i * N + j;
        C[c] += alpha * c00; C[c + 1] += alpha * c01; C[c + 2] += alpha * c02; C[c + 3] += alpha * c03;
        c += N;
        C[c] += alpha * c10; C[c + 1] += alpha * c11; C[c + 2] += alpha * c12; C[c + 3] += alpha * c13;
        c += N;
        C[c] += alpha * c20; C[c + 1] += alpha * c21; C[c + 2] += alpha * c22; C[c + 3] += alpha * c23;
        c += N;
        C[c] += alpha * c30; C[c + 1] += alpha * c31; C[c + 2] += alpha * c32; C[c + 3] += alpha * c33;
      }
      edge(i, i + 4, j, N, k0, k1, alpha, A, aRow, aCol, B, bRow, bCol, C);
    }
    edge(i, M, 0, N, k0, k1, alpha, A, aRow, aCol, B, bRow, bCol, C);
  }
}

/**
 * C[r][j] += alpha * sum over k in [k0, k1) of op(A)[r][k] op(B)[k][j], for rows [r0, r1), columns [j0, N):
 * the rows and columns left over by the 4 x 4 tiles (all rows when M < 4), four columns at a time.
 */
function edge(r0: number, r1: number, j0: number, N: number, k0: number, k1: number, alpha: number,
  A: FloatArray, aRow: number, aCol: number, B: FloatArray, bRow: number, bCol: number, C: FloatArray): void {
  for (let r = r0; r < r1; r++) {
    let j = j0;
    for (; j + 4 <= N; j += 4) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let k = k0, a = r * aRow + k0 * aCol, b = k0 * bRow + j * bCol; k < k1; k++, a += aCol, b += bRow) {
        const y = A[a];
        s0 += y * B[b]; s1 += y * B[b + bCol]; s2 += y * B[b + 2 * bCol]; s3 += y * B[b + 3 * bCol];
      }
      const c = r * N + j;
      C[c] += alpha * s0; C[c + 1] += alpha * s1; C[c + 2] += alpha * s2; C[c + 3] += alpha * s3;
    }
    for (; j < N; j++) {
      let s = 0;
      for (let k = k0, a = r * aRow + k0 * aCol, b = k0 * bRow + j * bCol; k < k1; k++, a += aCol, b += bRow) {
        s += A[a] * B[b];
      }
      C[r * N + j] += alpha * s;
    }
  }
}
