'use strict';
// Time to accuracy: the `nodenn train mnist` command with its defaults, as a user runs it, timed from process start
// to exit (data loading and the test pass included): the MLP to at least 98% test accuracy, the CNN
// (--model cnn) to at least 99%. One run of seed 1 per bench run (each takes seconds to minutes); the note gives
// the accuracy reached. Skipped by --quick.
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const CLI = path.join(__dirname, '..', '..', 'dist', 'cjs', 'cli.js');

function trainWorkload(model, goal) {
  return {
    id: `train-mnist-${model}`,
    title: `\`nodenn train mnist${model === 'cnn' ? ' --model cnn' : ''}\` → ≥ ${goal}% test, wall`,
    unit: 's',
    lowerIsBetter: true,
    timing: { reps: 1, minSeconds: 0, warmup: 0 },
    engines: (engine, opts) => !opts.quick && engine.kind === 'nodenn' && engine.id !== 'ts',
    async setup(engine) {
      const s = { scale: 1, sync: true, note: '' };
      s.run = () => {
        const args = [CLI, 'train', 'mnist', '--model', model, '--seed', '1', '--quiet', '--threads', String(engine.threads)];
        const r = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, NODENN_ISA: engine.isa } });
        const m = /test accuracy ([\d.]+)%/.exec(r.stdout || '');
        if (r.status !== 0 || !m) throw new Error(`nodenn train mnist --model ${model} failed: ${(r.stderr || r.stdout || '').trim().split('\n').pop()}`);
        s.note = `seed 1: ${m[1]}% test accuracy (goal ≥ ${goal}%)`;
      };
      return s;
    },
  };
}

module.exports = [trainWorkload('mlp', 98), trainWorkload('cnn', 99)];
