// SVG plots with no dependencies: line charts (training curves per epoch) and the decision regions of a 2-D
// classifier with its data points. Output is a standalone SVG document (opens in any browser).
import { Tensor } from './tensor';

/** A named line of a line chart. */
export interface Series {
  name: string;
  /** One value per x (x = 1, 2, ... unless `x` is given); NaN or missing values leave a gap. */
  values: readonly number[];
  x?: readonly number[];
  color?: string;
  dashed?: boolean;
}

/** Options of lineChartSvg: titles, size and axis bounds. */
export interface LineChartOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  width?: number;
  height?: number;
  /** Force the y range (e.g. [0, 1] for accuracy); by default it fits the data with round ticks. */
  yRange?: [number, number];
  /**
   * Limits the automatic y range never crosses, e.g. { min: 0 } for a loss, { min: 0, max: 100 } for a percentage
   * (the headroom around the data stops there).
   */
  yBounds?: { min?: number; max?: number };
  /** Format of the y tick labels (default: as few digits as the tick step needs). */
  yFormat?: (v: number) => string;
}

/** A colour-blind-safe palette (Okabe & Ito, 2008). */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#F0E442', '#000000'];

/** The string with XML's special characters escaped, for text in SVG. */
export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(2).replace(/\.?0+$/, '');
}

/** Round tick positions covering [lo, hi]: steps of 1, 2 or 5 times a power of ten, about `count` of them. */
export function niceTicks(lo: number, hi: number, count = 5): { ticks: number[]; step: number; lo: number; hi: number } {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new RangeError(`tick range must be finite, got [${lo}, ${hi}]`);
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  const step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
  const start = Math.floor(lo / step + 1e-9) * step;
  const end = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let i = 0; start + i * step <= end + step * 1e-9; i++) ticks.push(+(start + i * step).toPrecision(12));
  return { ticks, step, lo: start, hi: end };
}

/**
 * Ticks for an axis of whole numbers (epochs): steps of 1, 2 or 5 times a power of ten, at most about 10 labels,
 * at the multiples of the step inside [lo, hi] (lo itself when no multiple falls inside).
 */
export function integerTicks(lo: number, hi: number): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new RangeError(`tick range must be finite, got [${lo}, ${hi}]`);
  if (hi < lo) [lo, hi] = [hi, lo];
  const raw = Math.max(1, (hi - lo) / 10);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  const step = Math.max(1, (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag);
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi; v += step) ticks.push(v);
  return ticks.length ? ticks : [Math.ceil(lo)];
}

/** The y ticks of a chart: yRange if given, else the data with 5% headroom, kept within yBounds. */
function yTicksFor(ys: readonly number[], opts: LineChartOptions): { ticks: number[]; step: number; lo: number; hi: number } {
  if (opts.yRange) return niceTicks(opts.yRange[0], opts.yRange[1]);
  const yMin = ys.length ? Math.min(...ys) : 0, yMax = ys.length ? Math.max(...ys) : 1;
  const min = opts.yBounds?.min ?? -Infinity, max = opts.yBounds?.max ?? Infinity;
  let lo = Math.max(min, yMin - 0.05 * (yMax - yMin)), hi = Math.min(max, yMax + 0.05 * (yMax - yMin));
  if (lo === hi) {  // a flat series: pad it, inside the bounds
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo = Math.max(min, lo - pad);
    hi = Math.min(max, hi + pad);
  }
  const t = niceTicks(lo, hi);
  if (t.lo >= min && t.hi <= max) return t;
  const ticks = t.ticks.filter((v) => v >= min && v <= max);
  return { ticks, step: t.step, lo: Math.max(min, t.lo), hi: Math.min(max, t.hi) };
}

function decimalsFor(step: number): number {
  return Math.max(0, Math.min(10, -Math.floor(Math.log10(step) + 1e-9)));
}

interface Frame { x: number; y: number; w: number; h: number }

