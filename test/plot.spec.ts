// SVG plots: well-formed XML, one polyline point per epoch at the right place, axis labels, ticks, legend,
// decision regions that follow the classifier.
import { describe, expect, it } from 'vitest';
import { decisionRegionsSvg, escapeXml, integerTicks, lineChartSvg, niceTicks, tint, trainingCurvesSvg } from '../src/plot';
import { Tensor } from '../src/tensor';

/** A strict little XML well-formedness check: balanced tags, quoted attributes, known entities only. */
function expectWellFormed(xml: string): void {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  const re = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let pos = 0;
  while ((m = re.exec(body)) !== null) {
    pos = re.lastIndex;
    if (m[5] !== undefined) {
      expect(m[5].replace(/&(lt|gt|amp|quot|apos);/g, '')).not.toMatch(/[&<>]/);
      continue;
    }
    const [, close, name, attrs, selfClose] = m;
    expect(attrs.replace(/&(lt|gt|amp|quot|apos);/g, '')).not.toMatch(/&/);
    if (close) expect(stack.pop()).toBe(name);
    else if (!selfClose) stack.push(name);
  }
  expect(pos).toBe(body.length);
  expect(stack).toEqual([]);
}

function attr(el: string, name: string): string {
  const m = new RegExp(` ${name}="([^"]*)"`).exec(el);
  if (!m) throw new Error(`no ${name} in ${el}`);
  return m[1];
}

function points(polyline: string): [number, number][] {
  return attr(polyline, 'points').split(' ').map((p) => p.split(',').map(Number) as [number, number]);
}

