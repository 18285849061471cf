// Printing tensors as NumPy prints arrays (numpy/core/arrayprint.py, default options: precision 8, 'maxprec' float
// mode, line width 75, summaries of more than 1000 elements with 3 edge items), and reading values back out:
// toNested() and item().
import { type DType, type Shape, type Tensor, checkAttached, formatShape } from '../tensor';

const PRECISION = 8;
const LINE_WIDTH = 75;
const THRESHOLD = 1000;
const EDGE_ITEMS = 3;

/** The shortest decimal digits that read back as v in its dtype: { digits: '15', exp: 0 } for 1.5. */
function shortest(v: number, dtype: DType): { digits: string; exp: number } {
  let s = v.toExponential();
  if (dtype === 'float32') {
    for (let p = 0; p < 9; p++) {
      const t = v.toExponential(p);
      if (Math.fround(Number(t)) === v) {
        s = t;
        break;
      }
    }
  }
  const m = /^-?(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s)!;
  return { digits: m[1] + (m[2] ?? ''), exp: Number(m[3]) };
}

/** |v| in positional notation, at most PRECISION fractional digits (the shortest when that fits): [int, frac]. */
function positional(v: number, dtype: DType): [string, string] {
  const a = Math.abs(v);
  const { digits, exp } = shortest(a, dtype);
  const fracDigits = Math.max(0, digits.length - 1 - exp);
  let text: string;
  if (fracDigits <= PRECISION) {
    if (exp >= 0) {
      const int = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
      text = `${int}.${digits.slice(exp + 1)}`;
    } else {
      text = `0.${'0'.repeat(-exp - 1)}${digits}`;
    }
  } else {
    text = a.toFixed(PRECISION).replace(/0+$/, '');
  }
  const [int, frac] = text.split('.');
  return [(v < 0 || Object.is(v, -0) ? '-' : '') + int, frac];
}

