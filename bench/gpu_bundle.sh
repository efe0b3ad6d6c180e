#!/usr/bin/env bash
# gpu_bundle.sh — builds, on the development machine, what bench/gpu_check.sh runs on a lent GPU machine
# whose image lacks gcam's CPU-side build dependencies (OpenBLAS, GoogleTest, Google Benchmark, stb: the lent
# machines' image lists CUDA, cuDNN and PyTorch but none of these, and it has no network to install them).
#
# The CUDA code is compiled here for the GPU (sm_90 unless CMAKE_CUDA_ARCHITECTURES says otherwise) and
# linked against this toolkit's CUDA 13 / cuDNN 9 / cuBLAS; at run time the GPU machine's own CUDA
# libraries are used (same major versions). The non-system CPU libraries go along in gpu-bundle/lib.
#
#   bash bench/gpu_bundle.sh            # → gpu-bundle/{bin,lib,canvases} and gpu-bundle.tgz (both ignored by git)
#
# Carry gpu-bundle.tgz (carry=["gpu-bundle.tgz"]): about 22 MiB against the folder's 59 (OpenBLAS alone is 36),
# where the device tool takes 64 MiB for the whole working tree; gpu_check.sh unpacks it (a few seconds).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --tests >/dev/null
cmake -S . -B build-bundle -G Ninja -DCMAKE_BUILD_TYPE=Release -DGCAM_CUDA=ON \
  -DCMAKE_CUDA_ARCHITECTURES="${CMAKE_CUDA_ARCHITECTURES:-90}" >/dev/null
cmake --build build-bundle --target test_cuda_ops test_cuda_memory test_cuda_cam bench_cuda explain -j"$(nproc)"
rm -rf gpu-bundle && mkdir -p gpu-bundle/bin gpu-bundle/lib
cp build-bundle/bin/{test_cuda_ops,test_cuda_memory,test_cuda_cam,bench_cuda,explain} gpu-bundle/bin/
# The reduction experiment (bench/experiments/reduction_phases.cu), for gpu_check.sh's experiment step.
nvcc -O3 -std=c++17 -arch="sm_${CMAKE_CUDA_ARCHITECTURES:-90}" bench/experiments/reduction_phases.cu \
  -o gpu-bundle/bin/reduction_phases
# 512 held-out canvases for gpu_check.sh's explain throughput step (the GPU machine has no Fashion-MNIST).
cmake --build build-bundle --target gcam-canvases >/dev/null
build-bundle/bin/gcam-canvases --count 512 --out gpu-bundle/canvases >/dev/null
# Every library the binaries load that is neither glibc's nor CUDA's (those come from the GPU machine).
for bin in gpu-bundle/bin/*; do
  ldd "$bin" | awk '/=>/ {print $3}'
done | sort -u | grep -Ev '/(libc|libm|libdl|librt|libpthread|libgcc_s|libstdc\+\+)\.so|libcu|libnv' |
  while read -r lib; do cp -L "$lib" gpu-bundle/lib/; done
tar czf gpu-bundle.tgz gpu-bundle
du -sh gpu-bundle gpu-bundle.tgz
ls gpu-bundle/lib