describe('plots', () => {
  it('niceTicks: round steps covering the range', () => {
    expect(niceTicks(0, 1)).toMatchObject({ ticks: [0, 0.2, 0.4, 0.6, 0.8, 1], step: 0.2 });
    expect(niceTicks(0.13, 2.31).ticks).toEqual([0, 0.5, 1, 1.5, 2, 2.5]);
    expect(niceTicks(97.2, 98.9).ticks).toEqual([97, 97.5, 98, 98.5, 99]);
    expect(niceTicks(5, 5).ticks).toEqual([4.4, 4.6, 4.8, 5, 5.2, 5.4, 5.6]);
    expect(() => niceTicks(0, Infinity)).toThrow(RangeError);
  });

  it('training curves: two panels, one point per epoch, monotone mapping, labels and legend', () => {
    const history = { loss: [2, 1, 0.5, 0.25], accuracy: [0.5, 0.8, 0.9, 0.95], valLoss: [1.5, 0.9, 0.6, 0.7], valAccuracy: [0.6, 0.8, 0.85, 0.84] };
    const svg = trainingCurvesSvg(history, { title: 'MNIST <mlp> & co' });
    expectWellFormed(svg);
    expect(svg).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="960" height="380"/);
    expect(svg).toContain('MNIST &lt;mlp&gt; &amp; co');
    const lines = svg.match(/<polyline [^>]*\/>/g)!;
    expect(lines).toHaveLength(4);
    for (const l of lines) expect(points(l)).toHaveLength(4);
    // Loss, train: x increases by a constant step, y (downwards in SVG) increases as the loss falls.
    const p = points(lines[0]);
    const dx = p[1][0] - p[0][0];
    expect(dx).toBeGreaterThan(50);
    for (let i = 1; i < 4; i++) expect(p[i][0] - p[i - 1][0]).toBeCloseTo(dx, 0);
    for (let i = 1; i < 4; i++) expect(p[i][1]).toBeGreaterThan(p[i - 1][1]);
    // Equal spacing in value ↔ equal spacing in pixels: 2→1 is twice 1→0.5.
    expect(p[1][1] - p[0][1]).toBeCloseTo(2 * (p[2][1] - p[1][1]), 0);
    // The accuracy panel lies right of the loss panel.
    expect(points(lines[2])[0][0]).toBeGreaterThan(480);
    expect(lines[1]).toContain('stroke-dasharray');
    expect(svg.match(/class="x-label"[^>]*>epoch</g)).toHaveLength(2);
    expect(svg).toMatch(/class="y-label"[^>]*>loss</);
    expect(svg).toMatch(/class="y-label"[^>]*>accuracy \(%\)</);
    expect(svg.match(/<g class="legend"/g)).toHaveLength(2);
    expect(svg.match(/>validation</g)).toHaveLength(2);
    // Epoch tick labels 1..4 in each panel.
    const xTickGroups = svg.match(/<g class="x-ticks"[\s\S]*?<\/g>/g)!;
    for (const g of xTickGroups) expect([...g.matchAll(/>(\d+)<\/text>/g)].map((m) => m[1])).toEqual(['1', '2', '3', '4']);
    // Accuracy in percent: a y tick label of 100 or near it.
    const yTickGroups = svg.match(/<g class="y-ticks"[\s\S]*?<\/g>/g)!;
    expect(yTickGroups[1]).toMatch(/>(90|100)<\/text>/);
  });

  it('training curves without validation or accuracy, and a single epoch', () => {
    const svg = trainingCurvesSvg({ loss: [0.7] });
    expectWellFormed(svg);
    expect(svg.match(/<polyline /g)).toHaveLength(1);
    expect(svg.match(/<circle /g)).toHaveLength(1);
    expect(svg).not.toContain('Accuracy');
    expect(() => trainingCurvesSvg({} as never)).toThrow(/history must be/);
  });

  it('line chart: NaN splits a line, a fixed y range, bad input', () => {
    const svg = lineChartSvg([{ name: 'a', values: [1, 2, NaN, 4, 5] }], { yRange: [0, 10], xLabel: 'step', yLabel: 'v' });
    expectWellFormed(svg);
    const lines = svg.match(/<polyline [^>]*\/>/g)!;
    expect(lines.map((l) => points(l).length)).toEqual([2, 2]);
    const yTicks = [...svg.match(/<g class="y-ticks"[\s\S]*?<\/g>/)![0].matchAll(/>([\d.]+)<\/text>/g)].map((m) => Number(m[1]));
    expect(yTicks[0]).toBe(0);
    expect(yTicks[yTicks.length - 1]).toBe(10);
    expect(() => lineChartSvg([])).toThrow(TypeError);
    expect(() => lineChartSvg([{ name: 'a', values: [1], x: [1, 2] }])).toThrow(RangeError);
    expect(() => lineChartSvg([{ name: 'a', values: [1] }], { width: 5 })).toThrow(/width/);
    expect(escapeXml(`a<b>&"'`)).toBe('a&lt;b&gt;&amp;&quot;&apos;');
    expect(tint('#0072B2', 1)).toBe('#0072b2');
    expect(tint('#000000', 0)).toBe('#ffffff');
  });

  it('decision regions follow the classifier; points drawn in their class colour', () => {
    // Classifier: class 1 right of x = 0, class 0 left of it.
    const x = new Tensor([-1, -1, -0.5, 1, 0.5, 0, 1, 1], [4, 2]);
    const y = new Int32Array([0, 0, 1, 1]);
    let calls = 0;
    const predict = (g: Tensor): Int32Array => {
      calls++;
      expect(g.shape).toEqual([20 * 20, 2]);
      const out = new Int32Array(g.shape[0]);
      for (let i = 0; i < out.length; i++) out[i] = g.data[2 * i] > 0 ? 1 : 0;
      return out;
    };
    const svg = decisionRegionsSvg({ predict, x, y, resolution: 20, width: 400, height: 400, title: 'halves' });
    expectWellFormed(svg);
    expect(calls).toBe(1);
    const regions = svg.match(/<g class="regions"[\s\S]*?<\/g>/)![0].match(/<rect [^>]*\/>/g)!;
    // Each of the 20 rows is two runs: left half class 0, right half class 1.
    expect(regions).toHaveLength(40);
    const c0 = tint('#0072B2', 0.3), c1 = tint('#D55E00', 0.3);
    const frame = svg.match(/<rect [^>]*fill="none" stroke="#333"\/>/)![0];
    const middle = Number(attr(frame, 'x')) + Number(attr(frame, 'width')) / 2;
    for (let r = 0; r < 20; r++) {
      expect(attr(regions[2 * r], 'fill')).toBe(c0);
      expect(attr(regions[2 * r + 1], 'fill')).toBe(c1);
      expect(Number(attr(regions[2 * r + 1], 'x'))).toBeCloseTo(middle, 0);
    }
    const circles = svg.match(/<g class="points"[\s\S]*?<\/g>/)![0].match(/<circle [^>]*\/>/g)!;
    expect(circles.map((c) => attr(c, 'fill'))).toEqual(['#0072B2', '#0072B2', '#D55E00', '#D55E00']);
    // The point at x=1 is right of the one at x=-1, the one at y=1 above the one at y=-1.
    expect(Number(attr(circles[3], 'cx'))).toBeGreaterThan(Number(attr(circles[0], 'cx')));
    expect(Number(attr(circles[3], 'cy'))).toBeLessThan(Number(attr(circles[0], 'cy')));
    expect(() => decisionRegionsSvg({ predict, x: new Tensor([1, 2, 3], [1, 3]), y: [0] })).toThrow(/\[N, 2\]/);
    expect(() => decisionRegionsSvg({ predict, x, y: [0] })).toThrow(/one class per point/);
    expect(() => decisionRegionsSvg({ predict: () => new Int32Array(3), x, y, resolution: 20 })).toThrow(/predict returned 3/);
  });

  const tickLabels = (group: string) => [...group.matchAll(/>(-?[\d.]+)<\/text>/g)].map((m) => m[1]);
  const groups = (svg: string, cls: string) => svg.match(new RegExp(`<g class="${cls}"[\\s\\S]*?<\\/g>`, 'g'))!;

  it('the loss axis stays at or above 0 for a non-negative loss; accuracy never passes 100%', () => {
    // the 5% headroom above and below the data must not reach past the range the values can take (-0.1, 101)
    const svg = trainingCurvesSvg({ loss: [0.3, 0.1, 0.01], accuracy: [0.97, 0.995, 1], valLoss: [0.35, 0.12, 0.02] });
    expectWellFormed(svg);
    const [lossTicks, accTicks] = groups(svg, 'y-ticks').map(tickLabels);
    expect(lossTicks[0]).toBe('0.0');
    expect(lossTicks.every((t) => Number(t) >= 0)).toBe(true);
    expect(accTicks[accTicks.length - 1]).toBe('100');
    expect(accTicks.every((t) => Number(t) <= 100)).toBe(true);
    // flat at 100% and at a loss of 0: still inside the bounds
    const flat = trainingCurvesSvg({ loss: [0, 0], accuracy: [1, 1] });
    const [l2, a2] = groups(flat, 'y-ticks').map(tickLabels);
    expect(Math.min(...l2.map(Number))).toBe(0);
    expect(Math.max(...a2.map(Number))).toBe(100);
    // a loss that does go negative keeps its negative ticks
    const neg = trainingCurvesSvg({ loss: [0.5, -0.2] });
    expect(tickLabels(groups(neg, 'y-ticks')[0]).some((t) => Number(t) < 0)).toBe(true);
    // the same bounds for any line chart
    const custom = lineChartSvg([{ name: 'p', values: [1, 50, 99.5] }], { yBounds: { min: 0, max: 100 } });
    expect(tickLabels(groups(custom, 'y-ticks')[0]).map(Number).every((v) => v >= 0 && v <= 100)).toBe(true);
    expect(() => lineChartSvg([{ name: 'p', values: [1] }], { yBounds: { min: 1, max: 0 } })).toThrow(/yBounds must be \{ min\?, max\? \} with min < max/);
  });

  it('epoch ticks are whole numbers at round steps; other x values get round ticks', () => {
    expect(integerTicks(1, 4)).toEqual([1, 2, 3, 4]);
    expect(integerTicks(1, 20)).toEqual([2, 4, 6, 8, 10, 12, 14, 16, 18, 20]);
    expect(integerTicks(1, 30)).toEqual([5, 10, 15, 20, 25, 30]);
    expect(integerTicks(1, 100)).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    expect(integerTicks(1, 1)).toEqual([1]);
    const svg = trainingCurvesSvg({ loss: Array.from({ length: 30 }, (_, i) => 1 / (i + 1)) });
    expect(tickLabels(groups(svg, 'x-ticks')[0])).toEqual(['5', '10', '15', '20', '25', '30']);
    const frac = lineChartSvg([{ name: 'a', values: [1, 2, 3], x: [0.5, 1, 1.5] }]);
    expect(tickLabels(groups(frac, 'x-ticks')[0])).toEqual(['0.6', '0.8', '1', '1.2', '1.4']);
  });

  it('decision regions have axis ticks, axis labels and a legend of the classes', () => {
    const x = new Tensor([-1, -1, -0.5, 1, 0.5, 0, 1, 1], [4, 2]);
    const predict = (g: Tensor): Int32Array => Int32Array.from({ length: g.shape[0] }, (_, i) => (g.data[2 * i + 1] > 0.9 ? 2 : g.data[2 * i] > 0 ? 1 : 0));
    const svg = decisionRegionsSvg({ predict, x, y: new Int32Array([0, 0, 1, 1]), resolution: 30 });
    expectWellFormed(svg);
    // the data span [-1, 1] on both axes, 10% margin: ticks from -1 to 1
    const [xTicks] = groups(svg, 'x-ticks').map(tickLabels), [yTicks] = groups(svg, 'y-ticks').map(tickLabels);
    expect(xTicks).toEqual(['-1.0', '-0.5', '0.0', '0.5', '1.0']);
    expect(yTicks).toEqual(['-1.0', '-0.5', '0.0', '0.5', '1.0']);
    expect(svg).toMatch(/class="x-label"[^>]*>x1</);
    expect(svg).toMatch(/class="y-label"[^>]*>x2</);
    // classes of the points and of the regions (class 2 is only predicted)
    const entries = [...svg.matchAll(/<g class="legend-entry" data-class="(\d+)">[\s\S]*?<text[^>]*>([^<]*)<\/text><\/g>/g)].map((m) => [m[1], m[2]]);
    expect(entries).toEqual([['0', 'class 0'], ['1', 'class 1'], ['2', 'class 2']]);
    expect(svg.match(/<circle /g)).toHaveLength(4);  // the data points only
    // tick marks sit on the data coordinates: x = 0 half way between x = -1 and x = 1
    const xs = [...groups(svg, 'x-ticks')[0].matchAll(/<text x="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(xs[2] - xs[0]).toBeCloseTo(xs[4] - xs[2], 1);
    const named = decisionRegionsSvg({ predict, x, y: new Int32Array([0, 0, 1, 1]), resolution: 10,
      classNames: ['cat', 'dog <3', 'bird'], xLabel: 'petal length', yLabel: 'petal width' });
    expectWellFormed(named);
    expect([...named.matchAll(/<g class="legend-entry"[\s\S]*?<text[^>]*>([^<]*)<\/text><\/g>/g)].map((m) => m[1])).toEqual(['cat', 'dog &lt;3', 'bird']);
    expect(named).toMatch(/class="x-label"[^>]*>petal length</);
    expect(named).toMatch(/class="y-label"[^>]*>petal width</);
    expect(() => decisionRegionsSvg({ predict, x, y: [0, 0, 1, 1], classNames: [1, 2] as never })).toThrow(/classNames must be an array of strings/);
  });
});
