// MNIST with a residual MLP written as an nn.Module: built-in Dense layers (fused kernels, called with .call)
// joined by tensor operations (the skip connections), autograd for the backward pass, trained with fit(),
// saved as a model file and loaded back.
//   node examples/residual-mlp.js [--quick] [--out residual-mlp.safetensors]
'use strict';
const nn = require('nodenn');

const quick = process.argv.includes('--quick') || process.env.NODENN_QUICK === '1';
const outIndex = process.argv.indexOf('--out');
const out = outIndex > 0 ? process.argv[outIndex + 1] : 'residual-mlp.safetensors';

// h + fc2(relu(fc1(h))), then relu: the block learns a correction to its input
class ResidualBlock extends nn.Module {
  constructor(width, seed) {
    super();
    this.fc1 = new nn.Dense(width, width, { seed });
    this.fc2 = new nn.Dense(width, width, { seed: seed + 1 });
  }

  forward(h) {
    return this.fc2.call(this.fc1.call(h).relu()).add(h).relu();
  }
}

class ResidualMLP extends nn.Module {
  constructor({ width = 256, blocks = 2 } = {}) {
    super();
    this.width = width;
    this.inp = new nn.Dense(784, width, { seed: 1 });
    this.blocks = Array.from({ length: blocks }, (_, i) => new ResidualBlock(width, 10 + 2 * i));
    this.out = new nn.Dense(width, 10, { seed: 2 });
  }

  forward(x) {
    let h = this.inp.call(x).relu();
    for (const b of this.blocks) h = b.call(h);
    return this.out.call(h);
  }

  // what the model file records to rebuild it (with the registration below)
  config() {
    return { type: 'ResidualMLP', width: this.width, blocks: this.blocks.length };
  }
}
nn.registerLayer('ResidualMLP', (c) => new ResidualMLP({ width: c.width, blocks: c.blocks }));

async function main() {
  const { train, test } = await nn.data.loadMnist({ limit: quick ? { train: 3000, test: 1000 } : undefined });
  const model = new ResidualMLP();
  console.log(model.summary([784]));

  const epochs = quick ? 2 : 8;
  const started = Date.now();
  await model.fit(train.x, train.y, {
    optimizer: new nn.Adam({ lr: 0.001, schedule: nn.cosineDecay({ tMax: epochs, minLr: 2e-5 }) }),
    epochs, batchSize: quick ? 64 : 128,
    onEpochEnd: (e) => console.log(`epoch ${e.epoch + 1}: loss ${e.loss.toFixed(4)}`),
  });
  const seconds = (Date.now() - started) / 1000;
  const { accuracy } = model.evaluate(test.x, test.y);
  console.log(`test accuracy ${(100 * accuracy).toFixed(2)}% (${epochs} epochs, ${seconds.toFixed(1)} s)`);

  await model.save(out, { dataset: 'mnist' });
  const loaded = await nn.Module.load(out);
  const again = loaded.evaluate(test.x, test.y).accuracy;
  console.log(`reloaded ${loaded.constructor.name} from ${out}: test accuracy ${(100 * again).toFixed(2)}%`);
  if (again !== accuracy) process.exitCode = 1;
}

main().catch((e) => { console.error(e); process.exitCode = 1; });
