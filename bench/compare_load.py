#!/usr/bin/python3
"""Loading resnet50 and vgg16 checkpoints: gcam against torch.load, same files, same machine, same run.

Writes random-initialised torchvision checkpoints (zip and legacy format, the formats of the official
files) into a scratch folder, then for each file measures, each in a fresh process:
  gcam   build/bin/bench_load ARCH FILE: open + strict match + copy into an allocated model
  torch  torch.load(FILE) + model.load_state_dict(...) into a model built before the clock starts
Time is the median over --repetitions processes; peak RSS is the process's high-water mark (VmHWM: not
getrusage's ru_maxrss, which a child inherits from its parent across exec), for torch also shown above
its RSS just before loading (importing torch alone takes hundreds of MB).

  /usr/bin/python3 bench/compare_load.py [--build build] [--repetitions 3] [--scratch DIR]
"""
import argparse
import os
import statistics
import sys

from bench_common import run_json
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

TORCH_LOAD = r"""
import resource, sys, time, torch, torchvision
torch.set_num_threads(2)
arch, path = sys.argv[1], sys.argv[2]
model = getattr(torchvision.models, arch)()
before = int(open('/proc/self/statm').read().split()[1]) * resource.getpagesize()
start = time.perf_counter()
model.load_state_dict(torch.load(path))
seconds = time.perf_counter() - start
peak = [int(l.split()[1]) * 1024 for l in open('/proc/self/status') if l.startswith('VmHWM:')][0]
print('{"seconds": %f, "peak_rss_bytes": %d, "before_bytes": %d}' % (seconds, peak, before))
"""



def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--scratch", default=None)
    args = ap.parse_args()
    scratch = args.scratch or tempfile.mkdtemp(prefix="gcam-load-")
    import torch
    import torchvision

    print(f"checkpoint loading, median of {args.repetitions} fresh processes each (scratch: {scratch})")
    header = f"{'file':24s} {'MB':>7s} {'gcam s':>8s} {'torch s':>8s} {'speed-up':>8s} {'gcam peak/file':>15s} {'torch peak MB (Δ)':>20s}"
    print(header)
    print("-" * len(header))
    for arch in ("resnet50", "vgg16"):
        state = getattr(torchvision.models, arch)().state_dict()
        for fmt in ("zip", "legacy"):
            path = os.path.join(scratch, f"{arch}_{fmt}.pth")
            torch.save(state, path, _use_new_zipfile_serialization=(fmt == "zip"))
            ours = [run_json([os.path.join(args.build, "bin", "bench_load"), arch, path]) for _ in range(args.repetitions)]
            theirs = [run_json([sys.executable, "-c", TORCH_LOAD, arch, path]) for _ in range(args.repetitions)]
            size = os.path.getsize(path)
            g_s = statistics.median(r["seconds"] for r in ours)
            t_s = statistics.median(r["seconds"] for r in theirs)
            g_peak = max(r["peak_rss_bytes"] for r in ours)
            t_peak = max(r["peak_rss_bytes"] for r in theirs)
            t_delta = max(r["peak_rss_bytes"] - r["before_bytes"] for r in theirs)
            print(f"{os.path.basename(path):24s} {size / 1e6:7.1f} {g_s:8.3f} {t_s:8.3f} {t_s / g_s:7.1f}x "
                  f"{g_peak / size:14.2f}x {t_peak / 1e6:10.0f} ({t_delta / 1e6:+.0f})")
            os.remove(path)


if __name__ == "__main__":
    main()
