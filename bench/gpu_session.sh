#!/usr/bin/env bash
# One GPU-machine session for the CUDA backend: build (runtime only), GPU tests, sanitizers,
# kernel benchmark + peers. Logs go to $OUT (or ./out). Usage: bench/gpu_session.sh [steps]
# with steps from: build tests sanitize tune bench (default: all but tune).
set -uo pipefail
OUT=${OUT:-$PWD/out}
mkdir -p "$OUT"
BUILD=${BUILD:-/tmp/lfc-build}
STEPS=${*:-build tests sanitize bench}
TESTS=${LFC_TESTS:-ON}
status=0
has() { [[ " $STEPS " == *" $1 "* ]]; }

if has build; then
  nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv | tee "$OUT/gpu.txt"
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLFC_ENABLE_COMPILER=OFF \
    -DLFC_ENABLE_TESTS="$TESTS" -DLFC_TOMLPP_INCLUDE_DIR="$PWD/.deps/root/usr/include" \
    >"$OUT/cmake.log" 2>&1 || { tail -30 "$OUT/cmake.log"; exit 1; }
  targets="lfc_kernel_bench"
  [[ $TESTS == ON ]] && targets="$targets lfc_gpu_tests lfc_kernel_compile_tests"
  ninja -C "$BUILD" -j16 $targets >"$OUT/build.log" 2>&1 || { grep -E "error|FAILED" "$OUT/build.log" | head -30; exit 1; }
fi
export LFC_CACHE_DIR=/tmp/lfc-jit-cache
if has tests; then
  "$BUILD/bin/lfc_gpu_tests" 2>&1 | tee "$OUT/gpu_tests.log" | grep -E "FAILED|PASSED|SKIPPED \]|Failure|error" | head -60
  [[ ${PIPESTATUS[0]} == 0 ]] || status=1
  "$BUILD/bin/lfc_kernel_compile_tests" --gtest_filter='*sm_90a*:KernelNames*' >"$OUT/compile_tests.log" 2>&1 || status=1
  tail -3 "$OUT/compile_tests.log"
fi
if has sanitize; then
  small="--gtest_filter=*bf16_d128_b128_bshd_p20*:*fp16_d64_b64_bhsd_p5*:*FullKeptList*:*PooledKeyCache*:*TiesBreak*"
  for tool in memcheck racecheck; do
    compute-sanitizer --tool $tool --error-exitcode 9 "$BUILD/bin/lfc_gpu_tests" "$small" \
      >"$OUT/sanitize_$tool.log" 2>&1
    echo "compute-sanitizer $tool: exit $? ($(grep -cE 'ERROR SUMMARY: 0 errors|RACECHECK SUMMARY: 0 hazards' "$OUT/sanitize_$tool.log") clean summaries)"
    grep -E "SUMMARY|not supported" "$OUT/sanitize_$tool.log" | head -3
  done
fi
if has tune; then
  "$BUILD/bin/lfc_kernel_bench" --reps 20 --densities 1,0.2 \
    --tiles "${LFC_TUNE_TILES:-128,32,4;128,64,4;128,64,8;64,64,2}" 2>&1 | tee "$OUT/tune.log" | grep -E "^tiles|^1.00|^0.20|^dense|error"
fi
if has bench; then
  PYTHONUNBUFFERED=1 python3 bench/peers.py --bench "$BUILD/bin/lfc_kernel_bench" --dir /tmp/lfc-bench \
    --reps 30 2>&1 | tee "$OUT/bench.log" || status=1
fi
exit $status
