#!/usr/bin/env python3
"""gcam on the GPU against PyTorch on the same GPU, in the same run.

Runs build/bin/bench_cuda (gcam: cuDNN convolutions, whole explanations) and then times PyTorch on the
same card: F.conv2d and its input gradient at the same layer shapes (cuDNN, benchmark mode), and
Grad-CAM / Grad-CAM + guided backprop for resnet50 and vgg16 at 224, batch 1, 16, 64 (gcam: cam::explain,
and each as a replayed CUDA graph) against PyTorch done the way
Python Grad-CAM libraries do it (forward hook on the target layer, weights requiring grad,
loss.backward(): a full backward pass with weight gradients; the map made on the GPU and copied to the
host), plus PyTorch's plain no_grad forward. FP32 against FP32: PyTorch's TF32 is switched off
(torch.backends.cudnn.allow_tf32 and matmul); then TF32 against TF32 for the Grad-CAM graph rows. PyTorch times are medians of CUDA-event timings after
warm-up. Prints one table, last.

  python3 bench/compare_gpu.py [--build build | --gcam-json FILE] [--json-out FILE]

--gcam-json reads bench_cuda's --benchmark_out file instead of running it. A gcam benchmark that is
missing or failed leaves its row out, PyTorch's side untimed (the table says how many rows; bench_cuda's
error lines are printed above it).
"""
import argparse
import functools
import json
import os
import statistics
import subprocess
import sys

import torch
import torch.nn.functional as F
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from compare_conv import layers_from_header  # noqa: E402  (the shared shape list)


def cuda_time_ms(fn, warmup=3, repeats=20):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def torch_conv_ms(layer, batch):
    _, c_in, c_out, size, k, stride, pad = layer
    g = torch.Generator(device="cuda").manual_seed(0)
    x = torch.rand(batch, c_in, size, size, device="cuda", generator=g) * 2 - 1
    w = torch.rand(c_out, c_in, k, k, device="cuda", generator=g) * 2 - 1
    with torch.no_grad():
        y = F.conv2d(x, w, None, stride, pad)
        dy = torch.rand(y.shape, device="cuda", generator=g) * 2 - 1
        forward = cuda_time_ms(lambda: F.conv2d(x, w, None, stride, pad))
        backward = cuda_time_ms(lambda: torch.ops.aten.convolution_backward(
            dy, x, w, None, [stride, stride], [pad, pad], [1, 1], False, [0, 0], 1, (True, False, False)))
    return forward, backward


class GuidedRelu(torch.autograd.Function):
    """ReLU whose backward passes only positive gradients where the input was positive (guided rule)."""

    @staticmethod
    def forward(ctx, x):
        y = x.clamp(min=0)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (y > 0) * (g > 0)


class GuidedReluModule(torch.nn.Module):
    def forward(self, x):
        return GuidedRelu.apply(x)


def torch_explain_ms(arch, batch, method):
    model = getattr(torchvision.models, arch)().cuda().eval()
    for m in model.modules():
        if isinstance(m, torch.nn.ReLU):
            m.inplace = False
    store = {}

    def keep(module, inputs, output):
        store["A"] = output
        if output.requires_grad:
            output.register_hook(lambda g: store.__setitem__("dA", g))

    if method == "gradcam+guided":  # swap every ReLU for the guided one, as the Python libraries do
        def swap(parent):
            for name, child in parent.named_children():
                if isinstance(child, torch.nn.ReLU):
                    setattr(parent, name, GuidedReluModule())
                else:
                    swap(child)
        swap(model)
    # The target layer is looked up after the swap: in vgg16 it is a ReLU module, which the swap replaces.
    layer = model.layer4 if arch.startswith("resnet") else model.features[29]
    layer.register_forward_hook(keep)
    x = torch.randn(batch, 3, 224, 224, device="cuda", generator=torch.Generator(device="cuda").manual_seed(2))

    def run():
        if method == "forward":
            with torch.no_grad():
                model(x)
            return
        model.zero_grad(set_to_none=True)
        inp = x.clone().requires_grad_(method == "gradcam+guided")
        logits = model(inp)
        logits.gather(1, logits.argmax(1, keepdim=True)).sum().backward()
        alpha = store["dA"].mean(dim=(2, 3), keepdim=True)
        cam = torch.relu((alpha * store["A"]).sum(1, keepdim=True))
        low = cam.amin(dim=(2, 3), keepdim=True)
        high = cam.amax(dim=(2, 3), keepdim=True)
        cam = F.interpolate((cam - low) / (high - low).clamp(min=1e-12), size=(224, 224), mode="bilinear",
                            align_corners=False)
        out = [cam.cpu()]
        if method == "gradcam+guided":
            out.append((inp.grad * cam).cpu())
        return out

    return cuda_time_ms(run, warmup=3, repeats=10)


