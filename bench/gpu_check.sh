#!/usr/bin/env bash
# gpu_check.sh — gcam's checks on a GPU machine, in one call that ends by a deadline (GCAM_GPU_DEADLINE
# seconds, 420 by default: a lease is short, so every step gets at most what is left):
#   1. the machine: GPU, driver, nvcc, and where cuDNN 9, cuBLAS 13 and the CUDA runtime live (the
#      toolkit, or PyTorch's Python environment: site-packages/nvidia/...);
#   2. the binaries: a carried gpu-bundle.tgz or gpu-bundle/ (bench/gpu_bundle.sh, built on the
#      development machine: the lent machines lack OpenBLAS, GoogleTest and Google Benchmark), else a CUDA
#      build here;
#   3. the GPU tests (every CUDA op against the CPU op, resnet50 and vgg16 end to end, the allocator's
#      steady state, TF32, the fused Grad-CAM kernels against the CPU functions), the clustered
#      reduction's two variants' (warp loads, bulk copies) each on its own with a short limit (a hang
#      there leaves that variant's later steps out);
#   4. explain --device cuda against --device cpu on the sample canvases;
#   5. compute-sanitizer --tool memcheck on a subset of the op tests and on the fused kernels;
#   6. the GPU benchmarks, then PyTorch on the same card (bench/compare_gpu.py);
#   7. Nsight Compute (ncu) on the fused reduction's kernels at resnet50's layer4, batch 16, and the
#      reduction experiment (bench/experiments/reduction_phases.cu, when the bundle carries it);
#   8. explain's whole-run throughput on 512 canvases: the shipped model on the CPU and the GPU, and
#      resnet50 at 224×224 on the GPU with each stage's time per image.
# Prints a summary and the benchmark table last. Logs: out/gpu-check, packed into $OUT (the device
# tool's output folder) after every step.
#
#   bash bench/gpu_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
# The device tool brings back at most 8 files from $OUT: the logs are kept in LOG and packed into
# $OUT/gpu-check-logs.tgz after every step (pictures left out), so a run cut short still returns them.
LOG=out/gpu-check
rm -rf "$LOG" && mkdir -p "$LOG"
PY=$(command -v python3)
summary=()
note() { summary+=("$1"); echo "== $1"; printf '%s\n' "$1" >>"$LOG/summary.txt"; }
pack() { [ -n "${OUT:-}" ] && tar czf "$OUT/gpu-check-logs.tgz" --exclude='*.png' --exclude='*.npy' -C "$LOG" . 2>/dev/null; true; }
# One deadline for the whole script (a lease is short): each step gets at most what is left.
DEADLINE=${GCAM_GPU_DEADLINE:-420}
budget() { local left=$((DEADLINE - SECONDS - 5)); [ "$left" -lt "$1" ] && echo "$left" || echo "$1"; }
# GCAM_GPU_SKIP="memcheck throughput ...": steps to leave out (tests explain memcheck benchmarks profile
# experiment throughput). GCAM_GPU_BENCH_FILTER: a Google Benchmark regex for bench_cuda's rows, or
# "issue6": the rows of issue 6's table (the device copy, the fused kernels, the graphs, cam::explain),
# without the per-layer convolution rows.
skip() { case " ${GCAM_GPU_SKIP:-} " in *" $1 "*) note "$1: left out (GCAM_GPU_SKIP)"; return 0 ;; esac; return 1; }
enough() { [ $((DEADLINE - SECONDS)) -ge "$1" ] || { note "$2: skipped (the deadline is near)"; false; }; }

