#!/usr/bin/env bash
# The main job (make demo): explain the default policy, compile it into a plan, then run the
# AR loop: the synthetic video model's whole rollout through lfc::Session, dense and under the
# policy side by side, with a quality report (lfc_ar_video, docs/ar_video.md).
#   - With a usable GPU (lfc devices): the full size of the policy (30 layers, 12 heads,
#     1560 tokens per frame, 7 chunks x 5 passes), model and attention on the GPU.
#   - Without one: the reduced policy (examples/ar_video/self_forcing_short_reduced.toml) on
#     the CPU backend, in well under two minutes on two cores.
# Built without the compiler (no MLIR, e.g. the GPU machine), plans come from $LFC_PLANS_DIR
# (default .deps/plans), compiled elsewhere by scripts/compile-example-plans.sh.
set -euo pipefail
build=${1:-build}
policy=${2:-examples/policies/self_forcing_short.toml}
name=$(basename "$policy" .toml)
lfc=$build/bin/lfc
reduced=examples/ar_video/self_forcing_short_reduced.toml
"$lfc" devices
backend=$("$lfc" devices --backend)
echo
if "$lfc" compile --help >/dev/null 2>&1; then
  plans=$build/plans
  mkdir -p "$plans"
  "$lfc" explain "$policy"
  echo
  "$lfc" compile "$policy" -o "$plans/$name" --force
  "$lfc" compile "$reduced" -o "$plans/self_forcing_short_reduced" --force
  echo
else
  plans=${LFC_PLANS_DIR:-.deps/plans}
  echo "lfc was built without the policy compiler (no MLIR here): using the plans compiled"
  echo "elsewhere in $plans (scripts/compile-example-plans.sh)."
  [ -f "$plans/$name/plan.toml" ] || {
    echo "demo: $plans/$name/plan.toml is missing: compile it where MLIR is installed with" >&2
    echo "      scripts/compile-example-plans.sh build/bin/lfc $plans and copy $plans here" >&2
    exit 1
  }
fi
if [ "$backend" = cuda ]; then
  echo "AR loop: the full-size rollout of $name on the GPU."
  "$build/bin/lfc_ar_video" --backend cuda --plan "$plans/$name" --report "$build/ar_video_report"
else
  [ -f "$plans/self_forcing_short_reduced/plan.toml" ] || {
    echo "demo: no GPU and no reduced plan in $plans/self_forcing_short_reduced" >&2
    exit 1
  }
  echo "AR loop: no usable GPU here, so the reduced default policy ($reduced: 4 layers,"
  echo "2 heads, 60 tokens per frame) runs on the CPU backend."
  "$build/bin/lfc_ar_video" --backend cpu --plan "$plans/self_forcing_short_reduced" \
    --report "$build/ar_video_report"
fi
