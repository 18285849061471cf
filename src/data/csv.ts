// Samples of a CSV file for Dataset.fromCsv: one sample per row, its features the numeric columns, its label one
// column. The file is parsed by csv-parse (quoted fields, CRLF or LF, a BOM) as a stream, a row at a time: it is
// never held whole. Making the dataset reads it through once, so that a bad cell or a missing column is reported
// then (a DataError naming the row and the column) and the number of rows is known to fit().
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { describeValue, isArray, knownOptions, optionalBoolean, optionsObject } from '../validate';
import { type DType, Tensor, allocate } from '../tensor';
import { DataError } from './mnist';

/** Options of Dataset.fromCsv(). */
export interface FromCsvOptions {
  /** The label column: its name in the header, or its index from 0. Without it the samples have no y. */
  label?: string | number;
  /** The feature columns, by name or index, in the order x holds them (default: every column but the label). */
  features?: readonly (string | number)[];
  /** Whether the first row names the columns (default true); without a header, columns are given by index. */
  header?: boolean;
  /** The field separator (default ','). */
  delimiter?: string;
  /**
   * What the label column holds: 'class' (default) integer class labels 0, 1, ...; 'value' a number to regress on
   * (y is then a tensor of shape [1]). With `classes`, class names.
   */
  labelType?: 'class' | 'value';
  /** The class names the label column holds: a row's label is the index of its name here. */
  classes?: readonly string[];
  /** The dtype of x (and of a 'value' y): 'float32' (default) or 'float64'. */
  dtype?: DType;
}

export interface CsvSamples {
  /** One pass over the file's rows. */
  pass: () => AsyncGenerator<{ x: Tensor; y?: number | Tensor }>;
  /** The number of rows (samples). */
  rows: number;
  /** The names of the feature columns (their header names, or 'column i' without a header). */
  featureNames: string[];
}

const KEYS = ['label', 'features', 'header', 'delimiter', 'labelType', 'classes', 'dtype'];

/** csv-parse, loaded on first use: the rest of nn.data does not need it. */
function csvParse(): typeof import('csv-parse') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('csv-parse') as typeof import('csv-parse');
}

/** The records of a CSV file, parsed as they are read; csv-parse's errors as DataError('BAD_CSV'). */
async function* records(path: string, delimiter: string): AsyncGenerator<string[]> {
  const { parse, CsvError } = csvParse();
  const parser = parse({ delimiter, bom: true, skip_empty_lines: true });
  const source = createReadStream(path);
  source.on('error', (e) => parser.destroy(e));
  source.pipe(parser);
  try {
    for await (const record of parser) yield record as string[];
  } catch (e) {
    if (e instanceof CsvError) throw new DataError('BAD_CSV', e.message, path);
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new DataError('NOT_FOUND', 'no such file', path);
    throw e;
  } finally {
    source.destroy();
    parser.destroy();
  }
}

