#!/usr/bin/env bash
# The whole test suite: install what is missing (test oracle included), build, run every CTest test.
# GPU tests skip cleanly where there is no GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --tests
scripts/build.sh
ctest --test-dir build --output-on-failure -j "$(nproc)"
