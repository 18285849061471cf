"""The timing protocol of the Python peers (bench/ops.py, bench/peers.py), the same as bench/util.js's timeItSync:
warm-up calls, then samples of at least min_seconds each, every sample the mean seconds per call; the clock is read
after runs of calls that double (up to 1024) while a run takes under 1 ms."""
import time


def samples(fn, reps, min_seconds, warmup=1):
    """The seconds per call of each of reps samples, after warmup untimed calls. A call that takes over 5 s in the
    warm-up (PyTorch's CNN rows on a slow build) cuts the samples to 3 to keep the run short."""
    t0 = time.perf_counter()
    for _ in range(warmup):
        fn()
    if warmup and (time.perf_counter() - t0) / warmup > 5:
        reps = min(reps, 3)
    out = []
    for _ in range(reps):
        n, dt, run = 0, 0.0, 1
        t0 = time.perf_counter()
        while True:
            for _ in range(run):
                fn()
            n += run
            before = dt
            dt = time.perf_counter() - t0
            if dt - before < 1e-3 and run < 1024:
                run *= 2
            if dt >= min_seconds:
                break
        out.append(dt / n)
    return out
