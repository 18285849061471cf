// Fixtures shared by the Dataset specs: a small numbered data set and the order in which a pass visits it.
import type { Batch } from '../src/data/batches';
import type { Dataset, Sample } from '../src/data/dataset';
import { Tensor } from '../src/tensor';

/** x (n, 3): sample k is [k, k + 0.25, k + 0.5]; labels k % 3. */
export function data(n: number) {
  const x = Tensor.zeros([n, 3]);
  for (let k = 0; k < n; k++) x.data.set([k, k + 0.25, k + 0.5], 3 * k);
  return { x, y: Int32Array.from({ length: n }, (_, k) => k % 3) };
}

export const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** The sample numbers of one pass of a dataset of samples or batches of data(n) (the first entry of each row). */
export async function pass(ds: Dataset<Sample> | Dataset<Batch>): Promise<number[]> {
  const out: number[] = [];
  for await (const e of ds as AsyncIterable<Sample | Batch>) {
    const rows = e.x.ndim === 1 ? 1 : e.x.shape[0];
    for (let i = 0; i < rows; i++) out.push(e.x.data[3 * i]);
  }
  return out;
}
