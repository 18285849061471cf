// Autograd on the course material's first derivative and gradient cells, each next to the way the course computes
// it by hand: central differences (numerical_diff, numerical_gradient) and the Mul/Add nodes of the apple/orange
// graph. Record the forward pass on tensors that require a gradient, call backward(), read .grad.
//   node examples/autograd-basics.js
'use strict';
const nn = require('nodenn');

const f64 = (data, requiresGrad = false) => nn.tensor(data, { dtype: 'float64', requiresGrad });
const fmt = (t) => `(${t.toArray().map((v) => +v.toFixed(6)).join(', ')})`;

// ---- f(x) = x0² + x1²: the gradient at (3, 4) and at (0, 2)
const f = (x) => x.square().sum();

function numericalGradient(fn, x) {
  const h = 1e-4, grad = new Float64Array(x.size);
  for (let i = 0; i < x.size; i++) {
    const old = x.data[i];
    x.data[i] = old + h;
    const fp = fn(x).item();
    x.data[i] = old - h;
    const fm = fn(x).item();
    x.data[i] = old;
    grad[i] = (fp - fm) / (2 * h);
  }
  return nn.tensor(grad);
}

for (const point of [[3, 4], [0, 2]]) {
  const x = f64(point, true);
  const y = f(x);
  y.backward();
  console.log(`f${fmt(x)} = ${y.item()}: autograd gradient ${fmt(x.grad)}, numerical ${fmt(numericalGradient(f, f64(point)))}`);
}
// the functional form: a function that returns the gradient
console.log(`nn.grad(f)(3, 4) = ${fmt(nn.grad(f)(f64([3, 4])))}`);

// ---- gradient descent from (-3, 4), learning rate 0.1, 100 steps: x -= lr · ∇f(x)
const x = f64([-3, 4], true);
for (let i = 0; i < 100; i++) {
  x.grad = null;
  f(x).backward();
  nn.noGrad(() => x.data.set(x.sub(x.grad.mul(0.1)).data));  // an update, not part of the graph
}
let xn = f64([-3, 4]);
for (let i = 0; i < 100; i++) xn = xn.sub(numericalGradient(f, xn).mul(0.1));
const tiny = (t) => t.toArray().map((v) => v.toExponential(3)).join(', ');
console.log(`gradient descent from (-3, 4): autograd (${tiny(x)}), numerical (${tiny(xn)})`);

// ---- the apple/orange graph: (100 · 2 + 150 · 3) · 1.1
const apple = f64(100, true), appleNum = f64(2, true), orange = f64(150, true), orangeNum = f64(3, true);
const tax = f64(1.1, true);
const price = apple.mul(appleNum).add(orange.mul(orangeNum)).mul(tax);
price.backward();
const v = (t) => +t.item().toFixed(6);
console.log(`autograd price: ${v(price)}`);
console.log(`autograd dApple: ${v(apple.grad)}, dAppleNum: ${v(appleNum.grad)}, dOrange: ${v(orange.grad)}, ` +
  `dOrangeNum: ${v(orangeNum.grad)}, dTax: ${v(tax.grad)}`);

// the same graph with the course's layers, backward by hand
const mulApple = new nn.Mul(), mulOrange = new nn.Mul(), addFruit = new nn.Add(), mulTax = new nn.Mul();
const layerPrice = mulTax.forward(addFruit.forward(mulApple.forward(100, 2), mulOrange.forward(150, 3)), 1.1);
const [dAll, dTax] = mulTax.backward(1);
const [dApplePrice, dOrangePrice] = addFruit.backward(dAll);
const [dOrange, dOrangeNum] = mulOrange.backward(dOrangePrice);
const [dApple, dAppleNum] = mulApple.backward(dApplePrice);
const w = (t) => +t.data[0].toFixed(6);
console.log(`Mul/Add price: ${w(layerPrice)}`);
console.log(`Mul/Add dApple: ${w(dApple)}, dAppleNum: ${w(dAppleNum)}, dOrange: ${w(dOrange)}, ` +
  `dOrangeNum: ${w(dOrangeNum)}, dTax: ${w(dTax)}`);
const same = [price, apple.grad, appleNum.grad, orange.grad, orangeNum.grad, tax.grad].map(v)
  .every((a, i) => Math.abs(a - [layerPrice, dApple, dAppleNum, dOrange, dOrangeNum, dTax].map(w)[i]) < 1e-9);
console.log(same ? 'autograd and the Mul/Add layers agree' : 'autograd and the Mul/Add layers DIFFER');
if (!same) process.exitCode = 1;
