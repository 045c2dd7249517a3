// The lfc driver: dispatches to the compiler's subcommands (explain, compile)
// and the runtime's (jit, run, bench). Built without the compiler it keeps the
// runtime ones.
#include "runtime/cli/Commands.h"
#ifdef LFC_HAVE_COMPILER
#include "compiler/compile/Commands.h"
#include "compiler/explain/Commands.h"
#endif

#include <cstdio>
#include <cstring>
#include <string>

namespace {

struct Subcommand {
  const char *name;
  const char *summary;
  int (*run)(int argc, char **argv); // argv[0] is the subcommand name
};

const Subcommand kSubcommands[] = {
#ifdef LFC_HAVE_COMPILER
    {"explain", "print what a policy does per chunk (budgets, density, FLOPs)",
     lfc::cli::runExplain},
    {"compile",
     "compile a policy into a plan directory (manifest + CUDA kernel sources)",
     lfc::cli::runCompile},
#endif
    {"jit",
     "compile a plan's kernels with NVRTC ahead of time and fill the cache",
     lfc::cli::runJit},
    {"devices", "say whether the CUDA backend is usable here, and why not",
     lfc::cli::runDevices},
    {"replay",
     "replay a recorded Q/K/V trace through a plan; quality vs dense attention",
     lfc::cli::runReplay},
};

void printUsage(FILE *out) {
  std::fprintf(out, "usage: lfc <command> [options]\n\ncommands:\n");
  for (const auto &c : kSubcommands)
    std::fprintf(out, "  %-9s %s\n", c.name, c.summary);
#ifndef LFC_HAVE_COMPILER
  std::fprintf(
      out,
      "\nThis lfc was built with LFC_ENABLE_COMPILER=OFF: the policy commands "
      "(explain, compile) need a build with MLIR 19.\n");
#endif
  std::fprintf(out, "\nRun 'lfc <command> --help' for a command's options.\n");
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    printUsage(stderr);
    return 2;
  }
  std::string cmd = argv[1];
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    printUsage(stdout);
    return 0;
  }
  for (const auto &c : kSubcommands)
    if (cmd == c.name)
      return c.run(argc - 1, argv + 1);
#ifndef LFC_HAVE_COMPILER
  if (cmd == "explain" || cmd == "compile") {
    std::fprintf(
        stderr,
        "lfc: error: '%s' needs the policy compiler, and this lfc was built "
        "with "
        "LFC_ENABLE_COMPILER=OFF; rebuild with MLIR 19 (make build) or run it "
        "where the compiler is built\n",
        cmd.c_str());
    return 2;
  }
#endif
  std::fprintf(stderr, "lfc: error: unknown command '%s'\n", cmd.c_str());
  printUsage(stderr);
  return 2;
}
