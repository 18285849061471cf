#!/usr/bin/env python3
"""NumPy's side of bench/ops.js: the same workloads, float32, timed the same way (the median of the samples, each
repeating the call for at least min_seconds). Prints one JSON object: workload -> seconds per call.
  python3 bench/ops.py [reps] [min_seconds] [workload,workload,...]   (the last: only those; default all)"""
import json
import statistics
import sys

import numpy as np

from timing import samples


def time_it(fn, reps, min_seconds):
    """The median seconds per call (bench/ops.js reports medians)."""
    return statistics.median(samples(fn, reps, min_seconds))


def workloads():
    rng = np.random.default_rng(0)
    a = rng.standard_normal(1_000_000, dtype=np.float32)
    b = rng.standard_normal(1_000_000, dtype=np.float32)
    y = np.empty_like(a)
    m = a.reshape(1000, 1000)
    row = rng.standard_normal(1000, dtype=np.float32)
    t1 = np.ones(4, dtype=np.float32)
    t2 = np.ones(4, dtype=np.float32)
    ma = rng.standard_normal((512, 512), dtype=np.float32)
    mb = rng.standard_normal((512, 512), dtype=np.float32)
    ba = rng.standard_normal((1000, 16, 16), dtype=np.float32)
    bb = rng.standard_normal((1000, 16, 16), dtype=np.float32)
    x_train = np.ones((60000, 784), dtype=np.float32)
    batch_mask = rng.integers(0, 60000, 64)

    def softmax(x):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    return {
        "add": lambda: a + b,
        "addOut": lambda: np.add(a, b, out=y),
        "addRow": lambda: m + row,
        "addRowOut": lambda: np.add(m, row, out=y.reshape(1000, 1000)),
        "exp": lambda: np.exp(a),
        "expOut": lambda: np.exp(a, out=y),
        "tiny": lambda: t1 + t2,
        "sum": lambda: m.sum(),
        "sum1": lambda: m.sum(axis=1),
        "sum0": lambda: m.sum(axis=0),
        "matmul": lambda: ma @ mb,
        "bmm": lambda: ba @ bb,
        "gather": lambda: x_train[batch_mask],
        "softmax": lambda: softmax(m),
        "argmax": lambda: m.argmax(axis=1),
        "transpose": lambda: np.ascontiguousarray(m.T),
    }


def main():
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    min_seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 0.2
    only = set(sys.argv[3].split(",")) if len(sys.argv) > 3 else None
    out = {"numpy": np.__version__}
    for name, fn in workloads().items():
        if only is None or name in only:
            out[name] = time_it(fn, reps, min_seconds)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
