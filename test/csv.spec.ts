// Dataset.fromCsv (src/data/csv.ts): CSV files parsed by csv-parse as a stream — header or none, the label by name
// or index, quoted fields, CRLF — with DataErrors naming the row and column of a bad cell; fit() on every backend.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { Dataset, type Sample } from '../src/data/dataset';
import { DataError } from '../src/data/mnist';
import { Dense, ReLU } from '../src/layers/index';
import { Sequential } from '../src/network';
import { Adam } from '../src/optimizers';
import { Tensor } from '../src/tensor';
import { backends, useBackend } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'nodenn-csv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
}

const IRIS = 'sepal_length,sepal_width,species\n5.1,3.5,0\n4.9,3.0,0\n6.3,3.3,2\n5.8,2.7,1\n';

const rows = (samples: Sample[]) => samples.map((s) => [Array.from(s.x.data), s.y instanceof Tensor ? Array.from(s.y.data) : s.y]);

/** The DataError a promise rejects with, as [code, message]. */
async function failure(p: Promise<unknown>): Promise<[string, string]> {
  return p.then(() => ['none', ''], (e: unknown) => (e instanceof DataError ? [e.code, e.message] : ['not a DataError', String(e)]));
}

describe('Dataset.fromCsv', () => {
  it('a header, the label by name: features in column order, integer labels, the row count, every pass alike', async () => {
    const ds = await Dataset.fromCsv(file('iris.csv', IRIS), { label: 'species' });
    expect([ds.cardinality, ds.samples, ds.batched, ds.batchSize]).toEqual([4, 4, false, null]);
    const expected = [[[5.1, 3.5].map(Math.fround), 0], [[4.9, 3.0].map(Math.fround), 0], [[6.3, 3.3].map(Math.fround), 2],
      [[5.8, 2.7].map(Math.fround), 1]];
    expect(rows(await ds.toArray())).toEqual(expected);
    expect(rows(await ds.toArray())).toEqual(expected);
    const first = (await ds.toArray())[0];
    expect([first.x.shape, first.x.dtype]).toEqual([[2], 'float32']);
    // the label by index; features chosen and ordered by name; no label: samples without y
    expect(rows(await (await Dataset.fromCsv(join(dir, 'iris.csv'), { label: 2, features: ['sepal_width'] })).toArray()))
      .toEqual([[[3.5], 0], [[3], 0], [[3.3].map(Math.fround), 2], [[2.7].map(Math.fround), 1]]);
    const unlabelled = await (await Dataset.fromCsv(join(dir, 'iris.csv'), { dtype: 'float64' })).toArray();
    expect(unlabelled.map((s) => [Array.from(s.x.data), s.y])).toEqual(
      [[[5.1, 3.5, 0], undefined], [[4.9, 3, 0], undefined], [[6.3, 3.3, 2], undefined], [[5.8, 2.7, 1], undefined]]);
  });

  it('no header: columns by index, rows counted from the first line; a name is refused', async () => {
    const path = file('noheader.csv', '1,5.5,3.5\n0,4.5,3.0\n');
    expect(rows(await (await Dataset.fromCsv(path, { header: false, label: 0 })).toArray())).toEqual([[[5.5, 3.5], 1], [[4.5, 3], 0]]);
    const bad = file('noheader-bad.csv', '5.1,3.5,0\n4.9,3.0,1\n6.3,x,2\n');
    expect(await failure(Dataset.fromCsv(bad, { header: false, label: 2 }))).toEqual(
      ['BAD_VALUE', `row 3, column 'column 1' (index 1): 'x' is not a number (${bad})`]);
    await expect(Dataset.fromCsv(path, { header: false, label: 'species' })).rejects.toThrow(new TypeError(
      "Dataset.fromCsv: label names column 'species', but the file has no header (header: false): give its index"));
  });

  it('quoted fields (delimiters, doubled quotes, line breaks inside), CRLF, blank lines, a BOM, other delimiters', async () => {
    const text = '\ufeff"id","note","value","label"\r\n"1","a, quoted ""comma""","0.5","1"\r\n' +
      '"2","two\r\nlines","1.5","0"\r\n\r\n"3","plain"," -2e-1 ","1"\r\n';
    const ds = await Dataset.fromCsv(file('quoted.csv', text), { label: 'label', features: ['value', 'id'], dtype: 'float64' });
    expect(ds.cardinality).toBe(3);
    expect(rows(await ds.toArray())).toEqual([[[0.5, 1], 1], [[1.5, 2], 0], [[-0.2, 3], 1]]);
    // the text column is read only when asked for: then it names its row
    const path = join(dir, 'quoted.csv');
    expect(await failure(Dataset.fromCsv(path, { label: 'label' }))).toEqual(
      ['BAD_VALUE', `row 1, column 'note' (index 1): 'a, quoted "comma"' is not a number (${path})`]);
    const semi = await Dataset.fromCsv(file('semi.csv', 'a;b;kind\n1;2;setosa\n3;4;virginica\n'),
      { delimiter: ';', label: 'kind', classes: ['setosa', 'versicolor', 'virginica'] });
    expect(rows(await semi.toArray())).toEqual([[[1, 2], 0], [[3, 4], 2]]);
  });

  it("labelType 'value': y a tensor [1] of the number, for regression", async () => {
    const ds = await Dataset.fromCsv(file('prices.csv', 'rooms,area,price\n3,70,210.5\n2,45,-1\n'), { label: 'price', labelType: 'value' });
    const samples = await ds.toArray();
    expect(rows(samples)).toEqual([[[3, 70], [210.5]], [[2, 45], [-1]]]);
    expect((samples[0].y as Tensor).shape).toEqual([1]);
    const batch = (await ds.batch(2).toArray())[0];
    expect([batch.x.shape, (batch.y as Tensor).shape]).toEqual([[2, 2], [2, 1]]);
  });

  it('DataErrors naming the row and the column: a bad cell, an empty one, a bad label, a missing column, a ragged row', async () => {
    const cases: [string, string, object, string, string][] = [
      ['cell.csv', 'x1,x2,y\n1,2,0\n3,oops,1\n', { label: 'y' }, 'BAD_VALUE', "row 2, column 'x2' (index 1): 'oops' is not a number"],
      ['empty.csv', 'x1,x2,y\n1,,0\n', { label: 'y' }, 'BAD_VALUE', "row 1, column 'x2' (index 1) is empty"],
      ['nan.csv', 'x1,x2,y\n1,NaN,0\n', { label: 'y' }, 'BAD_VALUE', "row 1, column 'x2' (index 1): 'NaN' is not a number"],
      ['label.csv', 'x1,x2,y\n1,2,0\n3,4,1.5\n', { label: 'y' }, 'BAD_LABEL', "row 2, column 'y' (index 2): '1.5' is not a class label " +
      "(an integer from 0; labelType: 'value' for a number to regress on, classes for names)"],
      ['class.csv', 'x,kind\n1,setosa\n2,rose\n', { label: 'kind', classes: ['setosa'] }, 'BAD_LABEL',
        "row 2, column 'kind' (index 1): 'rose' is not one of the classes"],
      ['nolabel.csv', 'x1,x2,y\n1,2,0\n', { label: 'target' }, 'MISSING_COLUMN', "no label column 'target': its columns are 'x1', 'x2', 'y'"],
      ['index.csv', '1,2,0\n', { header: false, label: 3 }, 'MISSING_COLUMN', 'no label column 3: it has 3 columns'],
      ['feature.csv', 'x1,x2,y\n1,2,0\n', { label: 'y', features: ['x1', 'x3'] }, 'MISSING_COLUMN',
        "no feature column 'x3': its columns are 'x1', 'x2', 'y'"],
      ['only.csv', 'y\n1\n', { label: 'y' }, 'MISSING_COLUMN', 'no feature columns: the label is the only column'],
      ['ragged.csv', 'x1,x2,y\n1,2,0\n3,4\n', { label: 'y' }, 'BAD_CSV', 'Invalid Record Length: expect 3, got 2 on line 3'],
      ['quote.csv', 'x1,y\n1,"0\n', { label: 'y' }, 'BAD_CSV', 'Quote Not Closed: the parsing is finished with an opening quote at line 2'],
      ['blank.csv', '\n\n', {}, 'BAD_CSV', 'the file holds no rows'],
    ];
    for (const [name, text, options, code, message] of cases) {
      const path = file(name, text);
      expect(await failure(Dataset.fromCsv(path, options)), name).toEqual([code, `${message} (${path})`]);
    }
    expect(await failure(Dataset.fromCsv(join(dir, 'missing.csv')))).toEqual(['NOT_FOUND', `no such file (${join(dir, 'missing.csv')})`]);
  });

  it('refuses bad options with a TypeError naming them', async () => {
    const path = file('opts.csv', IRIS);
    const refused: [unknown, string][] = [
      [{ label: 1.5 }, 'Dataset.fromCsv: label must be a column name or an index from 0, got 1.5'],
      [{ features: [] }, 'Dataset.fromCsv: features must be a non-empty array of column names or indices, got an array of length 0'],
      [{ delimiter: '' }, "Dataset.fromCsv: delimiter must be a non-empty string without quotes or line breaks, got the string ''"],
      [{ labelType: 'regression' }, "Dataset.fromCsv: labelType must be 'class' or 'value', got the string 'regression'"],
      [{ classes: ['a'] }, 'Dataset.fromCsv: classes name the values of the label column: give label too'],
      [{ dtype: 'int32' }, "Dataset.fromCsv: dtype must be 'float32' or 'float64', got the string 'int32'"],
    ];
    for (const [options, message] of refused) await expect(Dataset.fromCsv(path, options as object)).rejects.toThrow(new TypeError(message));
    await expect(Dataset.fromCsv(path, { lable: 'species' } as object)).rejects.toThrow(TypeError);
    await expect(Dataset.fromCsv('')).rejects.toThrow(new TypeError("Dataset.fromCsv: path must be a non-empty string, got the string ''"));
  });

  it('streams: a pass stopped early closes the file, and a long file is read a row at a time', async () => {
    const n = 20_000;
    const lines = ['a,b,label'];
    for (let i = 0; i < n; i++) lines.push(`${i},${i / 2},${i % 3}`);
    const ds = await Dataset.fromCsv(file('long.csv', lines.join('\n')), { label: 'label' });
    expect(ds.cardinality).toBe(n);
    expect(rows(await ds.take(2).toArray())).toEqual([[[0, 0], 0], [[1, 0.5], 1]]);
    let count = 0, sum = 0;
    for await (const b of ds.batch(1000)) {
      count += b.size;
      sum += (b.y as Int32Array).reduce((a, v) => a + v, 0);
    }
    expect([count, sum]).toEqual([n, Array.from({ length: n }, (_, i) => i % 3).reduce((a, v) => a + v, 0)]);
  });
});

describe.each(backends)('fit on a CSV dataset on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  it('learns two separable classes from a CSV file, validated on a split of it', async () => {
    const lines = ['x,y,class'];
    for (let i = 0; i < 200; i++) {
      const k = i % 2, a = (i * 0.37) % 1, b = (i * 0.61) % 1;
      lines.push(`${(k ? 2 : -2) + a},${(k ? -1 : 1) + b},${k}`);
    }
    const ds = await Dataset.fromCsv(file(`blobs-${bc.label.replace(/\W/g, '_')}.csv`, lines.join('\r\n') + '\r\n'), { label: 'class' });
    const [train, val] = ds.split([0.8, 0.2], { seed: 1 });
    const net = new Sequential([new Dense(2, 8), new ReLU(), new Dense(8, 2)], { seed: 1 });
    const h = await net.fit(train.shuffle({ seed: 1 }).batch(16), { epochs: 5, optimizer: new Adam({ lr: 0.05 }), validationData: val.batch(40) });
    expect(h.valAccuracy?.at(-1)).toBe(1);
    expect((await net.evaluate(ds.batch(50))).accuracy).toBe(1);
  });
});
