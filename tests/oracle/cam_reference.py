#!/usr/bin/python3
"""The PyTorch oracle for gcam's explanations: Grad-CAM the way the Python libraries compute it.

For each case (architecture, target layer): the architecture with fixed random weights (saved as a zip
checkpoint), a test image preprocessed by torchvision (PIL resize 256, centre crop 224, ImageNet
mean/std), a forward hook on the target layer and torch.autograd.grad of the class score with respect
to its output; guided backprop through a ReLU whose backward also zeroes negative gradients. It picks
a class whose Grad-CAM map is not all zero (random weights leave many empty) and, where one exists, a
class whose map is zero everywhere. Writes <case>.gcamtest with the input, the logits, and per class
α, the raw map, the normalised upsampled map and the guided gradient.

  /usr/bin/python3 tests/oracle/cam_reference.py --out DIR
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from PIL import Image, ImageDraw

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from archive import Archive  # noqa: E402
from models_reference import randomised  # noqa: E402
import png_variants  # noqa: E402

CASES = [("resnet18", "layer4"), ("resnet50", "layer4"), ("vgg16", "features.29"), ("vgg16", "features.30")]


class GuidedRelu(torch.autograd.Function):
    """ReLU whose backward passes only positive gradients where the input was positive."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (x > 0).float() * (grad > 0).float()


def test_image(path):
    """A 300×240 picture with a few shapes and sensor-like noise: something for the classifier to look at.

    The noise matters: flat areas give exactly equal activations, max pooling then has tied maxima, and
    which of the tied inputs receives the gradient depends on the last bit of the convolution's
    rounding: gcam and PyTorch would route it to different pixels, a difference of tie-breaking, not of
    arithmetic. Real photographs are noisy too."""
    im = Image.new("RGB", (300, 240), (40, 70, 110))
    d = ImageDraw.Draw(im)
    d.ellipse((40, 60, 150, 190), fill=(230, 180, 40))
    d.rectangle((180, 30, 280, 120), fill=(200, 40, 60))
    d.line((0, 230, 300, 150), fill=(250, 250, 250), width=9)
    g = torch.Generator().manual_seed(9)
    pixels = torch.tensor(list(im.getdata()), dtype=torch.float32).reshape(240, 300, 3)
    pixels = (pixels + torch.randn(pixels.shape, generator=g) * 12).round().clamp(0, 255).to(torch.uint8)
    im = Image.frombytes("RGB", (300, 240), pixels.numpy().tobytes())
    im.save(path)
    return im


def module(model, path):
    m = model
    for part in path.split("."):
        m = m[int(part)] if part.isdigit() else getattr(m, part)
    return m


def gradcam_all(model, x, layer, classes):
    """One forward pass with a hook on the layer; then, per class, d(score)/dA and the maps."""
    store = {}
    handle = module(model, layer).register_forward_hook(lambda m, i, o: store.__setitem__("A", o))
    logits = model(x)
    handle.remove()
    A = store["A"]
    for cls in classes:
        (dA,) = torch.autograd.grad(logits[0, cls], A, retain_graph=True)
        alpha = dA.mean(dim=(2, 3))[0]                                   # (K,)
        raw = F.relu((alpha[:, None, None] * A[0]).sum(0))              # (h, w)
        lo, hi = raw.min(), raw.max()
        normalized = (raw - lo) / (hi - lo + 1e-7) if hi > 0 else torch.zeros_like(raw)
        up = F.interpolate(normalized[None, None], size=x.shape[2:], mode="bilinear", align_corners=False)[0, 0]
        yield cls, alpha.detach(), raw.detach(), up.detach(), logits.detach()


