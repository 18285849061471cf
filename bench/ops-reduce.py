#!/usr/bin/env python3
"""NumPy's side of bench/ops-reduce.js: the same reductions, matmul and gathers, float32, timed the same way
(median of 7 samples, each repeating the call for at least 0.2 s). Prints one JSON object: workload -> seconds per
call."""
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
    m = rng.standard_normal((1000, 1000), dtype=np.float32)
    a = rng.standard_normal((512, 512), dtype=np.float32)
    b = rng.standard_normal((512, 512), dtype=np.float32)
    x_train = np.ones((60000, 784), dtype=np.float32)
    batch_mask = np.random.choice(60000, 64)

    def softmax(x):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    print(json.dumps({
        "numpy": np.__version__,
        "sum": time_it(lambda: m.sum()),
        "sum1": time_it(lambda: m.sum(axis=1)),
        "sum0": time_it(lambda: m.sum(axis=0)),
        "matmul": time_it(lambda: a @ b),
        "gather": time_it(lambda: x_train[batch_mask]),
        "softmax": time_it(lambda: softmax(m)),
        "argmax": time_it(lambda: m.argmax(axis=1)),
        "transpose": time_it(lambda: np.ascontiguousarray(m.T)),
    }))


if __name__ == "__main__":
    main()
