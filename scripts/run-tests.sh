#!/usr/bin/env bash
# Runs every lfc test suite in a build directory (lit, then GoogleTest through CTest) and ends
# with the counts. Exit status is non-zero if any suite fails.
set -uo pipefail
build=${1:-build}
status=0
summary=()
if [ -f "$build/tests/lit/lit.site.cfg.py" ]; then
  echo "== lit =="
  out=$(python3 /usr/lib/llvm-19/build/utils/lit/lit.py -sv "$build/tests/lit" 2>&1)
  rc=$?
  echo "$out" | grep -vE '^(PASS|UNSUPPORTED):' | tail -n 60
  passed=$(echo "$out" | sed -n 's/^ *Passed *: *\([0-9]*\).*/\1/p')
  failed=$(echo "$out" | sed -n 's/^ *Failed *: *\([0-9]*\).*/\1/p')
  summary+=("lit: ${passed:-0} passed, ${failed:-0} failed")
  [ $rc -eq 0 ] || status=1
else
  summary+=("lit: not run (built with COMPILER=OFF)")
fi
echo "== GoogleTest (ctest) =="
ctest_out=$(cd "$build" && ctest --output-on-failure 2>&1)
rc=$?
# Passed and skipped tests are counted below, not listed one by one.
echo "$ctest_out" | grep -vE '^ *Start +[0-9]+:|^ *[0-9]+/[0-9]+ Test +#[0-9]+: .* (Passed|Skipped)|\(Skipped\)$|^The following tests did not run:' | tail -n 80
skipped=$(echo "$ctest_out" | grep -c '\*\*\*Skipped' || true)
line=$(echo "$ctest_out" | grep -E 'tests passed' | tail -n 1)
summary+=("gtest: ${line:-no result} (${skipped} skipped: GPU tests skip without a GPU)")
[ $rc -eq 0 ] || status=1
echo
echo "== summary =="
for s in "${summary[@]}"; do echo "  $s"; done
if [ $status -eq 0 ]; then echo "ALL TESTS PASSED"; else echo "TESTS FAILED"; fi
exit $status
