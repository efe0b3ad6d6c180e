#!/usr/bin/python3
"""gcam's conv2d against PyTorch's CPU convolution, same shapes, same machine, same run.

For every layer of bench/conv_shapes.h and batch 1 and 8, runs build/bin/bench_conv (Google Benchmark)
and then PyTorch (Debian's python3-torch, torch.set_num_threads(threads)) back to back, --repetitions
times over the whole list:
forward = F.conv2d, backward-data = aten.convolution_backward with only the input gradient requested
(what gcam's backward-data computes). Both sides are timed the same way: the median call of a run of
at least 0.3 s. Prints one table: GFLOP/s for both (medians over repetitions), and gcam / PyTorch as the
median of the per-repetition ratios (each pair timed back to back).

  /usr/bin/python3 bench/compare_conv.py [--build build] [--threads 2] [--repetitions 5] [--filter REGEX]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


def layers_from_header():
    """The layer list of bench/conv_shapes.h, so both sides time exactly the same shapes."""
    text = open(os.path.join(HERE, "conv_shapes.h")).read()
    rows = re.findall(r'\{"([^"]+)",\s*(\d+),\s*(\d+),\s*(\d+),\s*(\d+),\s*(\d+),\s*(\d+)\}', text)
    return [(name, *map(int, rest)) for name, *rest in rows]


def flops(c_in, c_out, size, k, stride, pad, batch):
    out = (size + 2 * pad - k) // stride + 1
    return 2.0 * batch * c_out * c_in * k * k * out * out


def time_torch(fn, min_time=0.3, repetitions=3):
    fn()  # warm-up
    medians = []
    for _ in range(repetitions):
        samples, start = [], time.perf_counter()
        while time.perf_counter() - start < min_time or len(samples) < 2:
            t0 = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - t0)
        medians.append(statistics.median(samples))
    return statistics.median(medians)


def torch_times(layer, batch, repetitions):
    name, c_in, c_out, size, k, stride, pad = layer
    g = torch.Generator().manual_seed(0)
    x = torch.rand(batch, c_in, size, size, generator=g) * 2 - 1
    w = torch.rand(c_out, c_in, k, k, generator=g) * 2 - 1
    with torch.no_grad():
        y = F.conv2d(x, w, None, stride, pad)
        dy = torch.rand(y.shape, generator=g) * 2 - 1
        forward = time_torch(lambda: F.conv2d(x, w, None, stride, pad), repetitions=repetitions)
        backward = time_torch(lambda: torch.ops.aten.convolution_backward(
            dy, x, w, None, [stride, stride], [pad, pad], [1, 1], False, [0, 0], 1, (True, False, False)),
            repetitions=repetitions)
    return forward, backward


def gcam_times(args, env, layer, batch):
    """GFLOP/s of gcam's forward and backward-data for one layer and batch (one bench_conv run)."""
    pattern = f"^conv_(forward|backward_data)/{re.escape(layer[0])}/batch:{batch}/"
    cmd = [os.path.join(args.build, "bin", "bench_conv"), "--benchmark_format=json", f"--benchmark_filter={pattern}"]
    report = json.loads(subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout)
    result = {}
    for b in report["benchmarks"]:
        result[b["run_name"].split("/")[0]] = b["GFLOPS_median_call"]
    return result["conv_forward"], result["conv_backward_data"]


def peak(args, env):
    cmd = [os.path.join(args.build, "bin", "bench_conv"), "--benchmark_format=json", "--benchmark_filter=Peak"]
    report = json.loads(subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout)
    return report["benchmarks"][0]["FLOPS"] / 1e9


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--filter", default="", help="regex on the layer name")
    args = ap.parse_args()
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    torch.set_num_threads(args.threads)

    rows = [(layer, batch) for layer in layers_from_header() if re.search(args.filter, layer[0]) for batch in (1, 8)]
    # Interleaved: each repetition times gcam and PyTorch back to back on every row, so that a slow
    # spell of this (shared, noisy) machine hits both sides of a row alike. Medians over repetitions.
    samples = {row: {"gcam": [], "torch": []} for row in range(len(rows))}
    peaks = [peak(args, env)]
    for _ in range(args.repetitions):
        for i, (layer, batch) in enumerate(rows):
            work = flops(*layer[1:], batch) / 1e9
            samples[i]["gcam"].append(gcam_times(args, env, layer, batch))
            fwd, bwd = torch_times(layer, batch, repetitions=1)
            samples[i]["torch"].append((work / fwd, work / bwd))
    peaks.append(peak(args, env))
    top = statistics.median(peaks)

    print(f"gcam conv2d vs PyTorch {torch.__version__} (CPU, {args.threads} threads): GFLOP/s as direct-convolution "
          f"FLOPs per second, medians of {args.repetitions} interleaved runs; measured FP32 peak {top:.1f} GFLOP/s")
    header = f"{'layer':26s} {'batch':>5s} {'pass':>13s} {'gcam':>7s} {'torch':>7s} {'gcam/torch':>10s} {'% peak':>7s}"
    print(header)
    print("-" * len(header))
    ratios = []
    for i, (layer, batch) in enumerate(rows):
        for p, label in ((0, "forward"), (1, "backward-data")):
            ours = statistics.median(s[p] for s in samples[i]["gcam"])
            theirs = statistics.median(s[p] for s in samples[i]["torch"])
            # The ratio is paired: each repetition's gcam time over the PyTorch time measured right
            # after it, then the median of those, so that a slow spell lasting one repetition cancels.
            ratio = statistics.median(g[p] / t[p] for g, t in zip(samples[i]["gcam"], samples[i]["torch"]))
            ratios.append(ratio)
            print(f"{layer[0]:26s} {batch:5d} {label:>13s} {ours:7.1f} {theirs:7.1f} {ratio:10.2f} {100 * ours / top:6.0f}%")
    print(f"median gcam/torch over {len(ratios)} rows: {statistics.median(ratios):.2f}; "
          f"min {min(ratios):.2f}, max {max(ratios):.2f}")


if __name__ == "__main__":
    sys.exit(main())