/** Draws one chart into the frame; returns SVG elements (no document wrapper). */
function chartBody(series: readonly Series[], opts: LineChartOptions, f: Frame, idPrefix: string): string {
  const out: string[] = [];
  const left = f.x + 62, right = f.x + f.w - 14, top = f.y + (opts.title ? 34 : 14), bottom = f.y + f.h - 46;
  const xs = series.flatMap((s) => s.values.map((_, i) => s.x?.[i] ?? i + 1));
  const ys = series.flatMap((s) => s.values.filter((v) => Number.isFinite(v)));
  const xMin = xs.length ? Math.min(...xs) : 0, xMax = xs.length ? Math.max(...xs) : 1;
  const yt = yTicksFor(ys, opts);
  // Whole-number x values (epochs) get whole-number ticks; others round ones.
  const xTicks = xs.every(Number.isInteger) ? integerTicks(xMin, xMax)
    : niceTicks(xMin, xMax, 6).ticks.filter((v) => v >= xMin - 1e-9 && v <= xMax + 1e-9);
  const xSpan = xMax - xMin || 1;
  const px = (v: number): number => (xMax === xMin ? (left + right) / 2 : left + ((v - xMin) / xSpan) * (right - left));
  const py = (v: number): number => bottom - ((v - yt.lo) / (yt.hi - yt.lo)) * (bottom - top);
  const yLabelOf = opts.yFormat ?? ((v: number) => v.toFixed(decimalsFor(yt.step)));
  const p = (v: number): string => v.toFixed(1);

  if (opts.title) {
    out.push(`<text class="title" x="${p((left + right) / 2)}" y="${p(f.y + 20)}" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(opts.title)}</text>`);
  }
  out.push(`<g class="grid" stroke="#e3e3e3" stroke-width="1">`);
  for (const t of yt.ticks) out.push(`<line x1="${p(left)}" x2="${p(right)}" y1="${p(py(t))}" y2="${p(py(t))}"/>`);
  out.push(`</g>`);
  out.push(`<g class="axes" stroke="#333" stroke-width="1" fill="none"><line x1="${p(left)}" y1="${p(bottom)}" x2="${p(right)}" y2="${p(bottom)}"/>` +
    `<line x1="${p(left)}" y1="${p(top)}" x2="${p(left)}" y2="${p(bottom)}"/></g>`);
  out.push(`<g class="y-ticks" font-size="11" text-anchor="end" fill="#333">`);
  for (const t of yt.ticks) {
    out.push(`<line x1="${p(left - 4)}" x2="${p(left)}" y1="${p(py(t))}" y2="${p(py(t))}" stroke="#333"/>` +
      `<text x="${p(left - 7)}" y="${p(py(t) + 4)}">${escapeXml(yLabelOf(t))}</text>`);
  }
  out.push(`</g>`);
  out.push(`<g class="x-ticks" font-size="11" text-anchor="middle" fill="#333">`);
  for (const t of xTicks) {
    out.push(`<line x1="${p(px(t))}" x2="${p(px(t))}" y1="${p(bottom)}" y2="${p(bottom + 4)}" stroke="#333"/>` +
      `<text x="${p(px(t))}" y="${p(bottom + 17)}">${fmt(t)}</text>`);
  }
  out.push(`</g>`);
  if (opts.xLabel) {
    out.push(`<text class="x-label" x="${p((left + right) / 2)}" y="${p(bottom + 36)}" text-anchor="middle" font-size="12">${escapeXml(opts.xLabel)}</text>`);
  }
  if (opts.yLabel) {
    const cx = f.x + 16, cy = (top + bottom) / 2;
    out.push(`<text class="y-label" x="${p(cx)}" y="${p(cy)}" text-anchor="middle" font-size="12" transform="rotate(-90 ${p(cx)} ${p(cy)})">${escapeXml(opts.yLabel)}</text>`);
  }
  // Lines: one polyline per unbroken run of finite values, plus a dot at each point (a single epoch still shows).
  out.push(`<clipPath id="${idPrefix}clip"><rect x="${p(left - 4)}" y="${p(top - 4)}" width="${p(right - left + 8)}" height="${p(bottom - top + 8)}"/></clipPath>`);
  series.forEach((s, k) => {
    const color = s.color ?? PALETTE[k % PALETTE.length];
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    out.push(`<g class="series" data-name="${escapeXml(s.name)}" clip-path="url(#${idPrefix}clip)">`);
    let run: string[] = [];
    const flush = (): void => {
      if (run.length) out.push(`<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${run.join(' ')}"/>`);
      run = [];
    };
    s.values.forEach((v, i) => {
      if (!Number.isFinite(v)) { flush(); return; }
      run.push(`${p(px(s.x?.[i] ?? i + 1))},${p(py(v))}`);
    });
    flush();
    s.values.forEach((v, i) => {
      if (Number.isFinite(v)) out.push(`<circle cx="${p(px(s.x?.[i] ?? i + 1))}" cy="${p(py(v))}" r="2.5" fill="${color}"/>`);
    });
    out.push(`</g>`);
  });
  // Legend, top right inside the plot area.
  const named = series.filter((s) => s.name);
  if (named.length) {
    const lw = 28 + 7 * Math.max(...named.map((s) => s.name.length)), lh = 18 * named.length + 8;
    // The corner whose box covers the fewest data points (ties: top right, bottom right, top left, bottom left).
    const pts = series.flatMap((s) => s.values.flatMap((v, i) => (Number.isFinite(v) ? [[px(s.x?.[i] ?? i + 1), py(v)]] : [])));
    const corners = [[right - lw - 8, top + 8], [right - lw - 8, bottom - lh - 8], [left + 8, top + 8], [left + 8, bottom - lh - 8]];
    const inside = ([cx, cy]: number[]): number => pts.filter(([a, b]) => a >= cx - 6 && a <= cx + lw + 6 && b >= cy - 6 && b <= cy + lh + 6).length +
      lineHits(series, px, py, cx, cy, lw, lh);
    const [lx, ly] = corners.reduce((best, c) => (inside(c) < inside(best) ? c : best));
    out.push(`<g class="legend" font-size="11"><rect x="${p(lx)}" y="${p(ly)}" width="${p(lw)}" height="${lh}" fill="#fff" fill-opacity="0.85" stroke="#bbb"/>`);
    series.forEach((s, k) => {
      if (!s.name) return;
      const color = s.color ?? PALETTE[k % PALETTE.length];
      const yy = ly + 16 + 18 * named.indexOf(s);
      out.push(`<line x1="${p(lx + 6)}" x2="${p(lx + 22)}" y1="${p(yy - 4)}" y2="${p(yy - 4)}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="4 3"' : ''}/>` +
        `<text x="${p(lx + 26)}" y="${p(yy)}">${escapeXml(s.name)}</text>`);
    });
    out.push(`</g>`);
  }
  return out.join('\n');
}

