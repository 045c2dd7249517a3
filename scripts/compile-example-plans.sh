#!/usr/bin/env bash
# Compiles every example policy into a plan: scripts/compile-example-plans.sh [LFC] [OUT_DIR]
# (defaults: build/bin/lfc, .deps/plans). The GPU machine has no MLIR: compile here and carry
# the plans (bench/gpu_session.sh's `plans` step reads .deps/plans).
set -euo pipefail
cd "$(dirname "$0")/.."
LFC=${1:-build/bin/lfc}
OUT=${2:-.deps/plans}
mkdir -p "$OUT"
for policy in examples/policies/*.toml examples/ar_video/self_forcing_short_reduced.toml; do
  name=$(basename "$policy" .toml)
  "$LFC" compile "$policy" -o "$OUT/$name" --force
done
echo "plans in $OUT: $(ls "$OUT" | tr '\n' ' ')"
