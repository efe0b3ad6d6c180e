"""Checks the pictures `explain` wrote, with PIL (an independent, strict PNG decoder: it verifies every
chunk's CRC and the zlib stream), and recomputes each Grad-CAM heatmap from its .npy map with the jet
formula of gcam/colormap.h: every byte must agree within 1 (float rounding at the .5 boundaries).

  /usr/bin/python3 tests/oracle/check_pictures.py OUT_DIR     (OUT_DIR/results.jsonl lists the files)
"""
import json
import os
import sys

import numpy as np
from PIL import Image


def jet(v):
    v = np.nan_to_num(v.astype(np.float32), nan=0.0).clip(0, 1)
    channels = [np.clip(np.float32(1.5) - np.abs(4 * v - c), 0, 1) for c in (3, 2, 1)]
    return np.floor(np.stack(channels, axis=-1) * np.float32(255) + np.float32(0.5)).astype(np.int64)


def main():
    out = sys.argv[1]
    pictures = heatmaps = 0
    for line in open(os.path.join(out, "results.jsonl")):
        row = json.loads(line)
        width, height = row["input_size"]
        for kind, path in row["outputs"].items():
            if not path.endswith(".png"):
                continue
            with Image.open(path) as im:
                im.verify()  # CRCs and structure
            with Image.open(path) as im:
                im.load()  # inflates every row
                assert im.mode == "RGB" and im.size == (width, height), (path, im.mode, im.size)
                pixels = np.asarray(im).astype(np.int64)
            pictures += 1
            if kind == "gradcam":
                expected = jet(np.load(row["outputs"]["map"]))
                worst = int(np.abs(pixels - expected).max())
                assert worst <= 1, f"{path}: differs from jet(map) by {worst}"
                heatmaps += 1
    assert pictures > 0 and heatmaps > 0, "no pictures checked"
    print(f"{pictures} PNG files decode strictly; {heatmaps} heatmaps equal jet(map) within 1")


if __name__ == "__main__":
    main()
