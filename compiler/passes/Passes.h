//===- Passes.h - the lf dialect's passes and the standard pipeline ------===//

#ifndef LFC_COMPILER_PASSES_PASSES_H
#define LFC_COMPILER_PASSES_PASSES_H

#include "dialect/LfOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

#include <memory>

namespace mlir::lf {

std::unique_ptr<Pass> createResolveGrowthPass();
std::unique_ptr<Pass> createSpecializeChunksPass();
std::unique_ptr<Pass> createLowerToKernelsPass();

#define GEN_PASS_DECL
#include "compiler/passes/Passes.h.inc"

// Generates registerLfPasses(): registers lf-resolve-growth,
// lf-specialize-chunks and lf-lower-to-kernels with the global pass registry
// (lfc-opt, textual pipelines).
#define GEN_PASS_REGISTRATION
#include "compiler/passes/Passes.h.inc"

/// Chunk-Aware Growth (DESIGN.md section 1): one sparsity per chunk, chunk 1
/// dense. `windowFrames` 0 means a global cache. Used by lf-resolve-growth and
/// by tools that explain a schedule.
SmallVector<double> chunkAwareSparsity(int64_t chunks, int64_t framesPerChunk,
                                       int64_t windowFrames, double target,
                                       double base);

/// Runs lf-resolve-growth, lf-specialize-chunks and canonicalize on `module`
/// (which must already verify). Diagnostics go to the context's handler.
LogicalResult runLfPipeline(ModuleOp module);

/// runLfPipeline, then lf-lower-to-kernels: every lf.policy of `module`
/// becomes an lf.plan ready for the plan printer (compiler/emit/).
LogicalResult runLfCompilePipeline(ModuleOp module);

} // namespace mlir::lf

namespace lfc {
using mlir::lf::registerLfPasses;
using mlir::lf::runLfCompilePipeline;
using mlir::lf::runLfPipeline;
} // namespace lfc

#endif // LFC_COMPILER_PASSES_PASSES_H
