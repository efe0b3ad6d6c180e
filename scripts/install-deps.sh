#!/usr/bin/env bash
# Installs the Debian packages gcam needs, only those that are missing (idempotent).
#
#   scripts/install-deps.sh            what building and running gcam needs
#   scripts/install-deps.sh --tests    also what the test suite and benchmarks need
#   scripts/install-deps.sh --fuzz     also what fuzz/run.sh needs
#
# Why each one:
#   cmake, g++, make             the build (C++17)
#   libopenblas-openmp-dev       SGEMM for convolutions and linear layers; the OpenMP build shares
#                                one thread pool with gcam's own parallel loops
#   libgif-dev                   giflib: decoding GIF (the reference library, maintained; it replaced a
#                                2022 stb_image with known vulnerabilities)
#   libpng-dev                   libpng: decoding PNG, with every chunk's CRC and the data's Adler-32
#                                checked (a damaged file is refused, not decoded to wrong pixels)
#   libjpeg62-turbo-dev          libjpeg-turbo: decoding JPEG as PIL does (same library, same pixels as
#                                torchvision's preprocessing), 1.8x faster than stb_image on 12 MP photos
#   zlib1g-dev                   gunzip for the Fashion-MNIST IDX files, CRC-32 for PNG chunks
#                                (zlib is the reference deflate/gzip code)
#   libdeflate-dev               deflate for the PNG files gcam writes: whole-buffer compression, 2.0-2.3x
#                                faster than zlib's fastest level on explain's pictures, and smaller
#   dataset-fashion-mnist        Fashion-MNIST, what gcam-train trains the shipped model on and
#                                gcam-localize evaluates it on (30 MB under /usr/share/datasets)
#   libgtest-dev                 GoogleTest, the test framework                       (--tests)
#   libbenchmark-dev             Google Benchmark, the benchmark framework            (--tests)
#   python3-torch, python3-torchvision
#                                the test oracle only: PyTorch computes the expected values at test
#                                time, through /usr/bin/python3; gcam itself never needs Python (--tests)
#   clang, libclang-rt-14-dev, libomp-14-dev
#                                the fuzzers: libFuzzer and the sanitizers' runtimes come with clang
#                                (compiler-rt), and clang's OpenMP is LLVM's libomp             (--fuzz)
# CUDA (nvcc, cuDNN, cuBLAS) is not installed here: gcam uses it when the toolkit is present.
set -euo pipefail

packages=(cmake g++ make libopenblas-openmp-dev libgif-dev libpng-dev libjpeg62-turbo-dev zlib1g-dev libdeflate-dev dataset-fashion-mnist)
if [[ "${1:-}" == "--tests" || "${1:-}" == "--fuzz" ]]; then
  packages+=(libgtest-dev libbenchmark-dev python3-torch python3-torchvision)
fi
if [[ "${1:-}" == "--fuzz" ]]; then
  packages+=(clang libclang-rt-14-dev libomp-14-dev)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
[[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
