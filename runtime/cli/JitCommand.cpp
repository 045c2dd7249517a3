// `lfc jit`: placeholder until the runtime's JIT lands.
#include "runtime/cli/Commands.h"

#include <cstdio>

int lfc::cli::runJit(int, char **) {
  std::fprintf(stderr, "lfc jit: error: not implemented yet\n");
  return 2;
}
