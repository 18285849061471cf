// The "apple price" computational graph (backpropagation by hand with Mul and Add nodes):
//   2 apples at 100 and 3 oranges at 150, tax 1.1: price = (100·2 + 150·3) · 1.1 = 715
// then backward from d(price) = 1 gives the derivative of the price with respect to every input.
//   node examples/apple-price.js
'use strict';
const nn = require('nodenn');

const mulApple = new nn.Mul(), mulOrange = new nn.Mul(), addFruit = new nn.Add(), mulTax = new nn.Mul();

const apple = 100, appleNum = 2, orange = 150, orangeNum = 3, tax = 1.1;
const applePrice = mulApple.forward(apple, appleNum);
const orangePrice = mulOrange.forward(orange, orangeNum);
const all = addFruit.forward(applePrice, orangePrice);
const price = mulTax.forward(all, tax);

const [dAll, dTax] = mulTax.backward(1);
const [dApplePrice, dOrangePrice] = addFruit.backward(dAll);
const [dOrange, dOrangeNum] = mulOrange.backward(dOrangePrice);
const [dApple, dAppleNum] = mulApple.backward(dApplePrice);

const v = (t) => +t.data[0].toFixed(6);
console.log(`price: ${v(price)}`);
console.log(`dApple: ${v(dApple)}, dAppleNum: ${v(dAppleNum)}, dOrange: ${v(dOrange)}, dOrangeNum: ${v(dOrangeNum)}, dTax: ${v(dTax)}`);
// Expected: 715; 2.2, 110, 3.3, 165, 650.
const expected = [715, 2.2, 110, 3.3, 165, 650];
const got = [price, dApple, dAppleNum, dOrange, dOrangeNum, dTax].map(v);
if (got.some((g, i) => Math.abs(g - expected[i]) > 1e-9)) { console.error(`expected ${expected}`); process.exitCode = 1; }
