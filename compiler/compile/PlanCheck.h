// What `lfc compile` needs from the runtime, with errors as values: the
// runtime's own plan loader validates every plan before it is moved into
// place, and the runtime says where the kernel templates are. Plain C++ (no
// MLIR); the .cpp is built with exceptions and converts lfc::Error.
#ifndef LFC_COMPILER_COMPILE_PLANCHECK_H
#define LFC_COMPILER_COMPILE_PLANCHECK_H

#include <string>

namespace lfc::compile {

/// Loads `dir` with lfc::loadPlan. Returns false and sets `error` to the
/// loader's message ("plan.toml: chunks[3].kept_key_blocks: ...") when the
/// runtime would reject it; `summary` gets "N chunks, K kernels".
bool checkPlan(const std::string &dir, std::string &summary,
               std::string &error) noexcept;

/// lfc::defaultKernelIncludeDir(): $LFC_KERNEL_INCLUDE_DIR, else the source
/// tree's kernels_templates/.
std::string kernelTemplatesDir();

} // namespace lfc::compile

#endif // LFC_COMPILER_COMPILE_PLANCHECK_H