/** How many polyline segments cross a legend box (sampled along each segment). */
function lineHits(series: readonly Series[], px: (v: number) => number, py: (v: number) => number,
  bx: number, by: number, bw: number, bh: number): number {
  let hits = 0;
  for (const s of series) {
    for (let i = 1; i < s.values.length; i++) {
      const a = s.values[i - 1], b = s.values[i];
      if (!Number.isFinite(a) || !Number.isFinite(b)) continue;
      const x0 = px(s.x?.[i - 1] ?? i), x1 = px(s.x?.[i] ?? i + 1), y0 = py(a), y1 = py(b);
      for (let t = 0; t <= 1; t += 0.05) {
        const x = x0 + t * (x1 - x0), y = y0 + t * (y1 - y0);
        if (x >= bx && x <= bx + bw && y >= by && y <= by + bh) { hits++; break; }
      }
    }
  }
  return hits;
}

/** A palette colour blended with white (opaque, so overlapping shapes show no seams). */
export function tint(hex: string, amount: number): string {
  const n = parseInt(hex.slice(1), 16);
  const mix = (c: number): number => Math.round(255 - (255 - c) * amount);
  return '#' + [n >> 16, (n >> 8) & 255, n & 255].map((c) => mix(c).toString(16).padStart(2, '0')).join('');
}

function document(width: number, height: number, body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
    `font-family="Helvetica, Arial, sans-serif">\n<rect width="100%" height="100%" fill="#fff"/>\n${body}\n</svg>\n`;
}

function checkSize(v: number, name: string): number {
  if (!Number.isFinite(v) || v < 100 || v > 10000) throw new RangeError(`${name} must be a number of pixels in [100, 10000], got ${v}`);
  return v;
}

function checkSeries(series: readonly Series[]): void {
  const given: unknown = series;  // any value: Array.isArray(series) would make its elements `any`
  if (!Array.isArray(given) || given.length === 0) throw new TypeError('series must be a non-empty array of { name, values }');
  for (const [i, s] of series.entries()) {
    if (s === null || typeof s !== 'object' || !Array.isArray(s.values)) throw new TypeError(`series[${i}].values must be an array of numbers`);
    if (s.x !== undefined && (!Array.isArray(s.x) || s.x.length !== s.values.length)) {
      throw new RangeError(`series[${i}].x must have one entry per value (${s.values.length})`);
    }
  }
}

