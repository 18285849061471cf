#!/usr/bin/env python3
"""NumPy's side of scripts/diff-numpy.js: reads the cases (JSON) on stdin, writes one answer per case on stdout.

A tensor travels as {"dtype", "shape", "data"}, the data row-major with NaN, ±Infinity and -0 as the strings
"nan", "inf", "-inf", "-0" (JSON has none of them). An answer is {"error": "ValueError: ..."} when NumPy raises, or
{"out": [tensor...], "mode": "exact" | "close" | "scaled", "scale": [per element], "deliberate": reason}:

- out is the value nodenn must give. It is NumPy's own result, except where nodenn documents a difference (then
  "deliberate" names it and the comparison is against nodenn's documented rule):
  * float32 sums, means and variances: the ts backend accumulates in double, native in float32 vector lanes
    combined in double (NumPy: float32 pairwise). The reference is the reduction in double rounded once; where
    NumPy's own float32 result differs (partial sums past 3.4e38), that one is accepted too ("alt");
  * max and min reductions break a ±0 tie by IEEE 754-2019 (max +0, min -0) whatever the order (NumPy returns
    whichever zero its loop met first).
- mode "exact": bitwise, the sign of zero included (shape ops, indexing, comparisons, + - * /, max/min, where),
  except where "zeroSign" is false (clamp's ±0 ties).
- mode "close": relative error within a few float32 / float64 ulps (transcendental functions), the reference
  computed in float64 (float32) or long double (float64) and rounded once.
- mode "scaled": |got - want| ≤ tol · scale[i], scale[i] being Σ|terms| of that element (sums, matmul; for
  reductions times max(1, √n / 4)): the rounding error any summation order may make.
"""
import json
import math
import sys
import warnings

import numpy as np

warnings.simplefilter("ignore")
np.seterr(all="ignore")
LD = np.longdouble
SQRT1_2 = math.sqrt(0.5)


def dec(v):
    if isinstance(v, str):
        return {"nan": math.nan, "inf": math.inf, "-inf": -math.inf, "-0": -0.0}[v]
    return float(v)


def enc(v):
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == 0 and math.copysign(1, v) < 0:
        return "-0"
    return v


def tensor(t):
    if isinstance(t, str):
        return dec(t)  # NaN, ±Infinity or -0 as a plain number
    if not isinstance(t, dict):
        return float(t) if isinstance(t, (int, float)) else t  # a Python float: NumPy 2's weak scalar, as nodenn's number
    return np.array([dec(v) for v in t["data"]], dtype=t["dtype"]).reshape(t["shape"])


def out_tensor(a, dtype=None):
    a = np.asarray(a)
    if dtype is not None:
        a = a.astype(dtype)
    return {"dtype": str(a.dtype), "shape": list(a.shape), "data": [enc(v) for v in a.ravel().tolist()]}


def same(a, b):
    """Bitwise equal values (NaN equal to NaN), the sign of zero included."""
    a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        return False
    both_nan = np.isnan(a) & np.isnan(b)
    eq = (a == b) & (np.signbit(a) == np.signbit(b))
    return bool(np.all(both_nan | eq))


def close32(a, b):
    """NumPy's float32 answer within float32 rounding of the extended one (the deliberate-difference test)."""
    a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    both_nan = np.isnan(a) & np.isnan(b)
    with np.errstate(invalid="ignore"):
        ok = (a == b) | (np.abs(a - b) <= 1e-5 * np.maximum(np.abs(b), 1e-30))
    return bool(np.all(both_nan | ok))


BINARY = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide, "pow": np.power,
    "maximum": np.maximum, "minimum": np.minimum, "gt": np.greater, "ge": np.greater_equal, "lt": np.less,
    "le": np.less_equal, "eq": np.equal, "ne": np.not_equal,
}
COMPARISON = {"gt", "ge", "lt", "le", "eq", "ne"}


def gelu(x):
    f = np.vectorize(lambda v: 0.5 * v * (1 + math.erf(v * SQRT1_2)), otypes=[np.float64])
    return f(x.astype(np.float64)) if x.size else x.astype(np.float64)


def softplus(x):
    return np.logaddexp(0, x)


