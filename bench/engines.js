'use strict';
// The engines a workload can run on: nodenn native (once per ISA this CPU has), nodenn's TypeScript backend,
// TensorFlow.js on its wasm and cpu backends (devDependencies; the wasm binaries come from node_modules; tfjs-node,
// whose install downloads a binary, is not one), and ONNX Runtime (onnxruntime-node, inference only). PyTorch and
// NumPy run in a Python process of their own (bench/peers.py).
const path = require('node:path');

let tfPromise = null;

/** TensorFlow.js with the wasm backend registered and pointed at the local binaries; null when not installed. */
function loadTf() {
  if (!tfPromise) {
    tfPromise = (async () => {
      let tf, wasm;
      try {
        tf = require('@tensorflow/tfjs');
        wasm = require('@tensorflow/tfjs-backend-wasm');
      } catch {
        return null;
      }
      const dist = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
      wasm.setWasmPaths(dist + path.sep);
      tf.env().set('PROD', true);  // no debug checks, as in a deployed model
      return { tf, wasm };
    })();
  }
  return tfPromise;
}

/** onnxruntime-node (its CPU execution provider), null when not installed. */
function loadOrt() {
  try {
    return require('onnxruntime-node');
  } catch {
    return null;
  }
}

/** An ONNX Runtime session of a nodenn network exported to ONNX, on `threads` threads. */
async function ortSession(engine, nn, net, inputShape) {
  const bytes = nn.io.encodeOnnx(net, { inputShape });
  return engine.ort.InferenceSession.create(bytes, {
    intraOpNumThreads: engine.threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
  });
}

/** Every engine available here, fastest expected first: [{ id, kind, activate, describe }]. */
async function listEngines(nn) {
  const engines = [];
  if (nn.nativeAvailable()) {
    const info = require('../dist/cjs/backend/index.js').nativeAddon().info();
    const threads = info.threads;
    for (const isa of info.supportedIsas.slice().reverse()) {
      engines.push({
        id: `native/${isa}`, kind: 'nodenn', isa, threads,
        activate() { nn.setBackend('native'); nn.setIsa(isa); nn.setThreads(threads); },
      });
    }
    // the best ISA on one thread, for the scaling of the GEMM rows (same code, same tiling, same results)
    if (threads > 1) {
      const isa = info.bestIsa;
      engines.push({
        id: `native/${isa} 1 thread`, kind: 'nodenn', isa, threads: 1, scaling: true,
        activate() { nn.setBackend('native'); nn.setIsa(isa); nn.setThreads(1); },
      });
    }
  }
  engines.push({ id: 'ts', kind: 'nodenn', activate() { nn.setBackend('ts'); } });
  const ort = loadOrt();
  if (ort) {
    const threads = nn.nativeAvailable() ? require('../dist/cjs/backend/index.js').nativeAddon().info().threads : 2;
    // the model is nodenn's own, exported (nn.io.encodeOnnx): both run the same weights
    engines.push({ id: 'onnxruntime', kind: 'ort', ort, threads, activate() {} });
  }
  const t = await loadTf();
  if (t) {
    for (const backend of ['wasm', 'cpu']) {
      engines.push({
        id: `tfjs-${backend}`, kind: 'tfjs', tf: t.tf,
        async activate() {
          if (!(await t.tf.setBackend(backend))) throw new Error(`TensorFlow.js backend ${backend} failed to start`);
          await t.tf.ready();
        },
      });
    }
  }
  return engines;
}

/** The wasm backend's thread count, null when it was not initialized in this run (no wasm engine ran). */
function wasmThreads(wasm) {
  try {
    return typeof wasm.getThreadsCount === 'function' ? wasm.getThreadsCount() : null;
  } catch {
    return null;
  }
}

/** TensorFlow.js version and wasm details for the report (null without it). */
async function tfInfo() {
  const t = await loadTf();
  if (!t) return null;
  return {
    version: t.tf.version.tfjs,
    wasmThreads: wasmThreads(t.wasm),
  };
}

/** The version of onnxruntime-node (null without it). */
function ortInfo() {
  return loadOrt() ? require('onnxruntime-node/package.json').version : null;
}

module.exports = { listEngines, loadTf, tfInfo, ortSession, ortInfo };
