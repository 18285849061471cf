// The course material's NumPy cells (chapter 1: arithmetic, broadcasting, element access, boolean masks; chapter 4:
// mini-batch sampling with np.random.choice and x_train[batch_mask]) as nodenn tensor code. Each line prints what
// the NumPy cell prints; the NumPy code is in the comment above it.
//   node examples/numpy-basics.js [--quick]
'use strict';
const nn = require('nodenn');

const { ops } = nn;
const show = (label, t) => console.log(`${label}\n${t}`);

async function main() {
  // ---- 1.5.2 arrays: x = np.array([1.0, 2.0, 3.0])
  const x = ops.tensor([1.0, 2.0, 3.0]);
  show('x', x);

  // ---- 1.5.3 arithmetic: x + y, x - y, x * y, x / y, x / 2.0
  const y = ops.tensor([2.0, 4.0, 6.0]);
  show('x + y', x.add(y));
  show('x - y', x.sub(y));
  show('x * y', x.mul(y));
  show('x / y', x.div(y));
  show('x / 2.0', x.div(2.0));

  // ---- 1.5.4 N-dimensional arrays: A = np.array([[1, 2], [3, 4]]); A.shape; A + B; A * B; A * 10
  let A = ops.tensor([[1, 2], [3, 4]]);
  show('A', A);
  console.log(`A.shape (${A.shape.join(', ')})`);
  let B = ops.tensor([[3, 0], [0, 6]]);
  show('A + B', A.add(B));
  show('A * B', A.mul(B));
  show('A * 10', A.mul(10));

  // ---- 1.5.5 broadcasting: A * np.array([10, 20])
  A = ops.tensor([[1, 2], [3, 4]]);
  B = ops.tensor([10, 20]);
  show('A * B (broadcast)', A.mul(B));

  // ---- 1.5.6 element access: X[0], X[0][1], rows, X.flatten(), X[np.array([0, 2, 4])], X > 15, X[X > 15]
  let X = ops.tensor([[51, 55], [14, 19], [0, 4]]);
  show('X', X);
  show('X[0]', X.slice(0));
  console.log(`X[0][1] ${X.get(0, 1)}`);
  for (let i = 0; i < X.shape[0]; i++) console.log(`row ${X.slice(i)}`);
  X = X.flatten();
  show('X.flatten()', X);
  show('X[np.array([0, 2, 4])]', X.take(Int32Array.of(0, 2, 4)));
  show('X > 15', X.gt(15));
  show('X[X > 15]', X.maskedSelect(X.gt(15)));

  // ---- 4.2.3 mini-batches: batch_mask = np.random.choice(train_size, batch_size); x_train[batch_mask]
  const { train } = await nn.data.loadMnist({ oneHot: true });
  const xTrain = train.x, tTrain = train.y;
  console.log(`x_train.shape (${xTrain.shape.join(', ')})`);
  console.log(`t_train.shape (${tTrain.shape.join(', ')})`);
  const trainSize = xTrain.shape[0], batchSize = 10;
  const batchMask = ops.randint(0, trainSize, [batchSize], { seed: 42 });
  show('batch_mask', batchMask);
  const xBatch = xTrain.take(batchMask, 0), tBatch = tTrain.take(batchMask, 0);
  console.log(`x_batch.shape (${xBatch.shape.join(', ')})`);
  console.log(`t_batch.shape (${tBatch.shape.join(', ')})`);
  show('np.argmax(t_batch, axis=1)', tBatch.argmax(1));
  show('x_batch.sum(axis=1) (ink per image)', xBatch.sum(1));
  show('x_batch.mean()', xBatch.mean());
}

main().catch((e) => { console.error(e); process.exitCode = 1; });
