// MLIR diagnostics at policy positions (see MlirDiagnostics.h).
#include "compiler/frontend/MlirDiagnostics.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Location.h"

#include <cstdio>

namespace lfc::frontend {

void printMlirDiagnostic(mlir::Diagnostic &diag,
                         const std::string &fallbackFile) {
  const char *severity = "error";
  switch (diag.getSeverity()) {
  case mlir::DiagnosticSeverity::Note:
    severity = "note";
    break;
  case mlir::DiagnosticSeverity::Warning:
    severity = "warning";
    break;
  case mlir::DiagnosticSeverity::Remark:
    severity = "remark";
    break;
  case mlir::DiagnosticSeverity::Error:
    break;
  }
  std::string where = fallbackFile;
  // Locations may be wrapped (fused by canonicalization, named); the first file
  // position inside is the one the policy author wrote.
  diag.getLocation()->walk([&](mlir::Location loc) {
    if (auto fileLoc = mlir::dyn_cast<mlir::FileLineColLoc>(loc)) {
      where = fileLoc.getFilename().str() + ":" +
              std::to_string(fileLoc.getLine()) + ":" +
              std::to_string(fileLoc.getColumn());
      return mlir::WalkResult::interrupt();
    }
    return mlir::WalkResult::advance();
  });
  std::fprintf(stderr, "%s: %s: %s\n", where.c_str(), severity,
               diag.str().c_str());
  for (mlir::Diagnostic &note : diag.getNotes())
    printMlirDiagnostic(note, fallbackFile);
}

} // namespace lfc::frontend
