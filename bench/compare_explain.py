#!/usr/bin/python3
"""explain against PyTorch on the same CPU, the same run: Grad-CAM and Guided Grad-CAM for resnet50 and
vgg16 at 224×224, batch 1 and 8.

PyTorch does the work the way Python Grad-CAM libraries do (pytorch-grad-cam and friends): a forward
hook on the target layer that keeps the activation and its gradient, weights that require grad, and
loss.backward() on the class score — a full backward pass with weight gradients. Guided backprop in
PyTorch is the same full backward with the input requiring grad and every ReLU's gradient clamped at 0
by a backward hook. The third PyTorch row is the plain forward pass (no_grad): Grad-CAM's goal is to
cost no more than that. Each measurement runs in a fresh process (peak RSS is per process: VmHWM);
gcam and PyTorch alternate, and times are medians over --repetitions processes, each the median of 3 runs.

  /usr/bin/python3 bench/compare_explain.py [--build build] [--repetitions 3] [--threads 2]
"""
import argparse
import os
import statistics
import sys

from bench_common import run_json

HERE = os.path.dirname(os.path.abspath(__file__))

TORCH = r"""
import json, statistics, sys, time, torch, torchvision
arch, batch, method, threads = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
torch.set_num_threads(threads)
model = getattr(torchvision.models, arch)().eval()
for m in model.modules():
    if isinstance(m, torch.nn.ReLU): m.inplace = False
layer = model.layer4 if arch.startswith('resnet') else model.features[29]
store = {}
def keep(m, i, o):
    store['A'] = o
    if o.requires_grad:
        o.register_hook(lambda g: store.__setitem__('dA', g))
layer.register_forward_hook(keep)
if method == 'guided':
    for m in model.modules():
        if isinstance(m, torch.nn.ReLU):
            m.register_full_backward_hook(lambda m, gi, go: (gi[0].clamp(min=0),))
x = torch.randn(batch, 3, 224, 224, generator=torch.Generator().manual_seed(2))
def run():
    if method == 'forward':
        with torch.no_grad():
            model(x)
        return
    model.zero_grad()
    inp = x.clone().requires_grad_(method == 'guided')
    logits = model(inp)
    logits.gather(1, logits.argmax(1, keepdim=True)).sum().backward()
    alpha = store['dA'].mean(dim=(2, 3), keepdim=True)
    cam = torch.relu((alpha * store['A']).sum(1, keepdim=True))
    cam = torch.nn.functional.interpolate(cam, size=(224, 224), mode='bilinear', align_corners=False)
    if method == 'guided':
        _ = inp.grad * cam
run()
times = []
for _ in range(3):
    t = time.perf_counter(); run(); times.append(time.perf_counter() - t)
peak = [int(l.split()[1]) * 1024 for l in open('/proc/self/status') if l.startswith('VmHWM:')][0]
print(json.dumps({'seconds': statistics.median(times), 'peak_rss_bytes': peak}))
"""



def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    bench = os.path.join(args.build, "bin", "bench_explain")
    configs = [(a, b) for a in ("resnet50", "vgg16") for b in (1, 8)]
    rows = {}
    for _ in range(args.repetitions):
        for arch, batch in configs:
            for method in ("forward", "gradcam", "guided"):
                ours = run_json([bench, arch, str(batch), method, "3"], env)
                theirs = run_json([sys.executable, "-c", TORCH, arch, str(batch), method, str(args.threads)], env)
                rows.setdefault((arch, batch, method), []).append((ours, theirs))
    print(f"explain vs PyTorch (CPU, {args.threads} threads), seconds per batch, medians of {args.repetitions} "
          f"alternating fresh processes; peak RSS in MB")
    header = (f"{'model':9s} {'batch':>5s} {'work':>9s} {'gcam s':>8s} {'torch s':>8s} {'speed-up':>8s}"
              f" {'gcam MB':>8s} {'torch MB':>9s}")
    print(header)
    print("-" * len(header))
    for (arch, batch, method), samples in rows.items():
        g = statistics.median(s[0]["seconds"] for s in samples)
        t = statistics.median(s[1]["seconds"] for s in samples)
        gm = max(s[0]["peak_rss_bytes"] for s in samples) / 1e6
        tm = max(s[1]["peak_rss_bytes"] for s in samples) / 1e6
        print(f"{arch:9s} {batch:5d} {method:>9s} {g:8.3f} {t:8.3f} {t / g:7.2f}x {gm:8.0f} {tm:9.0f}")
    for arch, batch in configs:
        g_cam = statistics.median(s[0]["seconds"] for s in rows[(arch, batch, "gradcam")])
        t_fwd = statistics.median(s[1]["seconds"] for s in rows[(arch, batch, "forward")])
        print(f"{arch} batch {batch}: gcam Grad-CAM / PyTorch plain forward = {g_cam / t_fwd:.2f}")


if __name__ == "__main__":
    main()
