#!/usr/bin/env bash
# gpu_check.sh — gcam's checks on a GPU machine, in one call (well under 10 minutes on an H100/H200):
#   1. the machine: GPU, driver, nvcc, and where cuDNN and cuBLAS live (the toolkit, or PyTorch's
#      Python environment: nvidia/cudnn, nvidia/cublas);
#   2. configure and build with CUDA (CUDNN_ROOT from step 1); where the machine lacks gcam's CPU-side
#      build dependencies (OpenBLAS, GoogleTest, Google Benchmark, stb), the prebuilt gpu-bundle/ made by
#      bench/gpu_bundle.sh on the development machine is used instead (carry it with the call);
#   3. the GPU tests (every CUDA op against the CPU op, resnet50 and vgg16 end to end, the allocator's
#      steady state, TF32, the fused Grad-CAM kernels against the CPU functions);
#   4. explain's whole-run throughput on 512 canvases, CPU and GPU; compute-sanitizer --tool memcheck
#      on the op tests;
#   5. the GPU benchmarks beside PyTorch on the same card (bench/compare_gpu.py); its table comes last.
# Logs: $OUT if set (the device tool's output folder), else out/gpu-check.
#
#   bash bench/gpu_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
LOG=${OUT:-out/gpu-check}
mkdir -p "$LOG"
PY=$(command -v python3)
summary=()
note() { summary+=("$1"); echo "== $1"; }

echo "== machine"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader || true
nvcc --version | tail -1 || true
pylib() { "$PY" -c "import importlib,sys; m=importlib.import_module('$1'); print(list(m.__path__)[0])" 2>/dev/null; }
CUDNN_ROOT=${CUDNN_ROOT:-}
if [ -z "$CUDNN_ROOT" ]; then
  if [ -f /usr/local/cuda/include/cudnn.h ]; then CUDNN_ROOT=/usr/local/cuda; else CUDNN_ROOT=$(pylib nvidia.cudnn); fi
fi
CUBLAS_DIR=$(pylib nvidia.cublas || true)
echo "cuDNN: $CUDNN_ROOT   cuBLAS (pip): ${CUBLAS_DIR:-none}"
export LD_LIBRARY_PATH="$CUDNN_ROOT/lib:$CUDNN_ROOT/lib64:${CUBLAS_DIR:+$CUBLAS_DIR/lib:}/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"

echo "== build"
BIN=""
if cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DGCAM_CUDA=ON -DCUDNN_ROOT="$CUDNN_ROOT" \
     >"$LOG/configure.log" 2>&1 &&
   cmake --build build-gpu --target test_cuda_ops test_cuda_memory test_cuda_cam bench_cuda explain -j"$(nproc)" >"$LOG/build.log" 2>&1; then
  BIN=build-gpu/bin
  note "built here with CUDA (cuDNN from $CUDNN_ROOT)"
elif [ -x gpu-bundle/bin/test_cuda_ops ]; then
  BIN=gpu-bundle/bin
  export LD_LIBRARY_PATH="$PWD/gpu-bundle/lib:$LD_LIBRARY_PATH"
  note "no native build (see $LOG/configure.log, build.log); using the carried gpu-bundle/"
else
  note "FAILED: no native build and no gpu-bundle/ (run bench/gpu_bundle.sh and carry gpu-bundle)"
  tail -20 "$LOG/configure.log" "$LOG/build.log" 2>/dev/null
  exit 1
fi