UNARY = {  # computed on the widened input (float64 for float32, long double for float64), rounded once
    "neg": np.negative, "abs": np.abs, "exp": np.exp, "log": np.log, "log1p": np.log1p, "sqrt": np.sqrt,
    "square": np.square, "tanh": np.tanh,
    # nodenn's documented rule, x < 0 ? 0 : x (as the ReLU layer and the fused kernels): NaN and -0 pass through,
    # where np.maximum(x, 0) gives +0 for -0
    "relu": lambda x: np.where(x < 0, x.dtype.type(0), x),
    "leakyRelu": lambda x: np.where(x > 0, x, x * x.dtype.type(0.01)),
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "step": lambda x: np.where(np.isnan(x), x, np.where(x > 0, 1.0, 0.0)).astype(x.dtype),
    "softplus": softplus,
    "gelu": gelu,
}
# gelu: erf's approximation (src/backend/ts/unary.ts, native/unary.cc) is good to ~1e-15 relative, not 4 ulps
ULPS = {"gelu": 16}
EXACT_UNARY = {"neg", "abs", "square", "relu", "step"}


def widen(a):
    return a.astype(np.float64) if a.dtype == np.float32 else a.astype(LD)


def norm_axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def fix_zero_ties(x, r, op, axis, keepdims):
    """max/min results that are zero get the IEEE 754-2019 sign: +0 for max if any +0, -0 for min if any -0."""
    r = np.array(r, dtype=x.dtype)
    if x.size == 0 or r.size == 0:
        return r, False
    pos = np.any((x == 0) & ~np.signbit(x), axis=axis, keepdims=keepdims)
    neg = np.any((x == 0) & np.signbit(x), axis=axis, keepdims=keepdims)
    want = r.copy()
    zero = (r == 0)
    if op == "max":
        want = np.where(zero & pos, x.dtype.type(0.0), np.where(zero, x.dtype.type(-0.0), r))
    else:
        want = np.where(zero & neg, x.dtype.type(-0.0), np.where(zero, x.dtype.type(0.0), r))
    want = np.asarray(want, dtype=x.dtype).reshape(r.shape)
    return want, not same(want, r)


def reduce_case(c, x):
    op, axis, keepdims = c["op"], norm_axis(c.get("axis")), c.get("keepdims", False)
    dt = x.dtype
    if op in ("max", "min"):
        f = np.max if op == "max" else np.min
        r = f(x, axis=axis, keepdims=keepdims)
        want, differs = fix_zero_ties(x, r, op, axis, keepdims)
        return {"out": [out_tensor(want, dt)], "mode": "exact",
                "deliberate": "±0 tie: IEEE 754-2019 max/min" if differs else None}
    # float64 in float64 (NumPy's pairwise order; nodenn's is blocked: the tolerance covers both), float32 in double
    w = x.astype(np.float64)
    a = np.abs(w)
    n = x.size if axis is None else (int(np.prod([x.shape[i] for i in (axis if isinstance(axis, tuple) else (axis,))]))
                                     if x.ndim else 1)
    if op == "sum":
        ref = np.sum(w, axis=axis, keepdims=keepdims)
        scale = np.sum(a, axis=axis, keepdims=keepdims)
        native = np.sum(x, axis=axis, keepdims=keepdims)
    elif op == "mean":
        ref = np.mean(w, axis=axis, keepdims=keepdims)
        scale = np.mean(a, axis=axis, keepdims=keepdims)
        native = np.mean(x, axis=axis, keepdims=keepdims)
    elif op == "prod":
        # in long double: a product whose partial products overflow in one order may not in another (NumPy's own
        # answer is accepted as well, below)
        ref = np.prod(x.astype(LD), axis=axis, keepdims=keepdims)
        scale = np.abs(ref)
        native = np.prod(x, axis=axis, keepdims=keepdims)
    elif op in ("var", "std"):
        ddof = c.get("ddof", 0)
        f = np.var if op == "var" else np.std
        ref = f(w, axis=axis, keepdims=keepdims, ddof=ddof)
        # Σ(x - mean)² loses ~ eps · Σx² / (n - ddof); std ~ its square root
        ms = np.sum(w * w, axis=axis, keepdims=keepdims) / max(n - ddof, 1)
        scale = ms if op == "var" else np.sqrt(ms) * 1e3
        native = f(x, axis=axis, keepdims=keepdims, ddof=ddof)
    elif op == "logSumExp":
        m = np.max(w, axis=axis, keepdims=True) if w.size else np.zeros([1] * w.ndim, dtype=w.dtype)
        m = np.where(np.isfinite(m), m, 0)
        ref = np.log(np.sum(np.exp(w - m), axis=axis, keepdims=True)) + m
        ref = ref if keepdims else (np.squeeze(ref, axis=axis) if axis is not None else ref.reshape(()))
        scale = np.maximum(np.abs(ref), 1)
        native = ref
    else:
        raise KeyError(op)
    ref = np.asarray(ref).astype(dt)
    scale = np.asarray(scale, np.float64) * max(1.0, math.sqrt(n) / 4)  # rounding errors grow as √n (random walk)
    answer = {"out": [out_tensor(ref)], "mode": "scaled", "scale": [enc(s) for s in np.asarray(scale, np.float64).ravel()]}
    if not close32(native, ref) and (x.dtype == np.float32 or op == "prod"):
        # float32 partial sums past 3.4e38: ts (double) is finite, native's float32 lanes may overflow as NumPy's
        answer["deliberate"] = ("partial products overflow in some orders" if op == "prod"
                                else "float32 partial sums: double on ts, float32 lanes on native")
        answer["alt"] = [out_tensor(np.asarray(native).astype(dt))]
    return answer


