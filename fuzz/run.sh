#!/usr/bin/env bash
# Builds gcam's fuzzers (clang's libFuzzer, with AddressSanitizer and UndefinedBehaviorSanitizer) into
# build-fuzz/, makes their seed corpora (fuzz/make_seeds.py: the test fixtures' recipes), and runs each
# target in turn:
#
#   fuzz/run.sh                     60 seconds per target
#   fuzz/run.sh --time 20           20 seconds per target (CI's short run)
#   fuzz/run.sh --runs 1000000      a million executions per target
#   fuzz/run.sh --only fuzz_json    one target
#
# A target fails on a crash, a sanitizer report, a leak, an input that runs past 10 s, or one that makes
# the process hold more than 2 GB (or ask for 1 GB at once): the input is kept in build-fuzz/findings/,
# and the script exits 1 after the other targets have run. Each target's corpus grows in
# build-fuzz/corpus/<target>/ from run to run. The last lines are a table: target, executions, seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

limit=(-max_total_time=60)
only=""
while (($#)); do
  case "$1" in
    --time) limit=(-max_total_time="$2"); shift 2 ;;
    --runs) limit=(-runs="$2"); shift 2 ;;
    --only) only="$2"; shift 2 ;;
    *) echo "fuzz/run.sh: unknown argument $1 (see the comment at its top)" >&2; exit 2 ;;
  esac
done

scripts/install-deps.sh --fuzz
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Release -DGCAM_FUZZ=ON -DGCAM_CUDA=OFF \
  -DGCAM_TESTS=OFF -DGCAM_BENCHMARKS=OFF >/dev/null
cmake --build build-fuzz -j "$(nproc)"
rm -rf build-fuzz/seeds
/usr/bin/python3 fuzz/make_seeds.py --out build-fuzz/seeds
mkdir -p build-fuzz/findings

targets=(fuzz_pickle fuzz_json fuzz_zip fuzz_checkpoint fuzz_safetensors fuzz_png fuzz_jpeg fuzz_gif fuzz_idx)
[[ -n "$only" ]] && targets=("$only")
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
summary=()
failed=0
for t in "${targets[@]}"; do
  mkdir -p "build-fuzz/corpus/$t"
  log="build-fuzz/$t.log"
  echo "== $t"
  start=$(date +%s)
  if build-fuzz/bin/"$t" "${limit[@]}" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 -print_final_stats=1 \
      -artifact_prefix="build-fuzz/findings/$t-" "build-fuzz/corpus/$t" "build-fuzz/seeds/$t" >"$log" 2>&1; then
    result=ok
  else
    result="FINDING (see $log and build-fuzz/findings/)"
    failed=1
    tail -40 "$log"
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  summary+=("$(printf '%-18s %12s executions %6s s  %s' "$t" "$runs" "$(( $(date +%s) - start ))" "$result")")
done
echo "fuzz/run.sh on $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%F), commit $(git rev-parse --short HEAD):"
printf '%s\n' "${summary[@]}"
exit "$failed"
