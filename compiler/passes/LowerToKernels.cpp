//===- LowerToKernels.cpp - lf-lower-to-kernels: lf.policy to lf.plan -----===//
//
// Every decision of the plan artifact is taken here and written into the
// kernel-level ops (dialect/LfKernelOps.td); the plan printer
// (compiler/emit/) only spells them. docs/lowering.md explains each decision.
//
//   1. The selected mask's form: a static expression, the HSA frame stage, or
//      the two restricted to each other, optionally under one block top-k.
//   2. Per chunk: the manifest fields and which kernels run it (dense, select
//      + kept list, or static mask).
//   3. Per kernel: name, chunks, archs, headers, static mask, attention config
//      (tiles from the runtime's own catalog) and entries.
//
//===----------------------------------------------------------------------===//

#include "compiler/lower/KernelCatalog.h"
#include "compiler/passes/MaskForm.h"
#include "compiler/passes/Passes.h"
#include "dialect/LfStaticMask.h"
#include "kernels_templates/lfc/abi.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <string>

namespace mlir::lf {
#define GEN_PASS_DEF_LOWERTOKERNELS
#include "compiler/passes/Passes.h.inc"
} // namespace mlir::lf

using namespace mlir;
using namespace mlir::lf;

namespace {

// Static mask arguments become `int` template arguments.
constexpr int64_t kMaxTemplateInt = std::numeric_limits<int32_t>::max();
// Opt-in dynamic shared memory per CTA: every sm_90a part (H100, H200) has
// 227 KiB; 99 KiB is the smallest among the other supported archs (sm_86,
// sm_89, sm_120), so portable kernels (the select kernel too) fit in it.
constexpr int64_t kGenericShared = 99 * 1024;
constexpr int64_t kSm90aShared = 227 * 1024;
// Threads of the selection entries (lfc::selectBlocks<T, 256, ...>).
constexpr int64_t kSelectThreads = 256;
// ceil(min_density * T) is mathematically an integer for many inputs (0.1 *
// 1560 = 156) but binary floating point can land just above it; within this
// relative distance it counts as that integer (as budgets do in
// lf-specialize-chunks).
constexpr double kRelativeEpsilon = 1e-9;

/// One arch family of attention kernels.
struct ArchFamily {
  StringRef arch;      // what chooseAttnVariant is asked for
  StringRef archsAttr; // the kernel's archs ("" = portable)
  StringRef nameTag;   // in the kernel name ("" = portable)
  int64_t maxShared;
  StringRef description;
};

// Hopper gets its own kernels (wgmma, TMA); every other supported arch
// (sm_80, sm_86, sm_89, sm_100a, sm_120) runs the portable ones, sized for the
// smallest opt-in shared memory among them (99 KiB on sm_86/89/120).
const ArchFamily kFamilies[] = {
    {"sm_90a", "sm_90a", "sm90a", kSm90aShared, "sm_90a"},
    {"sm_80", "", "", kGenericShared, "portable (sm_80 and later)"},
};

//===----------------------------------------------------------------------===//
// 1. The form of the selected mask
//===----------------------------------------------------------------------===//

bool isStaticMaskOp(Operation *op) {
  return isa<SinkFramesOp, NearFramesOp, CurrentChunkOp, SlidingWindowOp,
             RadialOp, FramesOp>(op);
}

/// Whether `mask` is known from the chunk index alone.
bool isStatic(Value mask) {
  Operation *def = mask.getDefiningOp();
  if (!def)
    return false;
  if (isStaticMaskOp(def))
    return true;
  if (isa<UnionOp, RestrictOp>(def))
    return llvm::all_of(def->getOperands(), isStatic);
  return false;
}

bool containsFrameTopk(Value mask) {
  Operation *def = mask.getDefiningOp();
  if (!def)
    return false;
  if (isa<FrameTopkOp>(def))
    return true;
  return llvm::any_of(def->getOperands(), containsFrameTopk);
}

const char kSupportedForms[] =
    "supported selected masks: a static expression (lf.sink_frames, "
    "lf.near_frames, lf.current_chunk, lf.sliding_window, lf.radial, lf.union, "
    "lf.restrict); the frame stage lf.union(lf.frame_topk, its sink/near "
    "operands, lf.current_chunk); or lf.restrict of the two; each optionally "
    "under one lf.block_topk (docs/lowering.md)";

class MaskAnalysis {
public:
  MaskAnalysis(GeometryOp geometry, SelectOp select, ArrayRef<ChunkOp> chunks)
      : geometry(geometry), select(select), chunks(chunks) {
    select.walk([&](SinkFramesOp sink) {
      policySink = std::max(policySink, sink.getCount());
    });
  }

