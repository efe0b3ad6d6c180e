#!/usr/bin/env bash
# The main job: install what is missing, build, and explain the sample canvases with the shipped model
# (weights/fashion_resnet.safetensors, which gcam trained itself: see the README). Pictures and
# results.jsonl go to out/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
build/bin/explain --out out examples/canvases/*.png
echo "run.sh: heatmaps, overlays, guided backprop and Guided Grad-CAM in out/; one JSON line per image in out/results.jsonl"
