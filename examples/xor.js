// XOR: the function a single perceptron cannot learn; two layers can.
//   node examples/xor.js [--quick]
'use strict';
const nn = require('nodenn');

const quick = process.argv.includes('--quick') || process.env.NODENN_QUICK === '1';

async function main() {
  const { x, y } = nn.data.xor();
  const net = new nn.Sequential([new nn.Dense(2, 8), new nn.Tanh(), new nn.Dense(8, 2)], { seed: 3 });
  await net.fit(x, y, { optimizer: new nn.Adam({ lr: 0.05 }), epochs: quick ? 150 : 500, batchSize: 4 });
  const p = net.predictProba(x);
  const pred = net.predictClasses(x);
  for (let i = 0; i < 4; i++) {
    console.log(`${x.data[2 * i]} XOR ${x.data[2 * i + 1]} = ${pred[i]}   (p(1) = ${p.data[2 * i + 1].toFixed(3)}, expected ${y[i]})`);
  }
  const correct = pred.every((v, i) => v === y[i]);
  console.log(correct ? 'all four correct' : 'not yet learned');
  if (!correct) process.exitCode = 1;
}

main().catch((e) => { console.error(e); process.exitCode = 1; });
