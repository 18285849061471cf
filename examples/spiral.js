// Spiral: a small MLP separates three interleaved spiral arms, then the decision regions are drawn as SVG.
//   node examples/spiral.js [--quick] [--out spiral.svg]
'use strict';
const fs = require('node:fs');
const nn = require('nodenn');

const quick = process.argv.includes('--quick') || process.env.NODENN_QUICK === '1';
const outIndex = process.argv.indexOf('--out');
const out = outIndex > 0 ? process.argv[outIndex + 1] : 'spiral.svg';

async function main() {
  const { x, y } = nn.data.spiral({ n: 100, k: 3, noise: 0.2, seed: 1 });
  const net = new nn.Sequential([
    new nn.Dense(2, 64), new nn.ReLU(),
    new nn.Dense(64, 64), new nn.ReLU(),
    new nn.Dense(64, 3),
  ], { seed: 1 });
  const history = await net.fit(x, y, {
    optimizer: new nn.Adam({ lr: 0.01 }), epochs: quick ? 30 : 300, batchSize: 32,
  });
  const { accuracy } = net.evaluate(x, y);
  console.log(`spiral: ${history.loss.length} epochs, final loss ${history.loss.at(-1).toFixed(4)}, ` +
    `training accuracy ${(100 * accuracy).toFixed(1)}%`);
  const svg = nn.plot.decisionRegionsSvg({
    predict: (grid) => net.predictClasses(grid), x, y, title: `spiral: 2-64-64-3 MLP, accuracy ${(100 * accuracy).toFixed(1)}%`,
  });
  fs.writeFileSync(out, svg);
  console.log(`decision regions written to ${out}`);
}

main().catch((e) => { console.error(e); process.exitCode = 1; });
