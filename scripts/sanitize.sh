#!/usr/bin/env bash
# The CPU test suite under AddressSanitizer and UndefinedBehaviorSanitizer (GCC's), in build-asan/: every
# test labelled cpu, and the checkpoint and image tests that read the PyTorch oracle's fixtures. Any
# report (an out-of-bounds access, a use after free, a leak, undefined behaviour) fails the test it
# happens in. CI runs it after the README's test command.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --tests
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGCAM_SANITIZE=ON -DGCAM_CUDA=OFF -DGCAM_BENCHMARKS=OFF >/dev/null
cmake --build build-asan -j "$(nproc)"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:handle_sigbus=0"  # gcam's own SIGBUS handler (file_map.h)
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
ctest --test-dir build-asan --output-on-failure -j "$(nproc)" -L cpu
ctest --test-dir build-asan --output-on-failure -j "$(nproc)" -R '^(oracle\.weights|Weights\.|oracle\.cam$|oracle\.cam\.cleanup|Image\.|cli\.(weights|explain)_)'
