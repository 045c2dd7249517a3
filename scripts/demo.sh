#!/usr/bin/env bash
# The main job: compile and explain the default policy (later: run the AR loop demo).
set -euo pipefail
build=${1:-build}
policy=${2:-examples/policies/self_forcing_short.toml}
"$build/bin/lfc" explain "$policy"
