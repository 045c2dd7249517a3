// Small file helpers shared by the runtime's plan loader and JIT cache.
#pragma once

#include <string>

namespace lfc::detail {

/// Reads the whole file at `path` as bytes into `out`; false if it cannot be
/// opened.
bool readWholeFile(const std::string &path, std::string &out);

} // namespace lfc::detail