def softmax_case(c, x):
    axis = c["axis"]
    w = widen(x)
    m = np.max(w, axis=axis, keepdims=True) if w.size else w
    e = np.exp(w - m)
    s = np.sum(e, axis=axis, keepdims=True)
    y = np.asarray((w - m - np.log(s)) if c["op"] == "logSoftmax" else e / s)
    # an absolute error of a few ulps of 1 (softmax) or of |x - max| (logSoftmax, x - max - log Σ cancels)
    scale = np.maximum(np.abs(w - m), 1) if c["op"] == "logSoftmax" else np.ones(y.shape)
    return {"out": [out_tensor(y.astype(x.dtype))], "mode": "scaled",
            "scale": [enc(v) for v in np.asarray(scale, np.float64).ravel()]}


def matmul_case(c, a, b):
    # in the result's dtype, as nodenn's GEMM accumulates: an overflow or inf - inf is the same one
    dt = np.result_type(a, b)
    r = np.matmul(a.astype(dt), b.astype(dt))
    scale = np.matmul(np.abs(a.astype(np.float64)), np.abs(b.astype(np.float64)))
    return {"out": [out_tensor(np.asarray(r).astype(dt))], "mode": "scaled",
            "scale": [enc(s) for s in np.asarray(scale, np.float64).ravel()]}


def slice_index(specs):
    idx = []
    for s in specs:
        if s is None:
            idx.append(slice(None))
        elif isinstance(s, list):
            idx.append(slice(*(s + [None] * (3 - len(s)))))
        else:
            idx.append(s)
    return tuple(idx)


