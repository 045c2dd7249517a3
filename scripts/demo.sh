#!/usr/bin/env bash
# The main job: explain the default policy and compile it into a plan (the AR loop demo
# comes with the session runtime).
set -euo pipefail
build=${1:-build}
policy=${2:-examples/policies/self_forcing_short.toml}
plan=${3:-$build/plans/$(basename "$policy" .toml)}
"$build/bin/lfc" explain "$policy"
echo
mkdir -p "$(dirname "$plan")"
"$build/bin/lfc" compile "$policy" -o "$plan" --force
echo "plan: $plan ($(ls "$plan/kernels" | wc -l) kernel sources; run it with lfc::PlanRunner, docs/execution.md)"