/** Checks the options and the file, and reads it through once; see Dataset.fromCsv. */
export async function csvSamples(path: string, options: FromCsvOptions = {}): Promise<CsvSamples> {
  const fn = 'Dataset.fromCsv';
  if (typeof path !== 'string' || path === '') throw new TypeError(`${fn}: path must be a non-empty string, got ${describeValue(path)}`);
  const opts = optionsObject(options, `${fn} options`);
  knownOptions(opts, KEYS, fn);
  const header = optionalBoolean(opts.header, 'header') ?? true;
  const delimiter = opts.delimiter ?? ',';
  if (typeof delimiter !== 'string' || delimiter.length === 0 || /["\r\n]/.test(delimiter)) {
    throw new TypeError(`${fn}: delimiter must be a non-empty string without quotes or line breaks, got ${describeValue(delimiter)}`);
  }
  const dtype = opts.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float64') throw new TypeError(`${fn}: dtype must be 'float32' or 'float64', got ${describeValue(dtype)}`);
  const labelType = opts.labelType ?? 'class';
  if (labelType !== 'class' && labelType !== 'value') throw new TypeError(`${fn}: labelType must be 'class' or 'value', got ${describeValue(labelType)}`);
  const column = (c: unknown, name: string): string | number => {
    if (typeof c === 'string' && c !== '') {
      if (!header) throw new TypeError(`${fn}: ${name} names column '${c}', but the file has no header (header: false): give its index`);
      return c;
    }
    if (typeof c === 'number' && Number.isInteger(c) && c >= 0) return c;
    throw new TypeError(`${fn}: ${name} must be a column name or an index from 0, got ${describeValue(c)}`);
  };
  const label = opts.label === undefined ? undefined : column(opts.label, 'label');
  if (opts.features !== undefined && (!isArray(opts.features) || opts.features.length === 0)) {
    throw new TypeError(`${fn}: features must be a non-empty array of column names or indices, got ${describeValue(opts.features)}`);
  }
  const features = opts.features?.map((c, i) => column(c, `features[${i}]`));
  let classes: Map<string, number> | null = null;
  if (opts.classes !== undefined) {
    if (!isArray(opts.classes) || opts.classes.length === 0 || !opts.classes.every((c) => typeof c === 'string')) {
      throw new TypeError(`${fn}: classes must be a non-empty array of class names, got ${describeValue(opts.classes)}`);
    }
    if (labelType !== 'class') throw new TypeError(`${fn}: classes name the classes of labelType 'class', not 'value'`);
    if (label === undefined) throw new TypeError(`${fn}: classes name the values of the label column: give label too`);
    classes = new Map(opts.classes.map((c, i) => [c, i]));
    if (classes.size !== opts.classes.length) throw new TypeError(`${fn}: classes has a name twice`);
  }
  try {
    await (await open(path, 'r')).close();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new DataError('NOT_FOUND', 'no such file', path);
    throw e;
  }

  // The columns, from the first record: the header, or the first row (its width).
  const head = records(path, delimiter);
  const first = await head.next();
  await head.return(undefined);
  if (first.done) throw new DataError('BAD_CSV', 'the file holds no rows', path);
  const width = first.value.length;
  const names = header ? first.value.map((s) => s.trim()) : first.value.map((_, i) => `column ${i}`);
  const where = (c: string | number, name: string): number => {
    const i = typeof c === 'number' ? c : names.indexOf(c);
    if (i < 0 || i >= width) {
      const has = header ? `its columns are ${names.map((n) => `'${n}'`).join(', ')}` : `it has ${width} columns`;
      throw new DataError('MISSING_COLUMN', `no ${name} column ${typeof c === 'number' ? c : `'${c}'`}: ${has}`, path);
    }
    return i;
  };
  const labelAt = label === undefined ? -1 : where(label, 'label');
  const featureAt = features ? features.map((c) => where(c, 'feature'))
    : names.map((_, i) => i).filter((i) => i !== labelAt);
  if (featureAt.length === 0) throw new DataError('MISSING_COLUMN', 'no feature columns: the label is the only column', path);
  const featureNames = featureAt.map((i) => names[i]);
  const cell = (s: string, row: number, i: number) => `row ${row}, column '${names[i]}' (index ${i})` +
    (s === '' ? ' is empty' : `: '${s.length > 40 ? `${s.slice(0, 40)}...` : s}'`);
  const numberOf = (s: string, row: number, i: number): number => {
    const t = s.trim();
    const v = t === '' ? NaN : Number(t);
    if (!Number.isFinite(v)) throw new DataError('BAD_VALUE', `${cell(t, row, i)}${t === '' ? '' : ' is not a number'}`, path);
    return v;
  };
  const labelOf = (s: string, row: number): number | Tensor => {
    const t = s.trim();
    if (classes) {
      const k = classes.get(t);
      if (k === undefined) throw new DataError('BAD_LABEL', `${cell(t, row, labelAt)}${t === '' ? '' : ' is not one of the classes'}`, path);
      return k;
    }
    const v = numberOf(t, row, labelAt);
    if (labelType === 'value') return new Tensor(allocate(dtype, 1).fill(v), [1]);
    if (!Number.isInteger(v) || v < 0 || v >= 2 ** 31) {
      throw new DataError('BAD_LABEL', `${cell(t, row, labelAt)} is not a class label (an integer from 0; labelType: ` +
        "'value' for a number to regress on, classes for names)", path);
    }
    return v;
  };

  async function* pass(): AsyncGenerator<{ x: Tensor; y?: number | Tensor }> {
    // rows are counted from 1, the header aside, as a spreadsheet shows the data
    let row = 0, skip = header;
    for await (const record of records(path, delimiter)) {
      if (skip) {
        skip = false;
        continue;
      }
      row++;
      const x = allocate(dtype, featureAt.length);
      for (let j = 0; j < featureAt.length; j++) x[j] = numberOf(record[featureAt[j]], row, featureAt[j]);
      const sample = new Tensor(x, [featureAt.length]);
      yield labelAt < 0 ? { x: sample } : { x: sample, y: labelOf(record[labelAt], row) };
    }
  }

  let rows = 0;
  for await (const _ of pass()) rows++;  // eslint-disable-line @typescript-eslint/no-unused-vars
  return { pass, rows, featureNames };
}
