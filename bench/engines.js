'use strict';
// The engines a workload can run on: nodenn native (once per ISA this CPU has), nodenn's TypeScript backend,
// and TensorFlow.js on its wasm and cpu backends (devDependencies; the wasm binaries come from node_modules).
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

/** Every engine available here, fastest expected first: [{ id, kind, activate, describe }]. */
async function listEngines(nn) {
  const engines = [];
  if (nn.nativeAvailable()) {
    const isas = require('../dist/cjs/backend/index.js').nativeAddon().info().supportedIsas;
    for (const isa of isas.slice().reverse()) {
      engines.push({
        id: `native/${isa}`, kind: 'nodenn', isa,
        activate() { nn.setBackend('native'); nn.setIsa(isa); },
      });
    }
  }
  engines.push({ id: 'ts', kind: 'nodenn', activate() { nn.setBackend('ts'); } });
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

module.exports = { listEngines, loadTf, tfInfo };
