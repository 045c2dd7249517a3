//===- SpecializeChunks.cpp - lf-specialize-chunks: one lf.chunk per chunk ===//
//
// Everything here follows docs/dialect-contract.md (chunk attributes) and
// docs/selection-semantics.md (logical KV sequence, frame classes, budgets).
//
//===----------------------------------------------------------------------===//

#include "compiler/passes/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <set>

namespace mlir::lf {
#define GEN_PASS_DEF_SPECIALIZECHUNKS
#include "compiler/passes/Passes.h.inc"
} // namespace mlir::lf

using namespace mlir;
using namespace mlir::lf;

namespace {

// The runtime stores block indices and counts as int32.
constexpr int64_t kMaxInt32 = std::numeric_limits<int32_t>::max();

// (1 - s) * key_blocks is mathematically an integer for many exact inputs
// (s = 0.8, 10 blocks: 2) but binary floating point can land just below it
// (1.9999999999999996). Products within this relative distance below an
// integer count as that integer. Sparsities are never meaningful to 1e-9, so
// this cannot change a budget a user intended.
constexpr double kBudgetRelativeEpsilon = 1e-9;

int64_t flooredBudget(double fraction, int64_t blocks) {
  double exact = fraction * static_cast<double>(blocks);
  double floored =
      std::floor(exact + kBudgetRelativeEpsilon * std::max(1.0, exact));
  return std::clamp<int64_t>(static_cast<int64_t>(floored), 0, blocks);
}

/// The static layout of one chunk's logical KV sequence.
struct ChunkLayout {
  int64_t index = 0;   // 1-based
  int64_t visible = 0; // frames in the logical KV sequence
  int64_t past = 0;    // visible frames before the current chunk
  int64_t framesPerChunk = 0;
  int64_t firstAbsoluteFrame = 0; // absolute frame of the chunk's first frame
  int64_t sinkFrames = 0;         // cache sink frames (window mode)
  bool windowed = false;          // the window has started dropping frames

  /// Absolute (temporal) frame number of logical position `frame`.
  int64_t absoluteFrame(int64_t frame) const {
    if (!windowed || frame < sinkFrames)
      return frame;
    return (index * framesPerChunk - visible) + frame;
  }
  /// Frames between a past frame and the chunk (1 = just before it).
  int64_t distance(int64_t frame) const {
    return firstAbsoluteFrame - absoluteFrame(frame);
  }
};

SmallVector<int64_t> frameRange(int64_t begin, int64_t end) {
  SmallVector<int64_t> frames;
  for (int64_t frame = begin; frame < end; ++frame)
    frames.push_back(frame);
  return frames;
}

/// What the frame stage can keep of a mask: `known` past frames kept for sure
/// plus at most `extra` further past frames, and whether the mask keeps every
/// key block of the chunk.
struct FrameBound {
  std::set<int64_t> known;
  int64_t extra = 0;
  bool full = false;
};

class ChunkSpecializer {
public:
  ChunkSpecializer(GeometryOp geometry, SelectOp select, int64_t sinkCount,
                   int64_t nearCount)
      : geometry(geometry), select(select), sinkCount(sinkCount),
        nearCount(nearCount) {}

  LogicalResult build(OpBuilder &builder, int64_t index, double sparsity);

private:
  /// The fraction of key blocks kept when the selection's block top-k ops all
  /// have a fixed density (the smallest, if several); std::nullopt when a
  /// growth budget (1 - sparsity) or no block top-k sets the budget.
  std::optional<double> fixedDensity();
  Value specializeOp(OpBuilder &builder, Operation &op, IRMapping &mapping);
  Value frames(OpBuilder &builder, Location loc, ArrayRef<int64_t> frames);
  FrameBound bound(Value mask);
  int64_t pastCount(const FrameBound &b) const {
    return std::min<int64_t>(layout.past, b.known.size() + b.extra);
  }

