// Dataset.fromCsv (src/data/csv.ts) word for word, beyond csv.spec.ts: every option refusal's message, the class
// names' checks, cells and labels with spaces around them, long cells cut in messages, class labels at the ends
// of the int32 range, and the errors of a path that is not a readable file (passed on as they are) or of a file
// removed after the dataset was made. File parsing only: the same on every backend, so it runs once.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { csvSamples } from '../src/data/csv';
import { Dataset } from '../src/data/dataset';
import { DataError } from '../src/data/mnist';
import { Tensor } from '../src/tensor';

const dir = mkdtempSync(join(tmpdir(), 'nodenn-csv-checks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
}

const IRIS = 'sepal_length,sepal_width,species\n5.1,3.5,0\n4.9,3.0,0\n6.3,3.3,2\n5.8,2.7,1\n';

/** The DataError a promise rejects with, as [code, message]. */
async function failure(p: Promise<unknown>): Promise<[string, string]> {
  return p.then(() => ['none', ''], (e: unknown) => (e instanceof DataError ? [e.code, e.message] : ['not a DataError', String(e)]));
}

/** Whether this process has no descriptor open on path, waiting up to 5 s for closes already under way. */
async function closedSoon(path: string): Promise<boolean> {
  const open = () => readdirSync('/proc/self/fd').some((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false;
    }
  });
  for (let waited = 0; waited < 5000; waited += 20) {
    if (!open()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

describe('Dataset.fromCsv checks word for word', () => {
  it.skipIf(!existsSync('/proc/self/fd'))('a pass stopped early, and the first look at the columns, close the file', async () => {
    const lines = ['a,label'];
    for (let i = 0; i < 50_000; i++) lines.push(`${i},${i % 3}`);  // far more than one read of the stream
    const path = file('early.csv', lines.join('\n'));
    const ds = await Dataset.fromCsv(path, { label: 'label' });
    expect(await closedSoon(path)).toBe(true);
    expect((await ds.take(2).toArray()).map((s) => s.y)).toEqual([0, 1]);
    expect(await closedSoon(path)).toBe(true);
  });

  it('option refusals name the option and what it got', async () => {
    const path = file('opts.csv', IRIS);
    const refused: [unknown, string][] = [
      [{ label: '' }, "label must be a column name or an index from 0, got the string ''"],
      [{ label: -1 }, 'label must be a column name or an index from 0, got -1'],
      [{ label: 'species', features: ['sepal_width', -1] }, 'features[1] must be a column name or an index from 0, got -1'],
      [{ delimiter: 5 }, 'delimiter must be a non-empty string without quotes or line breaks, got 5'],
      [{ label: 'species', classes: 'abc' }, "classes must be a non-empty array of class names, got the string 'abc'"],
      [{ label: 'species', classes: [] }, 'classes must be a non-empty array of class names, got an array of length 0'],
      [{ label: 'species', classes: ['a', 1] }, 'classes must be a non-empty array of class names, got an array of length 2'],
      [{ label: 'species', classes: [1, 'a'] }, 'classes must be a non-empty array of class names, got an array of length 2'],
      [{ label: 'species', classes: ['a'], labelType: 'value' }, "classes name the classes of labelType 'class', not 'value'"],
      [{ label: 'species', classes: ['a', 'b', 'a'] }, 'classes has a name twice'],
    ];
    for (const [options, message] of refused) {
      await expect(Dataset.fromCsv(path, options as object), message).rejects.toThrow(new TypeError(`Dataset.fromCsv: ${message}`));
    }
    await expect(Dataset.fromCsv(path, { header: 'yes' } as object)).rejects.toThrow(
      new TypeError("header must be true or false, got the string 'yes'"));
    await expect(Dataset.fromCsv(path, null as never)).rejects.toThrow(
      new TypeError('Dataset.fromCsv options must be an options object, got null'));
    await expect(Dataset.fromCsv(5 as never)).rejects.toThrow(new TypeError('Dataset.fromCsv: path must be a non-empty string, got 5'));
  });

  it('names and cells are read without the spaces around them; a cell of spaces is empty', async () => {
    const path = file('spaces.csv', ' a , b ,kind\n1, 2 , setosa \n3,4,virginica\n');
    const ds = await Dataset.fromCsv(path, { label: 'kind', features: ['b', 'a'], classes: ['virginica', 'setosa'] });
    expect((await ds.toArray()).map((s) => [Array.from(s.x.data), s.y])).toEqual([[[2, 1], 1], [[4, 3], 0]]);
    expect((await csvSamples(path, { label: 'kind', classes: ['virginica', 'setosa'] })).featureNames).toEqual(['a', 'b']);
    expect((await csvSamples(file('bare.csv', '1,2,0\n'), { header: false, label: 2, features: [1] })).featureNames).toEqual(['column 1']);
    const blank = file('blank-cell.csv', 'a,b\n1,   \n');
    expect(await failure(Dataset.fromCsv(blank))).toEqual(['BAD_VALUE', `row 1, column 'b' (index 1) is empty (${blank})`]);
    const blankLabel = file('blank-label.csv', 'a,kind\n1,  \n');
    expect(await failure(Dataset.fromCsv(blankLabel, { label: 'kind', classes: ['x'] }))).toEqual(
      ['BAD_LABEL', `row 1, column 'kind' (index 1) is empty (${blankLabel})`]);
  });

  it('a cell in a message is cut after 40 characters', async () => {
    const c40 = 'x'.repeat(40), c41 = 'y'.repeat(41);
    const p40 = file('c40.csv', `a\n${c40}\n`), p41 = file('c41.csv', `a\n${c41}\n`);
    expect(await failure(Dataset.fromCsv(p40))).toEqual(['BAD_VALUE', `row 1, column 'a' (index 0): '${c40}' is not a number (${p40})`]);
    expect(await failure(Dataset.fromCsv(p41))).toEqual(
      ['BAD_VALUE', `row 1, column 'a' (index 0): '${'y'.repeat(40)}...' is not a number (${p41})`]);
  });

  it('class labels: integers in [0, 2^31)', async () => {
    const ok = file('big.csv', 'a,y\n1,0\n2,2147483647\n');
    expect((await (await Dataset.fromCsv(ok, { label: 'y' })).toArray()).map((s) => s.y)).toEqual([0, 2147483647]);
    const tail = "is not a class label (an integer from 0; labelType: 'value' for a number to regress on, classes for names)";
    for (const v of ['-1', '2147483648']) {
      const path = file(`label${v}.csv`, `a,y\n1,${v}\n`);
      expect(await failure(Dataset.fromCsv(path, { label: 'y' })), v).toEqual(['BAD_LABEL', `row 1, column 'y' (index 1): '${v}' ${tail} (${path})`]);
    }
    const value = file('value.csv', 'a,y\n1,-2.5\n');
    const [s] = await (await Dataset.fromCsv(value, { label: 'y', labelType: 'value' })).toArray();
    expect([(s.y as Tensor).shape, Array.from((s.y as Tensor).data)]).toEqual([[1], [-2.5]]);
  });

  it('a path that is not a readable file: its error as it is; a file removed after the dataset was made: NOT_FOUND', async () => {
    const sub = join(dir, 'a-directory');
    mkdirSync(sub);
    await expect(Dataset.fromCsv(sub)).rejects.toMatchObject({ code: 'EISDIR' });
    const path = file('plain.csv', IRIS);
    await expect(Dataset.fromCsv(join(path, 'x'))).rejects.toMatchObject({ code: 'ENOTDIR' });
    const gone = file('gone.csv', IRIS);
    const ds = await Dataset.fromCsv(gone, { label: 'species' });
    unlinkSync(gone);
    expect(await failure(ds.toArray())).toEqual(['NOT_FOUND', `no such file (${gone})`]);
  });
});