/** |v| in scientific notation with at most PRECISION fractional digits of mantissa: [int, frac, exponent]. */
function scientific(v: number, dtype: DType): [string, string, number] {
  let { digits, exp } = shortest(Math.abs(v), dtype);
  if (digits.length > PRECISION + 1) {
    const m = /^(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(Math.abs(v).toExponential(PRECISION))!;
    digits = (m[1] + (m[2] ?? '')).replace(/0+$/, '') || '0';
    exp = Number(m[3]);
  }
  return [(v < 0 || Object.is(v, -0) ? '-' : '') + digits[0], digits.slice(1), exp];
}

/** NumPy's FloatingFormat: one width for every element shown, chosen from those elements. */
function floatFormatter(values: number[], dtype: DType): (v: number) => string {
  const finite = values.filter((v) => Number.isFinite(v));
  const nonZero = finite.filter((v) => v !== 0).map(Math.abs);
  let expFormat = false;
  if (nonZero.length > 0) {
    // NumPy 2.3+: scientific from 10^min(8, precision) (1e6 for float32); its thresholds are compared in the dtype
    const max = Math.max(...nonZero), min = Math.min(...nonZero);
    const inDType = dtype === 'float32' ? Math.fround : (v: number) => v;
    expFormat = max >= (dtype === 'float32' ? 1e6 : 1e8) || min < inDType(0.0001) || inDType(max / min) > 1000;
  }
  let padLeft = 0, padRight = 0;
  let format: (v: number) => string;
  if (finite.length === 0) {
    format = () => '';
  } else if (expFormat) {
    const parts = finite.map((v) => scientific(v, dtype));
    const precision = Math.max(...parts.map((p) => p[1].length));
    const expSize = Math.max(2, ...parts.map((p) => String(Math.abs(p[2])).length));
    padLeft = Math.max(...parts.map((p) => p[0].length));
    padRight = expSize + 2 + precision;
    // every element with `precision` digits of its own value (NumPy's min_digits), not its shortest digits padded
    // with zeros: the float32 1234567948140544 is 1.2345679e+15 beside an element of 7 digits, not 1.2345680e+15
    format = (v) => {
      const m = /^(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(Math.abs(v).toExponential(precision))!;
      const int = (v < 0 || Object.is(v, -0) ? '-' : '') + m[1], e = Number(m[3]);
      const digits = `${int}.${m[2] ?? ''}`;
      return `${digits.padStart(padLeft + 1 + precision)}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(expSize, '0')}`;
    };
  } else {
    const parts = finite.map((v) => positional(v, dtype));
    padLeft = Math.max(...parts.map((p) => p[0].length));
    padRight = Math.max(...parts.map((p) => p[1].length));
    format = (v) => {
      const [int, frac] = positional(v, dtype);
      return `${int.padStart(padLeft)}.${frac.padEnd(padRight)}`;
    };
  }
  if (finite.length !== values.length) {
    const negInf = values.some((v) => v === -Infinity) ? 1 : 0;
    padLeft = Math.max(padLeft, 3 - (padRight + 1), 3 + negInf - (padRight + 1));
  }
  const width = padLeft + padRight + 1;
  return (v) => {
    if (Number.isNaN(v)) return 'nan'.padStart(width);
    if (!Number.isFinite(v)) return (v < 0 ? '-inf' : 'inf').padStart(width);
    return format(v);
  };
}

/** Element k of the row-major index `index` (negative entries count from the end of their axis). */
function offsetOf(shape: Shape, index: number[]): number {
  let o = 0;
  for (let i = 0; i < shape.length; i++) o = o * shape[i] + (index[i] < 0 ? shape[i] + index[i] : index[i]);
  return o;
}

/** The elements a summary shows (all of them when not summarising): the first and last EDGE_ITEMS of every axis. */
function shownValues(t: Tensor, summarise: boolean): number[] {
  const out: number[] = [];
  const walk = (axis: number, offset: number) => {
    if (axis === t.shape.length) {
      out.push(t.data[offset]);
      return;
    }
    const n = t.shape[axis];
    const stride = t.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
    const indices = summarise && n > 2 * EDGE_ITEMS
      ? [...Array(EDGE_ITEMS).keys(), ...Array.from({ length: EDGE_ITEMS }, (_, i) => n - EDGE_ITEMS + i)]
      : [...Array(n).keys()];
    for (const i of indices) walk(axis + 1, offset + i * stride);
  };
  walk(0, 0);
  return out;
}

/** Adds `word` to the line, first wrapping to a new line when it would pass `width` (NumPy's _extendLine). */
function extendLine(s: string, line: string, word: string, width: number, prefix: string): [string, string] {
  const wrap = line.length + word.length > width && line.length > prefix.length;
  if (wrap) {
    s += line.trimEnd() + '\n';
    line = prefix;
  }
  return [s, line + word];
}

/** NumPy's _formatArray: nested brackets, elements wrapped at `lineWidth`, continuation lines under `prefix`. */
function formatArray(t: Tensor, format: (v: number) => string, lineWidth: number, prefix: string, separator: string,
  summarise: boolean): string {
  const recurse = (index: number[], hanging: string, width: number): string => {
    const axis = index.length;
    if (axis === t.ndim) return format(t.data[offsetOf(t.shape, index)]);
    const axesLeft = t.ndim - axis;
    const nextHanging = hanging + ' ';
    const nextWidth = width - 1;
    const n = t.shape[axis];
    const summary = summarise && 2 * EDGE_ITEMS < n;
    const leading = summary ? EDGE_ITEMS : 0, trailing = summary ? EDGE_ITEMS : n;
    let s = '';
    if (n === 0) return '[]';
    if (axesLeft === 1) {
      const elemWidth = width - Math.max(separator.trimEnd().length, 1);
      let line = hanging;
      for (let i = 0; i < leading; i++) {
        [s, line] = extendLine(s, line, recurse([...index, i], nextHanging, nextWidth), elemWidth, hanging);
        line += separator;
      }
      if (summary) {
        [s, line] = extendLine(s, line, '...', elemWidth, hanging);
        line += separator;
      }
      for (let i = trailing; i > 1; i--) {
        [s, line] = extendLine(s, line, recurse([...index, -i], nextHanging, nextWidth), elemWidth, hanging);
        line += separator;
      }
      [s, line] = extendLine(s, line, recurse([...index, -1], nextHanging, nextWidth), elemWidth, hanging);
      s += line;
    } else {
      const lineSep = separator.trimEnd() + '\n'.repeat(axesLeft - 1);
      for (let i = 0; i < leading; i++) s += hanging + recurse([...index, i], nextHanging, nextWidth) + lineSep;
      if (summary) s += hanging + '...' + lineSep;
      for (let i = trailing; i > 1; i--) s += hanging + recurse([...index, -i], nextHanging, nextWidth) + lineSep;
      s += hanging + recurse([...index, -1], nextHanging, nextWidth);
    }
    return '[' + s.slice(hanging.length) + ']';
  };
  return recurse([], prefix, lineWidth);
}

/**
 * A single value as NumPy prints a scalar (and str() a 0-d array): every digit of the shortest repr (no precision
 * cap), '1.0' for integers, scientific below 1e-4 or from 1e16 (1e6 for float32, compared in double), 'nan', 'inf'.
 */
function scalarText(v: number, dtype: DType): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v < 0 ? '-inf' : 'inf';
  const a = Math.abs(v), sign = v < 0 || Object.is(v, -0) ? '-' : '';
  const { digits, exp } = shortest(a, dtype);
  if (a !== 0 && (a < 1e-4 || a >= (dtype === 'float32' ? 1e6 : 1e16))) {
    const frac = digits.slice(1);
    return `${sign}${digits[0]}${frac ? '.' + frac : ''}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  const int = exp >= 0 ? digits.slice(0, exp + 1).padEnd(exp + 1, '0') : '0';
  const frac = exp >= 0 ? digits.slice(exp + 1) : '0'.repeat(-exp - 1) + digits;
  return `${sign}${int}.${frac || '0'}`;
}

function arrayText(t: Tensor, separator: string, prefix: string, lineWidth: number): string {
  const summarise = t.size > THRESHOLD;
  const format = floatFormatter(shownValues(t, summarise), t.dtype);
  return formatArray(t, format, lineWidth, ' '.repeat(prefix.length + 1), separator, summarise);
}

/** The values as NumPy's str(array) prints them: `[[1. 2.]\n [3. 4.]]`, summarised with '...' beyond 1000 elements. */
export function toText(t: Tensor): string {
  checkAttached(t, 'tensor');
  if (t.ndim === 0) return scalarText(t.data[0], t.dtype);
  if (t.size === 0) return '[]';
  return arrayText(t, ' ', '', LINE_WIDTH);
}

/**
 * As NumPy's repr(array), named Tensor and always with the dtype: `Tensor([[1., 2.],\n        [3., 4.]],
 * dtype=float32)`; the shape is added when the values cannot show it (no elements).
 */
export function toRepr(t: Tensor): string {
  checkAttached(t, 'tensor');
  const prefix = 'Tensor(';
  let body: string;
  if (t.ndim === 0) {
    const format = floatFormatter([t.data[0]], t.dtype);
    body = format(t.data[0]).trim();
  } else if (t.size === 0) {
    body = '[]';
  } else {
    body = arrayText(t, ', ', prefix, LINE_WIDTH - 1);
  }
  const extras = [];
  if (t.size === 0 && t.ndim !== 1) extras.push(`shape=(${t.shape.join(', ')})`);
  extras.push(`dtype=${t.dtype}`);
  const text = prefix + body + ',';
  const extra = extras.join(', ') + ')';
  const lastLine = text.length - (text.lastIndexOf('\n') + 1);
  const spacer = lastLine + extra.length + 1 > LINE_WIDTH ? '\n' + ' '.repeat(prefix.length) : ' ';
  return text + spacer + extra;
}

/** Nested arrays of numbers (a plain number for shape []), as NumPy's tolist(). */
export type Nested = number | Nested[];

/** The tensor's values as nested arrays of numbers (a plain number for a 0-d tensor), as NumPy's tolist(). */
export function toNested(t: Tensor): Nested {
  checkAttached(t, 'tensor');
  // an empty tensor's leading axes may be long: [2^27, 0] would be 2^27 empty arrays, more than the JS heap holds
  let arrays = 0;
  for (let d = 0, rows = 1; d < t.ndim && rows > 0; rows *= t.shape[d++]) arrays += rows;
  if (t.size === 0 && arrays > MAX_EMPTY_ARRAYS) {
    throw new RangeError(`toNested: the empty tensor of shape ${formatShape(t.shape)} would be ${arrays} nested empty ` +
      `arrays, more than ${MAX_EMPTY_ARRAYS}`);
  }
  const build = (axis: number, offset: number, stride: number): Nested => {
    if (axis === t.ndim) return t.data[offset];
    const n = t.shape[axis], inner = stride / (n || 1);
    return Array.from({ length: n }, (_, i) => build(axis + 1, offset + i * inner, inner));
  };
  return build(0, 0, t.size);
}

/** The most arrays toNested makes of an empty tensor (2^24: half a gigabyte of empty arrays). */
const MAX_EMPTY_ARRAYS = 2 ** 24;

/** The one element of a tensor of one element (any shape), as a number. */
export function item(t: Tensor): number {
  checkAttached(t, 'tensor');
  if (t.size !== 1) {
    throw new RangeError(`item() needs a tensor of one element, got shape ${formatShape(t.shape)} (${t.size} elements)`);
  }
  return t.data[0];
}
