'use strict';
// GEMM: C = A B on random data. float64 runs on nodenn only (TensorFlow.js has no float64 matmul).
// A workload: { id, title, metric, unit, engines(engine, opts) -> bool, setup(engine, nn, opts) -> { run, work } }
// where run() does one call and work is what one call accomplishes in the metric's unit (GFLOP here).

const { ortSession } = require('../engines');

function randomArray(C, n, seed) {
  const a = new C(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 31 - 1;
  }
  return a;
}

function gemmWorkload(M, N, K, dtype) {
  const C = dtype === 'float32' ? Float32Array : Float64Array;
  const flops = 2 * M * N * K;
  const cube = M === N && N === K;
  return {
    id: `gemm-${M}x${N}x${K}-${dtype === 'float32' ? 'f32' : 'f64'}`,
    title: `GEMM ${cube ? `${M}³` : `${M}×${K}·${K}×${N}`} ${dtype}`,
    unit: 'GFLOP/s',
    engines(engine, opts) {
      if (engine.kind === 'tfjs') return dtype === 'float32' && !(opts.quick && engine.id === 'tfjs-cpu' && flops > 1e9);
      if (engine.kind === 'ort') return dtype === 'float32';
      return !(opts.quick && engine.id === 'ts' && flops > 1e9);
    },
    async setup(engine, nn) {
      const A = randomArray(C, M * K, 1), B = randomArray(C, K * N, 2);
      if (engine.kind === 'nodenn') {
        const out = new C(M * N);
        const k = nn.getBackend();
        return { run: () => k.gemm(false, false, M, N, K, 1, A, B, 0, out), work: flops / 1e9, sync: true };
      }
      if (engine.kind === 'ort') {
        // B as the weight of a Dense layer without bias, exported: a Gemm node with B as its initializer (which ONNX
        // Runtime may prepack once, at session creation; nodenn reads B afresh at every call)
        const dense = new nn.Dense(K, N, { bias: false });
        dense.weight.data.set(B);
        const session = await ortSession(engine, nn, new nn.Sequential([dense]), [K]);
        const feeds = { input: new engine.ort.Tensor('float32', A, [M, K]) };
        return { run: () => session.run(feeds), work: flops / 1e9, note: 'B a constant of the model; async run()' };
      }
      const tf = engine.tf;
      const a = tf.tensor2d(A, [M, K]), b = tf.tensor2d(B, [K, N]);
      return {
        run: () => { const c = tf.matMul(a, b); c.dataSync(); c.dispose(); },
        work: flops / 1e9,
        sync: true,
        dispose: () => { a.dispose(); b.dispose(); },
      };
    },
  };
}

module.exports = [
  gemmWorkload(1024, 1024, 1024, 'float32'),
  gemmWorkload(100, 100, 784, 'float32'),
  gemmWorkload(1024, 1024, 1024, 'float64'),
];
