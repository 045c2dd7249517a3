//===- Pipeline.cpp - the standard lf pipelines -----------------------===//

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

LogicalResult mlir::lf::runLfCompilePipeline(ModuleOp module) {
  PassManager pm(module->getContext(), ModuleOp::getOperationName());
  pm.addPass(createResolveGrowthPass());
  pm.addPass(createSpecializeChunksPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createLowerToKernelsPass());
  return pm.run(module);
}
