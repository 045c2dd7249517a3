#!/usr/bin/env bash
# The main job: explain the default policy, compile it into a plan, then run the AR loop:
# the synthetic video model's whole rollout, dense and under the policy side by side, with a
# quality report (lfc_ar_video). This version of the loop runs on the CPU backend at a
# reduced size (examples/ar_video/self_forcing_short_reduced.toml); the full-size GPU loop
# comes with the session runtime.
set -euo pipefail
build=${1:-build}
policy=${2:-examples/policies/self_forcing_short.toml}
plans=$build/plans
mkdir -p "$plans"
"$build/bin/lfc" explain "$policy"
echo
"$build/bin/lfc" compile "$policy" -o "$plans/$(basename "$policy" .toml)" --force
echo
reduced=examples/ar_video/self_forcing_short_reduced.toml
echo "AR loop: the full-size loop needs the GPU session runtime (not built yet); running the"
echo "reduced default policy on the CPU backend ($reduced)."
"$build/bin/lfc" compile "$reduced" -o "$plans/self_forcing_short_reduced" --force
"$build/bin/lfc_ar_video" --plan "$plans/self_forcing_short_reduced" --report "$build/ar_video_report"
