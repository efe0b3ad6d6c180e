#!/usr/bin/env bash
# The main job: install what is missing, build, and run gcam on the shipped default.
# (Until the `explain` program and the shipped model land, the default is gcam-demo: a recorded forward
# pass, a targeted gradient query and a Grad-CAM map on a small network.)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
build/bin/gcam-demo
