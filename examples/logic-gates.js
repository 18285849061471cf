// Logic gates as perceptrons (a weighted sum and a threshold), with weights chosen by hand, then XOR built by
// wiring three of them: XOR(a, b) = AND(NAND(a, b), OR(a, b)). Each gate is one Dense(2, 1) layer whose
// weights we set, followed by a step; the network's forward pass does the arithmetic.
//   node examples/logic-gates.js
'use strict';
const nn = require('nodenn');

/** A perceptron: output 1 when w·x + b > 0. */
function gate(w1, w2, b) {
  const dense = new nn.Dense(2, 1);
  const net = new nn.Sequential([dense]);
  net.loadStateDict({ '0.weight': new nn.Tensor([w1, w2], [2, 1]), '0.bias': new nn.Tensor([b], [1]) });
  return (a, c) => (net.forward(new nn.Tensor([a, c], [1, 2])).data[0] > 0 ? 1 : 0);
}

const AND = gate(0.5, 0.5, -0.7);
const NAND = gate(-0.5, -0.5, 0.7);
const OR = gate(0.5, 0.5, -0.2);
const XOR = (a, b) => AND(NAND(a, b), OR(a, b));

const truth = { AND: (a, b) => a & b, NAND: (a, b) => 1 - (a & b), OR: (a, b) => a | b, XOR: (a, b) => a ^ b };
const gates = { AND, NAND, OR, XOR };
let ok = true;
console.log(' a b | AND NAND OR XOR');
for (const [a, b] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
  const row = Object.entries(gates).map(([name, g]) => {
    const v = g(a, b);
    if (v !== truth[name](a, b)) ok = false;
    return String(v).padStart(name.length);
  });
  console.log(` ${a} ${b} | ${row.join(' ')}`);
}
console.log(ok ? 'every gate matches its truth table' : 'MISMATCH');
if (!ok) process.exitCode = 1;
