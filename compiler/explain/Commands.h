// Compiler subcommands of the `lfc` driver (they need MLIR).
#pragma once

namespace lfc::cli {
/// `lfc explain POLICY [--json]`: per-chunk table of what a policy does.
int runExplain(int argc, char **argv);
} // namespace lfc::cli
