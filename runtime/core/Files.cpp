// Small file helpers shared by the runtime's plan loader and JIT cache.
#include "runtime/core/Files.h"

#include <fstream>
#include <sstream>

bool lfc::detail::readWholeFile(const std::string &path, std::string &out) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}
