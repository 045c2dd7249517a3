// MLIR diagnostics (verifier and pass failures) printed like the front end's
// own errors, at the policy position the failing op came from.
#ifndef LFC_COMPILER_FRONTEND_MLIRDIAGNOSTICS_H
#define LFC_COMPILER_FRONTEND_MLIRDIAGNOSTICS_H

#include "mlir/IR/Diagnostics.h"

#include <string>

namespace lfc::frontend {

/// Prints `diag` and its notes to stderr as FILE:LINE:COL: SEVERITY: MESSAGE,
/// using the first file position inside its (possibly fused or named)
/// location, else `fallbackFile`.
void printMlirDiagnostic(mlir::Diagnostic &diag,
                         const std::string &fallbackFile);

} // namespace lfc::frontend

#endif // LFC_COMPILER_FRONTEND_MLIRDIAGNOSTICS_H
