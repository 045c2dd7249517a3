// `lfc compile`: the compiler subcommand that turns a policy into a plan
// directory (the driver registers it in compiler/tools/lfc/lfc.cpp).
#pragma once

namespace lfc::cli {
/// `lfc compile POLICY -o PLAN_DIR [--external-templates] [--force]`.
int runCompile(int argc, char **argv);
} // namespace lfc::cli
