// Runtime subcommands of the `lfc` driver (they need no MLIR).
#pragma once

namespace lfc::cli {
/// `lfc jit PLAN --arch LIST`: compile a plan's kernels ahead of time, fill the
/// cache.
int runJit(int argc, char **argv);
/// `lfc replay TRACE --plan PLAN`: a recorded trace through a plan's selection,
/// quality against dense (docs/traces.md, docs/QUALITY.md).
int runReplay(int argc, char **argv);
/// `lfc devices [--backend]`: whether the CUDA backend is usable here.
int runDevices(int argc, char **argv);
} // namespace lfc::cli