/** A line chart as a standalone SVG document. */
export function lineChartSvg(series: readonly Series[], opts: LineChartOptions = {}): string {
  checkSeries(series);
  const b = opts.yBounds;
  if (b !== undefined) {
    const ok = (v: unknown) => v === undefined || (typeof v === 'number' && !Number.isNaN(v));
    if (b === null || typeof b !== 'object' || !ok(b.min) || !ok(b.max) || (b.min ?? -Infinity) >= (b.max ?? Infinity)) {
      throw new RangeError(`yBounds must be { min?, max? } with min < max, got ${JSON.stringify(b)}`);
    }
  }
  const width = checkSize(opts.width ?? 640, 'width'), height = checkSize(opts.height ?? 400, 'height');
  return document(width, height, chartBody(series, opts, { x: 0, y: 0, w: width, h: height }, 'c0'));
}

/** The part of fit()'s History that trainingCurvesSvg plots. */
export interface History {
  loss: readonly number[];
  accuracy?: readonly number[];
  valLoss?: readonly number[];
  valAccuracy?: readonly number[];
}

/** Loss and accuracy per epoch, train and validation, side by side (what `nodenn train --plot` writes). */
export function trainingCurvesSvg(history: History, opts: { title?: string; width?: number; height?: number } = {}): string {
  if (history === null || typeof history !== 'object' || !Array.isArray(history.loss)) {
    throw new TypeError('history must be { loss: number[], accuracy?, valLoss?, valAccuracy? } (what fit() returns)');
  }
  const width = checkSize(opts.width ?? 960, 'width'), height = checkSize(opts.height ?? 380, 'height');
  const has = (a?: readonly number[]): a is readonly number[] => Array.isArray(a) && a.length > 0;
  const lossSeries: Series[] = [{ name: 'train', values: history.loss, color: PALETTE[0] }];
  if (has(history.valLoss)) lossSeries.push({ name: 'validation', values: history.valLoss, color: PALETTE[1], dashed: true });
  const accSeries: Series[] = [];
  if (has(history.accuracy)) accSeries.push({ name: 'train', values: history.accuracy.map((a) => 100 * a), color: PALETTE[0] });
  if (has(history.valAccuracy)) accSeries.push({ name: 'validation', values: history.valAccuracy.map((a) => 100 * a), color: PALETTE[1], dashed: true });
  const top = opts.title ? 30 : 0;
  const parts: string[] = [];
  if (opts.title) parts.push(`<text class="title" x="${width / 2}" y="21" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(opts.title)}</text>`);
  const panelW = accSeries.length ? width / 2 : width;
  // A loss that is never negative gets no negative ticks; a percentage stays within 0..100.
  const nonNegative = lossSeries.every((s) => s.values.every((v) => !(v < 0)));
  parts.push(chartBody(lossSeries, { title: 'Loss', xLabel: 'epoch', yLabel: 'loss', yBounds: nonNegative ? { min: 0 } : undefined },
    { x: 0, y: top, w: panelW, h: height - top }, 'loss'));
  if (accSeries.length) {
    parts.push(chartBody(accSeries, { title: 'Accuracy', xLabel: 'epoch', yLabel: 'accuracy (%)', yBounds: { min: 0, max: 100 } },
      { x: panelW, y: top, w: panelW, h: height - top }, 'acc'));
  }
  return document(width, height, parts.join('\n'));
}

/** Options of decisionRegionsSvg: the classifier, the points, and the plot's size. */
export interface DecisionRegionOptions {
  /** Class indices for a batch of points (N, 2), e.g. `(x) => net.predictClasses(x)`. */
  predict: (x: Tensor) => Int32Array | ArrayLike<number>;
  /** The data points (N, 2) and their classes. */
  x: Tensor;
  y: Int32Array | ArrayLike<number>;
  /** Grid cells per side (default 120). */
  resolution?: number;
  width?: number;
  height?: number;
  title?: string;
  /** Extra margin around the data, as a fraction of its range (default 0.1). */
  margin?: number;
  /** Axis labels (default 'x1' and 'x2', the two input features). */
  xLabel?: string;
  yLabel?: string;
  /** Names of the classes in the legend, by class index (default 'class 0', 'class 1', ...). */
  classNames?: readonly string[];
}

