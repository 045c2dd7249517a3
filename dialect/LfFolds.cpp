//===- LfFolds.cpp - folds and canonicalizations of lf mask set algebra ---===//
//
// Masks are sets of key blocks, so union and restrict follow set identities:
// x | x = x, x & x = x, x & everything = x. Static frame sets (lf.frames, only
// present once a policy is specialized per chunk) combine into one constant.
//
//===----------------------------------------------------------------------===//

#include "dialect/LfOps.h"

#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SetVector.h"

#include <algorithm>
#include <iterator>

using namespace mlir;
using namespace mlir::lf;

/// Largest temporal distance (in frames, from the chunk's first frame) of any
/// frame visible to any chunk of the policy's geometry.
static int64_t maxVisibleDistance(GeometryOp geometry) {
  int64_t framesPerChunk = geometry.getFramesPerChunk();
  int64_t window = geometry.getKvWindowFrames();
  int64_t sinks = geometry.getSinkFrames();
  int64_t best = 0;
  for (int64_t chunk = 1; chunk <= geometry.getChunks(); ++chunk) {
    int64_t seen = chunk * framesPerChunk;
    bool oldestFrameVisible = window == 0 || sinks > 0 || seen <= window;
    int64_t distance = oldestFrameVisible ? (chunk - 1) * framesPerChunk
                                          : window - framesPerChunk;
    best = std::max(best, distance);
  }
  return best;
}

bool mlir::lf::coversEveryKey(Value mask) {
  Operation *def = mask.getDefiningOp();
  if (!def)
    return false;
  if (auto frames = dyn_cast<FramesOp>(def)) {
    auto chunk = def->getParentOfType<ChunkOp>();
    // Frames are strictly increasing and within [0, visible), so the set is
    // complete exactly when its size matches.
    return chunk && static_cast<int64_t>(frames.getFrames().size()) ==
                        chunk.getVisibleFrames();
  }
  if (auto window = dyn_cast<SlidingWindowOp>(def)) {
    auto policy = def->getParentOfType<PolicyOp>();
    if (!window.getFrames() || !policy || !policy.getGeometry())
      return false;
    return *window.getFrames() >= maxVisibleDistance(policy.getGeometry());
  }
  if (auto unionOp = dyn_cast<UnionOp>(def))
    return llvm::any_of(unionOp.getInputs(), coversEveryKey);
  return false;
}

std::optional<int64_t> mlir::lf::staticFrameCount(Value mask) {
  Operation *def = mask.getDefiningOp();
  if (!def)
    return std::nullopt;
  if (auto sink = dyn_cast<SinkFramesOp>(def))
    return sink.getCount();
  if (auto near = dyn_cast<NearFramesOp>(def))
    return near.getCount();
  if (auto frames = dyn_cast<FramesOp>(def))
    return static_cast<int64_t>(frames.getFrames().size());
  if (auto window = dyn_cast<SlidingWindowOp>(def))
    return window.getFrames();
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// lf.union
//===----------------------------------------------------------------------===//

OpFoldResult UnionOp::fold(FoldAdaptor) {
  Value first = getInputs().front();
  if (llvm::all_of(getInputs(), [&](Value input) { return input == first; }))
    return first;
  for (Value input : getInputs())
    if (coversEveryKey(input))
      return input;
  return {};
}

namespace {
/// union(%a, %b, %a) -> union(%a, %b): a set union ignores repeats.
struct DedupeUnionOperands : OpRewritePattern<UnionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(UnionOp op,
                                PatternRewriter &rewriter) const override {
    llvm::SetVector<Value> unique(op.getInputs().begin(), op.getInputs().end());
    if (unique.size() == op.getInputs().size())
      return failure();
    rewriter.replaceOpWithNewOp<UnionOp>(op, op.getType(), unique.takeVector());
    return success();
  }
};

/// Several lf.frames operands of one union become one lf.frames holding their
/// union, so later passes see a single static frame set; empty frame sets
/// (sink frames of a chunk without past, ...) add nothing and are dropped.
struct MergeStaticFrameUnion : OpRewritePattern<UnionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(UnionOp op,
                                PatternRewriter &rewriter) const override {
    SmallVector<FramesOp> statics;
    SmallVector<Value> dynamics;
    bool hasEmpty = false;
    for (Value input : op.getInputs()) {
      if (auto frames = input.getDefiningOp<FramesOp>()) {
        statics.push_back(frames);
        hasEmpty |= frames.getFrames().empty();
      } else {
        dynamics.push_back(input);
      }
    }
    if (statics.size() < 2 && !(hasEmpty && op.getInputs().size() > 1))
      return failure();
    if (statics.size() == 1) {
      rewriter.replaceOpWithNewOp<UnionOp>(op, op.getType(), dynamics);
      return success();
    }
    SmallVector<int64_t> merged;
    for (FramesOp frames : statics)
      merged.append(frames.getFrames().begin(), frames.getFrames().end());
    llvm::sort(merged);
    merged.erase(std::unique(merged.begin(), merged.end()), merged.end());
    Value combined =
        rewriter.create<FramesOp>(op.getLoc(), op.getType(), merged);
    dynamics.insert(dynamics.begin(), combined);
    rewriter.replaceOpWithNewOp<UnionOp>(op, op.getType(), dynamics);
    return success();
  }
};
} // namespace

void UnionOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                          MLIRContext *context) {
  results.add<DedupeUnionOperands, MergeStaticFrameUnion>(context);
}

//===----------------------------------------------------------------------===//
// lf.block_topk
//===----------------------------------------------------------------------===//

OpFoldResult BlockTopkOp::fold(FoldAdaptor) {
  // Selection semantics: when the budget is at least the number of eligible
  // blocks, every eligible block is kept, so a budget of all key blocks keeps
  // the input unchanged.
  if (getBudget() == "density")
    return getDensity() && getDensity()->convertToDouble() >= 1.0 ? getInput()
                                                                  : Value();
  auto chunk = (*this)->getParentOfType<ChunkOp>();
  if (chunk && chunk.getKeptKeyBlocks() >= chunk.getKeyBlocks())
    return getInput();
  return {};
}

//===----------------------------------------------------------------------===//
// lf.restrict
//===----------------------------------------------------------------------===//

OpFoldResult RestrictOp::fold(FoldAdaptor) {
  if (getInput() == getDomain() || coversEveryKey(getDomain()))
    return getInput();
  if (coversEveryKey(getInput()))
    return getDomain();
  return {};
}

namespace {
/// restrict(lf.frames A, lf.frames B) -> lf.frames (A intersect B).
struct IntersectStaticFrames : OpRewritePattern<RestrictOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RestrictOp op,
                                PatternRewriter &rewriter) const override {
    auto input = op.getInput().getDefiningOp<FramesOp>();
    auto domain = op.getDomain().getDefiningOp<FramesOp>();
    if (!input || !domain)
      return failure();
    SmallVector<int64_t> common;
    std::set_intersection(input.getFrames().begin(), input.getFrames().end(),
                          domain.getFrames().begin(), domain.getFrames().end(),
                          std::back_inserter(common));
    rewriter.replaceOpWithNewOp<FramesOp>(op, op.getType(), common);
    return success();
  }
};
} // namespace

void RestrictOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                             MLIRContext *context) {
  results.add<IntersectStaticFrames>(context);
}
