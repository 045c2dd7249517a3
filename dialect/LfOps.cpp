//===- LfOps.cpp - verifiers of the lf dialect's operations ---------------===//
//
// Every message says what is wrong and what would be valid, so a policy author
// (or the TOML front end, whose locations these ops carry) can fix the input.
//
//===----------------------------------------------------------------------===//

#include "dialect/LfOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::lf;

#define GET_OP_CLASSES
#include "dialect/LfOps.cpp.inc"

namespace {
// Selection block sizes the kernels and the CPU reference support.
constexpr int64_t kMinBlock = 16;
constexpr int64_t kMaxBlock = 256;
// The only pooled score defined by docs/selection-semantics.md.
constexpr llvm::StringLiteral kMeanDot = "mean_dot";
} // namespace

static LogicalResult verifyPositive(Operation *op, StringRef name,
                                    int64_t value) {
  if (value > 0)
    return success();
  return op->emitOpError() << name << " (" << value << ") must be positive";
}

static LogicalResult verifySparsity(Operation *op, StringRef name,
                                    double value) {
  if (value >= 0.0 && value < 1.0)
    return success();
  return op->emitOpError() << name << " (" << value
                           << ") must be in [0, 1): 0 is dense, values "
                              "approaching 1 drop almost every key block";
}

static LogicalResult verifyScore(Operation *op, StringRef score) {
  if (score == kMeanDot)
    return success();
  return op->emitOpError() << "score \"" << score
                           << "\" is not supported; supported: \"" << kMeanDot
                           << "\"";
}

static LogicalResult verifyBlockSize(Operation *op, StringRef name,
                                     int64_t value) {
  if (value >= kMinBlock && value <= kMaxBlock && llvm::isPowerOf2_64(value))
    return success();
  return op->emitOpError() << name << " (" << value
                           << ") must be a power of two in " << kMinBlock
                           << ".." << kMaxBlock << " (16, 32, 64, 128, 256)";
}

static LogicalResult verifyYieldTerminated(Operation *op, Region &body) {
  Block &block = body.front();
  if (!block.empty() && isa<YieldOp>(block.back()))
    return success();
  return op->emitOpError()
         << "body must end with an lf.yield of the selected !lf.mask";
}

//===----------------------------------------------------------------------===//
// `{attributes} {body}` assembly of lf.select and lf.chunk
//===----------------------------------------------------------------------===//

static ParseResult parseAttrsAndBody(OpAsmParser &parser,
                                     OperationState &result) {
  if (parser.parseOptionalAttrDict(result.attributes))
    return failure();
  Region *body = result.addRegion();
  return parser.parseRegion(*body, /*arguments=*/{});
}

static void printAttrsAndBody(OpAsmPrinter &printer, Operation *op,
                              Region &body) {
  printer.printOptionalAttrDict(op->getAttrs());
  printer << ' ';
  printer.printRegion(body, /*printEntryBlockArgs=*/false);
}

ParseResult SelectOp::parse(OpAsmParser &parser, OperationState &result) {
  return parseAttrsAndBody(parser, result);
}
void SelectOp::print(OpAsmPrinter &printer) {
  printAttrsAndBody(printer, getOperation(), getBody());
}
ParseResult ChunkOp::parse(OpAsmParser &parser, OperationState &result) {
  return parseAttrsAndBody(parser, result);
}
void ChunkOp::print(OpAsmPrinter &printer) {
  printAttrsAndBody(printer, getOperation(), getBody());
}

//===----------------------------------------------------------------------===//
// PolicyOp
//===----------------------------------------------------------------------===//

GeometryOp PolicyOp::getGeometry() {
  auto range = getBody().front().getOps<GeometryOp>();
  return range.empty() ? GeometryOp() : *range.begin();
}

SelectOp PolicyOp::getSelect() {
  auto range = getBody().front().getOps<SelectOp>();
  return range.empty() ? SelectOp() : *range.begin();
}

Operation *PolicyOp::getGrowth() {
  for (Operation &op : getBody().front())
    if (isa<GrowthChunkAwareOp, GrowthConstantOp, GrowthExplicitOp>(op))
      return &op;
  return nullptr;
}

ScheduleOp PolicyOp::getSchedule() {
  auto range = getBody().front().getOps<ScheduleOp>();
  return range.empty() ? ScheduleOp() : *range.begin();
}

