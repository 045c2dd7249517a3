//===- ResolveGrowth.cpp - lf-resolve-growth: growth op -> lf.schedule ----===//

#include "compiler/passes/Passes.h"

#include "mlir/IR/Builders.h"

#include <cmath>
#include <limits>

namespace mlir::lf {
#define GEN_PASS_DEF_RESOLVEGROWTH
#include "compiler/passes/Passes.h.inc"
} // namespace mlir::lf

using namespace mlir;
using namespace mlir::lf;

SmallVector<double> mlir::lf::chunkAwareSparsity(int64_t chunks,
                                                 int64_t framesPerChunk,
                                                 int64_t windowFrames,
                                                 double target, double base) {
  SmallVector<double> sparsity(chunks, 0.0);
  // DESIGN.md section 1. The window caps the frames a chunk attends (kv_i),
  // not the frame count that sets its noise-level weight (c_i).
  double window = windowFrames > 0 ? static_cast<double>(windowFrames)
                                   : std::numeric_limits<double>::infinity();
  double sumKv = 0.0, sumWeightedKv = 0.0;
  for (int64_t i = 2; i <= chunks; ++i) {
    double visible = static_cast<double>(i * framesPerChunk);
    double kv = std::min(visible, window);
    sumKv += kv;
    sumWeightedKv += kv / std::sqrt(visible);
  }
  if (chunks < 2)
    return sparsity;
  double beta = (base - target) * sumKv / sumWeightedKv;
  for (int64_t i = 2; i <= chunks; ++i)
    sparsity[i - 1] =
        base - beta / std::sqrt(static_cast<double>(i * framesPerChunk));
  return sparsity;
}

namespace {
struct ResolveGrowthPass
    : public mlir::lf::impl::ResolveGrowthBase<ResolveGrowthPass> {
  void runOnOperation() override {
    for (PolicyOp policy : getOperation().getOps<PolicyOp>())
      if (failed(resolve(policy)))
        return signalPassFailure();
  }

  static LogicalResult resolve(PolicyOp policy) {
    Operation *growth = policy.getGrowth();
    if (!growth)
      return success();
    GeometryOp geometry = policy.getGeometry();
    SmallVector<double> sparsity;
    if (auto chunkAware = dyn_cast<GrowthChunkAwareOp>(growth)) {
      sparsity =
          chunkAwareSparsity(geometry.getChunks(), geometry.getFramesPerChunk(),
                             geometry.getKvWindowFrames(),
                             chunkAware.getTarget().convertToDouble(),
                             chunkAware.getBase().convertToDouble());
      // A wide target/base gap with few chunks can push the earliest sparse
      // chunk below zero; that schedule cannot meet the target.
      for (auto [position, value] : llvm::enumerate(sparsity))
        if (value < 0.0 || value >= 1.0)
          return chunkAware.emitOpError()
                 << "gives chunk " << position + 1 << " a sparsity of " << value
                 << ", outside [0, 1); raise target or lower base so every "
                    "chunk's sparsity stays in range";
    } else if (auto constant = dyn_cast<GrowthConstantOp>(growth)) {
      // Chunk 1 stays dense as under Chunk-Aware Growth: it is the cheapest
      // chunk and every later chunk inherits its keys through the cache.
      // lf.growth.explicit expresses a sparse first chunk.
      sparsity.assign(geometry.getChunks(),
                      constant.getSparsity().convertToDouble());
      sparsity.front() = 0.0;
    } else {
      auto explicitOp = cast<GrowthExplicitOp>(growth);
      sparsity.assign(explicitOp.getSparsity().begin(),
                      explicitOp.getSparsity().end());
    }
    OpBuilder builder(growth);
    builder.create<ScheduleOp>(growth->getLoc(), sparsity);
    growth->erase();
    return success();
  }
};
} // namespace

std::unique_ptr<Pass> mlir::lf::createResolveGrowthPass() {
  return std::make_unique<ResolveGrowthPass>();
}
