// `lfc explain`: placeholder until the front end lands.
#include "compiler/explain/Commands.h"

#include <cstdio>

int lfc::cli::runExplain(int, char **) {
  std::fprintf(stderr, "lfc explain: error: not implemented yet\n");
  return 2;
}