LogicalResult PolicyOp::verifyRegions() {
  Block &body = getBody().front();
  SmallVector<GeometryOp> geometries(body.getOps<GeometryOp>());
  SmallVector<SelectOp> selects(body.getOps<SelectOp>());
  SmallVector<ScheduleOp> schedules(body.getOps<ScheduleOp>());
  SmallVector<ChunkOp> chunks(body.getOps<ChunkOp>());
  SmallVector<Operation *> growths;
  for (Operation &op : body)
    if (isa<GrowthChunkAwareOp, GrowthConstantOp, GrowthExplicitOp>(op))
      growths.push_back(&op);

  if (geometries.size() != 1)
    return emitOpError() << "needs exactly one lf.geometry, found "
                         << geometries.size();
  if (selects.size() != 1)
    return emitOpError() << "needs exactly one lf.select, found "
                         << selects.size();
  if (growths.size() > 1)
    return emitOpError() << "has " << growths.size()
                         << " growth ops; at most one lf.growth.* is allowed";
  if (schedules.size() > 1)
    return emitOpError() << "has " << schedules.size()
                         << " lf.schedule ops; at most one is allowed";
  if (!growths.empty() && !schedules.empty())
    return emitOpError()
           << "has both a growth op and an lf.schedule; lf-resolve-growth "
              "replaces the growth op by the schedule, keep only one";

  GeometryOp geometry = geometries.front();
  int64_t numChunks = geometry.getChunks();
  for (Operation *growth : growths)
    if (auto explicitOp = dyn_cast<GrowthExplicitOp>(growth))
      if (static_cast<int64_t>(explicitOp.getSparsity().size()) != numChunks)
        return explicitOp.emitOpError()
               << "has " << explicitOp.getSparsity().size()
               << " sparsity values but the geometry has " << numChunks
               << " chunks; give exactly one value per chunk";
  for (ScheduleOp schedule : schedules)
    if (static_cast<int64_t>(schedule.getSparsity().size()) != numChunks)
      return schedule.emitOpError()
             << "has " << schedule.getSparsity().size()
             << " sparsity values but the geometry has " << numChunks
             << " chunks; give exactly one value per chunk";

  // Chunk bodies carry their own sparsity; only the selection body needs a
  // schedule to draw a growth budget from.
  bool hasSparsitySource = !growths.empty() || !schedules.empty();
  WalkResult budgets = selects.front()->walk([&](BlockTopkOp topk) {
    if (topk.getBudget() == "growth" && !hasSparsitySource) {
      topk.emitOpError()
          << "budget \"growth\" needs an lf.growth.* or lf.schedule op in the "
             "enclosing policy; add one or use budget = \"density\"";
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  if (budgets.wasInterrupted())
    return failure();

  if (!chunks.empty() && static_cast<int64_t>(chunks.size()) != numChunks)
    return emitOpError() << "has " << chunks.size()
                         << " lf.chunk ops but the geometry has " << numChunks
                         << " chunks; a specialized policy has one per chunk";
  for (auto [position, chunk] : llvm::enumerate(chunks))
    if (chunk.getIndex() != static_cast<int64_t>(position) + 1)
      return chunk.emitOpError()
             << "index (" << chunk.getIndex() << ") is out of order; chunk #"
             << position + 1 << " of the policy must have index "
             << position + 1;
  return success();
}

//===----------------------------------------------------------------------===//
// Geometry and growth
//===----------------------------------------------------------------------===//

LogicalResult GeometryOp::verify() {
  Operation *op = getOperation();
  if (failed(verifyPositive(op, "layers", getLayers())) ||
      failed(verifyPositive(op, "heads", getHeads())) ||
      failed(verifyPositive(op, "tokens_per_frame", getTokensPerFrame())) ||
      failed(verifyPositive(op, "frames_per_chunk", getFramesPerChunk())) ||
      failed(verifyPositive(op, "chunks", getChunks())) ||
      failed(verifyPositive(op, "passes_per_chunk", getPassesPerChunk())))
    return failure();
  if (getHeadDim() != 64 && getHeadDim() != 128)
    return emitOpError() << "head_dim (" << getHeadDim()
                         << ") is not supported; supported: 64, 128";
  if (getDtype() != "bf16" && getDtype() != "f16")
    return emitOpError() << "dtype \"" << getDtype()
                         << "\" is not supported; supported: \"bf16\", \"f16\"";
  if (getKvWindowFrames() < 0 ||
      (getKvWindowFrames() > 0 && getKvWindowFrames() < getFramesPerChunk()))
    return emitOpError() << "kv_window_frames (" << getKvWindowFrames()
                         << ") must be 0 (global cache) or at least "
                            "frames_per_chunk ("
                         << getFramesPerChunk()
                         << ") so the window holds the current chunk";
  if (getSinkFrames() < 0)
    return emitOpError() << "sink_frames (" << getSinkFrames()
                         << ") must be 0 or positive";
  return success();
}

LogicalResult GrowthChunkAwareOp::verify() {
  Operation *op = getOperation();
  double target = getTarget().convertToDouble();
  double base = getBase().convertToDouble();
  if (failed(verifySparsity(op, "target", target)) ||
      failed(verifySparsity(op, "base", base)))
    return failure();
  if (!(target < base))
    return emitOpError() << "target (" << target << ") must be below base ("
                         << base
                         << "): later chunks grow from the target towards "
                            "the base sparsity";
  return success();
}

LogicalResult GrowthConstantOp::verify() {
  return verifySparsity(getOperation(), "sparsity",
                        getSparsity().convertToDouble());
}

static LogicalResult verifySparsityList(Operation *op,
                                        ArrayRef<double> values) {
  if (values.empty())
    return op->emitOpError()
           << "sparsity is empty; give one value in [0, 1) per chunk";
  for (auto [position, value] : llvm::enumerate(values))
    if (failed(verifySparsity(
            op, ("sparsity of chunk " + llvm::Twine(position + 1)).str(),
            value)))
      return failure();
  return success();
}

LogicalResult GrowthExplicitOp::verify() {
  return verifySparsityList(getOperation(), getSparsity());
}

LogicalResult ScheduleOp::verify() {
  return verifySparsityList(getOperation(), getSparsity());
}

//===----------------------------------------------------------------------===//
// Selection and chunks
//===----------------------------------------------------------------------===//

LogicalResult SelectOp::verify() {
  Operation *op = getOperation();
  if (failed(verifyBlockSize(op, "block_q", getBlockQ())) ||
      failed(verifyBlockSize(op, "block_k", getBlockK())))
    return failure();
  if (getRefresh() != "every_pass" && getRefresh() != "per_chunk")
    return emitOpError() << "refresh \"" << getRefresh()
                         << "\" is not supported; supported: \"every_pass\", "
                            "\"per_chunk\"";
  return verifyYieldTerminated(op, getBody());
}

LogicalResult ChunkOp::verify() {
  Operation *op = getOperation();
  if (failed(verifyPositive(op, "index", getIndex())) ||
      failed(verifySparsity(op, "sparsity", getSparsity().convertToDouble())) ||
      failed(verifyPositive(op, "visible_frames", getVisibleFrames())) ||
      failed(verifyPositive(op, "query_tokens", getQueryTokens())) ||
      failed(verifyPositive(op, "kv_tokens", getKvTokens())) ||
      failed(verifyPositive(op, "query_blocks", getQueryBlocks())) ||
      failed(verifyPositive(op, "key_blocks", getKeyBlocks())))
    return failure();
  if (getKeptKeyBlocks() < 0 || getKeptKeyBlocks() > getKeyBlocks())
    return emitOpError() << "kept_key_blocks (" << getKeptKeyBlocks()
                         << ") must be in [0, key_blocks = " << getKeyBlocks()
                         << "]";
  int64_t visible = getVisibleFrames();
  int64_t classified = 0;
  for (auto [name, frames] :
       {std::pair<StringRef, ArrayRef<int64_t>>{"sink", getSink()},
        {"near", getNear()},
        {"middle", getMiddle()},
        {"current", getCurrent()}}) {
    for (int64_t frame : frames)
      if (frame < 0 || frame >= visible)
        return emitOpError()
               << name << " frame " << frame
               << " is outside the visible frames [0, " << visible << ")";
    classified += frames.size();
  }
  if (classified != visible)
    return emitOpError() << "sink, near, middle and current classify "
                         << classified << " frames but visible_frames is "
                         << visible << "; every visible frame has one class";
  int64_t past = visible - static_cast<int64_t>(getCurrent().size());
  if (getFramesKept() < 0 || getFramesKept() > past)
    return emitOpError() << "frames_kept (" << getFramesKept()
                         << ") must be in [0, " << past
                         << "] (the past frames of this chunk)";
  return verifyYieldTerminated(op, getBody());
}

//===----------------------------------------------------------------------===//
// Mask building blocks
//===----------------------------------------------------------------------===//

LogicalResult SinkFramesOp::verify() {
  if (getCount() > 0)
    return success();
  return emitOpError() << "count (" << getCount()
                       << ") must be positive; drop the op to keep no sink "
                          "frames";
}

LogicalResult NearFramesOp::verify() {
  if (getCount() > 0)
    return success();
  return emitOpError() << "count (" << getCount()
                       << ") must be positive; drop the op to keep no near "
                          "frames";
}

LogicalResult SlidingWindowOp::verify() {
  std::optional<int64_t> frames = getFrames();
  std::optional<int64_t> tokens = getTokens();
  if (frames.has_value() == tokens.has_value())
    return emitOpError() << "needs exactly one of 'frames' or 'tokens', got "
                         << (frames ? "both" : "neither");
  if (frames)
    return verifyPositive(getOperation(), "frames", *frames);
  return verifyPositive(getOperation(), "tokens", *tokens);
}

LogicalResult RadialOp::verify() {
  if (failed(verifyPositive(getOperation(), "decay_frames", getDecayFrames())))
    return failure();
  double minDensity = getMinDensity().convertToDouble();
  if (!(minDensity > 0.0 && minDensity <= 1.0))
    return emitOpError() << "min_density (" << minDensity
                         << ") must be in (0, 1]";
  return success();
}

LogicalResult FramesOp::verify() {
  auto chunk = (*this)->getParentOfType<ChunkOp>();
  if (!chunk)
    return emitOpError() << "is only valid inside lf.chunk (it is produced by "
                            "lf-specialize-chunks); in lf.select use "
                            "lf.sink_frames, lf.near_frames or "
                            "lf.current_chunk";
  int64_t previous = -1;
  for (int64_t frame : getFrames()) {
    if (frame <= previous)
      return emitOpError() << "frames must be strictly increasing, got "
                           << frame << " after " << previous;
    if (frame >= chunk.getVisibleFrames())
      return emitOpError() << "frame " << frame
                           << " is outside the chunk's visible frames [0, "
                           << chunk.getVisibleFrames() << ")";
    previous = frame;
  }
  return success();
}

LogicalResult FrameTopkOp::verify() {
  if (failed(verifyPositive(getOperation(), "k", getK())) ||
      failed(verifyScore(getOperation(), getScore())))
    return failure();
  int64_t always = 0;
  for (auto [position, operand] : llvm::enumerate(getAlways())) {
    std::optional<int64_t> count = staticFrameCount(operand);
    if (!count) {
      Operation *def = operand.getDefiningOp();
      return emitOpError()
             << "operand #" << position
             << " must be a static set of past frames (lf.sink_frames, "
                "lf.near_frames, lf.sliding_window {frames}, lf.frames), got "
             << (def ? def->getName().getStringRef()
                     : StringRef("a block argument"));
    }
    always += *count;
  }
  if (getK() < always)
    return emitOpError() << "k (" << getK() << ") is smaller than the "
                         << always
                         << " frames its operands always keep; k counts every "
                            "kept past frame, so use k >= "
                         << always;
  return success();
}

LogicalResult BlockTopkOp::verify() {
  if (failed(verifyScore(getOperation(), getScore())))
    return failure();
  std::optional<double> density;
  if (getDensity())
    density = getDensity()->convertToDouble();
  if (getBudget() == "growth") {
    if (density)
      return emitOpError() << "density is only meaningful with budget = "
                              "\"density\"; budget \"growth\" takes the "
                              "chunk's sparsity from the schedule";
    return success();
  }
  if (getBudget() != "density")
    return emitOpError() << "budget \"" << getBudget()
                         << "\" is not supported; supported: \"growth\", "
                            "\"density\"";
  if (!density)
    return emitOpError()
           << "budget \"density\" needs a density attribute in (0, 1]";
  if (!(*density > 0.0 && *density <= 1.0))
    return emitOpError() << "density (" << *density << ") must be in (0, 1]";
  return success();
}

LogicalResult MassThresholdOp::verify() {
  if (failed(verifyScore(getOperation(), getScore())))
    return failure();
  double mass = getMass().convertToDouble();
  if (!(mass > 0.0 && mass <= 1.0))
    return emitOpError() << "mass (" << mass << ") must be in (0, 1]";
  return success();
}

LogicalResult UnionOp::verify() {
  if (!getInputs().empty())
    return success();
  return emitOpError() << "needs at least one operand";
}
