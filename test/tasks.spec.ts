// Never a silent wrong answer: what a network's output means follows from its loss and its last layer. A final
// Softmax/Sigmoid with a loss on logits is refused; a regression network is evaluated as one; predict returns the
// output, predictProba probabilities, predictClasses class indices; single samples, nested arrays and plain label
// arrays are read as NumPy and Keras users expect; a bad label is named by its index in the data set.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { xor } from '../src/data/toy';
import { Conv2D, Dense, Flatten, ReLU, Sigmoid, Softmax, Tanh } from '../src/layers/index';
import { binaryCrossEntropy, softmaxCrossEntropy } from '../src/losses';
import { Sequential } from '../src/network';
import { decisionRegionsSvg } from '../src/plot';
import { Adam, SGD } from '../src/optimizers';
import { Tensor } from '../src/tensor';
import { backends, randn, useBackend } from './helpers';

let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodenn-tasks-')); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** y = 2·x0 − x1 + 0.5 on 32 points: a regression task with one output. */
function regressionData(): { x: Tensor; y: Tensor } {
  const x = randn([32, 2], 4).astype('float32');
  const y = Tensor.zeros([32, 1]);
  for (let i = 0; i < 32; i++) y.data[i] = 2 * x.data[2 * i] - x.data[2 * i + 1] + 0.5;
  return { x, y };
}

function threeClasses(n = 30): { x: Tensor; y: Int32Array } {
  const x = randn([n, 4], 2).astype('float32'), y = new Int32Array(n);
  for (let i = 0; i < n; i++) y[i] = i % 3;
  return { x, y };
}

