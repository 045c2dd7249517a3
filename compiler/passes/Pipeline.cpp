//===- Pipeline.cpp - the standard lf pipeline ------------------------===//

#include "compiler/passes/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

LogicalResult mlir::lf::runLfPipeline(ModuleOp module) {
  PassManager pm(module->getContext(), ModuleOp::getOperationName());
  pm.addPass(createResolveGrowthPass());
  pm.addPass(createSpecializeChunksPass());
  pm.addPass(createCanonicalizerPass());
  return pm.run(module);
}
