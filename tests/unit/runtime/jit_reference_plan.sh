#!/usr/bin/env bash
# Runs `lfc jit` on a plan for all six archs twice in a fresh cache: the cold run must
# compile everything without errors or warnings, the warm run must hit the cache for all.
set -euo pipefail
lfc=$1
plan=$2
archs=sm_80,sm_86,sm_89,sm_90a,sm_100a,sm_120
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT

echo "== cold =="
cold=$("$lfc" jit "$plan" --arch "$archs" --cache-dir "$cache")
echo "$cold"
total=$(echo "$cold" | sed -n 's/^\([0-9]*\) compiled, \([0-9]*\) cache hit.*/\1/p')
cold_hits=$(echo "$cold" | sed -n 's/^\([0-9]*\) compiled, \([0-9]*\) cache hit.*/\2/p')
kernels=$(grep -c '^\[\[kernels\]\]' "$plan/plan.toml")
if [ "$total" != $((kernels * 6)) ] || [ "$cold_hits" != 0 ]; then
  echo "FAIL: cold run compiled $total of $((kernels * 6)) with $cold_hits cache hits" >&2
  exit 1
fi
entries=$(find "$cache" -name '*.lfcbin' | wc -l)
if [ "$entries" != "$total" ]; then
  echo "FAIL: $entries cache entries for $total compiles" >&2
  exit 1
fi

echo "== warm =="
warm=$("$lfc" jit "$plan" --arch "$archs" --cache-dir "$cache")
echo "$warm"
warm_hits=$(echo "$warm" | sed -n 's/^\([0-9]*\) compiled, \([0-9]*\) cache hit.*/\2/p')
if [ "$warm_hits" != "$total" ] || echo "$warm" | grep -q ' miss '; then
  echo "FAIL: warm run hit the cache $warm_hits of $total times" >&2
  exit 1
fi
echo "PASS: $total compiles cold, $warm_hits cache hits warm"