def read_report(text):
    """bench_cuda's JSON, also when the run was cut short (a timeout kills it mid-row): Google Benchmark
    writes each row as it finishes, so the rows up to the last complete one are kept."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        last = text.rfind("\n    }")  # the end of the last complete row of "benchmarks"
        report = json.loads(text[:last + len("\n    }")] + "\n  ]\n}") if last >= 0 else {"benchmarks": []}
        print(f"bench_cuda's JSON ends early (the run was cut short): {len(report['benchmarks'])} rows read")
        return report


def gcam_results(build, json_file):
    if json_file:
        with open(json_file) as f:
            report = read_report(f.read())
    else:
        cmd = [os.path.join(build, "bin", "bench_cuda"), "--benchmark_format=json"]
        report = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    results = {}
    for b in report["benchmarks"]:
        if b.get("error_occurred"):
            print(f"bench_cuda: {b['name']}: {b.get('error_message')}")
            continue
        results[b["run_name"]] = b
    return results


def print_goals(rows, fused, resident=None):
    """Issue 6's goals, each with the measured value that decides it (resnet50, the Grad-CAM graph)."""
    def row(what, batch):
        return next((r for r in rows if r[0] == what and r[1] == "resnet50" and r[2] == batch), None)

    lines = []
    for what, label in (("gradcam graph", "FP32"), ("gradcam graph, TF32", "TF32")):
        r1, r64 = row(what, 1), row(what, 64)
        if r1:
            _, _, _, ours, theirs, plain = r1
            lines.append((f"batch-1 latency ≥ 5× lower than hooks + backward() ({label})", theirs / ours, theirs / ours >= 5))
            lines.append((f"batch-1 latency below PyTorch's plain forward ({label})", plain / ours, ours < plain))
        if r64:
            _, _, _, ours, theirs, _ = r64
            lines.append((f"batch-64 throughput ≥ 2× hooks + backward() ({label})", theirs / ours, theirs / ours >= 2))
    copies = {(name.split(" ")[1], batch): measured / floor for name, batch, measured, floor in fused
              if name.startswith("copy_of_reduction_bytes ")}
    for name, batch, measured, floor in sorted(fused):
        if name.startswith("reduction ") and ":" not in name and batch >= 16:
            ratio = measured / floor
            layer = name[len('reduction '):]
            beside = f" (a plain copy of the same bytes: {copies[(layer, batch)]:.2f}×)" if (layer, batch) in copies else ""
            lines.append((f"fused reduction within 2× of its floor, {layer} batch {batch}{beside}", ratio, ratio <= 2))
    # The other kernels at their own cuts, beside the default's goal lines: what switching would give.
    others = [(name[len('reduction '):], batch, measured / floor) for name, batch, measured, floor in sorted(fused)
              if name.startswith("reduction ") and (":sliced" in name or ":clustered" in name) and batch >= 16]
    if lines:
        print()
        print("issue 6's goals (the Grad-CAM graph on resnet50: PyTorch's time over gcam's; the reduction: its time over its floor)")
        for text, value, met in lines:
            print(f"  {'met    ' if met else 'NOT met'}  {value:6.2f}  {text}")
    if others:
        print("  the other reduction kernels (not the default), time over floor:")
        for name, batch, ratio in others:
            held = (resident or {}).get((name, batch))
            clusters = f" ({held:.0f} of its {batch} clusters on the GPU at once)" if held else ""
            print(f"  {'within 2×' if ratio <= 2 else 'over 2×  '}  {ratio:6.2f}  {name} batch {batch}{clusters}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--gcam-json", default="", help="bench_cuda's JSON output, instead of running it")
    ap.add_argument("--json-out", default="")
    args = ap.parse_args()
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False

    gcam = gcam_results(args.build, args.gcam_json)
    units_per_ms = {"ns": 1e6, "us": 1e3, "ms": 1.0, "s": 1e-3}
    nan = float("nan")
    ms = lambda b: b["real_time"] / units_per_ms[b["time_unit"]] if b else nan  # noqa: E731

    def find(prefix):  # a benchmark by its name up to the batch (bench_cuda's min_time is its own business)
        return next((b for name, b in gcam.items() if name.startswith(prefix + "/")), None)
    # PyTorch is timed only for the rows gcam has (GCAM_GPU_BENCH_FILTER may have left some out), and each
    # PyTorch measurement once: keyed by what it runs and whether TF32 is on.
    @functools.lru_cache(maxsize=None)
    def torch_ms(arch, batch, method, tf32):
        return torch_explain_ms(arch, batch, method)

    conv_ms = functools.lru_cache(maxsize=None)(torch_conv_ms)  # (layer, batch) → (forward, backward-data) ms

    rows = []
    left_out = 0

    def add(what, name, batch, gcam_prefix, theirs, plain=None):
        """A row when bench_cuda measured gcam's side; theirs and plain are called only then."""
        nonlocal left_out
        ours = find(gcam_prefix)
        if ours is None:
            left_out += 1
            return
        rows.append((what, name, batch, ms(ours), theirs(), plain() if plain else None))

    for layer in layers_from_header():
        for batch in (1, 8):
            for index, pass_name in enumerate(("forward", "backward_data")):
                add("conv " + pass_name.replace("_", "-"), layer[0], batch,
                    f"cuda_conv_{pass_name}/{layer[0]}/batch:{batch}", lambda: conv_ms(layer, batch)[index])
    for arch in ("resnet50", "vgg16"):
        for batch in (1, 16, 64):
            plain = lambda: torch_ms(arch, batch, "forward", False)  # noqa: E731
            for method in ("gradcam", "gradcam+guided"):
                theirs = lambda: torch_ms(arch, batch, method, False)  # noqa: E731
                add("explain " + method, arch, batch, f"cuda_explain/{arch}/{method}/batch:{batch}", theirs, plain)
                if method == "gradcam":
                    add("gradcam graph", arch, batch, f"cuda_gradcam_graph/{arch}/batch:{batch}", theirs, plain)
                else:
                    if batch in (1, 64):  # the maps and gradients left on the device, as `explain` asks
                        add("explain +guided, kept", arch, batch,
                            f"cuda_explain_kept_on_device/{arch}/{method}/batch:{batch}", theirs, plain)
                    # Grad-CAM, guided backprop and Guided Grad-CAM in one replayed graph, all three brought back
                    add("graph +guided", arch, batch, f"cuda_gradcam_graph_guided/{arch}/batch:{batch}", theirs, plain)
    # TF32 against TF32: the Grad-CAM graph captured with TF32 allowed, PyTorch with cuDNN's and
    # matmul's TF32 switched on.
    torch.backends.cudnn.allow_tf32 = True
    torch.backends.cuda.matmul.allow_tf32 = True
    for arch in ("resnet50", "vgg16"):
        for batch in (1, 16, 64):
            add("gradcam graph, TF32", arch, batch, f"cuda_gradcam_graph_tf32/{arch}/batch:{batch}",
                lambda: torch_ms(arch, batch, "gradcam", True), lambda: torch_ms(arch, batch, "forward", True))
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    copy = gcam.get("BM_DeviceCopy/real_time")
    fused = []  # (kernel and shape, batch, measured µs, floor µs at the measured copy bandwidth)
    resident = {}  # (layer:clustered, batch) → how many of the clustered kernel's clusters fit at once
    for name, b in gcam.items():
        if name.startswith(("cuda_fused_", "cuda_copy_", "cuda_localize", "cuda_gradient_pictures")) and copy:
            floor_us = b["bytes_moved"] / copy["bytes_per_second"] * 1e6
            measured_us = ms(b) * 1e3
            kernel = name.split("/")[0].replace("cuda_fused_", "").replace("cuda_", "") + " " + name.split("/")[1]
            fused.append((kernel, int(name.split("batch:")[1].split("/")[0]), measured_us, floor_us))
            if "resident_clusters" in b:
                resident[(name.split("/")[1], fused[-1][1])] = b["resident_clusters"]

    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"rows": rows, "fused": fused, "device": torch.cuda.get_device_name()}, f, indent=1)
    print(f"gcam vs PyTorch {torch.__version__} on {torch.cuda.get_device_name()}, FP32 (TF32 off) unless a row "
          f"says TF32, milliseconds (medians); "
          f"device copy {copy['bytes_per_second'] / 1e12:.2f} TB/s" if copy else "")
    header = (f"{'what':24s} {'model/layer':26s} {'batch':>5s} {'gcam':>9s} {'torch':>9s} {'torch/gcam':>10s}"
              f" {'torch fwd':>9s} {'fwd/gcam':>8s}")
    print(header)
    print("-" * len(header))
    if left_out:
        print(f"({left_out} rows left out: bench_cuda did not measure gcam's side)")
    for what, name, batch, ours, theirs, plain in rows:
        extra = f" {plain:9.3f} {plain / ours:8.2f}" if plain else ""
        print(f"{what:24s} {name:26s} {batch:5d} {ours:9.3f} {theirs:9.3f} {theirs / ours:10.2f}{extra}")
    if fused:
        print()
        print(f"{'fused kernel':54s} {'batch':>5s} {'µs':>8s} {'floor µs':>9s} {'µs/floor':>8s}"
              "   (floor: the inputs read and outputs written once at the copy's bandwidth; kernel time: 20 calls"
              " replayed as one graph, timed by GPU events around the replay; copy_of_reduction_bytes: a plain"
              " device copy moving the reduction's bytes, timed the same way)")
        for name, batch, measured, floor in sorted(fused):
            print(f"{name:54s} {batch:5d} {measured:8.1f} {floor:9.1f} {measured / floor:8.2f}")
    print_engines(gcam, ms)
    print_goals(rows, fused, resident)