def guided(model, x, cls):
    originals = {}
    for name, m in model.named_modules():
        if isinstance(m, torch.nn.ReLU):
            originals[name] = m.forward
            m.forward = GuidedRelu.apply
    x = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(model(x)[0, cls], x)
    for name, m in model.named_modules():
        if name in originals:
            m.forward = originals[name]
    return g[0].detach()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    image = test_image(os.path.join(args.out, "picture.png"))
    # Bad images for the explain program's tests: garbage, a cut-off PNG, a PNG claiming 100000×100000.
    open(os.path.join(args.out, "corrupt.jpg"), "wb").write(b"\xff\xd8\xff\xe0 this is not really a JPEG" * 4)
    open(os.path.join(args.out, "truncated.png"), "wb").write(open(os.path.join(args.out, "picture.png"), "rb").read()[:300])
    import struct as _s, zlib as _z
    ihdr = _s.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)
    chunk = _s.pack(">I", len(ihdr)) + b"IHDR" + ihdr + _s.pack(">I", _z.crc32(b"IHDR" + ihdr))
    open(os.path.join(args.out, "huge.png"), "wb").write(b"\x89PNG\r\n\x1a\n" + chunk)
    # JPEG files and the pixels PIL decodes from them (gcam's reader must give the same bytes), and one cut
    # short (PIL refuses it; so must gcam).
    image.save(os.path.join(args.out, "photo.jpg"), quality=90)
    image.convert("L").save(os.path.join(args.out, "gray.jpg"), quality=75)
    image.convert("CMYK").save(os.path.join(args.out, "cmyk.jpg"), quality=90)
    jpegs = Archive()
    for name in ("photo", "gray", "cmyk"):
        decoded = Image.open(os.path.join(args.out, name + ".jpg")).convert("RGB")
        jpegs.put(name, torch.from_numpy(np.asarray(decoded).copy()))
    jpegs.write(os.path.join(args.out, "jpeg.gcamtest"))
    # PNG of every colour type, bit depth and interlacing, and the pixels PIL's convert("RGB") gives.
    pngs = Archive()
    corner = np.asarray(image)[:29, :37]  # odd sizes: Adam7's passes end mid-block
    for name, data in png_variants.variants(corner).items():
        path = os.path.join(args.out, f"variant_{name}.png")
        open(path, "wb").write(data)
        pngs.put(name, torch.from_numpy(np.asarray(Image.open(path).convert("RGB")).copy()))
    pngs.write(os.path.join(args.out, "png.gcamtest"))
    whole = open(os.path.join(args.out, "photo.jpg"), "rb").read()
    open(os.path.join(args.out, "cut.jpg"), "wb").write(whole[: len(whole) // 2])
    image.convert("L").save(os.path.join(args.out, "gray.png"))
    image.convert("RGBA").save(os.path.join(args.out, "alpha.png"))
    preprocess = torchvision.transforms.Compose([
        torchvision.transforms.Resize(256), torchvision.transforms.CenterCrop(224), torchvision.transforms.ToTensor(),
        torchvision.transforms.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])
    x = preprocess(image)[None]
    models = {}
    for arch, layer in CASES:
        if arch not in models:
            model = randomised(arch)
            for m in model.modules():
                if isinstance(m, torch.nn.ReLU):
                    m.inplace = False  # hooks must see activations that later ReLUs leave alone
            torch.save(model.state_dict(), os.path.join(args.out, f"{arch}_zip.pth"))
            models[arch] = model
        model = models[arch]
        archive = Archive()
        archive.put("input", x)
        with torch.no_grad():
            order = model(x)[0].argsort(descending=True).tolist()
        chosen, empty = None, None
        for cls, alpha, raw, up, logits in gradcam_all(model, x, layer, order[:300]):
            spread = (raw > 0.15 * raw.max()).float().mean() if raw.max() > 0 else 1.0
            if chosen is None and raw.max() > 0 and spread < 0.9:
                chosen = (cls, alpha, raw, up)
            if empty is None and raw.max() == 0:
                empty = cls
            if chosen is not None and empty is not None:
                break
        cls, alpha, raw, up = chosen
        archive.put("logits", logits)
        archive.put("class", torch.tensor([float(cls)]))
        archive.put("alpha", alpha)
        archive.put("raw", raw)
        archive.put("map", up)
        archive.put("guided", guided(model, x, cls))
        if empty is not None:
            archive.put("empty_class", torch.tensor([float(empty)]))
        name = f"{arch}_{layer.replace('.', '_')}"
        archive.write(os.path.join(args.out, name + ".gcamtest"))
        print(name, "class", cls, "rank", order.index(cls), "empty class", empty)


if __name__ == "__main__":
    main()
