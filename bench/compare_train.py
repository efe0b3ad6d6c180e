#!/usr/bin/python3
"""gcam-train's step against the same step in PyTorch, on the same CPU, in the same run.

The step: fashion_resnet (torchvision's ResNet with BasicBlocks, one per stage, widths 16/32/64/128, a
5×5/2 stem without max pool, 10 classes) on a batch of 64×64 canvases: forward in training mode,
cross-entropy, backward, SGD with momentum 0.9 and weight decay 5e-4. PyTorch (Debian's torch) runs with
--threads threads, once with OpenMP's default wait policy and once with the passive one gcam-train uses.
Processes alternate; each reports the median of --steps steps after two warm-up steps, and the table
shows medians over --repetitions processes.

  /usr/bin/python3 bench/compare_train.py [--build build] [--repetitions 3] [--batch 64] [--steps 20]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

TORCH = r"""
import json, statistics, sys, time, torch, torch.nn as nn
from torchvision.models.resnet import ResNet, BasicBlock
batch, steps, threads = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
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
        self.layer4 = self._make_layer(BasicBlock, 128, 1, stride=2)
        self.fc = nn.Linear(128, 10)
model = FashionResNet().train()
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


def run_json(cmd, env):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    base = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    base["OMP_NUM_THREADS"] = str(args.threads)
    passive = dict(base, OMP_WAIT_POLICY="passive")
    bench = os.path.join(args.build, "bin", "bench_train")
    runs = {"gcam": [], "torch": [], "torch passive": []}
    for _ in range(args.repetitions):
        runs["gcam"].append(run_json([bench, str(args.batch), str(args.steps)], base))
        torch_cmd = [sys.executable, "-c", TORCH, str(args.batch), str(args.steps), str(args.threads)]
        runs["torch"].append(run_json(torch_cmd, base))
        runs["torch passive"].append(run_json(torch_cmd, passive))
    params = {k: v[0]["parameters"] for k, v in runs.items()}
    assert params["gcam"] == params["torch"], f"the two models differ: {params}"
    print(f"training step, fashion_resnet ({params['gcam']} parameters), batch {args.batch}, {args.threads} threads; "
          f"medians of {args.repetitions} alternating processes × {args.steps} steps")
    g = statistics.median(r["step_seconds"] for r in runs["gcam"])
    print(f"{'':14s} {'s/step':>8s} {'img/s':>8s} {'gcam speed-up':>14s}")
    for name, rs in runs.items():
        s = statistics.median(r["step_seconds"] for r in rs)
        print(f"{name:14s} {s:8.4f} {args.batch / s:8.1f} {s / g:13.2f}x")


if __name__ == "__main__":
    main()
