#!/usr/bin/env bash
# `lfc jit` must exit non-zero and print the log when a kernel compiles with a warning (cold
# and warm: the cache keeps the log), and exit 2 naming the field on a broken manifest.
set -uo pipefail
lfc=$1
plan=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$plan" "$work/plan"
echo '__device__ int lfc_warns() { int unused_in_lfc_jit_test = 1; return 0; }' \
  >>"$work/plan/kernels/attn_bf16_d128_dense.cu"
python3 "$(dirname "$plan")/rehash.py" "$work/plan"

for run in cold warm; do
  out=$("$lfc" jit "$work/plan" --arch sm_80 --cache-dir "$work/cache" 2>&1)
  rc=$?
  echo "$out"
  if [ $rc -ne 1 ] || ! echo "$out" | grep -q "compiled with warnings" ||
     ! echo "$out" | grep -q "unused_in_lfc_jit_test"; then
    echo "FAIL ($run): expected exit 1 with the warning log, got $rc" >&2
    exit 1
  fi
done

sed -i 's/^heads = 12$/heads = 0/' "$work/plan/plan.toml"
out=$("$lfc" jit "$work/plan" --arch sm_80 --cache-dir "$work/cache" 2>&1)
rc=$?
echo "$out"
if [ $rc -ne 2 ] || ! echo "$out" | grep -q "plan.toml: geometry.heads: must be in \[1, 1024\], got 0"; then
  echo "FAIL: a bad manifest must exit 2 naming the field, got $rc" >&2
  exit 1
fi
out=$("$lfc" jit "$work/plan" --arch compute_80 2>&1)
if [ $? -ne 2 ] || ! echo "$out" | grep -q "invalid arch 'compute_80'"; then
  echo "FAIL: a virtual arch must be rejected: $out" >&2
  exit 1
fi
"$lfc" jit --help | grep -q "usage: lfc jit PLAN_DIR --arch LIST" || {
  echo "FAIL: --help" >&2
  exit 1
}
echo PASS
