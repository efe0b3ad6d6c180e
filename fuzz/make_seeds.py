#!/usr/bin/python3
"""Seed corpora for gcam's fuzzers, made the way the test fixtures are (tests/oracle/): small checkpoints
written by torch.save in both formats and by the safetensors writer the tests use, their pickles, headers
and zip archives on their own, pictures written by PIL and by the PNG variants' hand encoder, and IDX
files. One folder per fuzz target under --out.

  /usr/bin/python3 fuzz/make_seeds.py --out build-fuzz/seeds
"""
import argparse
import collections
import gzip
import io
import json
import os
import struct
import sys
import zipfile

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "oracle"))
from models_reference import write_safetensors  # noqa: E402
import png_variants  # noqa: E402


def state():
    g = torch.Generator().manual_seed(5)
    s = collections.OrderedDict()
    s["conv.weight"] = torch.randn(2, 1, 3, 3, generator=g)
    s["bn.running_mean"] = torch.zeros(2)
    s["bn.num_batches_tracked"] = torch.tensor(3)
    s["fc.weight"] = torch.randn(3, 2, generator=g).t()  # transposed: strides (1, 2)
    s["half"] = torch.tensor([0.5, -2.0], dtype=torch.float16)
    return s


class Vocabulary(object):
    """A captioning tutorial's word list, pickled as an object (what read_vocabulary reads as data)."""

    def __init__(self, words):
        self.word2idx = {w: i for i, w in enumerate(words)}
        self.idx2word = {i: w for i, w in enumerate(words)}
        self.idx = len(words)


def save(folder, name, data):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    out = ap.parse_args().out
    d = lambda target: os.path.join(out, target)  # noqa: E731

    # Checkpoints: zip and legacy (torch.save), wrapped in a training checkpoint, and safetensors.
    files = {}
    for name, obj, legacy in [("zip.pth", state(), False), ("legacy.pth", state(), True),
                              ("wrapped_zip.pth", {"state_dict": state(), "epoch": 3}, False)]:
        buf = io.BytesIO()
        torch.save(obj, buf, _use_new_zipfile_serialization=not legacy)
        files[name] = buf.getvalue()
    path = os.path.join(out, "tmp.safetensors")
    os.makedirs(out, exist_ok=True)
    write_safetensors(path, {k: v.contiguous() for k, v in state().items()}, {"gcam.architecture": "resnet18"})
    files["model.safetensors"] = open(path, "rb").read()
    os.remove(path)
    for name, data in files.items():
        save(d("fuzz_checkpoint"), name, data)
        if name.endswith(".pth") and not name.startswith("legacy"):
            save(d("fuzz_zip"), name, data)
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                for member in z.namelist():
                    if member.endswith("data.pkl"):
                        save(d("fuzz_pickle"), name + ".pkl", z.read(member))
    save(d("fuzz_pickle"), "legacy_stream.pkl", files["legacy.pth"][:4096])
    import pickle
    save(d("fuzz_pickle"), "vocab.pkl", pickle.dumps(Vocabulary(["<pad>", "<start>", "<end>", "a", "bag"])))
    save(d("fuzz_safetensors"), "model.safetensors", files["model.safetensors"])
    header_length = struct.unpack("<Q", files["model.safetensors"][:8])[0]
    save(d("fuzz_json"), "header.json", files["model.safetensors"][8:8 + header_length])
    save(d("fuzz_json"), "values.json", json.dumps({"a": [1, -2.5e3, "\u00e9\\n", None, True, {"b": []}]}).encode())

    # Pictures: PIL's JPEGs (baseline, progressive, greyscale, CMYK), GIFs (plain, interlaced, with a
    # transparent index and a frame smaller than the screen), PNGs of every colour type and depth.
    rng = np.random.default_rng(7)
    rgb = Image.fromarray(rng.integers(0, 256, (24, 20, 3), dtype=np.uint8))
    for name, image, options in [("baseline.jpg", rgb, {}), ("progressive.jpg", rgb, {"progressive": True}),
                                 ("gray.jpg", rgb.convert("L"), {}), ("cmyk.jpg", rgb.convert("CMYK"), {})]:
        buf = io.BytesIO()
        image.save(buf, "JPEG", quality=80, **options)
        save(d("fuzz_jpeg"), name, buf.getvalue())
    palette = rgb.convert("P", palette=Image.ADAPTIVE, colors=16)
    for name, options in [("plain.gif", {}), ("interlaced.gif", {"interlace": True}), ("transparent.gif", {"transparency": 3})]:
        buf = io.BytesIO()
        palette.save(buf, "GIF", **options)
        save(d("fuzz_gif"), name, buf.getvalue())
    frames = [palette, palette.rotate(90)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=50)
    save(d("fuzz_gif"), "animated.gif", buf.getvalue())
    samples = rng.integers(0, 256, (5, 7, 4))
    for colour, depths in [(0, [1, 8, 16]), (2, [8, 16]), (3, [4, 8]), (4, [8]), (6, [8, 16])]:
        for depth in depths:
            s = samples[:, :, :png_variants.CHANNELS[colour]] % (1 << depth)
            pal = np.arange(3 * (1 << depth)).reshape(-1, 3) % 256 if colour == 3 else None
            for interlace in (False, True):
                save(d("fuzz_png"), f"c{colour}_d{depth}_i{int(interlace)}.png",
                     png_variants.png(s, colour, depth, palette=pal, interlace=interlace))

    # IDX: the first byte says where the images file ends (in 16-byte steps), then images, then labels.
    images = struct.pack(">BBBBIII", 0, 0, 8, 3, 2, 3, 3) + bytes(range(18))
    labels = struct.pack(">BBBBI", 0, 0, 8, 1, 2) + bytes([1, 9])
    for name, a, b in [("plain.idx", images, labels), ("gzip.idx", gzip.compress(images), gzip.compress(labels))]:
        a += b"\0" * (-len(a) % 16)
        save(d("fuzz_idx"), name, bytes([len(a) // 16]) + a + b)


if __name__ == "__main__":
    main()
