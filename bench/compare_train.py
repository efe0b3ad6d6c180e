#!/usr/bin/python3
"""gcam-train's step against the same step in PyTorch, on the same CPU, in the same run.

The step, for each of gcam's two canvas models on a batch of 64×64 canvases: forward in training mode,
cross-entropy, backward, SGD with momentum 0.9 and weight decay 5e-4.
  fashion_resnet  torchvision's ResNet with BasicBlocks, one per stage, widths 16/32/64/128, stage strides
                  1/2/2/1, a 5×5/2 stem without max pool, 10 classes
  fashion_vgg     conv-BN-ReLU widths 16, M, 32, M, 64, 64, M, 128, 128, global average pool, linear PyTorch (Debian's torch) runs with
--threads threads.
Processes alternate; each reports the median of --steps steps after two warm-up steps, and the table
shows medians over --repetitions processes.

  /usr/bin/python3 bench/compare_train.py [--build build] [--repetitions 3] [--batch 64] [--steps 20]
"""
import argparse
import os
import statistics
import sys

from bench_common import run_json

HERE = os.path.dirname(os.path.abspath(__file__))

TORCH = r"""
import json, statistics, sys, time, torch, torch.nn as nn
from torchvision.models.resnet import ResNet, BasicBlock
arch, batch, steps, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
class FashionResNet(ResNet):
    def __init__(self):
        super().__init__(BasicBlock, [1, 1, 1, 1], num_classes=10)
        self.inplanes = 16
        self.conv1 = nn.Conv2d(3, 16, 5, 2, 2, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.maxpool = nn.Identity()
        self.layer1 = self._make_layer(BasicBlock, 16, 1)
        self.layer2 = self._make_layer(BasicBlock, 32, 1, stride=2)
        self.layer3 = self._make_layer(BasicBlock, 64, 1, stride=2)
        self.layer4 = self._make_layer(BasicBlock, 128, 1, stride=1)
        self.fc = nn.Linear(128, 10)
def fashion_vgg():
    layers, channels = [], 3
    for width in (16, 0, 32, 0, 64, 64, 0, 128, 128):
        if width == 0:
            layers.append(nn.MaxPool2d(2, 2))
            continue
        layers += [nn.Conv2d(channels, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU()]
        channels = width
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, 10))
model = (FashionResNet() if arch == 'fashion_resnet' else fashion_vgg()).train()
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
g = torch.Generator().manual_seed(2)
x = torch.randn(batch, 3, 64, 64, generator=g)
y = torch.randint(0, 10, (batch,), generator=g)
times = []
for s in range(steps + 2):
    t = time.perf_counter()
    opt.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    opt.step()
    if s >= 2: times.append(time.perf_counter() - t)
median = statistics.median(times)
print(json.dumps({'step_seconds': median, 'images_per_second': batch / median,
                  'parameters': sum(p.numel() for p in model.parameters())}))
"""



def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    base = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    bench = os.path.join(args.build, "bin", "bench_train")
    archs = ("fashion_resnet", "fashion_vgg")
    runs = {(a, who): [] for a in archs for who in ("gcam", "torch")}
    for _ in range(args.repetitions):
        for arch in archs:
            runs[(arch, "gcam")].append(run_json([bench, arch, str(args.batch), str(args.steps)], base))
            torch_cmd = [sys.executable, "-c", TORCH, arch, str(args.batch), str(args.steps), str(args.threads)]
            runs[(arch, "torch")].append(run_json(torch_cmd, base))
    print(f"training step, batch {args.batch} of 64×64 canvases, {args.threads} threads; medians of "
          f"{args.repetitions} alternating processes × {args.steps} steps")
    print(f"{'model':15s} {'parameters':>10s} {'who':14s} {'s/step':>8s} {'img/s':>8s} {'gcam speed-up':>14s}")
    for arch in archs:
        params = {who: runs[(arch, who)][0]["parameters"] for who in ("gcam", "torch")}
        assert params["gcam"] == params["torch"], f"{arch}: the two models differ: {params}"
        g = statistics.median(r["step_seconds"] for r in runs[(arch, "gcam")])
        for who in ("gcam", "torch"):
            s = statistics.median(r["step_seconds"] for r in runs[(arch, who)])
            print(f"{arch:15s} {params['gcam']:10d} {who:14s} {s:8.4f} {args.batch / s:8.1f} {s / g:13.2f}x")


if __name__ == "__main__":
    main()