def run(c):
    op = c["op"]
    t = {k: tensor(v) for k, v in c.items() if isinstance(v, dict) or (k in ("a", "b", "cond", "lo", "hi") and v is not None)}
    if op in BINARY:
        a, b = t.get("a", c["a"]), t.get("b", c["b"])
        if not isinstance(a, np.ndarray) and not isinstance(b, np.ndarray):
            raise TypeError("no tensor")
        r = BINARY[op](a, b)
        dt = np.result_type(a, b) if op in COMPARISON else r.dtype
        if op == "pow":
            ref = np.power(widen(np.asarray(a, dtype=r.dtype)), widen(np.asarray(b, dtype=r.dtype)))
            return {"out": [out_tensor(np.asarray(ref).astype(r.dtype))], "mode": "close"}
        return {"out": [out_tensor(r, dt)], "mode": "exact"}
    if op == "unary":
        x, f = t["x"], c["f"]
        r = UNARY[f](x if f in EXACT_UNARY else widen(x))
        return {"out": [out_tensor(np.asarray(r).astype(x.dtype))], "mode": "exact" if f in EXACT_UNARY else "close",
                "ulps": ULPS.get(f, 4)}
    if op == "where":
        cond, a, b = t.get("cond", c.get("cond")), t.get("a", c.get("a")), t.get("b", c.get("b"))
        dt = np.result_type(*[v for v in (a, b) if isinstance(v, np.ndarray)])
        r = np.where(np.asarray(cond) != 0, a, b)
        return {"out": [out_tensor(r, dt)], "mode": "exact"}
    if op == "clamp":
        x, lo, hi = t["x"], t.get("lo", c.get("lo")), t.get("hi", c.get("hi"))
        dt = np.result_type(*[v for v in (x, lo, hi) if isinstance(v, np.ndarray)])
        if lo is None and hi is None:
            raise ValueError("One of max or min must be given")
        # the sign of a zero that ties with a zero bound is not compared: np.clip's answer depends on its loop (the
        # contiguous one with one-value bounds keeps x, the strided one and np.maximum take the bound)
        r = np.clip(x, lo, hi)
        return {"out": [out_tensor(r, dt)], "mode": "exact", "zeroSign": False}
    if op in ("sum", "mean", "prod", "max", "min", "var", "std", "logSumExp"):
        x = t["x"]
        if op in ("max", "min"):
            np.max(x, axis=norm_axis(c.get("axis")))  # raises on an empty axis
        return reduce_case(c, x)
    if op in ("argmax", "argmin"):
        x = t["x"]
        f = np.argmax if op == "argmax" else np.argmin
        return {"out": [out_tensor(f(x, axis=c.get("axis"), keepdims=c.get("keepdims", False)), x.dtype)], "mode": "exact"}
    if op in ("softmax", "logSoftmax"):
        x = t["x"]
        np.max(x, axis=c["axis"], keepdims=True) if x.size else np.empty(x.shape).sum(axis=c["axis"])
        return softmax_case(c, x)
    if op == "matmul":
        return matmul_case(c, t["a"], t["b"])
    x = t.get("x")
    if op == "reshape":
        r = np.reshape(x, c["shape"])
    elif op == "transpose":
        r = np.transpose(x)
    elif op == "permute":
        r = np.transpose(x, c["axes"])
    elif op == "squeeze":
        r = np.squeeze(x, axis=norm_axis(c.get("axis")))
    elif op == "unsqueeze":
        r = np.expand_dims(x, c["axis"])
    elif op == "flatten":
        # nodenn's flatten(start, end) is reshape merging the axes start..end (torch.flatten)
        s, e = c["start"], c["end"]
        if x.ndim == 0:
            r = x.reshape(1)
        else:
            nd = x.ndim
            for v in (s, e):
                if not -nd <= v < nd:
                    raise np.exceptions.AxisError(v, nd)
            s, e = s % nd, e % nd
            if s > e:
                raise ValueError("start after end")
            r = x.reshape(x.shape[:s] + (int(np.prod(x.shape[s:e + 1])),) + x.shape[e + 1:])
    elif op == "broadcastTo":
        r = np.broadcast_to(x, c["shape"])
    elif op == "pad":
        r = np.pad(x, c["width"], constant_values=tensor(c["value"]))
    elif op in ("concat", "stack"):
        xs = [tensor(v) for v in c["xs"]]
        r = (np.concatenate if op == "concat" else np.stack)(xs, axis=c["axis"])
    elif op == "split":
        rs = np.split(x, c["sections"], axis=c["axis"])
        return {"out": [out_tensor(p) for p in rs], "mode": "exact"}
    elif op == "slice":
        r = x[slice_index(c["specs"])]
    elif op == "take":
        ind = np.array(c["indices"], dtype=np.int64)
        r = np.take(x, ind, axis=c["axis"])
        n = x.size if c["axis"] is None else x.shape[c["axis"]]
        if r.size == 0 and np.any((ind < -n) | (ind >= n)):
            return {"error": "IndexError: out of bounds (NumPy checks no index when the result is empty)",
                    "deliberate": "indices checked even for an empty result"}
    elif op == "maskedSelect":
        r = x[t["mask"] != 0]
    elif op == "oneHot":
        ind = np.array(c["indices"], dtype=np.int64)
        if np.any(ind < 0):
            raise IndexError("negative index")
        r = np.eye(c["depth"], dtype=c["dtype"])[ind]
    elif op == "scatterAdd":
        u = t["updates"]
        dt = np.result_type(x, u)
        y = x.astype(dt).copy()
        axis = c["axis"]
        ind = np.array(c["indices"], dtype=np.int64)
        if y.ndim == 0:
            raise ValueError("0-d")
        ax = axis % y.ndim if -y.ndim <= axis < y.ndim else None
        if ax is None:
            raise np.exceptions.AxisError(axis, y.ndim)
        want = tuple(len(ind) if i == ax else d for i, d in enumerate(y.shape))
        if u.shape != want:
            raise ValueError("updates shape")
        np.add.at(y, (slice(None),) * ax + (ind,), u.astype(dt))
        return {"out": [out_tensor(y)], "mode": "exact"}
    else:
        raise KeyError(op)
    return {"out": [out_tensor(r)], "mode": "exact"}


def main():
    cases = json.load(sys.stdin)
    answers = []
    for c in cases:
        try:
            answers.append(run(c))
        except KeyError:
            raise
        except Exception as e:  # NumPy refused: nodenn must throw too
            answers.append({"error": f"{type(e).__name__}: {e}"})
    json.dump({"numpy": np.__version__, "answers": answers}, sys.stdout, separators=(",", ":"))


if __name__ == "__main__":
    main()
