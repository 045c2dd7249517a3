#!/usr/bin/env bash
# One GPU-machine session for the CUDA backend: build (runtime only), GPU tests, sanitizers,
# kernel benchmark + peers. Logs go to $OUT (or ./out). Usage: bench/gpu_session.sh [steps]
# with steps from: build smoke tests sanitize tune bench plans rollout (default: all but smoke,
# tune, plans, rollout). `plans` runs compiled plans ($LFC_TEST_PLANS_DIR, default .deps/plans:
# compile them here with scripts/compile-example-plans.sh, the GPU machine has no MLIR) through
# the rollout test and lfc_plan_bench. `rollout` runs the full AR rollout under
# $LFC_ROLLOUT_PLAN (default .deps/plans/self_forcing_short) with lfc_ar_video, then cuDNN SDPA
# on the same loop's shapes (bench/rollout_vs_cudnn.py; docs/PERFORMANCE.md, "The AR loop at
# full size"). Every GPU step runs under a timeout ($LFC_STEP_TIMEOUT s, default 240): a hung
# kernel must not eat the lease.
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
  targets="lfc_kernel_bench lfc_plan_bench"
  [[ $TESTS == ON ]] && targets="$targets lfc_gpu_tests lfc_kernel_compile_tests"
  has rollout && targets="$targets lfc_ar_video lfc_rollout_bench"
  ninja -C "$BUILD" -j16 $targets >"$OUT/build.log" 2>&1 || { grep -E "error|FAILED" "$OUT/build.log" | head -30; exit 1; }
fi
export LFC_CACHE_DIR=/tmp/lfc-jit-cache
T="timeout ${LFC_STEP_TIMEOUT:-240}"
if has smoke; then
  # The sm_90a TMA kernel's own tests first: stop here if they fail or hang.
  $T "$BUILD/bin/lfc_gpu_tests" --gtest_filter='*TmaAttentionVsCpu*' >"$OUT/smoke.log" 2>&1
  rc=$?; grep -E "FAILED|PASSED|Failure|error" "$OUT/smoke.log" | head -20
  [[ $rc == 0 ]] || { echo "smoke: exit $rc"; tail -20 "$OUT/smoke.log"; exit 1; }
fi
if has tests; then
  $T "$BUILD/bin/lfc_gpu_tests" 2>&1 | tee "$OUT/gpu_tests.log" | grep -E "FAILED|PASSED|SKIPPED \]|Failure|error" | head -60
  [[ ${PIPESTATUS[0]} == 0 ]] || status=1
  "$BUILD/bin/lfc_kernel_compile_tests" --gtest_filter='*sm_90a*:KernelNames*' >"$OUT/compile_tests.log" 2>&1 || status=1
  tail -3 "$OUT/compile_tests.log"
fi
if has sanitize; then
  # The whole GPU suite: memcheck takes seconds, racecheck about a minute and a half (H200).
  for tool in memcheck racecheck; do
    $T compute-sanitizer --tool $tool --error-exitcode 9 "$BUILD/bin/lfc_gpu_tests" \
      >"$OUT/sanitize_$tool.log" 2>&1
    echo "compute-sanitizer $tool: exit $? ($(grep -cE 'ERROR SUMMARY: 0 errors|RACECHECK SUMMARY: 0 hazards' "$OUT/sanitize_$tool.log") clean summaries)"
    grep -E "SUMMARY|not supported" "$OUT/sanitize_$tool.log" | head -3
  done
fi
if has tune; then
  $T "$BUILD/bin/lfc_kernel_bench" --reps 20 --densities 1,0.2 \
    --tiles "${LFC_TUNE_TILES:-128,64,8,1;128,128,8,3;128,64,8,3}" 2>&1 | tee "$OUT/tune.log" | grep -E "^tiles|^1.00|^0.20|^dense|error"
fi
if has bench; then
  PYTHONUNBUFFERED=1 $T python3 bench/peers.py --bench "$BUILD/bin/lfc_kernel_bench" --dir /tmp/lfc-bench \
    --reps 30 2>&1 | tee "$OUT/bench.log" || status=1
fi
if has plans; then
  export LFC_TEST_PLANS_DIR=${LFC_TEST_PLANS_DIR:-$PWD/.deps/plans}
  $T "$BUILD/bin/lfc_gpu_tests" --gtest_filter='Plans/PlanRollout.*' 2>&1 | tee "$OUT/plan_rollout.log" \
    | grep -E "FAILED|PASSED|OK \]|plan |chunk |Failure|error" | head -80
  [[ ${PIPESTATUS[0]} == 0 ]] || status=1
  $T "$BUILD/bin/lfc_plan_bench" --reps 30 "$LFC_TEST_PLANS_DIR"/*/ 2>&1 | tee "$OUT/plan_bench.log" || status=1
fi
if has rollout; then
  # lfc_ar_video (30 layers x 7 chunks x 5 passes, dense and under the plan, ~11 s on the H200),
  # then cuDNN SDPA on each chunk's shapes in the same GPU session.
  PYTHONUNBUFFERED=1 $T python3 bench/rollout_vs_cudnn.py --bench-dir "$BUILD/bin" \
    --plan "${LFC_ROLLOUT_PLAN:-$PWD/.deps/plans/self_forcing_short}" --report-dir "$OUT/rollout_report" \
    --out "$OUT/rollout.md" 2>&1 | tee "$OUT/rollout.log"
  [[ ${PIPESTATUS[0]} == 0 ]] || status=1
  # The session's attention alone over the same rollout, eager and with each denoising pass
  # replayed as a CUDA Graph.
  $T "$BUILD/bin/lfc_rollout_bench" --plan "${LFC_ROLLOUT_PLAN:-$PWD/.deps/plans/self_forcing_short}" \
    --json "$OUT/rollout_graph.json" 2>&1 | tee "$OUT/rollout_graph.log"
  [[ ${PIPESTATUS[0]} == 0 ]] || status=1
fi
exit $status
