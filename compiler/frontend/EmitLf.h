// Lowers a validated PolicySpec to policy-level lf IR, with locations from the
// TOML file.
#ifndef LFC_COMPILER_FRONTEND_EMITLF_H
#define LFC_COMPILER_FRONTEND_EMITLF_H

#include "compiler/frontend/PolicySpec.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

namespace lfc::frontend {

/// Builds `module { lf.policy @NAME { lf.geometry, lf.growth.*, lf.select {...}
/// } }` (docs/dialect-contract.md). Every op is located at the TOML line and
/// column that defined it, so verifier errors point into the policy file. The
/// module is not verified here; the caller verifies it with its diagnostic
/// handler installed. `context` must have the lf dialect loaded.
mlir::OwningOpRef<mlir::ModuleOp> emitLf(const PolicySpec &spec,
                                         mlir::MLIRContext &context);

/// The MLIR location of a policy source position.
mlir::Location toLocation(const SourceLoc &loc, mlir::MLIRContext &context);

} // namespace lfc::frontend

#endif // LFC_COMPILER_FRONTEND_EMITLF_H
