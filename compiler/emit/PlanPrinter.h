//===- PlanPrinter.h - prints an lf.plan as a plan directory --------------===//
//
// The emitter's second half (CIRCT ExportVerilog's model): lf-lower-to-kernels
// legalizes the IR so that every decision is an attribute, then this printer
// walks an lf.plan and spells it: plan.toml (docs/plan-format.md, format 2),
// one kernels/<name>.cu per lf.kernel, and the template headers the kernels
// include (bundled under include/ unless the templates stay external). It
// decides nothing; the mapping from ops to text is docs/lowering.md's.
//
//===----------------------------------------------------------------------===//

#ifndef LFC_COMPILER_EMIT_PLANPRINTER_H
#define LFC_COMPILER_EMIT_PLANPRINTER_H

#include "dialect/LfOps.h"

#include <string>
#include <vector>

namespace lfc::emit {

/// One file of a plan directory: path relative to it, and its bytes.
struct PlanFile {
  std::string path;
  std::string contents;
};

struct PrintOptions {
  /// Write `[build] external_templates = true` instead of bundling headers.
  bool externalTemplates = false;
  /// The kernel templates (kernels_templates/) the bundled headers come from.
  std::string templatesDir;
};

/// The files of `plan`'s directory, in a fixed order (plan.toml last, since
/// it records every other file's SHA-256). Byte-identical for identical IR.
/// Fails with a diagnostic at the plan when a template header cannot be read.
mlir::FailureOr<std::vector<PlanFile>> printPlan(mlir::lf::PlanOp plan,
                                                 const PrintOptions &options);

/// The CUDA source of one kernel (kernels/<name>.cu).
std::string printKernelSource(mlir::lf::KernelOp kernel,
                              llvm::StringRef policySource);

/// Lowercase hex SHA-256 of `bytes` (the manifest's hashes).
std::string sha256Hex(llvm::StringRef bytes);

} // namespace lfc::emit

#endif // LFC_COMPILER_EMIT_PLANPRINTER_H