  GeometryOp geometry;
  SelectOp select;
  int64_t sinkCount;
  int64_t nearCount;
  ChunkLayout layout;
  int64_t keyBlocks = 0;
  int64_t keptKeyBlocks = 0;
};

std::optional<double> ChunkSpecializer::fixedDensity() {
  bool growthBudget = false;
  std::optional<double> density;
  select.walk([&](BlockTopkOp topk) {
    if (topk.getBudget() == "growth") {
      growthBudget = true;
      return;
    }
    double value = topk.getDensity()->convertToDouble();
    density = density ? std::min(*density, value) : value;
  });
  if (growthBudget)
    return std::nullopt;
  return density;
}

Value ChunkSpecializer::frames(OpBuilder &builder, Location loc,
                               ArrayRef<int64_t> list) {
  return builder.create<FramesOp>(loc, MaskType::get(builder.getContext()),
                                  list);
}

Value ChunkSpecializer::specializeOp(OpBuilder &builder, Operation &op,
                                     IRMapping &mapping) {
  Location loc = op.getLoc();
  int64_t past = layout.past;
  int64_t sinkEnd = std::min(sinkCount, past);
  if (auto sink = dyn_cast<SinkFramesOp>(op))
    return frames(builder, loc, frameRange(0, std::min(sink.getCount(), past)));
  if (auto near = dyn_cast<NearFramesOp>(op))
    return frames(builder, loc,
                  frameRange(std::max(sinkEnd, past - near.getCount()), past));
  if (isa<CurrentChunkOp>(op))
    return frames(builder, loc, frameRange(past, layout.visible));
  if (auto window = dyn_cast<SlidingWindowOp>(op)) {
    if (std::optional<int64_t> reach = window.getFrames()) {
      SmallVector<int64_t> kept;
      for (int64_t frame = 0; frame < past; ++frame)
        if (layout.distance(frame) <= *reach)
          kept.push_back(frame);
      kept.append(frameRange(past, layout.visible));
      return frames(builder, loc, kept);
    }
  }
  // Selection semantics, frame stage: a past of at most k frames is kept
  // whole, so the top-k needs no scores for this chunk.
  if (auto topk = dyn_cast<FrameTopkOp>(op))
    if (past <= topk.getK())
      return frames(builder, loc, frameRange(0, past));
  return builder.clone(op, mapping)->getResult(0);
}

FrameBound ChunkSpecializer::bound(Value mask) {
  FrameBound result;
  Operation *def = mask.getDefiningOp();
  auto allPast = [&] {
    for (int64_t frame = 0; frame < layout.past; ++frame)
      result.known.insert(frame);
  };
  if (auto framesOp = dyn_cast<FramesOp>(def)) {
    for (int64_t frame : framesOp.getFrames())
      if (frame < layout.past)
        result.known.insert(frame);
    result.full =
        static_cast<int64_t>(framesOp.getFrames().size()) == layout.visible;
  } else if (auto topk = dyn_cast<FrameTopkOp>(def)) {
    for (Value always : topk.getAlways()) {
      FrameBound operand = bound(always);
      result.known.insert(operand.known.begin(), operand.known.end());
    }
    result.extra = std::max<int64_t>(0, std::min(layout.past, topk.getK()) -
                                            result.known.size());
  } else if (auto unionOp = dyn_cast<UnionOp>(def)) {
    for (Value input : unionOp.getInputs()) {
      FrameBound operand = bound(input);
      result.known.insert(operand.known.begin(), operand.known.end());
      result.extra += operand.extra;
      result.full |= operand.full;
    }
  } else if (auto restrict = dyn_cast<RestrictOp>(def)) {
    FrameBound input = bound(restrict.getInput());
    FrameBound domain = bound(restrict.getDomain());
    for (int64_t frame : input.known)
      if (domain.known.count(frame))
        result.known.insert(frame);
    int64_t limit = std::min(pastCount(input), pastCount(domain));
    result.extra = std::max<int64_t>(0, limit - result.known.size());
    result.full = input.full && domain.full;
  } else if (auto topk = dyn_cast<BlockTopkOp>(def)) {
    result = bound(topk.getInput());
    bool keepsAll = topk.getBudget() == "growth"
                        ? keptKeyBlocks >= keyBlocks
                        : flooredBudget(topk.getDensity()->convertToDouble(),
                                        keyBlocks) >= keyBlocks;
    result.full &= keepsAll;
  } else if (auto mass = dyn_cast<MassThresholdOp>(def)) {
    result = bound(mass.getInput());
    result.full &= mass.getMass().convertToDouble() >= 1.0;
  } else if (auto window = dyn_cast<SlidingWindowOp>(def)) {
    // Token window: the chunk's first query block reaches furthest back.
    int64_t tokensPerFrame = geometry.getTokensPerFrame();
    int64_t reach = llvm::divideCeil(*window.getTokens(), tokensPerFrame);
    for (int64_t frame = std::max<int64_t>(0, layout.past - reach);
         frame < layout.past; ++frame)
      result.known.insert(frame);
    // Only the past is windowed; the current chunk is always kept whole.
    result.full = layout.past == 0;
  } else {
    // lf.radial keeps at least min_density > 0 of every past frame and the
    // whole current chunk (distance 0, density 1).
    allPast();
    result.full = layout.past == 0;
  }
  return result;
}

LogicalResult ChunkSpecializer::build(OpBuilder &builder, int64_t index,
                                      double sparsity) {
  int64_t framesPerChunk = geometry.getFramesPerChunk();
  int64_t window = geometry.getKvWindowFrames();
  int64_t sinks = geometry.getSinkFrames();
  int64_t tokensPerFrame = geometry.getTokensPerFrame();
  int64_t blockQ = select.getBlockQ();
  int64_t blockK = select.getBlockK();

  int64_t seen = 0, queryTokens = 0, kvTokens = 0;
  layout.index = index;
  layout.framesPerChunk = framesPerChunk;
  if (llvm::MulOverflow(index, framesPerChunk, seen) ||
      llvm::MulOverflow(framesPerChunk, tokensPerFrame, queryTokens))
    return geometry.emitOpError()
           << "chunk " << index << " needs more than 2^63 tokens; reduce "
           << "chunks, frames_per_chunk or tokens_per_frame";
  layout.visible = window == 0 ? seen : std::min(seen, sinks + window);
  layout.windowed = window != 0 && seen > sinks + window;
  layout.sinkFrames = sinks;
  layout.past = layout.visible - framesPerChunk;
  layout.firstAbsoluteFrame = seen - framesPerChunk;
  if (llvm::MulOverflow(layout.visible, tokensPerFrame, kvTokens))
    return geometry.emitOpError()
           << "chunk " << index << " attends to more than 2^63 key tokens";

  int64_t queryBlocks = llvm::divideCeil(queryTokens, blockQ);
  keyBlocks = llvm::divideCeil(kvTokens, blockK);
  if (queryBlocks > kMaxInt32 || keyBlocks > kMaxInt32)
    return select.emitOpError()
           << "chunk " << index << " has " << queryBlocks
           << " query blocks and " << keyBlocks
           << " key blocks; the runtime indexes blocks with int32, so both "
              "must be at most 2147483647 (use larger block_q/block_k or "
              "fewer tokens)";
  std::optional<double> density = fixedDensity();
  keptKeyBlocks = flooredBudget(density ? *density : 1.0 - sparsity, keyBlocks);
  if (keptKeyBlocks == 0)
    return select.emitOpError()
           << "chunk " << index << " would keep no key block: floor("
           << (density ? *density : 1.0 - sparsity) << " * " << keyBlocks
           << ") = 0; lower the sparsity or use a smaller block_k";
  // A fixed density is this chunk's effective sparsity; reporting the
  // schedule's 0 would make the chunk look dense.
  if (density)
    sparsity = 1.0 - static_cast<double>(keptKeyBlocks) /
                         static_cast<double>(keyBlocks);

  int64_t past = layout.past;
  int64_t sinkEnd = std::min(sinkCount, past);
  int64_t nearBegin = std::max(sinkEnd, past - nearCount);
  SmallVector<int64_t> sink = frameRange(0, sinkEnd);
  SmallVector<int64_t> near = frameRange(nearBegin, past);
  SmallVector<int64_t> middle = frameRange(sinkEnd, nearBegin);
  SmallVector<int64_t> current = frameRange(past, layout.visible);

  auto chunk = builder.create<ChunkOp>(
      select.getLoc(), index, llvm::APFloat(sparsity), layout.visible,
      queryTokens, kvTokens, queryBlocks, keyBlocks, keptKeyBlocks, sink, near,
      middle, current, /*frames_kept=*/0,
      /*dense=*/false);
  Block *body = new Block();
  chunk.getBody().push_back(body);
  OpBuilder bodyBuilder = OpBuilder::atBlockBegin(body);
  IRMapping mapping;
  for (Operation &op : select.getBody().front()) {
    if (isa<YieldOp>(op)) {
      bodyBuilder.clone(op, mapping);
      continue;
    }
    mapping.map(op.getResult(0), specializeOp(bodyBuilder, op, mapping));
  }

  auto yield = cast<YieldOp>(body->getTerminator());
  FrameBound kept = bound(yield.getValue());
  chunk.setFramesKept(pastCount(kept));
  chunk.setDense(kept.full && keptKeyBlocks == keyBlocks);
  return success();
}

/// Largest count among the ops of one kind in the selection body: the frame
/// classes of a chunk follow the policy's sink/near building blocks.
template <typename CountOp> int64_t largestCount(SelectOp select) {
  int64_t count = 0;
  select.walk([&](CountOp op) { count = std::max(count, op.getCount()); });
  return count;
}

struct SpecializeChunksPass
    : public mlir::lf::impl::SpecializeChunksBase<SpecializeChunksPass> {
  void runOnOperation() override {
    for (PolicyOp policy : getOperation().getOps<PolicyOp>())
      if (failed(specialize(policy)))
        return signalPassFailure();
  }

  static LogicalResult specialize(PolicyOp policy) {
    if (Operation *growth = policy.getGrowth())
      return growth->emitOpError()
             << "is not resolved; run lf-resolve-growth before "
                "lf-specialize-chunks";
    if (!policy.getBody().front().getOps<ChunkOp>().empty())
      return policy.emitOpError()
             << "is already specialized (it has lf.chunk ops); run "
                "lf-specialize-chunks once";
    GeometryOp geometry = policy.getGeometry();
    SelectOp select = policy.getSelect();
    SmallVector<double> sparsity(geometry.getChunks(), 0.0);
    if (ScheduleOp schedule = policy.getSchedule())
      sparsity.assign(schedule.getSparsity().begin(),
                      schedule.getSparsity().end());

    ChunkSpecializer specializer(geometry, select,
                                 largestCount<SinkFramesOp>(select),
                                 largestCount<NearFramesOp>(select));
    OpBuilder builder(policy.getContext());
    builder.setInsertionPointToEnd(&policy.getBody().front());
    for (int64_t index = 1; index <= geometry.getChunks(); ++index)
      if (failed(specializer.build(builder, index, sparsity[index - 1])))
        return failure();
    return success();
  }
};
} // namespace

std::unique_ptr<Pass> mlir::lf::createSpecializeChunksPass() {
  return std::make_unique<SpecializeChunksPass>();
}
