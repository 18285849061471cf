#!/usr/bin/env python3
"""NumPy's side of bench/ops.js: the same element-wise workloads, float32, timed the same way (median of 7 samples,
each repeating the call for at least 0.2 s). Prints one JSON object: workload -> seconds per call."""
import json
import time

import numpy as np


def time_it(fn, reps=7, min_seconds=0.2):
    fn()
    samples = []
    for _ in range(reps):
        n = 0
        t0 = time.perf_counter()
        while True:
            fn()
            n += 1
            dt = time.perf_counter() - t0
            if dt >= min_seconds:
                break
        samples.append(dt / n)
    samples.sort()
    return samples[len(samples) // 2]


def main():
    rng = np.random.default_rng(0)
    a = rng.standard_normal(1_000_000, dtype=np.float32)
    b = rng.standard_normal(1_000_000, dtype=np.float32)
    m = a.reshape(1000, 1000)
    row = rng.standard_normal(1000, dtype=np.float32)
    t1 = np.ones(4, dtype=np.float32)
    t2 = np.ones(4, dtype=np.float32)
    print(json.dumps({
        "numpy": np.__version__,
        "add": time_it(lambda: a + b),
        "addRow": time_it(lambda: m + row),
        "exp": time_it(lambda: np.exp(a)),
        "tiny": time_it(lambda: t1 + t2),
    }))


if __name__ == "__main__":
    main()
