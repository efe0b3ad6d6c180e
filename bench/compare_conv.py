#!/usr/bin/python3
"""gcam's conv2d against PyTorch's CPU convolution, same shapes, same machine, same run.

Runs build/bin/bench_conv (Google Benchmark, medians of --repetitions runs), then times PyTorch
(Debian's python3-torch, torch.set_num_threads(threads)) on the layers listed in bench/conv_shapes.h:
forward = F.conv2d, backward-data = aten.convolution_backward with only the input gradient requested
(what gcam's backward-data computes). Prints one table: GFLOP/s for both, and gcam / PyTorch.

  /usr/bin/python3 bench/compare_conv.py [--build build] [--threads 2] [--repetitions 3] [--filter REGEX]
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


def torch_times(layer, batch):
    name, c_in, c_out, size, k, stride, pad = layer
    g = torch.Generator().manual_seed(0)
    x = torch.rand(batch, c_in, size, size, generator=g) * 2 - 1
    w = torch.rand(c_out, c_in, k, k, generator=g) * 2 - 1
    with torch.no_grad():
        y = F.conv2d(x, w, None, stride, pad)
        dy = torch.rand(y.shape, generator=g) * 2 - 1
        forward = time_torch(lambda: F.conv2d(x, w, None, stride, pad))
        backward = time_torch(lambda: torch.ops.aten.convolution_backward(
            dy, x, w, None, [stride, stride], [pad, pad], [1, 1], False, [0, 0], 1, (True, False, False)))
    return forward, backward


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--filter", default="")
    args = ap.parse_args()

    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    cmd = [os.path.join(args.build, "bin", "bench_conv"), "--benchmark_format=json",
           f"--benchmark_repetitions={args.repetitions}", "--benchmark_report_aggregates_only=true",
           f"--benchmark_filter=Peak|{args.filter}" if args.filter else "--benchmark_filter=."]
    report = json.loads(subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout)
    gcam = {}
    peak = None
    for b in report["benchmarks"]:
        single = args.repetitions == 1 and b.get("run_type") == "iteration"
        if b.get("aggregate_name") != "median" and not single:
            continue
        if b["run_name"].startswith("BM_Fp32PeakFma"):
            peak = b["FLOPS"] / 1e9
            continue
        m = re.match(r"(conv_forward|conv_backward_data)/([^/]+)/batch:(\d+)", b["run_name"])
        gcam[(m.group(1), m.group(2), int(m.group(3)))] = b["FLOPS"] / 1e9

    torch.set_num_threads(args.threads)
    print(f"gcam conv2d vs PyTorch {torch.__version__} (CPU, {args.threads} threads), median of "
          f"{args.repetitions} runs; measured FP32 peak {peak:.1f} GFLOP/s")
    header = f"{'layer':28s} {'batch':>5s} {'pass':>13s} {'gcam GF/s':>10s} {'torch GF/s':>10s} {'gcam/torch':>10s} {'% peak':>7s}"
    print(header)
    print("-" * len(header))
    ratios = []
    for layer in layers_from_header():
        if args.filter and not re.search(args.filter, layer[0]):
            continue
        for batch in (1, 8):
            fwd, bwd = torch_times(layer, batch)
            work = flops(*layer[1:], batch)
            for pass_name, seconds in (("conv_forward", fwd), ("conv_backward_data", bwd)):
                ours = gcam.get((pass_name, layer[0], batch))
                if ours is None:
                    continue
                theirs = work / seconds / 1e9
                ratios.append(ours / theirs)
                label = "forward" if pass_name == "conv_forward" else "backward-data"
                print(f"{layer[0]:28s} {batch:5d} {label:>13s} {ours:10.1f} {theirs:10.1f} {ours / theirs:10.2f} "
                      f"{100 * ours / peak:6.0f}%")
    if ratios:
        print(f"median gcam/torch over {len(ratios)} rows: {statistics.median(ratios):.2f}; "
              f"min {min(ratios):.2f}, max {max(ratios):.2f}")


if __name__ == "__main__":
    sys.exit(main())