describe.each(backends)('tasks, losses and outputs on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  it('a final Softmax with softmaxCrossEntropy, or a final Sigmoid with binaryCrossEntropy, is refused by compile, fit, evaluate and lossAndGradients', async () => {
    const { x, y } = threeClasses();
    const twice = () => new Sequential([new Dense(4, 8), new ReLU(), new Dense(8, 3), new Softmax()], { seed: 1 });
    const softmaxMessage = /the last layer is Softmax but the loss 'softmaxCrossEntropy' takes logits: drop the Softmax layer .* or use loss 'crossEntropy'/;
    expect(() => twice().compile({ loss: 'softmaxCrossEntropy' })).toThrow(softmaxMessage);
    await expect(twice().fit(x, y, { epochs: 1 })).rejects.toThrow(softmaxMessage);  // the default loss too
    await expect(twice().fit(x, y, { loss: 'softmaxCrossEntropy' })).rejects.toThrow(softmaxMessage);
    expect(() => twice().evaluate(x, y, { loss: 'softmaxCrossEntropy' })).toThrow(softmaxMessage);
    expect(() => twice().lossAndGradients(x, y, { loss: 'softmaxCrossEntropy' })).toThrow(softmaxMessage);
    // nothing was trained before the error
    const net = twice(), before = Array.from(net.parameters()[0].param.data);
    await expect(net.fit(x, y, { optimizer: new SGD({ lr: 1 }) })).rejects.toThrow(softmaxMessage);
    expect(Array.from(net.parameters()[0].param.data)).toEqual(before);
    // the same network without its Softmax trains with the fused, stable softmaxCrossEntropy
    const fused = new Sequential([new Dense(4, 8), new ReLU(), new Dense(8, 3)], { seed: 1 });
    const h = await fused.fit(x, y, { optimizer: new Adam({ lr: 0.05 }), epochs: 30, batchSize: 30 });
    expect(h.loss[29]).toBeLessThan(h.loss[0]);
    // a final Softmax trained with mse on one-hot targets is a legitimate pair
    await expect(twice().fit(x, y, { loss: 'mse', epochs: 1 })).resolves.toMatchObject({ loss: [expect.any(Number)] });
    // ... and so is crossEntropy, on the Softmax's probabilities: a classification loss, with an accuracy
    const probs = twice();
    const hp = await probs.fit(x, y, { loss: 'crossEntropy', optimizer: new Adam({ lr: 0.05 }), epochs: 30, batchSize: 30 });
    expect(hp.loss[29]).toBeLessThan(hp.loss[0]);
    expect(hp.accuracy).toHaveLength(30);
    const pr = probs.evaluate(x, y);
    expect(pr.accuracy).toBe(Array.from(probs.predictClasses(x)).filter((k, i) => k === y[i]).length / 30);
    expect(Array.from(probs.predictProba(x).data)).toEqual(Array.from(probs.predict(x).data));
    // the reverse mistake: crossEntropy on logits
    await expect(fused.fit(x, y, { loss: 'crossEntropy' })).rejects.toThrow(/fit\(\): the loss 'crossEntropy' takes probabilities, but the last layer is Dense, whose outputs are not: add a Softmax layer/);

    const sig = () => new Sequential([new Dense(2, 4), new Tanh(), new Dense(4, 1), new Sigmoid()], { seed: 1 });
    const { x: xx, y: xy } = xor();
    const sigmoidMessage = /the last layer is Sigmoid but the loss 'binaryCrossEntropy' takes logits: drop the Sigmoid layer .* fromLogits: false/;
    expect(() => sig().compile({ loss: 'binaryCrossEntropy' })).toThrow(sigmoidMessage);
    await expect(sig().fit(xx, xy, { loss: 'binaryCrossEntropy' })).rejects.toThrow(sigmoidMessage);
    expect(() => sig().evaluate(xx, xy, { loss: 'binaryCrossEntropy' })).toThrow(sigmoidMessage);
    // a custom loss on probabilities is the user's own business
    const bceProbs = (o: Tensor, t: Tensor | Int32Array) => binaryCrossEntropy(o, t, { fromLogits: false });
    const r = sig().compile({ loss: bceProbs }).evaluate(xx, xy);
    expect(r.loss).toBeGreaterThan(0.5);
    expect(r).not.toHaveProperty('accuracy');
  });

  it('a regression network (mse) remembers its loss: no accuracy in the history or evaluate, predict returns its values', async () => {
    const { x, y } = regressionData();
    const net = new Sequential([new Dense(2, 16, { init: 'he' }), new Tanh(), new Dense(16, 1)], { seed: 3 });
    const h = await net.fit(x, y, { loss: 'mse', optimizer: new Adam({ lr: 0.02 }), epochs: 100, batchSize: 32 });
    expect(h).not.toHaveProperty('accuracy');
    expect(h).not.toHaveProperty('valAccuracy');
    expect(h.loss[99]).toBeLessThan(h.loss[0] / 10);
    expect(net.loss).toBe('mse');
    const r = net.evaluate(x, y);
    expect(Object.keys(r)).toEqual(['loss']);
    expect(r.loss).toBeCloseTo(h.loss[99], 1);
    const p = net.predict(x);
    expect(p).toBeInstanceOf(Tensor);
    expect(p.shape).toEqual([32, 1]);
    let sq = 0;
    for (let i = 0; i < 32; i++) sq += (p.data[i] - y.data[i]) ** 2;
    expect(sq / 32).toBeCloseTo(r.loss, 4);
    expect(() => net.predictProba(x)).toThrow(/predictProba\(\): this network's loss is 'mse' and its last layer is Dense: its outputs are values, not class scores; use predict\(\)/);
    expect(() => net.predictClasses(x)).toThrow(/predictClasses\(\): this network's loss is 'mse'/);
    // validation data gives a valLoss but no valAccuracy; callbacks see no accuracy
    const infos: object[] = [];
    const h2 = await net.fit(x, y, { epochs: 1, validationData: [x, y], onEpochEnd: (e) => { infos.push(e); } });
    expect(h2.valLoss).toHaveLength(1);
    expect(h2).not.toHaveProperty('valAccuracy');
    expect(infos[0]).not.toHaveProperty('accuracy');
    expect(infos[0]).not.toHaveProperty('valAccuracy');
  });

  it('evaluate without a known loss throws; compile sets the loss and optimizer, validated at once; fit options override', async () => {
    const { x, y } = threeClasses();
    const net = new Sequential([new Dense(4, 8), new ReLU(), new Dense(8, 3)], { seed: 2 });
    expect(net.loss).toBeNull();
    expect(() => net.evaluate(x, y)).toThrow(/evaluate\(\) needs a loss: this network was neither compiled nor trained .* \{ loss: 'softmaxCrossEntropy' \}/);
    expect(() => net.compile({ loss: 'hinge' as never })).toThrow(/loss must be one of/);
    expect(() => net.compile({ optimizer: 'lion' as never })).toThrow(/optimizer must be an Optimizer/);
    expect(() => net.compile({ loss: 'mse', lr: 0.1 } as never)).toThrow(/unknown compile\(\) option 'lr'/);
    expect(net.loss).toBeNull();
    const opt = new SGD({ lr: 0.5 });
    expect(net.compile({ optimizer: opt, loss: 'softmaxCrossEntropy' })).toBe(net);
    expect(net.loss).toBe('softmaxCrossEntropy');
    const r = net.evaluate(x, y);
    expect(r.loss).toBeCloseTo(net.evaluate(x, y, { loss: 'softmaxCrossEntropy' }).loss, 10);
    expect(r.accuracy).toBeGreaterThanOrEqual(0);
    // the compiled optimizer trains: the same steps as passing it to fit
    const twin = new Sequential([new Dense(4, 8), new ReLU(), new Dense(8, 3)], { seed: 2 });
    await net.fit(x, y, { epochs: 2, batchSize: 10, shuffle: false });
    await twin.fit(x, y, { optimizer: new SGD({ lr: 0.5 }), loss: 'softmaxCrossEntropy', epochs: 2, batchSize: 10, shuffle: false });
    expect(Array.from(net.parameters()[0].param.data)).toEqual(Array.from(twin.parameters()[0].param.data));
    // a fit loss overrides the compiled one, and is then the one remembered
    await net.fit(x, y, { loss: 'mse', epochs: 1 });
    expect(net.loss).toBe('mse');
    expect(net.evaluate(x, y)).not.toHaveProperty('accuracy');
    expect(net.evaluate(x, y, { loss: 'softmaxCrossEntropy' })).toHaveProperty('accuracy');
  });

  it('the default loss of fit (softmaxCrossEntropy) is refused where it cannot fit the task', async () => {
    const { x, y } = regressionData();
    const one = new Sequential([new Dense(2, 1)], { seed: 1 });
    // softmax over one column is always 1: nothing could be learned
    await expect(one.fit(x, new Int32Array(32))).rejects.toThrow(/softmaxCrossEntropy needs at least 2 classes .* the output has 1 column .* use loss 'binaryCrossEntropy' .* or 'mse'/);
    expect(() => softmaxCrossEntropy(Tensor.zeros([3, 1]), new Int32Array(3))).toThrow(/needs at least 2 classes/);
    // targets that are not class distributions, with no loss given
    const two = new Sequential([new Dense(2, 2)], { seed: 1 });
    const t = Tensor.zeros([32, 2]);
    for (let i = 0; i < 64; i++) t.data[i] = y.data[i >> 1];
    await expect(two.fit(x, t)).rejects.toThrow(/fit\(\) was given no loss .* y\[0\] = \[.*\] is not a class distribution .* loss: 'mse'/);
    expect(two.loss).toBeNull();
  });

  it('predict returns the raw output Tensor, predictProba probabilities, predictClasses class indices (eval mode)', () => {
    const net = new Sequential([new Dense(4, 8), new ReLU(), new Dense(8, 3)], { seed: 3 });
    const x = randn([6, 4], 1).astype('float32');
    const out = net.predict(x);
    expect(out).toBeInstanceOf(Tensor);
    expect(Array.from(out.data)).toEqual(Array.from(net.eval().forward(x).data));
    net.train();
    const p = net.predictProba(x);
    for (let r = 0; r < 6; r++) {
      const row = Array.from(out.data.subarray(3 * r, 3 * r + 3)), m = Math.max(...row);
      const e = row.map((v) => Math.exp(v - m)), s = e.reduce((a, b) => a + b);
      for (let c = 0; c < 3; c++) expect(p.data[3 * r + c]).toBeCloseTo(e[c] / s, 6);
    }
    const classes = net.predictClasses(x);
    expect(classes).toBeInstanceOf(Int32Array);
    for (let r = 0; r < 6; r++) {
      const row = Array.from(out.data.subarray(3 * r, 3 * r + 3));
      expect(classes[r]).toBe(row.indexOf(Math.max(...row)));
    }
    expect(net.isTraining).toBe(true);
    // a final Softmax: its output is already the probabilities
    const soft = new Sequential([new Dense(4, 3), new Softmax()], { seed: 3 });
    expect(Array.from(soft.predictProba(x).data)).toEqual(Array.from(soft.predict(x).data));
    // one logit: sigmoid; binaryCrossEntropy with several outputs (multi-label): sigmoid per column
    const bin = new Sequential([new Dense(4, 1)], { seed: 1 });
    const z = bin.predict(x), pb = bin.predictProba(x);
    for (let i = 0; i < 6; i++) expect(pb.data[i]).toBeCloseTo(1 / (1 + Math.exp(-z.data[i])), 6);
    const multi = new Sequential([new Dense(4, 3)], { seed: 1 }).compile({ loss: 'binaryCrossEntropy' });
    const zm = multi.predict(x), pm = multi.predictProba(x);
    for (let i = 0; i < 18; i++) expect(pm.data[i]).toBeCloseTo(1 / (1 + Math.exp(-zm.data[i])), 6);
    expect(() => multi.predictClasses(x)).toThrow(/multi-label/);
  });

  it('a single-output classifier thresholds a final Sigmoid at 0.5 and a logit at 0 (XOR)', async () => {
    const { x, y } = xor();
    // a final Sigmoid trained with mse, as the course material's XOR network is
    const net = new Sequential([new Dense(2, 8, { init: 'xavier' }), new Sigmoid(), new Dense(8, 1, { init: 'xavier' }), new Sigmoid()], { seed: 1 });
    await net.fit(x, y, { loss: 'mse', optimizer: new SGD({ lr: 1.0 }), epochs: 2000, batchSize: 4 });
    const out = Array.from(net.predict(x).data);
    expect(out[0]).toBeLessThan(0.2);
    expect(out[1]).toBeGreaterThan(0.8);
    expect(out[2]).toBeGreaterThan(0.8);
    expect(out[3]).toBeLessThan(0.2);
    expect(Array.from(net.predictProba(x).data)).toEqual(out);
    expect(Array.from(net.predictClasses(x))).toEqual([0, 1, 1, 0]);
    // hand-set: a final Sigmoid whose outputs are 0.3 / 0.5 / 0.7 (classes 0, 1, 1), a logit −0.2 / 0 / 0.2
    const pts = new Tensor([-0.2, 0, 0.2], [3, 1]);
    const logit = new Sequential([new Dense(1, 1)]);
    logit.parameters()[0].param.data.set([1]);
    logit.parameters()[1].param.data.set([0]);
    expect(Array.from(logit.predictClasses(pts))).toEqual([0, 1, 1]);
    const squashed = new Sequential([new Dense(1, 1), new Sigmoid()]);
    squashed.parameters()[0].param.data.set([1]);
    squashed.parameters()[1].param.data.set([0]);
    expect(Array.from(squashed.predictClasses(pts))).toEqual([0, 1, 1]);
    // binaryCrossEntropy on the logit: evaluate's accuracy uses the same rule
    const bce = new Sequential([new Dense(2, 8), new Tanh(), new Dense(8, 1)], { seed: 2 });
    await bce.fit(x, y, { loss: 'binaryCrossEntropy', optimizer: new Adam({ lr: 0.05 }), epochs: 300, batchSize: 4 });
    expect(Array.from(bce.predictClasses(x))).toEqual([0, 1, 1, 0]);
    expect(bce.evaluate(x, y).accuracy).toBe(1);
  }, 60_000);

  it('decisionRegionsSvg colours by predictClasses (a final Sigmoid split at 0.5) and refuses the Tensor of predict', () => {
    const net = new Sequential([new Dense(2, 1), new Sigmoid()]);
    net.parameters()[0].param.data.set([4, 0]);  // p = sigmoid(4·x0): class 1 right of x0 = 0
    net.parameters()[1].param.data.set([0]);
    const x = new Tensor([[-1, -1], [-0.5, 1], [0.5, 0], [1, 1]]), y = new Int32Array([0, 0, 1, 1]);
    const svg = decisionRegionsSvg({ predict: (g) => net.predictClasses(g), x, y, resolution: 20 });
    const regions = svg.match(/<g class="regions"[\s\S]*?<\/g>/)![0].match(/<rect [^>]*\/>/g)!;
    expect(regions).toHaveLength(40);  // every row: class 0 on the left half, class 1 on the right
    expect(() => decisionRegionsSvg({ predict: (g) => net.predict(g) as never, x, y })).toThrow(/not a Tensor of outputs: use \(x\) => net.predictClasses\(x\)/);
  });

  it('a single sample (the rank of one sample) is a batch of one, and the outputs have no batch axis', () => {
    const net = new Sequential([new Dense(4, 8), new ReLU(), new Dense(8, 3)], { seed: 3 });
    const x = randn([6, 4], 1).astype('float32');
    const row = new Tensor(x.data.slice(8, 12));  // x[2], shape [4]
    const all = net.predict(x);
    const one = net.predict(row);
    expect(one.shape).toEqual([3]);
    expect(Array.from(one.data)).toEqual(Array.from(all.data.subarray(6, 9)));
    expect(net.predictProba(row).shape).toEqual([3]);
    expect(Array.from(net.predictClasses(row))).toEqual([net.predictClasses(x)[2]]);
    const f = net.forward(row);
    expect(f.shape).toEqual([3]);
    expect(Array.from(f.data)).toEqual(Array.from(net.forward(x).data.subarray(6, 9)));
    net.forward(row);
    const dx = net.backward(new Tensor([1, 0, 0]));
    expect(dx.shape).toEqual([4]);
    // the wrong number of features: the error says how to reshape
    expect(() => net.predict(new Tensor([1, 2, 3, 4, 5, 6, 7, 8]))).toThrow(/predict\(\): x has shape \[8\]: an input of rank 1 is one sample, but the network takes samples of 4 features; for 2 samples use x.reshape\(\[2, 4\]\)/);
    expect(() => new Sequential([new Dense(1, 2)]).predictProba(new Tensor([1, 2, 3]))).toThrow(/x has shape \[3\]: .* samples of 1 feature; for 3 samples use x.reshape\(\[3, 1\]\)/);
    // images: a CNN takes (C, H, W) as one image
    const cnn = new Sequential([new Conv2D(1, 2, 3), new ReLU(), new Flatten(), new Dense(2 * 4 * 4, 3)], { seed: 1 });
    const imgs = randn([2, 1, 6, 6], 5).astype('float32');
    const img = new Tensor(imgs.data.slice(36, 72), [1, 6, 6]);
    expect(cnn.predict(img).shape).toEqual([3]);
    expect(Array.from(cnn.predict(img).data)).toEqual(Array.from(cnn.predict(imgs).data.subarray(3, 6)));
    // Flatten first: the sample rank is the one recorded by the last fit or forward
    const flat = new Sequential([new Flatten(), new Dense(36, 3)], { seed: 1 });
    flat.forward(imgs);
    expect(flat.inputShape).toEqual([1, 6, 6]);
    expect(flat.predict(img).shape).toEqual([3]);
    // fit and evaluate take batches, and say so
    expect(() => net.evaluate(row, new Int32Array([1]), { loss: 'softmaxCrossEntropy' })).toThrow(/evaluate\(\): x has the shape of one sample \(\[4\]\); it takes a batch \(N, 4\): x.reshape\(\[1, 4\]\)/);
  });

  it('softmaxCrossEntropy takes 1-D logits as one sample, with a label or a target distribution', () => {
    const logits = new Tensor(new Float64Array([0.3, 2.9, 4.0]));
    const batch = logits.reshape([1, 3]);
    for (const labels of [new Int32Array([2]), 2, new Tensor(new Float64Array([0, 0, 1]))] as const) {
      const r = softmaxCrossEntropy(logits, labels as never), b = softmaxCrossEntropy(batch, new Int32Array([2]));
      expect(r.loss).toBeCloseTo(b.loss, 12);
      expect(r.grad.shape).toEqual([3]);
      r.grad.data.forEach((g, i) => expect(g).toBeCloseTo(b.grad.data[i], 12));
    }
    expect(softmaxCrossEntropy(logits, 2).loss).toBeCloseTo(0.305714464812, 10);
    expect(() => softmaxCrossEntropy(logits, 3)).toThrow(/label 3 is outside \[0, 3\)/);
    expect(() => softmaxCrossEntropy(logits, new Int32Array([0, 1]))).toThrow(/labels has 2 entries but logits has 1 rows/);
  });

  it('nested arrays make a tensor of their shape; ragged, non-number and empty arrays are refused or shaped', () => {
    const t = new Tensor([[0, 0], [0, 1], [1, 0]]);
    expect(t.shape).toEqual([3, 2]);
    expect(Array.from(t.data)).toEqual([0, 0, 0, 1, 1, 0]);
    expect(new Tensor([[[1], [2]], [[3], [4]]], undefined, 'float64').shape).toEqual([2, 2, 1]);
    expect(new Tensor([[1, 2], [3, 4]], [4]).shape).toEqual([4]);
    expect(() => new Tensor([[1, 2], [3, 4]], [3])).toThrow(/shape \[3\] holds 3 elements but data has 4/);
    expect(() => new Tensor([[1, 2], [3]])).toThrow(/data is ragged: data\[1\] has 1 elements but data\[0\] has 2/);
    expect(() => new Tensor([[1, 2], 3] as never)).toThrow(/data is ragged: data\[1\] is a number but data\[0\] is an array/);
    expect(() => new Tensor([[1, '2']] as never)).toThrow(/data\[0\]\[1\] is the string '2', not a number/);
    expect(() => new Tensor([1, undefined] as never)).toThrow(/data\[1\] is undefined, not a number/);
    expect(() => new Tensor([true, false] as never)).toThrow(/data\[0\] is true, not a number/);
    expect(new Tensor([]).shape).toEqual([0]);
    expect(new Tensor([[], []]).shape).toEqual([2, 0]);
    expect(new Tensor([NaN, Infinity]).data[0]).toBeNaN();  // numbers, whatever their value
    // fit and predict take nested arrays too (plain JS, the course material's lists)
    const net = new Sequential([new Dense(2, 2)], { seed: 1 });
    expect(Array.from(net.predict([[0, 0], [0, 1]] as never).data)).toEqual(Array.from(net.predict(new Tensor([0, 0, 0, 1], [2, 2])).data));
  });

  it('a bad label is named by its index in the data set before any training; plain number arrays are labels', async () => {
    const { x, y } = threeClasses(1200);
    y[999] = 9;
    const net = new Sequential([new Dense(4, 3)], { seed: 1 });
    const before = Array.from(net.parameters()[0].param.data);
    await expect(net.fit(x, y, { batchSize: 50 })).rejects.toThrow(/y\[999\] = 9 is not a class of the network's 3 outputs: labels must be integers in \[0, 3\)/);
    expect(Array.from(net.parameters()[0].param.data)).toEqual(before);
    expect(() => net.evaluate(x, y, { loss: 'softmaxCrossEntropy' })).toThrow(/y\[999\] = 9 is not a class/);
    await expect(net.fit(x, new Int32Array(1200), { validationData: [x, y] })).rejects.toThrow(/validationData y\[999\] = 9/);
    y[999] = -1;
    await expect(net.fit(x, y)).rejects.toThrow(/y\[999\] = -1 is not a class/);
    // binaryCrossEntropy on one output: labels 0 or 1
    const bin = new Sequential([new Dense(4, 1)], { seed: 1 });
    const yb = new Int32Array(1200);
    yb[7] = 2;
    await expect(bin.fit(x, yb, { loss: 'binaryCrossEntropy' })).rejects.toThrow(/y\[7\] = 2 is not a class .* labels must be 0 or 1/);
    // plain arrays: integers become Int32Array labels; anything else is refused with the conversion
    const small = threeClasses(6);
    const plain = Array.from(small.y);
    const a = new Sequential([new Dense(4, 3)], { seed: 1 }), b = new Sequential([new Dense(4, 3)], { seed: 1 });
    const ha = await a.fit(small.x, plain as never, { epochs: 2 });
    const hb = await b.fit(small.x, small.y, { epochs: 2 });
    expect(ha.loss).toEqual(hb.loss);
    expect(a.evaluate(small.x, plain as never)).toEqual(b.evaluate(small.x, small.y));
    await expect(a.fit(small.x, [0, 1, 2, 0, 1.5, 2] as never)).rejects.toThrow(/y\[4\] = 1.5 is not an integer label; targets that are not class labels go in a Tensor: new nn.Tensor\(y, \[6, 1\]\)/);
    await expect(a.fit(small.x, [0, 1, 2, 0, '1', 2] as never)).rejects.toThrow(/y\[4\] is the string '1', not a number/);
  });
});