# Anything the binaries cannot load (a library missing here, or one too new for this machine's glibc)
# shows up now, in one place, rather than as a failed test.
missing=$(for b in "$BIN"/*; do ldd "$b" 2>&1 | grep -E "not found|version .* not found" | sed "s|^|$(basename "$b"): |"; done | sort -u)
if [ -n "$missing" ]; then note "libraries missing:"; echo "$missing" | head -20; fi

echo "== GPU tests"
for t in test_cuda_memory test_cuda_ops test_cuda_cam; do
  if "$BIN/$t" --gtest_brief=1 >"$LOG/$t.log" 2>&1; then
    note "$t: $(grep -o 'PASSED  \] [0-9]* test' "$LOG/$t.log" | grep -o '[0-9]*') passed, $(grep -o 'SKIPPED \] [0-9]* test' "$LOG/$t.log" | grep -o '[0-9]*' || echo 0) skipped"
  else note "$t: FAILED"; grep -E 'Failure|FAILED|error|Expected|Which is|actual' "$LOG/$t.log" | head -40; fi
  grep -E 'SKIPPED|PASSED|FAILED' "$LOG/$t.log" | tail -3
done

echo "== explain --device cuda against --device cpu (the shipped model, the sample canvases)"
export GCAM_DEFAULT_WEIGHTS="$PWD/weights/fashion_resnet.safetensors"  # a bundle was built elsewhere
cat >"$LOG/explain_compare.py" <<'PYEOF'
import glob, json, os, sys
import numpy as np
cpu_dir, gpu_dir = sys.argv[1], sys.argv[2]
rows = lambda d: [json.loads(l) for l in open(os.path.join(d, "results.jsonl"))]
worst = 0.0
for a, b in zip(rows(cpu_dir), rows(gpu_dir)):
    assert a["class"] == b["class"], (a["image"], a["class"], b["class"])
    assert abs(a["probability"] - b["probability"]) < 1e-4, (a["image"], a["probability"], b["probability"])
for f in sorted(glob.glob(os.path.join(cpu_dir, "*_gradcam.npy"))):
    worst = max(worst, float(np.abs(np.load(f) - np.load(os.path.join(gpu_dir, os.path.basename(f)))).max()))
assert worst <= 1e-3, worst
print(f"same classes and probabilities; Grad-CAM maps differ by at most {worst:.2e}")
PYEOF
# Default methods (cam::explain on the device), then Grad-CAM alone (the CUDA-graph path).
for mode in "all-default" "graph --method gradcam"; do
  set -- $mode
  name=$1; shift
  rm -rf "$LOG/explain_cpu_$name" "$LOG/explain_cuda_$name"
  if "$BIN/explain" "$@" --out "$LOG/explain_cpu_$name" examples/canvases/*.png >/dev/null 2>"$LOG/explain_$name.err" &&
     "$BIN/explain" "$@" --device cuda --out "$LOG/explain_cuda_$name" examples/canvases/*.png >/dev/null 2>>"$LOG/explain_$name.err"; then
    if "$PY" "$LOG/explain_compare.py" "$LOG/explain_cpu_$name" "$LOG/explain_cuda_$name" >"$LOG/explain_compare_$name.txt" 2>&1; then
      note "explain --device cuda ($name): $(cat "$LOG/explain_compare_$name.txt")"
    else
      note "explain --device cuda ($name): DIFFERS from the CPU"; tail -5 "$LOG/explain_compare_$name.txt"
    fi
  else
    note "explain --device cuda ($name): FAILED"; tail -5 "$LOG/explain_$name.err"
  fi
done

echo "== explain throughput: 512 held-out canvases, batch 64, CPU (all cores) and GPU"
# Whole runs, decoding and every file included: Grad-CAM alone (on the GPU the CUDA-graph path) and the
# default methods (Grad-CAM, guided backprop, Guided Grad-CAM). Canvases from bench/gpu_bundle.sh.
if [ -d gpu-bundle/canvases ]; then
  for methods in gradcam gradcam,guided,guided-gradcam; do
    line="explain $methods:"
    for dev in cpu cuda; do
      rm -rf "$LOG/throughput_$dev"
      start=$EPOCHREALTIME
      if "$BIN/explain" --device "$dev" --batch 64 --method "$methods" --out "$LOG/throughput_$dev" \
           gpu-bundle/canvases/*.png >/dev/null 2>>"$LOG/throughput.err"; then
        line+=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf " %s %.2f s (%.0f images/s)", "'$dev'", b - a, 512 / (b - a) }')
      else
        line+=" $dev FAILED (see throughput.err)"
      fi
    done
    note "$line"
  done
  rm -rf "$LOG/throughput_cpu" "$LOG/throughput_cuda"
else
  note "explain throughput: skipped (no gpu-bundle/canvases; run bench/gpu_bundle.sh and carry gpu-bundle)"
fi

echo "== compute-sanitizer memcheck (the op tests and the fused Grad-CAM kernels)"
SANITIZER=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null || true)
if [ -n "$SANITIZER" ]; then
  # A representative subset (memcheck slows every kernel): convolutions, pooling, batch norm, the
  # softmax/cross-entropy/dropout family, and the fused Grad-CAM kernels.
  for run in "test_cuda_ops CudaOps.Conv2dOverOptions:CudaOps.Pooling:CudaOps.BatchNorm*:CudaOps.AddSoftmax*" \
             "test_cuda_cam CudaCam.*"; do
    set -- $run
    if timeout 150 "$SANITIZER" --tool memcheck --error-exitcode 3 "$BIN/$1" --gtest_filter="$2" >"$LOG/memcheck_$1.log" 2>&1; then
      note "memcheck $1: clean ($(grep -o 'ERROR SUMMARY: [0-9]* errors' "$LOG/memcheck_$1.log" | tail -1))"
    else
      note "memcheck $1: ERRORS or timeout (see memcheck_$1.log)"
      grep -E 'ERROR SUMMARY|Invalid|at 0x|by thread|FAILED' "$LOG/memcheck_$1.log" | head -20
    fi
  done
else
  note "memcheck: compute-sanitizer not found"
fi

echo "== benchmarks (gcam and PyTorch, same GPU)"
BUILD_DIR=$(dirname "$BIN")
if timeout 300 "$PY" bench/compare_gpu.py --build "$BUILD_DIR" --json-out "$LOG/compare_gpu.json" >"$LOG/compare_gpu.txt" 2>&1; then
  note "benchmarks: done"
else
  note "benchmarks: FAILED (see compare_gpu.txt)"; tail -15 "$LOG/compare_gpu.txt"
fi

echo
printf '%s\n' "${summary[@]}"
cat "$LOG/compare_gpu.txt" 2>/dev/null | tail -60