echo "== machine"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader | tee "$LOG/machine.txt" || true
nvcc --version | tail -1 || true
echo "profilers: $(command -v nsys ncu 2>/dev/null | tr '\n' ' ')$(ls -d /opt/nvidia/nsight* /usr/local/cuda/nsight* 2>/dev/null | tr '\n' ' ')" | tee -a "$LOG/machine.txt"
# cuDNN 9 and cuBLAS 13 may live in the toolkit or only inside PyTorch's Python environment (nvidia/...).
SITE=$("$PY" -c 'import site; print(site.getsitepackages()[0])' 2>/dev/null)
libdir() { find /usr/local/cuda/ /usr/lib/x86_64-linux-gnu ${SITE:+"$SITE/nvidia"} -name "$1" 2>/dev/null | head -1 | xargs -r dirname; }
CUDNN_LIB=$(libdir 'libcudnn.so.9'); CUBLAS_LIB=$(libdir 'libcublas.so.13'); CUDART_LIB=$(libdir 'libcudart.so.13')
CUDNN_ROOT=${CUDNN_ROOT:-}
if [ -z "$CUDNN_ROOT" ]; then
  if [ -f /usr/local/cuda/include/cudnn.h ]; then CUDNN_ROOT=/usr/local/cuda; else CUDNN_ROOT=$(dirname "${CUDNN_LIB:-/x/lib}"); fi
fi
echo "cuDNN: ${CUDNN_LIB:-not found} (root $CUDNN_ROOT)   cuBLAS: ${CUBLAS_LIB:-not found}   cudart: ${CUDART_LIB:-not found}" | tee -a "$LOG/machine.txt"
export LD_LIBRARY_PATH="${CUDNN_LIB:+$CUDNN_LIB:}${CUBLAS_LIB:+$CUBLAS_LIB:}${CUDART_LIB:+$CUDART_LIB:}/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"

echo "== build"
BIN=""
# A carried gpu-bundle/ (bench/gpu_bundle.sh) is used as it is: building here costs lease time, and the
# lent machines lack OpenBLAS, GoogleTest and Google Benchmark anyway. Carried packed (gpu-bundle.tgz, a
# third of the size), it is unpacked first, over any folder an earlier call left on a warm machine.
if [ -f gpu-bundle.tgz ]; then
  rm -rf gpu-bundle && tar xzf gpu-bundle.tgz && note "unpacked the carried gpu-bundle.tgz ($(du -sh gpu-bundle | cut -f1))"
fi
if [ -x gpu-bundle/bin/test_cuda_ops ]; then
  BIN=gpu-bundle/bin
  export LD_LIBRARY_PATH="$PWD/gpu-bundle/lib:$LD_LIBRARY_PATH"
  note "using the carried gpu-bundle/ (built by bench/gpu_bundle.sh)"
elif cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DGCAM_CUDA=ON -DCUDNN_ROOT="$CUDNN_ROOT" \
     >"$LOG/configure.log" 2>&1 &&
   timeout "$(budget 240)" cmake --build build-gpu --target test_cuda_ops test_cuda_memory test_cuda_cam bench_cuda explain -j"$(nproc)" >"$LOG/build.log" 2>&1; then
  BIN=build-gpu/bin
  note "built here with CUDA (cuDNN from $CUDNN_ROOT)"
else
  note "FAILED: no gpu-bundle/ and no native build (run bench/gpu_bundle.sh and carry gpu-bundle.tgz)"
  tail -20 "$LOG/configure.log" "$LOG/build.log" 2>/dev/null
  pack; exit 1
fi

