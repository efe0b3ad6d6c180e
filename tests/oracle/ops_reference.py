#!/usr/bin/python3
"""The PyTorch oracle for gcam's ops: forward outputs and gradients over a spread of shapes and options.

Run at test time by CTest (Debian's python3-torch, CPU). Each case stores its inputs, a random upstream
gradient `gy`, and PyTorch's output `y` and input gradients `g<name>`, computed in float64 from the same
float32 inputs, so the reference is exact to float32 rounding. Options are stored as small float
vectors under `<case>/opts` (layouts documented next to each writer below and in tests/test_ops_vs_torch.cpp).
"""
import argparse
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from archive import Archive  # noqa: E402

torch.manual_seed(1234)


def rand(*shape, scale=1.0):
    return (torch.randn(*shape) * scale).to(torch.float32)


def run(archive, name, fn, inputs, opts):
    """inputs: dict of float32 tensors. Stores inputs, y, gy and g<input> for every input."""
    leaves = {k: v.to(torch.float64).requires_grad_(True) for k, v in inputs.items()}
    y = fn(**leaves)
    gy = rand(*y.shape).to(torch.float64)
    grads = torch.autograd.grad(y, list(leaves.values()), gy, allow_unused=True)
    for k, v in inputs.items():
        archive.put(f"{name}/{k}", v)
    archive.put(f"{name}/opts", torch.tensor(opts, dtype=torch.float64))
    archive.put(f"{name}/y", y)
    archive.put(f"{name}/gy", gy)
    for k, g in zip(leaves, grads):
        archive.put(f"{name}/g{k}", g if g is not None else torch.zeros_like(leaves[k]))


