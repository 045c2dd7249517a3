//===- lfc-opt.cpp - mlir-opt for the lf dialect and its passes ----------===//

#include "compiler/passes/Passes.h"
#include "dialect/LfDialect.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::lf::registerLfPasses();
  // Canonicalize and CSE are what the pipeline and the tests use; the rest of
  // the upstream transforms are not meaningful on lf policies.
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::DialectRegistry registry;
  registry.insert<mlir::lf::LfDialect>();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "lf policy optimizer driver\n", registry));
}