# Anything the binaries cannot load (a library missing here, or one too new for this machine's glibc)
# shows up now, in one place, rather than as a failed test.
missing=$(for b in "$BIN"/*; do ldd "$b" 2>&1 | grep -E "not found|version .* not found" | sed "s|^|$(basename "$b"): |"; done | sort -u)
if [ -n "$missing" ]; then note "libraries missing:"; echo "$missing" | head -20; fi
pack

echo "== GPU tests"
# Each run: name (its log), binary, GoogleTest filter, seconds at most. The clustered reduction's two
# suites (loads through the warps, then by bulk copies) run on their own, with a short limit: a kernel
# that never left its cluster barrier, or never saw its bulk copies land, would otherwise hold every later
# step until its timeout. If one times out, its memcheck and its bench rows are left out.
CLUSTERED_HUNG="" BULK_HUNG=""
skip tests ||
for run in "test_cuda_memory test_cuda_memory * 150" "test_cuda_ops test_cuda_ops * 150" \
           "test_cuda_cam test_cuda_cam -*/CudaClustered.* 150" "test_cuda_clustered test_cuda_cam Warps/CudaClustered.* 60" \
           "test_cuda_clustered_bulk test_cuda_cam Bulk/CudaClustered.* 60"; do
  read -r name t filter limit <<<"$run"
  enough 30 "$name" || continue
  timeout "$(budget "$limit")" "$BIN/$t" --gtest_brief=1 --gtest_filter="$filter" >"$LOG/$name.log" 2>&1
  status=$?
  if [ "$status" -eq 0 ]; then
    note "$name: $(grep -o 'PASSED  \] [0-9]* test' "$LOG/$name.log" | grep -o '[0-9]*') passed, $(grep -o 'SKIPPED \] [0-9]* test' "$LOG/$name.log" | grep -o '[0-9]*' || echo 0) skipped"
  else
    note "$name: FAILED (exit $status$([ "$status" -eq 124 ] && echo ", timed out"))"
    grep -E 'Failure|FAILED|error|Expected|Which is|actual' "$LOG/$name.log" | head -40; tail -3 "$LOG/$name.log"
    if [ "$name" = test_cuda_clustered ] && [ "$status" -eq 124 ]; then
      CLUSTERED_HUNG=1; note "the clustered kernel timed out: its memcheck and bench rows are left out"
    fi
    if [ "$name" = test_cuda_clustered_bulk ] && [ "$status" -eq 124 ]; then
      BULK_HUNG=1; note "the clustered kernel with bulk loads timed out: its memcheck and bench rows are left out"
    fi
  fi
  grep -E 'SKIPPED|PASSED|FAILED' "$LOG/$name.log" | tail -3
  pack
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
same_boxes = 0
for a, b in zip(rows(cpu_dir), rows(gpu_dir)):
    same_boxes += a["box"] == b["box"]  # the GPU's from its own maps (kernels/localize.cu)
maps = sorted(glob.glob(os.path.join(cpu_dir, "*_gradcam.npy")))
assert maps, "no maps written"
for f in maps:
    worst = max(worst, float(np.abs(np.load(f) - np.load(os.path.join(gpu_dir, os.path.basename(f)))).max()))
assert worst <= 1e-3, worst
# A pixel within rounding of the 15% cut may fall either side, so a box may differ; say how many do.
pictures = ""
try:  # the pictures the GPU drew against the CPU's, where PIL is there to decode them
    from PIL import Image
    worst_bytes = {}
    for f in sorted(glob.glob(os.path.join(cpu_dir, "*.png"))):
        kind = os.path.basename(f).rsplit("_", 1)[1][:-4] if "_guided_gradcam" not in f else "guided_gradcam"
        a = np.asarray(Image.open(f)).astype(int)
        b = np.asarray(Image.open(os.path.join(gpu_dir, os.path.basename(f)))).astype(int)
        worst_bytes[kind] = max(worst_bytes.get(kind, 0), int(np.abs(a - b).max()))
    pictures = "; pictures' bytes differ by at most " + ", ".join(f"{k} {v}" for k, v in sorted(worst_bytes.items()))
except ImportError:
    pictures = "; pictures not compared (no PIL)"
print(f"same classes and probabilities; Grad-CAM maps differ by at most {worst:.2e}; "
      f"{same_boxes}/{len(rows(cpu_dir))} boxes identical{pictures}")
PYEOF
# The default methods (Grad-CAM, guided backprop and Guided Grad-CAM: the CUDA graph with guided backprop),
# Grad-CAM alone (the CUDA graph), and every method (cam::explain on the device).
skip explain ||
for mode in "default" "graph --method gradcam" "all --method all"; do
  set -- $mode
  name=$1; shift
  rm -rf "$LOG/explain_cpu_$name" "$LOG/explain_cuda_$name"
  enough 20 "explain --device cuda ($name)" || continue
  if timeout "$(budget 60)" "$BIN/explain" "$@" --maps --out "$LOG/explain_cpu_$name" examples/canvases/*.png >/dev/null 2>"$LOG/explain_$name.err" &&
     timeout "$(budget 60)" "$BIN/explain" "$@" --maps --device cuda --out "$LOG/explain_cuda_$name" examples/canvases/*.png >/dev/null 2>>"$LOG/explain_$name.err"; then
    if "$PY" "$LOG/explain_compare.py" "$LOG/explain_cpu_$name" "$LOG/explain_cuda_$name" >"$LOG/explain_compare_$name.txt" 2>&1; then
      note "explain --device cuda ($name): $(cat "$LOG/explain_compare_$name.txt")"
    else
      note "explain --device cuda ($name): DIFFERS from the CPU"; tail -5 "$LOG/explain_compare_$name.txt"
    fi
  else
    note "explain --device cuda ($name): FAILED"; tail -5 "$LOG/explain_$name.err"
  fi
  pack
done

echo "== compute-sanitizer memcheck (the op tests and the fused Grad-CAM kernels)"
SANITIZER=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null || true)
if skip memcheck; then :
elif [ -n "$SANITIZER" ]; then
  # A representative subset (memcheck slows every kernel): convolutions, pooling, batch norm, the
  # softmax/cross-entropy family, and the fused Grad-CAM kernels (not their comparison with the unfused
  # ops, whose cuDNN algorithm search is slow under memcheck; the same kernels run in the other tests).
  # Each: its log's name, the binary, the filter. The clustered kernels' suites run apart from CudaCam.*,
  # so that a slow or hung one cannot take CudaCam's verdict with it.
  memchecked=("test_cuda_ops test_cuda_ops CudaOps.Conv2dOverOptions:CudaOps.Conv2dByIm2colAndCublas:CudaOps.Pooling:CudaOps.BatchNorm*:CudaOps.AddSoftmax*"
              "test_cuda_cam test_cuda_cam CudaCam.*-*EqualsTheUnfusedOps*")
  clustered_suites="$([ -z "$CLUSTERED_HUNG" ] && echo 'Warps/CudaClustered.*:')$([ -z "$BULK_HUNG" ] && echo 'Bulk/CudaClustered.*')"
  [ -n "$clustered_suites" ] && memchecked+=("test_cuda_clustered test_cuda_cam ${clustered_suites%:}-*EqualsTheUnfusedOps*")
  for run in "${memchecked[@]}"; do
    read -r log binary filter <<<"$run"
    enough 40 "memcheck $log" || continue
    # 90 s: CudaCam.* runs the box search (six launches per case, 3 rounds) and the drawing at 224×197 too.
    if timeout "$(budget 90)" "$SANITIZER" --tool memcheck --error-exitcode 3 "$BIN/$binary" --gtest_filter="$filter" >"$LOG/memcheck_$log.log" 2>&1; then
      note "memcheck $log: clean ($(grep -o 'ERROR SUMMARY: [0-9]* errors' "$LOG/memcheck_$log.log" | tail -1))"
    else
      note "memcheck $log: ERRORS or timeout (exit $?; see memcheck_$log.log)"
      grep -E 'ERROR SUMMARY|Invalid|at 0x|by thread|FAILED' "$LOG/memcheck_$log.log" | head -20
    fi
    pack
  done
else
  note "memcheck: compute-sanitizer not found"
fi

echo "== benchmarks (gcam and PyTorch, same GPU)"
# bench_cuda writes its JSON as it goes; compare_gpu.py then times PyTorch and prints the table, with
# whatever gcam rows exist (a benchmark that failed shows as such instead of losing the table).
if ! skip benchmarks && enough 60 "benchmarks"; then
  # GCAM_GPU_BENCH_FILTER: a Google Benchmark regex, to time only some rows in a short lease.
  # The fused kernels' rows, without a clustered reduction's rows (":clustered…", ":clustered-bulk…") if
  # it hung in its tests: the reduction rows kept are the default's ("/"), the sliced and streamed cuts'
  # (":s"), and the clustered kernels' that did not hang.
  fused='cuda_fused_'
  if [ -n "$CLUSTERED_HUNG$BULK_HUNG" ]; then
    kept='/|:s'
    [ -z "$CLUSTERED_HUNG" ] && kept="$kept|:clustered/|:clustered-16"
    [ -z "$BULK_HUNG" ] && kept="$kept|:clustered-bulk"
    fused="cuda_fused_(upsample|render|draw|reduction/[a-z0-9.]+($kept))"
  fi
  [ "${GCAM_GPU_BENCH_FILTER:-}" = issue6 ] &&
    GCAM_GPU_BENCH_FILTER="BM_DeviceCopy|$fused|cuda_copy_|cuda_localize|cuda_gradient_pictures|cuda_gradcam_graph|cuda_explain"
  timeout "$(budget 260)" "$BIN/bench_cuda" ${GCAM_GPU_BENCH_FILTER:+--benchmark_filter="$GCAM_GPU_BENCH_FILTER"} --benchmark_out="$LOG/bench_cuda.json" --benchmark_out_format=json \
    >"$LOG/bench_cuda.txt" 2>&1 || note "bench_cuda: exit $? (see bench_cuda.txt)"
  pack
  if timeout "$(budget 150)" "$PY" bench/compare_gpu.py --gcam-json "$LOG/bench_cuda.json" --json-out "$LOG/compare_gpu.json" \
       >"$LOG/compare_gpu.txt" 2>&1; then
    note "benchmarks: done"
  else
    note "benchmarks: FAILED (exit $?; see compare_gpu.txt)"; tail -15 "$LOG/compare_gpu.txt"
  fi
  pack
fi

echo "== Nsight Compute on the fused reduction (resnet50 layer4, batch 16: each kernel)"
# Where a kernel's time goes, from the GPU's counters: duration, throughput against the peaks, launch
# shape, warp stalls (their reasons: --print-details all). Three graph-replayed launches of each kernel
# after the warm-up.
NCU=$(command -v ncu || ls /usr/local/cuda/bin/ncu 2>/dev/null || true)
if skip profile; then :
elif [ -z "$NCU" ]; then note "profile: ncu not found"
elif enough 90 "profile"; then
  # Each: the log's name, the kernel's name, and the one bench row that launches it (both clustered
  # variants are instances of gradcam_clustered).
  profiled=("gradcam_streamed gradcam_streamed /" "gradcam_sliced gradcam_sliced :sliced/")
  [ -z "$CLUSTERED_HUNG" ] && profiled+=("gradcam_clustered gradcam_clustered :clustered/")
  [ -z "$BULK_HUNG" ] && profiled+=("gradcam_clustered_bulk gradcam_clustered :clustered-bulk/")
  for run in "${profiled[@]}"; do
    read -r log kernel row <<<"$run"
    timeout "$(budget 60)" "$NCU" --kernel-name "regex:$kernel" --launch-skip 1 --launch-count 3 --print-details all \
      --section SpeedOfLight --section LaunchStats --section Occupancy --section WarpStateStats --section MemoryWorkloadAnalysis \
      "$BIN/bench_cuda" --benchmark_filter="cuda_fused_reduction/resnet50.layer4${row}batch:16/" \
      >"$LOG/ncu_$log.txt" 2>&1 || true
    note "profile $log: $(grep -E '^ *Duration' "$LOG/ncu_$log.txt" | awk '{print $(NF)" "$(NF-1)}' | tr '\n' ' ' | head -c 120)(ncu_$log.txt)"
  done
  pack
fi

echo "== the reduction experiment (bench/experiments/reduction_phases.cu: phases and variants, resnet50 layer4 and vgg16 features.29)"
if skip experiment; then :
elif [ ! -x gpu-bundle/bin/reduction_phases ]; then note "experiment: not in the bundle (bench/gpu_bundle.sh builds it)"
elif enough 60 "experiment"; then
  if timeout "$(budget 90)" gpu-bundle/bin/reduction_phases >"$LOG/reduction_phases.txt" 2>&1; then
    # Batch 16 at the kernel's cuts (128 and 64 channels per block): the lines the issue's goal turns on.
    for cut in "resnet50.layer4 batch 16, 128" "vgg16.features.29 batch 16,  64"; do
      note "experiment, $cut channels per block: $(grep -F "$cut channels" "$LOG/reduction_phases.txt" | sed 's/^.*per image), //' | tr '\n' ' ')"
    done
  else
    note "experiment: FAILED (exit $?; see reduction_phases.txt)"; tail -5 "$LOG/reduction_phases.txt"
  fi
  [ -n "${OUT:-}" ] && cp "$LOG/reduction_phases.txt" "$OUT/" 2>/dev/null
  pack
fi

echo "== explain throughput: 512 held-out canvases, batch 64, CPU (all cores) and GPU; resnet50 on the GPU"
# Whole runs, decoding and every file included: Grad-CAM alone and the default methods (Grad-CAM, guided
# backprop, Guided Grad-CAM), on the GPU each as a replayed CUDA graph. Canvases from bench/gpu_bundle.sh.
if skip throughput; then :
elif [ -d gpu-bundle/canvases ]; then
  for methods in gradcam gradcam,guided,guided-gradcam; do
    line="explain $methods:"
    for dev in cpu cuda; do
      enough 30 "explain throughput $methods $dev" || continue
      rm -rf "$LOG/throughput_$dev"
      start=$EPOCHREALTIME
      if timeout "$(budget 90)" "$BIN/explain" --device "$dev" --batch 64 --method "$methods" --out "$LOG/throughput_$dev" \
           gpu-bundle/canvases/*.png >/dev/null 2>>"$LOG/throughput.err"; then
        line+=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf " %s %.2f s (%.0f images/s)", "'$dev'", b - a, 512 / (b - a) }')
      else
        line+=" $dev FAILED (see throughput.err)"
      fi
    done
    note "$line"
  done
  rm -rf "$LOG/throughput_cpu" "$LOG/throughput_cuda"
  # The same 512 pictures through resnet50 at 224×224 (random weights, saved by PyTorch as the official
  # files are), on the GPU: the whole run, then each stage's median per image from results.jsonl — where
  # a user's throughput goes (decode, the network, the maps, the files) beside bench_cuda's GPU-only rows.
  if enough 60 "explain resnet50" &&
     "$PY" -c "import torch, torchvision; torch.save(torchvision.models.resnet50().state_dict(), '$LOG/resnet50.pth')" \
       2>>"$LOG/throughput.err"; then
    for methods in gradcam gradcam,guided,guided-gradcam; do
      enough 30 "explain resnet50 $methods" || continue
      rm -rf "$LOG/throughput_r50"
      start=$EPOCHREALTIME
      if timeout "$(budget 90)" "$BIN/explain" --device cuda --model resnet50 --weights "$LOG/resnet50.pth" --batch 64 \
           --method "$methods" --out "$LOG/throughput_r50" gpu-bundle/canvases/*.png >/dev/null 2>>"$LOG/throughput.err"; then
        stages=$("$PY" -c "
import json, statistics, sys
rows = [json.loads(l)['timings_ms'] for l in open(sys.argv[1])]
print(', '.join(f'{k} {statistics.median(r[k] for r in rows):.2f}' for k in rows[0]))" "$LOG/throughput_r50/results.jsonl")
        note "$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "explain resnet50 %s, cuda: %.2f s (%.0f images/s)", "'$methods'", b - a, 512 / (b - a) }'); per image, ms: $stages"
      else
        note "explain resnet50 $methods, cuda: FAILED (see throughput.err)"
      fi
    done
    rm -rf "$LOG/throughput_r50" "$LOG/resnet50.pth"
  fi
  pack
else
  note "explain throughput: skipped (no gpu-bundle/canvases; run bench/gpu_bundle.sh and carry gpu-bundle.tgz)"
fi

echo
printf '%s\n' "${summary[@]}"
cat "$LOG/compare_gpu.txt" 2>/dev/null | tail -70
[ -n "${OUT:-}" ] && cp "$LOG/summary.txt" "$LOG/compare_gpu.txt" "$OUT/" 2>/dev/null
pack