/** The classifier's decision regions on a grid over the data, with the points on top (2-D inputs). */
export function decisionRegionsSvg(opts: DecisionRegionOptions): string {
  const { predict, x, y } = opts;
  if (typeof predict !== 'function') throw new TypeError('predict must be a function (x: Tensor) => class indices');
  if (!(x instanceof Tensor) || x.ndim !== 2 || x.shape[1] !== 2) {
    throw new TypeError(`x must be a Tensor of shape [N, 2], got ${x instanceof Tensor ? `[${x.shape.join(', ')}]` : typeof x}`);
  }
  const n = x.shape[0];
  if (!y || y.length !== n) throw new RangeError(`y must hold one class per point (${n}), got ${y?.length}`);
  const res = opts.resolution ?? 120;
  if (!Number.isInteger(res) || res < 2 || res > 1000) throw new RangeError(`resolution must be an integer in [2, 1000], got ${res}`);
  const width = checkSize(opts.width ?? 560, 'width'), height = checkSize(opts.height ?? 560, 'height');
  const margin = opts.margin ?? 0.1;
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let i = 0; i < n; i++) {
    const a = x.data[2 * i], b = x.data[2 * i + 1];
    x0 = Math.min(x0, a); x1 = Math.max(x1, a); y0 = Math.min(y0, b); y1 = Math.max(y1, b);
  }
  if (n === 0) { x0 = -1; x1 = 1; y0 = -1; y1 = 1; }
  const mx = (x1 - x0 || 1) * margin, my = (y1 - y0 || 1) * margin;
  x0 -= mx; x1 += mx; y0 -= my; y1 += my;

  // Classify the centre of every grid cell in one batch.
  const grid = Tensor.zeros([res * res, 2], x.dtype);
  for (let r = 0; r < res; r++) {
    for (let c = 0; c < res; c++) {
      grid.data[2 * (r * res + c)] = x0 + ((c + 0.5) / res) * (x1 - x0);
      grid.data[2 * (r * res + c) + 1] = y1 - ((r + 0.5) / res) * (y1 - y0); // row 0 at the top
    }
  }
  const cls = predict(grid);
  if (cls instanceof Tensor) {
    // net.predict gives the raw outputs (logits, or a single sigmoid's probability): no class indices to colour by
    throw new TypeError('predict must return class indices (an Int32Array), not a Tensor of outputs: use ' +
      '(x) => net.predictClasses(x)');
  }
  if (!cls || cls.length !== res * res) throw new RangeError(`predict returned ${cls?.length} classes for ${res * res} grid points`);

  // The classes in the legend: those of the points and of the regions.
  const classes = [...new Set([...Array.from(y, Number), ...Array.from(cls, Number)])].sort((a, b) => a - b);
  const names = opts.classNames;
  const givenNames: unknown = names;
  if (givenNames !== undefined && (!Array.isArray(givenNames) || givenNames.some((s) => typeof s !== 'string'))) {
    throw new TypeError('classNames must be an array of strings');
  }
  const nameOf = (k: number): string => names?.[k] ?? `class ${k}`;
  const legendW = 34 + 7 * Math.max(...classes.map((k) => nameOf(k).length));

  const title = opts.title ? 28 : 0;
  const pad = 8, left = 58, bottom = 46;
  const ox = left, oy = pad + title;  // the plot area's top left corner
  const plotW = width - left - legendW - 2 * pad, plotH = height - oy - bottom;
  if (plotW < 40 || plotH < 40) throw new RangeError(`width and height leave no room for the plot (${Math.round(plotW)} x ${Math.round(plotH)} px)`);
  const cw = plotW / res, ch = plotH / res;
  const p = (v: number): string => v.toFixed(2);
  const out: string[] = [];
  if (opts.title) out.push(`<text class="title" x="${p(ox + plotW / 2)}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(opts.title)}</text>`);
  // Regions: one rect per run of equal classes along a row (far fewer elements than one per cell).
  out.push(`<g class="regions" shape-rendering="crispEdges">`);
  for (let r = 0; r < res; r++) {
    let c = 0;
    while (c < res) {
      const k = cls[r * res + c];
      let e = c + 1;
      while (e < res && cls[r * res + e] === k) e++;
      // +0.5 px overlap hides hairline seams between neighbouring rects.
      out.push(`<rect x="${p(ox + c * cw)}" y="${p(oy + r * ch)}" width="${p((e - c) * cw + 0.5)}" height="${p(ch + 0.5)}" fill="${tint(PALETTE[Number(k) % PALETTE.length], 0.3)}"/>`);
      c = e;
    }
  }
  out.push(`</g>`);
  out.push(`<rect x="${ox}" y="${oy}" width="${p(plotW)}" height="${p(plotH)}" fill="none" stroke="#333"/>`);
  const sx = (v: number): number => ox + ((v - x0) / (x1 - x0)) * plotW;
  const sy = (v: number): number => oy + ((y1 - v) / (y1 - y0)) * plotH;
  // Axis ticks at round values inside the plotted range, and the axis labels.
  const xt = niceTicks(x0, x1, 6), yt = niceTicks(y0, y1, 6);
  const inside = (v: number, lo: number, hi: number): boolean => v >= lo - 1e-9 * (hi - lo) && v <= hi + 1e-9 * (hi - lo);
  out.push(`<g class="x-ticks" font-size="11" text-anchor="middle" fill="#333">`);
  for (const t of xt.ticks.filter((v) => inside(v, x0, x1))) {
    out.push(`<line x1="${p(sx(t))}" x2="${p(sx(t))}" y1="${p(oy + plotH)}" y2="${p(oy + plotH + 4)}" stroke="#333"/>` +
      `<text x="${p(sx(t))}" y="${p(oy + plotH + 17)}">${t.toFixed(decimalsFor(xt.step))}</text>`);
  }
  out.push(`</g>`);
  out.push(`<g class="y-ticks" font-size="11" text-anchor="end" fill="#333">`);
  for (const t of yt.ticks.filter((v) => inside(v, y0, y1))) {
    out.push(`<line x1="${p(ox - 4)}" x2="${p(ox)}" y1="${p(sy(t))}" y2="${p(sy(t))}" stroke="#333"/>` +
      `<text x="${p(ox - 7)}" y="${p(sy(t) + 4)}">${t.toFixed(decimalsFor(yt.step))}</text>`);
  }
  out.push(`</g>`);
  out.push(`<text class="x-label" x="${p(ox + plotW / 2)}" y="${p(oy + plotH + 36)}" text-anchor="middle" font-size="12">${escapeXml(opts.xLabel ?? 'x1')}</text>`);
  const lx = pad + 6, ly = oy + plotH / 2;
  out.push(`<text class="y-label" x="${p(lx)}" y="${p(ly)}" text-anchor="middle" font-size="12" transform="rotate(-90 ${p(lx)} ${p(ly)})">${escapeXml(opts.yLabel ?? 'x2')}</text>`);
  out.push(`<g class="points" stroke="#222" stroke-width="0.8">`);
  for (let i = 0; i < n; i++) {
    out.push(`<circle cx="${p(sx(x.data[2 * i]))}" cy="${p(sy(x.data[2 * i + 1]))}" r="3.5" fill="${PALETTE[Number(y[i]) % PALETTE.length]}"/>`);
  }
  out.push(`</g>`);
  // The class legend, right of the plot: the region's tint with a point of the class's colour on it.
  const gx = ox + plotW + pad + 4;
  out.push(`<g class="legend" font-size="11"><text x="${p(gx)}" y="${p(oy + 12)}" font-weight="bold">class</text>`);
  classes.forEach((k, i) => {
    const yy = oy + 20 + 20 * i, color = PALETTE[k % PALETTE.length];
    out.push(`<g class="legend-entry" data-class="${k}"><rect x="${p(gx)}" y="${p(yy)}" width="16" height="14" fill="${tint(color, 0.3)}" stroke="#999"/>` +
      // a dot drawn as a path, so that <circle> elements remain the data points only
      `<path d="M${p(gx + 4.5)},${p(yy + 7)}a3.5,3.5 0 1,0 7,0a3.5,3.5 0 1,0 -7,0" fill="${color}" stroke="#222" stroke-width="0.8"/>` +
      `<text x="${p(gx + 22)}" y="${p(yy + 11)}">${escapeXml(nameOf(k))}</text></g>`);
  });
  out.push(`</g>`);
  return document(width, height, out.join('\n'));
}