def print_engines(gcam, ms):
    """The two convolution engines side by side (GPU time of graph replays), and the Grad-CAM graph with
    cuDNN alone against the default choice of the faster engine per layer."""
    pairs = {}
    for name, b in gcam.items():
        if name.startswith("cuda_conv_by_engine/"):
            _, pass_name, layer, batch, engine = name.split("/")[:5]
            pairs.setdefault((pass_name, layer, batch), {})[engine] = ms(b)
    if pairs:
        print()
        print(f"{'convolution (GPU time, ms)':44s} {'cuDNN':>8s} {'im2col+cuBLAS':>14s} {'cuDNN/other':>11s}")
        for (pass_name, layer, batch), t in sorted(pairs.items()):
            a, b = t.get("cudnn", float("nan")), t.get("im2col+cublas", float("nan"))
            print(f"{pass_name + ' ' + layer + ' ' + batch:44s} {a:8.3f} {b:14.3f} {a / b:11.2f}")
    lines = []
    for arch in ("resnet50", "vgg16"):
        for batch in (1, 16, 64):
            only = gcam_row(gcam, f"cuda_gradcam_graph_cudnn_only/{arch}/batch:{batch}")
            auto = gcam_row(gcam, f"cuda_gradcam_graph/{arch}/batch:{batch}")
            if only and auto:
                lines.append(f"{arch + ' batch ' + str(batch):44s} {ms(only):8.3f} {ms(auto):14.3f} {ms(only) / ms(auto):11.2f}")
    if lines:
        print()
        print(f"{'Grad-CAM graph, FP32 (ms)':44s} {'cuDNN only':>8s} {'faster engine':>14s} {'ratio':>11s}")
        print("\n".join(lines))


def gcam_row(gcam, prefix):
    return next((b for name, b in gcam.items() if name.startswith(prefix + "/")), None)


if __name__ == "__main__":
    sys.exit(main())
