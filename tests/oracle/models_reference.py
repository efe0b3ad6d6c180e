#!/usr/bin/python3
"""The PyTorch oracle for gcam's models and checkpoint loading: one torchvision architecture at a time.

Builds the architecture with fixed random weights (batch-norm statistics and affine parameters made
non-trivial, so that a mix-up shows), saves the state dict as a zip checkpoint, a legacy checkpoint and
a safetensors file (with timm's names for VGG, whose classifier timm stores as 4-D convolutions), and
writes a fixed input with torchvision's logits for it. Large files: CTest deletes them after the test.

  /usr/bin/python3 tests/oracle/models_reference.py --arch resnet50 --size 224 --out DIR
"""
import argparse
import json
import os
import struct
import sys

import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from archive import Archive  # noqa: E402


def randomised(arch, seed=7):
    torch.manual_seed(seed)
    model = getattr(torchvision.models, arch)()
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, module in model.named_modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                c = module.num_features
                module.running_mean.copy_(torch.randn(c, generator=g) * 0.1)
                module.running_var.copy_(torch.rand(c, generator=g) * 0.5 + 0.75)
                module.weight.copy_(torch.rand(c, generator=g) * 0.5 + 0.75)
                module.bias.copy_(torch.randn(c, generator=g) * 0.1)
                # The last batch norm of each residual branch small (as trained ResNets have it): without
                # it, random activations grow block by block to ~1e7 in resnet152 and the comparison
                # measures float32 cancellation, not the implementation.
                if name.startswith("layer") and name.split(".")[-1] in ("bn2", "bn3") and \
                        (name.endswith("bn3") or isinstance(model.layer1[0], torchvision.models.resnet.BasicBlock)):
                    module.weight.mul_(0.2)
    return model.eval()


def timm_names(state):
    """timm's VGG checkpoint layout: classifier.0/3 as 4-D pre_logits convolutions, classifier.6 as head.fc."""
    out = {}
    for name, t in state.items():
        if name.startswith("classifier.0."):
            name, t = "pre_logits.fc1." + name[len("classifier.0."):], (t.reshape(-1, 512, 7, 7) if t.dim() == 2 else t)
        elif name.startswith("classifier.3."):
            name, t = "pre_logits.fc2." + name[len("classifier.3."):], (t.reshape(-1, 4096, 1, 1) if t.dim() == 2 else t)
        elif name.startswith("classifier.6."):
            name = "head.fc." + name[len("classifier.6."):]
        out[name] = t
    return out


def write_safetensors(path, tensors, metadata=None):
    """The safetensors layout, written by hand (the format is a JSON header and raw little-endian bytes)."""
    dtypes = {torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.bfloat16: "BF16",
              torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
              torch.bool: "BOOL"}
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        raw = t.view(torch.uint8).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
        header[name] = {"dtype": dtypes[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", required=True)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    model = randomised(args.arch)
    state = model.state_dict()
    stem = os.path.join(args.out, args.arch)
    torch.save(state, stem + "_zip.pth")
    torch.save(state, stem + "_legacy.pth", _use_new_zipfile_serialization=False)
    write_safetensors(stem + ".safetensors", timm_names(state) if args.arch.startswith("vgg") else dict(state),
                      {"format": "pt"})
    torch.manual_seed(11)
    x = torch.randn(2, 3, args.size, args.size)
    with torch.no_grad():
        logits = model(x)
    archive = Archive()
    archive.put("input", x)
    archive.put("logits", logits)
    archive.write(stem + ".gcamtest")
    print("wrote", args.arch, "at", args.size, "; logits within ±%.3g" % logits.abs().max().item())


if __name__ == "__main__":
    main()