  FailureOr<MaskForm> run();

private:
  /// `sinkBeside`: the sink frames a union keeps beside `mask` (checkNear).
  FailureOr<StaticMaskExpr> translate(Value mask, int64_t sinkBeside = 0);
  LogicalResult frameStage(UnionOp frameUnion, MaskForm &form);
  LogicalResult diagnose(Value mask);
  LogicalResult checkDistances(Operation *op, int64_t reachTokens,
                               StringRef what);
  LogicalResult checkNear(NearFramesOp near, int64_t sinkBeside);
  std::optional<int64_t> someChunkWhere(llvm::function_ref<bool(int64_t)> pred);

  GeometryOp geometry;
  SelectOp select;
  ArrayRef<ChunkOp> chunks;
  /// The sink frames lf-specialize-chunks classifies: the largest count.
  int64_t policySink = 0;
};

/// The first chunk whose past frame count satisfies `pred`.
std::optional<int64_t>
MaskAnalysis::someChunkWhere(llvm::function_ref<bool(int64_t)> pred) {
  for (ChunkOp chunk : chunks)
    if (pred(chunk.getVisibleFrames() -
             static_cast<int64_t>(chunk.getCurrent().size())))
      return chunk.getIndex();
  return std::nullopt;
}

/// Static masks measure distance in positions of the logical KV sequence
/// (docs/static-masks.md); lf.sliding_window and lf.radial measure temporal
/// distance. They differ only for the sink frames of a rolling window that has
/// started dropping frames, which sit at logical positions 0..S-1 but are
/// temporally far away: such a mask must not reach them.
LogicalResult MaskAnalysis::checkDistances(Operation *op, int64_t reachTokens,
                                           StringRef what) {
  int64_t window = geometry.getKvWindowFrames();
  int64_t sinks = geometry.getSinkFrames();
  int64_t framesPerChunk = geometry.getFramesPerChunk();
  if (window == 0 || sinks == 0 ||
      geometry.getChunks() * framesPerChunk <= sinks + window)
    return success();
  // Past frames between the sink frames and the chunk once the window is full.
  int64_t windowPast = window - framesPerChunk;
  if (reachTokens <= windowPast * geometry.getTokensPerFrame())
    return success();
  return op->emitOpError()
         << what
         << " reaches the cache's sink frames, whose temporal distance is not "
            "their position in the rolling window; a static mask measures "
            "positions (docs/static-masks.md), so this cannot be lowered "
            "exactly. Keep the reach within the "
         << windowPast
         << " past frames of the window, or use a global cache or "
            "sink_frames = 0";
}

/// lf.near_frames never includes the policy's sink frames; near(N) does when
/// the past is shorter than sink + N. Exact only when the sink frames are kept
/// beside it anyway (`sinkBeside` = the sink count of a sibling union operand
/// or of the frame stage).
LogicalResult MaskAnalysis::checkNear(NearFramesOp near, int64_t sinkBeside) {
  int64_t count = near.getCount();
  if (policySink == 0 || sinkBeside >= policySink)
    return success();
  std::optional<int64_t> chunk = someChunkWhere(
      [&](int64_t past) { return past > 0 && past < policySink + count; });
  if (!chunk)
    return success();
  return near.emitOpError()
         << "excludes the policy's " << policySink
         << " sink frame(s), which near(" << count
         << ") of a static mask would not in chunk " << *chunk
         << " (its past is shorter than sink + near); put an lf.sink_frames "
            "{count = "
         << policySink << "} beside it in the same lf.union";
}

FailureOr<StaticMaskExpr> MaskAnalysis::translate(Value mask,
                                                  int64_t sinkBeside) {
  Operation *def = mask.getDefiningOp();
  auto argument = [&](int64_t value, StringRef name) -> FailureOr<int64_t> {
    if (value >= 0 && value <= kMaxTemplateInt)
      return value;
    return def->emitOpError() << name << " (" << value
                              << ") does not fit the kernels' int template "
                                 "arguments (at most 2147483647)";
  };
  using Kind = StaticMaskExpr::Kind;
  if (auto sink = dyn_cast<SinkFramesOp>(def)) {
    FailureOr<int64_t> count = argument(sink.getCount(), "count");
    if (failed(count))
      return failure();
    return StaticMaskExpr::term(Kind::Sink, {*count});
  }
  if (auto near = dyn_cast<NearFramesOp>(def)) {
    FailureOr<int64_t> count = argument(near.getCount(), "count");
    if (failed(count) || failed(checkNear(near, sinkBeside)))
      return failure();
    return StaticMaskExpr::term(Kind::Near, {*count});
  }
  if (isa<CurrentChunkOp>(def))
    return StaticMaskExpr::term(Kind::Current);
  if (auto window = dyn_cast<SlidingWindowOp>(def)) {
    bool frames = window.getFrames().has_value();
    int64_t reach = frames ? *window.getFrames() : *window.getTokens();
    FailureOr<int64_t> value = argument(reach, frames ? "frames" : "tokens");
    if (failed(value) ||
        failed(checkDistances(
            def, frames ? reach * geometry.getTokensPerFrame() : reach,
            "this sliding window")))
      return failure();
    return StaticMaskExpr::term(
        frames ? Kind::WindowFrames : Kind::WindowTokens, {*value});
  }
  if (auto radial = dyn_cast<RadialOp>(def)) {
    int64_t tokensPerFrame = geometry.getTokensPerFrame();
    double exact = radial.getMinDensity().convertToDouble() *
                   static_cast<double>(tokensPerFrame);
    auto narrowest = static_cast<int64_t>(
        std::ceil(exact - kRelativeEpsilon * std::max(1.0, exact)));
    narrowest = std::clamp<int64_t>(narrowest, 1, tokensPerFrame);
    FailureOr<int64_t> decay =
        argument(radial.getDecayFrames(), "decay_frames");
    if (failed(decay) ||
        failed(checkDistances(def, std::numeric_limits<int64_t>::max(),
                              "lf.radial (every past frame)")))
      return failure();
    return StaticMaskExpr::term(Kind::Radial, {*decay, narrowest});
  }
  if (auto frames = dyn_cast<FramesOp>(def))
    return StaticMaskExpr::term(Kind::Frames, frames.getFrames());
  if (auto unionOp = dyn_cast<UnionOp>(def)) {
    int64_t sinkBeside = 0;
    for (Value input : unionOp.getInputs())
      if (auto sink = input.getDefiningOp<SinkFramesOp>())
        sinkBeside = std::max(sinkBeside, sink.getCount());
    SmallVector<StaticMaskExpr> operands;
    for (Value input : unionOp.getInputs()) {
      FailureOr<StaticMaskExpr> operand = translate(input, sinkBeside);
      if (failed(operand))
        return failure();
      operands.push_back(std::move(*operand));
    }
    return StaticMaskExpr::unionOf(operands);
  }
  if (auto restrict = dyn_cast<RestrictOp>(def)) {
    FailureOr<StaticMaskExpr> input = translate(restrict.getInput());
    if (failed(input))
      return failure();
    FailureOr<StaticMaskExpr> domain = translate(restrict.getDomain());
    if (failed(domain))
      return failure();
    return StaticMaskExpr::restrictOf(std::move(*input), std::move(*domain));
  }
  return def->emitOpError() << "is not a static mask; " << kSupportedForms;
}

/// The HSA frame stage: lf.union(lf.frame_topk %always..., %always...,
/// lf.current_chunk). The frame top-k's own result already holds its always
/// operands, so the union may name them or not; the current chunk must be
/// there (the frame stage always keeps it).
LogicalResult MaskAnalysis::frameStage(UnionOp frameUnion, MaskForm &form) {
  FrameTopkOp topk;
  bool current = false;
  for (Value input : frameUnion.getInputs()) {
    if (auto candidate = input.getDefiningOp<FrameTopkOp>()) {
      if (topk && candidate != topk)
        return candidate.emitOpError()
               << "is the second lf.frame_topk of this union; the frame stage "
                  "selects with one";
      topk = candidate;
    }
  }
  SinkFramesOp sink;
  NearFramesOp near;
  for (auto [position, always] : llvm::enumerate(topk.getAlways())) {
    Operation *def = always.getDefiningOp();
    if (auto sinkOp = dyn_cast_or_null<SinkFramesOp>(def); sinkOp && !sink) {
      sink = sinkOp;
      continue;
    }
    if (auto nearOp = dyn_cast_or_null<NearFramesOp>(def); nearOp && !near) {
      near = nearOp;
      continue;
    }
    return topk.emitOpError()
           << "operand #" << position
           << " cannot be lowered: the frame stage keeps at most one "
              "lf.sink_frames and one lf.near_frames operand always "
              "(docs/selection-semantics.md), got "
           << (def ? def->getName().getStringRef() : StringRef("an argument"));
  }
  for (Value input : frameUnion.getInputs()) {
    Operation *def = input.getDefiningOp();
    if (def == topk.getOperation() || (sink && def == sink.getOperation()) ||
        (near && def == near.getOperation()))
      continue;
    if (isa_and_nonnull<CurrentChunkOp>(def)) {
      current = true;
      continue;
    }
    return (def ? def : frameUnion.getOperation())->emitOpError()
           << "cannot be an operand of the frame stage's lf.union, which may "
              "hold only the lf.frame_topk, its always-kept operands and "
              "lf.current_chunk; combine a static mask with the frame stage "
              "through lf.restrict instead";
  }
  if (!current)
    return frameUnion.emitOpError()
           << "forms the frame stage but lacks lf.current_chunk: the frame "
              "stage always keeps the current chunk, so add it to this union";
  form.sinkFrames = sink ? sink.getCount() : 0;
  form.nearFrames = near ? near.getCount() : 0;
  form.framesTopK = topk.getK();
  if (near && failed(checkNear(near, form.sinkFrames)))
    return failure();
  return success();
}

/// Reports the op that makes `mask` unsupported.
LogicalResult MaskAnalysis::diagnose(Value mask) {
  Operation *def = mask.getDefiningOp();
  if (!def)
    return select.emitOpError() << "selects a mask that is not defined by an "
                                   "lf op; "
                                << kSupportedForms;
  if (auto mass = dyn_cast<MassThresholdOp>(def))
    return mass.emitOpError()
           << "has no kernel lowering: the CUDA kernels keep a fixed number "
              "of blocks per query block (lf.block_topk), not a mass; "
           << kSupportedForms;
  if (auto topk = dyn_cast<BlockTopkOp>(def))
    return topk.emitOpError()
           << "must be the selected mask itself: the block stage runs last, "
              "over every other stage; "
           << kSupportedForms;
  if (auto topk = dyn_cast<FrameTopkOp>(def))
    return topk.emitOpError()
           << "must be an operand of the lf.union that forms the frame stage "
              "(with lf.current_chunk), directly selected or restricted by a "
              "static mask; "
           << kSupportedForms;
  for (Value operand : def->getOperands())
    if (!isStatic(operand))
      return diagnose(operand);
  return def->emitOpError() << "cannot be lowered; " << kSupportedForms;
}

FailureOr<MaskForm> MaskAnalysis::run() {
  MaskForm form;
  Value mask =
      cast<YieldOp>(select.getBody().front().getTerminator()).getValue();
  if (auto topk = mask.getDefiningOp<BlockTopkOp>()) {
    form.blockStage = true;
    mask = topk.getInput();
  }
  // (a) static
  if (isStatic(mask)) {
    FailureOr<StaticMaskExpr> expr = translate(mask);
    if (failed(expr))
      return failure();
    form.staticMask = std::move(*expr);
    return form;
  }
  auto isFrameUnion = [](Value value) {
    auto unionOp = value.getDefiningOp<UnionOp>();
    return unionOp && llvm::any_of(unionOp.getInputs(), [](Value input) {
             return input.getDefiningOp<FrameTopkOp>() != nullptr;
           });
  };
  // (b) the frame stage
  if (isFrameUnion(mask)) {
    if (failed(frameStage(mask.getDefiningOp<UnionOp>(), form)))
      return failure();
    return form;
  }
  // (c) the frame stage restricted to a static mask (either order)
  if (auto restrict = mask.getDefiningOp<RestrictOp>()) {
    Value dynamic = restrict.getInput(), domain = restrict.getDomain();
    if (isStatic(dynamic))
      std::swap(dynamic, domain);
    if (isFrameUnion(dynamic) && isStatic(domain)) {
      if (failed(frameStage(dynamic.getDefiningOp<UnionOp>(), form)))
        return failure();
      FailureOr<StaticMaskExpr> expr = translate(domain);
      if (failed(expr))
        return failure();
      form.staticMask = std::move(*expr);
      return form;
    }
  }
  if (failed(diagnose(mask)))
    return failure();
  return failure();
}

//===----------------------------------------------------------------------===//
// 2 and 3. Chunks and kernels
//===----------------------------------------------------------------------===//

/// How a chunk's attention runs.
enum class Step { Dense, KeptList, Static };

StringRef maskMode(Step step) {
  switch (step) {
  case Step::Dense:
    return "dense";
  case Step::KeptList:
    return "list";
  case Step::Static:
    return "static";
  }
  return "";
}

/// "self_forcing_short" -> itself; anything else becomes a C identifier
/// prefix.
std::string planName(StringRef symbol) {
  std::string name;
  for (char c : symbol)
    name += llvm::isAlnum(c) || c == '_' ? c : '_';
  if (name.empty() || llvm::isDigit(name.front()))
    name = "plan_" + name;
  return name;
}

/// The policy file: the first file location on the policy op.
std::string sourceOf(Operation *op) {
  std::string source;
  op->getLoc()->walk([&](Location loc) {
    if (auto file = dyn_cast<FileLineColLoc>(loc)) {
      source = file.getFilename().str();
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return source;
}

class PlanBuilder {
public:
  PlanBuilder(PolicyOp policy, const MaskForm &form)
      : policy(policy), geometry(policy.getGeometry()),
        select(policy.getSelect()), form(form),
        name(planName(policy.getSymName())), builder(policy.getContext()) {}

  LogicalResult build();

private:
  LogicalResult checkKernelShapes();
  void addChunks();
  LogicalResult addSelectKernel(ArrayRef<int64_t> served);
  LogicalResult addAttentionKernels(Step step, ArrayRef<int64_t> served);
  KernelOp createKernel(Location loc, StringRef kernelName, StringRef summary,
                        ArrayRef<int64_t> served, StringRef archs);
  void addStaticMask(const StaticMaskExpr &mask);
  FailureOr<std::string> maskTag(const StaticMaskExpr &mask);
  std::string dtypeTag() {
    return geometry.getDtype() == "bf16" ? "bf16" : "fp16";
  }

  PolicyOp policy;
  GeometryOp geometry;
  SelectOp select;
  const MaskForm &form;
  std::string name;
  OpBuilder builder;
  SmallVector<ChunkOp> chunks;
  SmallVector<Step> steps;
};

LogicalResult PlanBuilder::checkKernelShapes() {
  // The verifiers admit only these today; checked again here because the
  // kernel catalog would otherwise report them without a location.
  if (geometry.getHeadDim() != 64 && geometry.getHeadDim() != 128)
    return geometry.emitOpError() << "head_dim (" << geometry.getHeadDim()
                                  << ") has no CUDA kernel; supported: 64, 128";
  if (geometry.getDtype() != "bf16" && geometry.getDtype() != "f16")
    return geometry.emitOpError() << "dtype \"" << geometry.getDtype()
                                  << "\" has no CUDA kernel; supported: "
                                     "\"bf16\", \"f16\"";
  for (int64_t block : {select.getBlockQ(), select.getBlockK()})
    if (block < 16 || block > 256 || !llvm::isPowerOf2_64(block))
      return select.emitOpError()
             << "block_q (" << select.getBlockQ() << ") and block_k ("
             << select.getBlockK()
             << ") must be powers of two in 16..256 for the CUDA kernels";
  if (geometry.getTokensPerFrame() > kMaxTemplateInt)
    return geometry.emitOpError()
           << "tokens_per_frame (" << geometry.getTokensPerFrame()
           << ") does not fit the kernels' int arithmetic";
  return success();
}

void PlanBuilder::addChunks() {
  for (auto [chunk, step] : llvm::zip(chunks, steps)) {
    bool dense = step == Step::Dense;
    builder.create<PlanChunkOp>(
        chunk.getLoc(), chunk.getIndex(), chunk.getSparsity(), dense,
        chunk.getVisibleFrames(), chunk.getQueryBlocks(), chunk.getKeyBlocks(),
        dense ? chunk.getKeyBlocks() : chunk.getKeptKeyBlocks(),
        select.getBlockQ(), select.getBlockK(), form.sinkFrames,
        form.nearFrames, form.framesTopK, chunkStaticMask(form, chunk).text(),
        select.getRefresh());
  }
}

FailureOr<std::string> PlanBuilder::maskTag(const StaticMaskExpr &mask) {
  std::string tag, error;
  if (!lfc::lower::staticMaskTag(mask.text(), tag, error))
    return select.emitOpError()
           << "internal: the static mask '" << mask.text()
           << "' is rejected by the runtime's parser: " << error;
  return tag;
}

KernelOp PlanBuilder::createKernel(Location loc, StringRef kernelName,
                                   StringRef summary, ArrayRef<int64_t> served,
                                   StringRef archs) {
  // Portable kernels have no archs attribute at all.
  ArrayAttr archList =
      archs.empty() ? ArrayAttr() : builder.getStrArrayAttr({archs});
  auto kernel =
      builder.create<KernelOp>(loc, kernelName, summary, geometry.getDtype(),
                               geometry.getHeadDim(), served, archList);
  kernel.getBody().push_back(new Block());
  return kernel;
}

void PlanBuilder::addStaticMask(const StaticMaskExpr &mask) {
  builder.create<StaticMaskOp>(select.getLoc(), mask.text(), mask.cppType());
}

LogicalResult PlanBuilder::addSelectKernel(ArrayRef<int64_t> served) {
  // Shared memory for the largest chunk served.
  int64_t keyBlocks = 0, frames = 0;
  for (int64_t index : served) {
    keyBlocks = std::max(keyBlocks, chunks[index - 1].getKeyBlocks());
    frames = std::max(frames, chunks[index - 1].getVisibleFrames());
  }
  // Up to LFC_SELECT_GROUP query blocks per CTA, as many as fit next to the
  // kernel's static shared memory on every supported GPU.
  int64_t stride = LFC_SELECT_SHARED_STRIDE(keyBlocks, frames);
  int64_t room = kGenericShared - LFC_SELECT_STATIC_BYTES;
  if (stride > room)
    return select.emitOpError()
           << "the select kernel needs " << stride
           << " bytes of shared memory for " << keyBlocks << " key blocks and "
           << frames << " frames, more than every supported GPU offers ("
           << room << "); use a larger block_k";
  int64_t shared = LFC_SELECT_SHARED_BYTES(
      std::min<int64_t>(LFC_SELECT_GROUP, room / stride), keyBlocks, frames);

  const StaticMaskExpr &mask = form.staticMask;
  std::string kernelName = name + "_select_" + dtypeTag() + "_d" +
                           std::to_string(geometry.getHeadDim());
  if (!mask.isAll()) {
    FailureOr<std::string> tag = maskTag(mask);
    if (failed(tag))
      return failure();
    kernelName += "_static_" + *tag;
  }
  std::string summary =
      "selection entries: commit keys, pool keys, select (" +
      (form.framesTopK
           ? "frame top-" + std::to_string(form.framesTopK) + ", then "
           : std::string()) +
      "block top-k within static mask " + mask.text() + ")";
  Location loc = select.getLoc();
  KernelOp kernel = createKernel(loc, kernelName, summary, served, "");
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(&kernel.getBody().front());
  builder.create<KernelIncludeOp>(loc, "lfc/selection.cuh");
  builder.create<KernelIncludeOp>(loc, "lfc/static_mask.cuh");
  addStaticMask(mask);
  std::string symbol = lfc::lower::entrySymbol(kernelName);
  struct EntrySpec {
    const char *suffix, *role, *params;
    bool ranks; // the select entry: shared memory for its ranking
  };
  for (const EntrySpec &spec :
       {EntrySpec{"_commit", "commit_keys", "LfcCommitParams", false},
        EntrySpec{"_pool", "pool_keys", "LfcPoolKeysParams", false},
        EntrySpec{"_select", "select", "LfcSelectParams", true}}) {
    // Every selection grid depends on run-time work (committed rows, query
    // blocks per CTA): the rule is the one documented with its params struct.
    ArrayAttr grid = builder.getStrArrayAttr({"params"});
    builder.create<KernelEntryOp>(
        loc, symbol + spec.suffix, spec.role, spec.params, grid,
        ArrayRef<int64_t>{kSelectThreads, 1, 1},
        ArrayRef<int64_t>{kSelectThreads}, spec.ranks ? shared : 0,
        /*tile_q=*/0, StringAttr(), StringAttr(), IntegerAttr(), IntegerAttr(),
        IntegerAttr());
  }
  return success();
}

LogicalResult PlanBuilder::addAttentionKernels(Step step,
                                               ArrayRef<int64_t> served) {
  bool dense = step == Step::Dense;
  bool isStaticStep = step == Step::Static;
  int64_t blockQ = select.getBlockQ(), blockK = select.getBlockK();
  int64_t headDim = geometry.getHeadDim();
  int64_t tokensPerFrame = geometry.getTokensPerFrame();
  std::string staticTag;
  if (isStaticStep) {
    FailureOr<std::string> tag = maskTag(form.staticMask);
    if (failed(tag))
      return failure();
    staticTag = *tag;
  }
  Location loc = select.getLoc();
  for (const ArchFamily &family : kFamilies) {
    lfc::lower::AttentionTiles tiles;
    std::string error;
    if (!lfc::lower::chooseAttentionTiles(
            family.arch.str(), geometry.getDtype() == "bf16",
            static_cast<int>(headDim), static_cast<int>(blockQ),
            static_cast<int>(blockK), dense, static_cast<int>(family.maxShared),
            tiles, error))
      return select.emitOpError() << "has no " << family.description
                                  << " attention kernel: " << error;
    bool tma = tiles.kernel == "tma";
    bool wgmma = tiles.kernel != "mma";
    // The runtime's naming scheme (lfc::cuda::kernelName), with the plan's
    // name for "lfc" and no arch tag for the portable family.
    std::string kernelName = name + "_attn";
    if (!family.nameTag.empty())
      kernelName += "_" + family.nameTag.str();
    kernelName += "_" + dtypeTag() + "_d" + std::to_string(headDim);
    if (!dense)
      kernelName +=
          "_bq" + std::to_string(blockQ) + "_bk" + std::to_string(blockK);
    kernelName += "_tq" + std::to_string(tiles.tileQ) + "_tk" +
                  std::to_string(tiles.tileK) + "_w" +
                  std::to_string(tiles.warps);
    if (wgmma)
      kernelName += "_wgmma";
    if (tma)
      kernelName += "_tma_s" + std::to_string(tiles.stages);
    if (tiles.kernel == "wgmma_mbar")
      kernelName += "_mbar";
    if (isStaticStep)
      kernelName +=
          "_tpf" + std::to_string(tokensPerFrame) + "_static_" + staticTag;
    else
      kernelName += dense ? "_dense" : "_list";

    StringRef header = tma     ? "lfc/attention_sm90_tma.cuh"
                       : wgmma ? "lfc/attention_sm90.cuh"
                               : "lfc/attention.cuh";
    StringRef kernelKind = tma ? "wgmma + TMA warp-specialized kernel"
                           : tiles.kernel == "wgmma_mbar"
                               ? "wgmma kernel with per-stage mbarriers"
                           : wgmma ? "wgmma kernel"
                                   : "mma.sync kernel";
    std::string summary =
        (dense ? std::string("dense attention")
         : isStaticStep
             ? "block-sparse attention over the blocks of static mask " +
                   form.staticMask.text() + " (no selection)"
             : std::string("block-sparse attention over kept key-block "
                           "lists")) +
        ", " + family.description.str() + " " + kernelKind.str();

    KernelOp kernel =
        createKernel(loc, kernelName, summary, served, family.archsAttr);
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToEnd(&kernel.getBody().front());
    builder.create<KernelIncludeOp>(loc, header);
    if (isStaticStep) {
      builder.create<KernelIncludeOp>(loc, "lfc/static_mask.cuh");
      addStaticMask(form.staticMask);
    }
    builder.create<AttentionConfigOp>(
        loc, tiles.blockQ, tiles.blockK, tiles.tileQ, tiles.tileK, tiles.warps,
        maskMode(step),
        isStaticStep ? builder.getI64IntegerAttr(tokensPerFrame)
                     : IntegerAttr());
    // TMA: one CTA per SM (setmaxnreg redistributes its register cap);
    // wgmma: two CTAs per SM hide one's softmax behind the other's MMAs
    // (runtime/cuda/KernelSources.cpp).
    SmallVector<int64_t> bounds = {tiles.threads};
    if (tma)
      bounds.push_back(1);
    else if (wgmma)
      bounds.push_back(2);
    ArrayAttr grid =
        tma ? builder.getStrArrayAttr({"params"})
            : builder.getStrArrayAttr({"query_tiles", "heads", "batch"});
    builder.create<KernelEntryOp>(
        loc, lfc::lower::entrySymbol(kernelName), "attention",
        tma ? "LfcAttnParams,LfcAttnTmaParams" : "LfcAttnParams", grid,
        ArrayRef<int64_t>{tiles.threads, 1, 1}, bounds, tiles.sharedBytes,
        tiles.tileQ, builder.getStringAttr(tiles.kernel),
        builder.getStringAttr(maskMode(step)),
        builder.getI64IntegerAttr(tiles.tileK),
        builder.getI64IntegerAttr(tiles.warps),
        tma ? builder.getI64IntegerAttr(tiles.stages) : IntegerAttr());
  }
  return success();
}

LogicalResult PlanBuilder::build() {
  if (failed(checkKernelShapes()))
    return failure();
  chunks.assign(policy.getBody().front().getOps<ChunkOp>().begin(),
                policy.getBody().front().getOps<ChunkOp>().end());
  int64_t framesPerChunk = geometry.getFramesPerChunk();
  for (ChunkOp chunk : chunks) {
    int64_t past = chunk.getVisibleFrames() - framesPerChunk;
    bool frameStage = form.framesTopK > 0 && past > form.framesTopK;
    if (chunk.getDense())
      steps.push_back(Step::Dense);
    else if (frameStage || chunk.getKeptKeyBlocks() < chunk.getKeyBlocks())
      steps.push_back(Step::KeptList);
    else
      steps.push_back(Step::Static);
  }

  builder.setInsertionPoint(policy);
  auto plan = builder.create<PlanOp>(policy.getLoc(), name, sourceOf(policy));
  plan.getBody().push_back(new Block());
  builder.setInsertionPointToEnd(&plan.getBody().front());
  builder.clone(*geometry.getOperation());
  addChunks();

  // Chunks with the same step share one kernel per family: the plan's dtype,
  // head_dim, blocks, static mask and tokens per frame are the same for all.
  std::map<Step, SmallVector<int64_t>> served;
  for (auto [chunk, step] : llvm::zip(chunks, steps))
    served[step].push_back(chunk.getIndex());
  LogicalResult result = success();
  if (served.count(Step::KeptList))
    result = addSelectKernel(served[Step::KeptList]);
  for (Step step : {Step::KeptList, Step::Static, Step::Dense})
    if (succeeded(result) && served.count(step))
      result = addAttentionKernels(step, served[step]);
  if (failed(result)) {
    plan.erase();
    return failure();
  }
  policy.erase();
  return success();
}

struct LowerToKernelsPass
    : public mlir::lf::impl::LowerToKernelsBase<LowerToKernelsPass> {
  void runOnOperation() override {
    for (PolicyOp policy :
         llvm::make_early_inc_range(getOperation().getOps<PolicyOp>()))
      if (failed(lower(policy)))
        return signalPassFailure();
  }

  static LogicalResult lower(PolicyOp policy) {
    FailureOr<MaskForm> form = analyzeMaskForm(policy);
    if (failed(form))
      return failure();
    return PlanBuilder(policy, *form).build();
  }
};

} // namespace

FailureOr<MaskForm> mlir::lf::analyzeMaskForm(PolicyOp policy) {
  if (Operation *growth = policy.getGrowth())
    return growth->emitOpError()
           << "is not resolved; run lf-resolve-growth and "
              "lf-specialize-chunks before lf-lower-to-kernels";
  SmallVector<ChunkOp> chunks(policy.getBody().front().getOps<ChunkOp>());
  if (chunks.empty())
    return policy.emitOpError()
           << "is not specialized per chunk; run lf-specialize-chunks "
              "before lf-lower-to-kernels";
  MaskAnalysis analysis(policy.getGeometry(), policy.getSelect(), chunks);
  return analysis.run();
}

std::unique_ptr<Pass> mlir::lf::createLowerToKernelsPass() {
  return std::make_unique<LowerToKernelsPass>();
}
