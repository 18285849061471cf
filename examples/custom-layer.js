// A layer of your own, written only with tensor operations: y = a · tanh(x W + b) with learnable W, b and a.
// nn.Module finds the parameters from the properties; autograd gives the backward pass. The example checks the
// gradients against central differences in float64, trains a few steps, saves the stateDict as safetensors and
// loads it into a fresh instance.
//   node examples/custom-layer.js
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const nn = require('nodenn');

class ScaledTanh extends nn.Module {
  constructor(nIn, nOut, seed) {
    super();
    // detach() then requiresGrad_(): the scaled weight is a leaf of its own, not the result of a mul
    this.weight = nn.randn([nIn, nOut], { dtype: 'float64', seed }).mul(0.5).detach().requiresGrad_();
    this.bias = nn.zeros([nOut], { dtype: 'float64' }).requiresGrad_();
    this.scale = nn.ones([1], { dtype: 'float64' }).requiresGrad_();
  }

  forward(x) {
    return x.matmul(this.weight).add(this.bias).tanh().mul(this.scale);
  }
}

// a tiny seeded regression problem: y = 2 · tanh(x0 − 0.5 x1 + 0.3)
const x = nn.randn([16, 2], { dtype: 'float64', seed: 1 });
const y = x.matmul(nn.tensor([[1], [-0.5]], { dtype: 'float64' })).add(0.3).tanh().mul(2);
const mse = (model) => model.call(x).sub(y).square().mean();

// ---- gradient check: autograd against central differences, every parameter
const model = new ScaledTanh(2, 1, 7);
mse(model).backward();
let worst = 0;
for (const [name, p] of model.namedParameters()) {
  const numerical = nn.gradcheck.numericalGradient(() => nn.noGrad(() => mse(model).item()), p);
  const err = nn.gradcheck.relativeError(p.grad, numerical);
  console.log(`${name}: max relative error ${err.toExponential(2)}`);
  worst = Math.max(worst, err);
}
console.log(`gradient check ${worst <= 1e-7 ? 'passed' : 'FAILED'}: max relative error ${worst.toExponential(2)}`);
model.zeroGrad();

// ---- a few steps of plain gradient descent
const opt = new nn.SGD({ lr: 0.5 });
const losses = [];
for (let step = 0; step < 20; step++) {
  const loss = mse(model);
  losses.push(loss.item());
  loss.backward();
  opt.step(model.parameters());
  opt.zeroGrad();
  if (step % 5 === 0) console.log(`step ${step}: loss ${loss.item().toFixed(6)}`);
}
const final = nn.noGrad(() => mse(model).item());
console.log(`after 20 steps: loss ${final.toFixed(6)} (from ${losses[0].toFixed(6)})`);

// ---- save the stateDict as safetensors, load it into a fresh instance
async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodenn-custom-layer-'));
  try {
    const file = path.join(dir, 'scaled-tanh.safetensors');
    await nn.saveSafetensors(file, model.stateDict());
    const fresh = new ScaledTanh(2, 1, 99);
    fresh.loadStateDict((await nn.loadSafetensors(file)).tensors);
    const a = nn.noGrad(() => model.call(x)).toArray(), b = nn.noGrad(() => fresh.call(x)).toArray();
    const identical = a.length === b.length && a.every((v, i) => v === b[i]);
    console.log(`reloaded from ${path.basename(file)}: outputs ${identical ? 'identical' : 'DIFFER'}`);
    if (!identical || worst > 1e-7 || !(final < losses[0])) process.exitCode = 1;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
main();