def conv_cases(archive):
    # opts: stride_h stride_w pad_h pad_w dil_h dil_w groups has_bias
    cases = [
        # N  C  H   W  K  kh kw  sh sw ph pw dh dw g  bias   what it exercises
        (2, 3, 9, 11, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1),   # padded 3x3, odd sizes, batch 2
        (1, 4, 10, 10, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1),  # strided
        (2, 3, 12, 9, 5, 3, 3, 1, 1, 2, 2, 2, 2, 1, 0),   # dilated
        (2, 6, 8, 8, 9, 3, 3, 1, 1, 1, 1, 1, 1, 3, 1),    # grouped
        (1, 4, 7, 7, 4, 3, 3, 1, 1, 1, 1, 1, 1, 4, 0),    # depthwise
        (2, 8, 5, 5, 16, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0),   # 1x1 (the pointwise fast path)
        (2, 8, 6, 6, 4, 1, 1, 2, 2, 0, 0, 1, 1, 1, 0),    # 1x1 stride 2 (ResNet downsample)
        (1, 3, 23, 23, 8, 7, 7, 2, 2, 3, 3, 1, 1, 1, 0),  # 7x7 stride 2 pad 3 (ResNet stem)
        (2, 3, 9, 10, 4, 3, 5, 2, 1, 1, 2, 1, 1, 1, 1),   # asymmetric kernel, stride, padding
        (3, 16, 14, 14, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1),  # larger, batch 3
        (2, 8, 30, 29, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1),   # enough 2x2 tiles for the Winograd path (and its input gradient)
    ]
    for i, (n, c, h, w, k, kh, kw, sh, sw, ph, pw, dh, dw, g, bias) in enumerate(cases):
        inputs = {"x": rand(n, c, h, w), "w": rand(k, c // g, kh, kw, scale=0.3)}
        if bias:
            inputs["b"] = rand(k)

        def fn(x, w, b=None, sh=sh, sw=sw, ph=ph, pw=pw, dh=dh, dw=dw, g=g):
            return F.conv2d(x, w, b, stride=(sh, sw), padding=(ph, pw), dilation=(dh, dw), groups=g)

        run(archive, f"conv2d/{i}", fn, inputs, [sh, sw, ph, pw, dh, dw, g, bias])
    return len(cases)


def batch_norm_cases(archive):
    # opts: training momentum eps ; also stores running_mean/var before and after (rm1, rv1)
    # (the last two: planes of 1023 pixels, sums in lanes with a tail, and a mean far from 0 beside its spread)
    cases = [(2, 3, 5, 4, 0, 0.5), (4, 8, 3, 3, 0, 0.5), (2, 3, 5, 4, 1, 0.5), (4, 8, 3, 3, 1, 0.5), (8, 4, 1, 1, 1, 0.5),
             (3, 4, 33, 31, 1, 0.5), (2, 3, 33, 31, 1, 100.0)]
    for i, (n, c, h, w, training, offset) in enumerate(cases):
        rm = rand(c, scale=0.5)
        rv = (torch.rand(c) + 0.5).to(torch.float32)
        rm_run, rv_run = rm.to(torch.float64).clone(), rv.to(torch.float64).clone()

        def fn(x, gamma, beta, training=training, rm_run=rm_run, rv_run=rv_run):
            return F.batch_norm(x, rm_run, rv_run, gamma, beta, training=bool(training), momentum=0.1, eps=1e-5)

        inputs = {"x": rand(n, c, h, w, scale=2.0) + offset, "gamma": rand(c) + 1.0, "beta": rand(c)}
        name = f"batch_norm/{i}"
        archive.put(f"{name}/rm0", rm)
        archive.put(f"{name}/rv0", rv)
        run(archive, name, fn, inputs, [training, 0.1, 1e-5])
        archive.put(f"{name}/rm1", rm_run)
        archive.put(f"{name}/rv1", rv_run)
    return len(cases)


def max_pool_cases(archive):
    # opts: kh kw sh sw ph pw dh dw ceil
    cases = [
        (2, 3, 9, 9, 3, 3, 2, 2, 1, 1, 1, 1, 0),    # ResNet's 3x3/2 pad 1
        (1, 2, 10, 7, 3, 3, 2, 2, 0, 0, 1, 1, 1),   # ceil mode, odd width
        (1, 2, 8, 8, 2, 2, 2, 2, 0, 0, 1, 1, 0),    # VGG's 2x2/2
        (2, 2, 11, 11, 3, 3, 2, 2, 1, 1, 2, 2, 1),  # dilated, ceil mode
        (1, 3, 7, 10, 2, 3, 1, 2, 1, 1, 1, 1, 0),   # asymmetric, overlapping windows
        (1, 1, 5, 5, 2, 2, 2, 2, 1, 1, 1, 1, 1),    # ceil mode where the last window would start in padding
        (2, 3, 20, 37, 3, 3, 2, 2, 1, 1, 1, 1, 0),  # ResNet's, with rows wide enough to vectorise
        (1, 2, 33, 35, 16, 16, 8, 6, 0, 1, 1, 1, 0),  # 256 taps: window positions 0..255, one byte each
        (1, 2, 40, 36, 17, 16, 5, 4, 3, 2, 1, 1, 0),  # 272 taps: positions past a byte (four bytes each)
    ]
    for i, (n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, ceil) in enumerate(cases):
        def fn(x, kh=kh, kw=kw, sh=sh, sw=sw, ph=ph, pw=pw, dh=dh, dw=dw, ceil=ceil):
            return F.max_pool2d(x, (kh, kw), (sh, sw), (ph, pw), (dh, dw), ceil_mode=bool(ceil))
        run(archive, f"max_pool2d/{i}", fn, {"x": rand(n, c, h, w)}, [kh, kw, sh, sw, ph, pw, dh, dw, ceil])
    return len(cases)


def avg_pool_cases(archive):
    # opts: kh kw sh sw ph pw ceil count_include_pad
    cases = [
        (2, 3, 9, 9, 3, 3, 2, 2, 1, 1, 1, 1),
        (2, 3, 9, 9, 3, 3, 2, 2, 1, 1, 1, 0),
        (1, 2, 8, 8, 2, 2, 2, 2, 0, 0, 0, 1),
        (1, 2, 7, 6, 3, 3, 1, 1, 1, 1, 0, 0),
        (1, 2, 10, 7, 2, 3, 1, 2, 1, 1, 1, 1),
        (1, 1, 5, 5, 2, 2, 2, 2, 1, 1, 1, 0),
    ]
    for i, (n, c, h, w, kh, kw, sh, sw, ph, pw, ceil, cip) in enumerate(cases):
        def fn(x, kh=kh, kw=kw, sh=sh, sw=sw, ph=ph, pw=pw, ceil=ceil, cip=cip):
            return F.avg_pool2d(x, (kh, kw), (sh, sw), (ph, pw), ceil_mode=bool(ceil), count_include_pad=bool(cip))
        run(archive, f"avg_pool2d/{i}", fn, {"x": rand(n, c, h, w)}, [kh, kw, sh, sw, ph, pw, ceil, cip])
    return len(cases)


def adaptive_cases(archive):
    # opts: out_h out_w
    cases = [(2, 3, 7, 7, 1, 1), (1, 2, 10, 9, 7, 7), (1, 2, 5, 5, 3, 2), (1, 1, 3, 3, 7, 7), (2, 4, 14, 14, 7, 7)]
    for i, (n, c, h, w, oh, ow) in enumerate(cases):
        run(archive, f"adaptive_avg_pool2d/{i}", lambda x, oh=oh, ow=ow: F.adaptive_avg_pool2d(x, (oh, ow)),
            {"x": rand(n, c, h, w)}, [oh, ow])
    return len(cases)


def linear_cases(archive):
    # opts: has_bias
    cases = [(3, 20, 7, 1), (1, 512, 10, 1), (5, 9, 4, 0)]
    for i, (n, fin, fout, bias) in enumerate(cases):
        inputs = {"x": rand(n, fin), "w": rand(fout, fin, scale=0.2)}
        if bias:
            inputs["b"] = rand(fout)
        run(archive, f"linear/{i}", lambda x, w, b=None: F.linear(x, w, b), inputs, [bias])
    return len(cases)


def elementwise_cases(archive):
    run(archive, "relu/0", lambda x: F.relu(x), {"x": rand(2, 3, 5, 7)}, [])
    run(archive, "add/0", lambda a, b: a + b, {"a": rand(2, 3, 4, 5), "b": rand(2, 3, 4, 5)}, [])
    run(archive, "softmax/0", lambda x: F.softmax(x, dim=1), {"x": rand(3, 10, scale=3.0)}, [])
    run(archive, "log_softmax/0", lambda x: F.log_softmax(x, dim=1), {"x": rand(3, 10, scale=3.0)}, [])
    run(archive, "softmax/1", lambda x: F.softmax(x, dim=1), {"x": rand(2, 1000, scale=5.0)}, [])
    labels = [2, 0, 5, 5]
    run(archive, "cross_entropy/0", lambda x: F.cross_entropy(x, torch.tensor(labels)).reshape(1),
        {"x": rand(4, 6, scale=2.0)}, labels)
    return 6


def sequence_cases(archive):
    """The captioning and VQA ops. opts layouts: embedding [padding_idx, ids…]; slice [dim, start, length];
    concat [dim]; lstm [layers, hidden, has_initial_state, has_bias]."""
    run(archive, "sigmoid/0", torch.sigmoid, {"x": rand(3, 4, 5, scale=4.0)}, [])
    run(archive, "sigmoid/1", torch.sigmoid, {"x": torch.tensor([-100.0, -30.0, -1e-3, 0.0, 1e-3, 30.0, 100.0])}, [])
    run(archive, "tanh/0", torch.tanh, {"x": rand(3, 4, 5, scale=3.0)}, [])
    run(archive, "mul/0", lambda a, b: a * b, {"a": rand(2, 3, 4), "b": rand(2, 3, 4)}, [])
    for i, (ids, pad) in enumerate([([3, 0, 3, 7, 1], -1), ([2, 0, 0, 5, 2, 2], 0)]):
        run(archive, f"embedding/{i}", lambda w: F.embedding(torch.tensor(ids), w, padding_idx=pad if pad >= 0 else None),
            {"w": rand(8, 6)}, [pad] + ids)
    for i, (shape, dim, start, length) in enumerate([((4, 9), 1, 2, 5), ((3, 5, 4), 1, 4, 1), ((6, 2, 3), 0, 0, 6)]):
        run(archive, f"slice/{i}", lambda x: x.narrow(dim, start, length), {"x": rand(*shape)}, [dim, start, length])
    for i, (shapes, dim) in enumerate([([(2, 3), (2, 5), (2, 1)], 1), ([(1, 2, 3), (3, 2, 3)], 0), ([(2, 1, 4), (2, 2, 4)], 1)]):
        names = "abc"[:len(shapes)]
        run(archive, f"concat/{i}", lambda **parts: torch.cat([parts[k] for k in names], dim),
            {k: rand(*sh) for k, sh in zip(names, shapes)}, [dim])
    # A sequence loss over padded words: label 0 is the padding, ignored (opts: [ignore_index, labels…]).
    labels = [2, 0, 5, 0, 1]
    run(archive, "cross_entropy_ignore/0", lambda x: F.cross_entropy(x, torch.tensor(labels), ignore_index=0).reshape(1),
        {"x": rand(5, 7, scale=2.0)}, [0] + labels)
    # BatchNorm1d in inference, on (N, C) (opts: eps).
    mean, var = rand(6), rand(6).abs() + 0.5
    run(archive, "batch_norm1d/0", lambda x, g, b: F.batch_norm(x, mean.double(), var.double(), g, b, False, 0.1, 1e-5),
        {"x": rand(4, 6), "g": rand(6), "b": rand(6)}, [1e-5])
    archive.put("batch_norm1d/0/mean", mean)
    archive.put("batch_norm1d/0/var", var)
    # LSTMs: nn.LSTM(batch_first=True) with its own parameters, run on float64 copies.
    cases = [(2, 5, 4, 3, 1, 0, 1), (3, 4, 6, 5, 2, 1, 1), (1, 7, 3, 4, 1, 1, 0)]
    for i, (n, t, fin, hidden, layers, initial, bias) in enumerate(cases):
        inputs = {"x": rand(n, t, fin)}
        for l in range(layers):
            width = fin if l == 0 else hidden
            inputs[f"w_ih{l}"] = rand(4 * hidden, width, scale=0.4)
            inputs[f"w_hh{l}"] = rand(4 * hidden, hidden, scale=0.4)
            if bias:
                inputs[f"b_ih{l}"] = rand(4 * hidden, scale=0.3)
                inputs[f"b_hh{l}"] = rand(4 * hidden, scale=0.3)
        if initial:
            inputs["h0"] = rand(layers, n, hidden)
            inputs["c0"] = rand(layers, n, hidden)

        def forward(**v):
            # What nn.LSTM.forward calls, with these weights in its flat order (weight_ih_l0, weight_hh_l0,
            # bias_ih_l0, bias_hh_l0, then layer 1's).
            flat = []
            for l in range(layers):
                flat += [v[f"w_ih{l}"], v[f"w_hh{l}"]] + ([v[f"b_ih{l}"], v[f"b_hh{l}"]] if bias else [])
            zeros = torch.zeros(layers, n, hidden, dtype=torch.float64)
            state = (v["h0"], v["c0"]) if initial else (zeros, zeros)
            y, h, c = torch._VF.lstm(v["x"], state, flat, bool(bias), layers, 0.0, False, False, True)
            return torch.cat([y.reshape(-1), h.reshape(-1), c.reshape(-1)])  # y, then h_n, then c_n

        run(archive, f"lstm/{i}", forward, inputs, [layers, hidden, initial, bias])
    return 14 + len(cases)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    archive = Archive()
    counts = {
        "conv2d": conv_cases(archive), "batch_norm": batch_norm_cases(archive),
        "max_pool2d": max_pool_cases(archive), "avg_pool2d": avg_pool_cases(archive),
        "adaptive_avg_pool2d": adaptive_cases(archive), "linear": linear_cases(archive),
        "elementwise": elementwise_cases(archive), "sequence": sequence_cases(archive),
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    archive.write(args.out)
    print("wrote", args.out, counts)


if __name__ == "__main__":
    main()
