//===- LfKernelOps.cpp - verifiers of the kernel-level lf operations ------===//
//
// A verified lf.plan is a plan the runtime's loader accepts
// (docs/plan-format.md): the checks here mirror runtime/plan/Plan.cpp, so a
// lowering bug is reported at the op that holds it, before anything is
// printed. Messages say what is wrong and what would be valid.
//
//===----------------------------------------------------------------------===//

#include "dialect/LfOps.h"
#include "dialect/LfStaticMask.h"
#include "kernels_templates/lfc/abi.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/MathExtras.h"

#include <map>
#include <set>
#include <tuple>

using namespace mlir;
using namespace mlir::lf;

namespace {
// Selection blocks the kernels support (as lf.select).
constexpr int64_t kMinBlock = 16;
constexpr int64_t kMaxBlock = 256;
// The largest dynamic shared memory of any supported GPU (sm_90a: 227 KiB).
constexpr int64_t kMaxSharedBytes = 227 * 1024;
// Threads of a CTA.
constexpr int64_t kMaxThreads = 1024;
// Threads of the selection kernels (lfc::selectBlocks' kThreads).
constexpr int64_t kSelectThreads = 256;

bool isBlockSize(int64_t value) {
  return value >= kMinBlock && value <= kMaxBlock && llvm::isPowerOf2_64(value);
}

bool isIdentifier(StringRef name) {
  if (name.empty() || llvm::isDigit(name.front()))
    return false;
  return llvm::all_of(name,
                      [](char c) { return llvm::isAlnum(c) || c == '_'; });
}

bool isArch(StringRef arch) {
  if (!arch.consume_front("sm_"))
    return false;
  arch.consume_back("a");
  return !arch.empty() &&
         llvm::all_of(arch, [](char c) { return llvm::isDigit(c); });
}

/// The params struct(s) the template function of `role` takes; empty when
/// no template implements the role.
StringRef expectedParams(StringRef role, StringRef kernel) {
  if (role == "commit_keys")
    return "LfcCommitParams";
  if (role == "pool_keys")
    return "LfcPoolKeysParams";
  if (role == "select")
    return "LfcSelectParams";
  if (role == "attention")
    return kernel == "tma" ? "LfcAttnParams,LfcAttnTmaParams" : "LfcAttnParams";
  return "";
}

std::string joined(ArrayRef<int64_t> values) {
  std::string out;
  for (auto [position, value] : llvm::enumerate(values))
    out += (position ? ", " : "") + std::to_string(value);
  return out;
}
} // namespace

//===----------------------------------------------------------------------===//
// lf.plan
//===----------------------------------------------------------------------===//

GeometryOp PlanOp::getGeometry() {
  auto range = getBody().front().getOps<GeometryOp>();
  return range.empty() ? GeometryOp() : *range.begin();
}

LogicalResult PlanOp::verifyRegions() {
  Block &body = getBody().front();
  SmallVector<GeometryOp> geometries(body.getOps<GeometryOp>());
  SmallVector<PlanChunkOp> chunks(body.getOps<PlanChunkOp>());
  SmallVector<KernelOp> kernels(body.getOps<KernelOp>());
  if (geometries.size() != 1 || &body.front() != geometries.front())
    return emitOpError() << "needs exactly one lf.geometry, as its first op; "
                            "found "
                         << geometries.size();
  // Layout: geometry, chunks, kernels (the manifest's order).
  int phase = 0;
  for (Operation &op : body) {
    int opPhase = isa<GeometryOp>(op) ? 0 : isa<PlanChunkOp>(op) ? 1 : 2;
    if (opPhase < phase)
      return op.emitOpError()
             << "is out of place; an lf.plan holds its lf.geometry, then its "
                "lf.plan.chunk ops, then its lf.kernel ops";
    phase = opPhase;
    if (!isa<GeometryOp, PlanChunkOp, KernelOp>(op))
      return op.emitOpError() << "cannot appear in an lf.plan (expected "
                                 "lf.geometry, lf.plan.chunk or lf.kernel)";
  }

  GeometryOp geometry = geometries.front();
  int64_t numChunks = geometry.getChunks();
  if (static_cast<int64_t>(chunks.size()) != numChunks)
    return emitOpError() << "has " << chunks.size()
                         << " lf.plan.chunk ops but the geometry has "
                         << numChunks << " chunks; give one per chunk";
  int64_t framesPerChunk = geometry.getFramesPerChunk();
  int64_t tokensPerFrame = geometry.getTokensPerFrame();
  int64_t window = geometry.getKvWindowFrames();
  for (auto [position, chunk] : llvm::enumerate(chunks)) {
    int64_t index = static_cast<int64_t>(position) + 1;
    if (chunk.getIndex() != index)
      return chunk.emitOpError()
             << "index (" << chunk.getIndex() << ") is out of order; chunk #"
             << index << " of the plan must have index " << index;
    int64_t seen = index * framesPerChunk;
    int64_t visible =
        window == 0 ? seen : std::min(seen, geometry.getSinkFrames() + window);
    int64_t queryBlocks =
        llvm::divideCeil(framesPerChunk * tokensPerFrame, chunk.getBlockQ());
    int64_t keyBlocks =
        llvm::divideCeil(visible * tokensPerFrame, chunk.getBlockK());
    for (auto [name, have, want] :
         {std::tuple<StringRef, int64_t, int64_t>{
              "visible_frames", chunk.getVisibleFrames(), visible},
          {"query_blocks", chunk.getQueryBlocks(), queryBlocks},
          {"key_blocks", chunk.getKeyBlocks(), keyBlocks}})
      if (have != want)
        return chunk.emitOpError()
               << name << " (" << have << ") must be " << want
               << ", what the geometry implies for chunk " << index;
  }

  llvm::StringSet<> entrySymbols;
  // (role, chunk, arch): who serves it; arch "" for portable kernels.
  std::map<std::tuple<std::string, int64_t, std::string>, KernelOp> owners;
  std::set<int64_t> portableAttention, listAttention, selected;
  for (KernelOp kernel : kernels) {
    if (kernel.getDtype() != geometry.getDtype() ||
        kernel.getHeadDim() != geometry.getHeadDim())
      return kernel.emitOpError()
             << "is instantiated for " << kernel.getDtype() << " head_dim "
             << kernel.getHeadDim() << " but the plan's geometry is "
             << geometry.getDtype() << " head_dim " << geometry.getHeadDim();
    int64_t previous = 0;
    for (int64_t chunk : kernel.getChunks()) {
      if (chunk <= previous || chunk > numChunks)
        return kernel.emitOpError()
               << "chunks [" << joined(kernel.getChunks())
               << "] must be ascending, distinct and within 1.." << numChunks;
      previous = chunk;
    }
    if (kernel.getChunks().empty())
      return kernel.emitOpError() << "serves no chunk; list the chunks it "
                                     "serves or drop the kernel";
    SmallVector<StringRef> archs = kernel.getArchList();
    if (archs.empty())
      archs.push_back("");
    bool compilesMask = false;
    for (KernelEntryOp entry :
         kernel.getBody().front().getOps<KernelEntryOp>()) {
      if (!entrySymbols.insert(entry.getSymName()).second)
        return entry.emitOpError()
               << "symbol '" << entry.getSymName()
               << "' is already an entry of this plan; entry symbols are "
                  "unique in a plan";
      StringRef mask = entry.getMask().value_or("");
      compilesMask |= entry.getRole() == "select" || mask == "static";
      for (int64_t index : kernel.getChunks()) {
        PlanChunkOp chunk = chunks[index - 1];
        for (StringRef arch : archs) {
          auto [it, inserted] = owners.emplace(
              std::make_tuple(entry.getRole().str(), index, arch.str()),
              kernel);
          if (!inserted)
            return kernel.emitOpError()
                   << "serves role '" << entry.getRole() << "' for chunk "
                   << index
                   << (arch.empty() ? " on every arch" : (" on " + arch).str())
                   << ", and so does '" << it->second.getSymName()
                   << "'; give them disjoint chunks or archs";
        }
        if (entry.getRole() == "select") {
          selected.insert(index);
          // A select CTA serves at least one query block.
          int64_t need = LFC_SELECT_SHARED_STRIDE(chunk.getKeyBlocks(),
                                                  chunk.getVisibleFrames());
          if (entry.getSharedBytes() < need)
            return entry.emitOpError()
                   << "shared_bytes (" << entry.getSharedBytes()
                   << ") is below LFC_SELECT_SHARED_STRIDE("
                   << chunk.getKeyBlocks() << ", " << chunk.getVisibleFrames()
                   << ") = " << need << " (one query block per CTA) for chunk "
                   << index;
        }
        if (entry.getRole() != "attention")
          continue;
        if (archs.front().empty())
          portableAttention.insert(index);
        if (mask == "list")
          listAttention.insert(index);
        if ((mask == "dense") != chunk.getDense())
          return entry.emitOpError()
                 << "mask '" << mask << "' cannot serve chunk " << index
                 << ", which is " << (chunk.getDense() ? "" : "not ")
                 << "dense; dense chunks take mask \"dense\", others \"list\" "
                    "or \"static\"";
        if (mask == "static" &&
            (chunk.getKeptKeyBlocks() != chunk.getKeyBlocks() ||
             chunk.hasFrameStage()))
          return entry.emitOpError()
                 << "mask 'static' keeps every eligible block without a "
                    "selection, but chunk "
                 << index << " selects ("
                 << (chunk.hasFrameStage() ? "it has a frame stage"
                                           : "kept_key_blocks < key_blocks")
                 << "); serve it with a select kernel and mask \"list\"";
      }
    }
    if (compilesMask)
      for (int64_t index : kernel.getChunks())
        if (chunks[index - 1].getStaticMask() != kernel.getStaticMaskText())
          return kernel.emitOpError()
                 << "compiles in static mask '" << kernel.getStaticMaskText()
                 << "' but chunk " << index << ", which it serves, has '"
                 << chunks[index - 1].getStaticMask() << "'";
  }
  for (PlanChunkOp chunk : chunks) {
    int64_t index = chunk.getIndex();
    if (!portableAttention.count(index))
      return chunk.emitOpError()
             << "has no portable attention kernel (an lf.kernel without archs "
                "with an attention entry serving chunk "
             << index << ")";
    if (listAttention.count(index) && !selected.count(index))
      return chunk.emitOpError()
             << "is served by a kept-list attention kernel but no select "
                "entry serves chunk "
             << index;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// lf.plan.chunk
//===----------------------------------------------------------------------===//

bool PlanChunkOp::hasFrameStage() {
  GeometryOp geometry = cast<PlanOp>((*this)->getParentOp()).getGeometry();
  if (!geometry)
    return false;
  int64_t past = getVisibleFrames() - geometry.getFramesPerChunk();
  return getFramesTopK() > 0 && past > getFramesTopK();
}

LogicalResult PlanChunkOp::verify() {
  double sparsity = getSparsity().convertToDouble();
  if (getIndex() < 1)
    return emitOpError() << "index (" << getIndex() << ") must be positive";
  if (!(sparsity >= 0.0 && sparsity < 1.0))
    return emitOpError() << "sparsity (" << sparsity << ") must be in [0, 1)";
  if (getVisibleFrames() < 1 || getQueryBlocks() < 1 || getKeyBlocks() < 1)
    return emitOpError()
           << "visible_frames, query_blocks and key_blocks must be positive";
  if (!isBlockSize(getBlockQ()) || !isBlockSize(getBlockK()))
    return emitOpError() << "block_q (" << getBlockQ() << ") and block_k ("
                         << getBlockK() << ") must be powers of two in 16..256";
  if (getKeptKeyBlocks() < 1 || getKeptKeyBlocks() > getKeyBlocks())
    return emitOpError() << "kept_key_blocks (" << getKeptKeyBlocks()
                         << ") must be in [1, key_blocks = " << getKeyBlocks()
                         << "]";
  if (getSinkFrames() < 0 || getNearFrames() < 0 || getFramesTopK() < 0)
    return emitOpError()
           << "sink_frames, near_frames and frames_top_k must be >= 0";
  if (getFramesTopK() > 0 &&
      getFramesTopK() < getSinkFrames() + getNearFrames())
    return emitOpError() << "frames_top_k (" << getFramesTopK()
                         << ") counts the sink and near frames, so it must "
                            "be 0 (no frame stage) or at least "
                         << getSinkFrames() + getNearFrames();
  if (getFramesTopK() == 0 && (getSinkFrames() || getNearFrames()))
    return emitOpError() << "sink_frames and near_frames are frame-stage "
                            "classes; they must be 0 when frames_top_k is 0";
  std::string error;
  if (!StaticMaskExpr::parse(getStaticMask(), error))
    return emitOpError() << "static_mask '" << getStaticMask()
                         << "' is not canonical static mask text: " << error;
  if (getRefresh() != "every_pass" && getRefresh() != "per_chunk")
    return emitOpError() << "refresh \"" << getRefresh()
                         << "\" must be \"every_pass\" or \"per_chunk\"";
  if (getDense() && (sparsity != 0.0 || getKeptKeyBlocks() != getKeyBlocks() ||
                     getStaticMask() != "all"))
    return emitOpError() << "is dense, so it keeps every key block: it needs "
                            "sparsity 0, kept_key_blocks == key_blocks ("
                         << getKeyBlocks() << ") and static_mask \"all\"";
  return success();
}

//===----------------------------------------------------------------------===//
// lf.kernel and its body
//===----------------------------------------------------------------------===//

StaticMaskOp KernelOp::getStaticMask() {
  auto range = getBody().front().getOps<StaticMaskOp>();
  return range.empty() ? StaticMaskOp() : *range.begin();
}

AttentionConfigOp KernelOp::getAttentionConfig() {
  auto range = getBody().front().getOps<AttentionConfigOp>();
  return range.empty() ? AttentionConfigOp() : *range.begin();
}

StringRef KernelOp::getStaticMaskText() {
  StaticMaskOp mask = getStaticMask();
  return mask ? mask.getText() : StringRef("all");
}

SmallVector<StringRef> KernelOp::getArchList() {
  SmallVector<StringRef> archs;
  if (std::optional<ArrayAttr> list = getArchs())
    for (Attribute arch : *list)
      archs.push_back(cast<StringAttr>(arch).getValue());
  return archs;
}

LogicalResult KernelOp::verifyRegions() {
  if (getDtype() != "bf16" && getDtype() != "f16")
    return emitOpError() << "dtype \"" << getDtype()
                         << "\" has no CUDA kernel; supported: \"bf16\", "
                            "\"f16\"";
  if (getHeadDim() != 64 && getHeadDim() != 128)
    return emitOpError() << "head_dim (" << getHeadDim()
                         << ") has no CUDA kernel; supported: 64, 128";
  llvm::StringSet<> seenArchs;
  for (StringRef arch : getArchList()) {
    if (!isArch(arch))
      return emitOpError() << "arch '" << arch
                           << "' must be sm_XY or sm_XYa (e.g. sm_90a)";
    if (!seenArchs.insert(arch).second)
      return emitOpError() << "lists arch '" << arch << "' twice";
  }
  if (std::optional<ArrayAttr> list = getArchs(); list && list->empty())
    return emitOpError() << "has an empty archs list; omit it for a portable "
                            "kernel";

  // Source order: includes, static mask, attention config, entries.
  int phase = 0;
  int masks = 0, configs = 0;
  llvm::StringSet<> roles;
  for (Operation &op : getBody().front()) {
    int opPhase = isa<KernelIncludeOp>(op)     ? 0
                  : isa<StaticMaskOp>(op)      ? 1
                  : isa<AttentionConfigOp>(op) ? 2
                  : isa<KernelEntryOp>(op)     ? 3
                                               : -1;
    if (opPhase < 0)
      return op.emitOpError() << "cannot appear in an lf.kernel";
    if (opPhase < phase)
      return op.emitOpError()
             << "is out of place; an lf.kernel lists its includes, then its "
                "static mask, then its attention config, then its entries";
    phase = opPhase;
    masks += isa<StaticMaskOp>(op);
    configs += isa<AttentionConfigOp>(op);
    if (auto entry = dyn_cast<KernelEntryOp>(op))
      if (!roles.insert(entry.getRole()).second)
        return entry.emitOpError()
               << "is a second '" << entry.getRole()
               << "' entry of this kernel; a kernel has one entry per role";
  }
  if (masks > 1 || configs > 1)
    return emitOpError()
           << "has more than one lf.kernel.static_mask or "
              "lf.kernel.attention_config; one translation unit has one Mask "
              "and one Config";
  if (roles.empty())
    return emitOpError() << "has no lf.kernel.entry; a kernel needs at least "
                            "one entry point";
  AttentionConfigOp config = getAttentionConfig();
  if (roles.contains("attention") != static_cast<bool>(config))
    return emitOpError() << (config ? "has an attention config but no "
                                      "attention entry"
                                    : "has an attention entry but no "
                                      "lf.kernel.attention_config");
  if (config && roles.size() != 1)
    return emitOpError() << "mixes attention with selection entries; they "
                            "are separate kernels";
  bool needsMask =
      roles.contains("select") || (config && config.getMask() == "static");
  if (needsMask != static_cast<bool>(getStaticMask()))
    return emitOpError()
           << (needsMask ? "needs an lf.kernel.static_mask (its select entry "
                           "or static attention config instantiates Mask)"
                         : "has an lf.kernel.static_mask that no entry uses");
  return success();
}

LogicalResult KernelIncludeOp::verify() {
  StringRef path = getPath();
  if (path.empty() || path.starts_with("/") || path.contains("..") ||
      path.contains('"') || path.contains('\n'))
    return emitOpError() << "path '" << path
                         << "' must be a relative header path such as "
                            "\"lfc/attention.cuh\"";
  return success();
}

LogicalResult StaticMaskOp::verify() {
  std::string error;
  std::optional<StaticMaskExpr> mask = StaticMaskExpr::parse(getText(), error);
  if (!mask)
    return emitOpError() << "'" << getText()
                         << "' is not canonical static mask text: " << error;
  if (getType() != mask->cppType())
    return emitOpError() << "type '" << getType() << "' does not spell '"
                         << getText() << "'; expected '" << mask->cppType()
                         << "'";
  return success();
}

LogicalResult AttentionConfigOp::verify() {
  if (!isBlockSize(getBlockQ()) || !isBlockSize(getBlockK()))
    return emitOpError() << "block_q (" << getBlockQ() << ") and block_k ("
                         << getBlockK() << ") must be powers of two in 16..256";
  for (auto [name, tile, block] : {std::tuple<StringRef, int64_t, int64_t>{
                                       "tile_q", getTileQ(), getBlockQ()},
                                   {"tile_k", getTileK(), getBlockK()}})
    if (tile < 16 || tile > 128 || tile % 16 != 0 || block % tile != 0)
      return emitOpError() << name << " (" << tile
                           << ") must be a multiple of 16, at most 128, and "
                              "divide its selection block ("
                           << block << ")";
  if (getWarps() < 1 || getWarps() * 32 > kMaxThreads)
    return emitOpError() << "warps (" << getWarps() << ") must be in 1..32";
  StringRef mask = getMask();
  if (mask != "dense" && mask != "list" && mask != "static")
    return emitOpError() << "mask \"" << mask
                         << "\" must be \"dense\", \"list\" or \"static\"";
  if ((mask == "static") != getTokensPerFrame().has_value())
    return emitOpError() << "tokens_per_frame is "
                         << (mask == "static" ? "required" : "only allowed")
                         << " with mask \"static\" (static masks are frame "
                            "arithmetic)";
  if (getTokensPerFrame() && *getTokensPerFrame() < 1)
    return emitOpError() << "tokens_per_frame (" << *getTokensPerFrame()
                         << ") must be positive";
  return success();
}

LogicalResult KernelEntryOp::verify() {
  StringRef role = getRole();
  bool attention = role == "attention";
  StringRef kernel = getKernel().value_or("");
  if (!isIdentifier(getSymName()))
    return emitOpError() << "symbol '" << getSymName()
                         << "' must be a C identifier";
  StringRef params = expectedParams(role, kernel);
  if (params.empty())
    return emitOpError() << "role \"" << role
                         << "\" has no template function; supported: "
                            "\"commit_keys\", \"pool_keys\", \"select\", "
                            "\"attention\"";
  if (getParams() != params)
    return emitOpError() << "params \"" << getParams() << "\" must be \""
                         << params << "\" for role \"" << role << "\""
                         << (attention ? " and kernel \"" + kernel + "\""
                                       : std::string());

  // Grid: three dims, each a symbol or an integer >= 1; or "params".
  ArrayAttr grid = getGrid();
  bool usesQueryTiles = false;
  if (!(grid.size() == 1 && cast<StringAttr>(grid[0]).getValue() == "params")) {
    if (grid.size() != 3)
      return emitOpError() << "grid must have 3 dimensions or be "
                              "[\"params\"], got "
                           << grid.size() << " entries";
    for (Attribute dim : grid) {
      StringRef text = cast<StringAttr>(dim).getValue();
      usesQueryTiles |= text == "query_tiles";
      int64_t constant = 0;
      bool symbol = llvm::is_contained(
          {"batch", "heads", "query_blocks", "key_blocks", "query_tiles"},
          text);
      if (!symbol && (text.getAsInteger(10, constant) || constant < 1))
        return emitOpError()
               << "grid dimension '" << text
               << "' must be batch, heads, query_blocks, key_blocks, "
                  "query_tiles or an integer >= 1";
    }
  }
  ArrayRef<int64_t> block = getBlock();
  if (block.size() != 3 || llvm::any_of(block, [](int64_t threads) {
        return threads < 1 || threads > kMaxThreads;
      }))
    return emitOpError() << "block must be 3 thread counts in [1, 1024]";
  int64_t threads = block[0] * block[1] * block[2];
  if (threads > kMaxThreads)
    return emitOpError() << "block has " << threads
                         << " threads; a CTA has at most 1024";
  ArrayRef<int64_t> bounds = getLaunchBounds();
  if (bounds.empty() || bounds.size() > 2 || bounds[0] != threads ||
      (bounds.size() == 2 && bounds[1] < 1))
    return emitOpError() << "launch_bounds must be [" << threads << "] or ["
                         << threads
                         << ", min CTAs per SM] (the block's threads)";
  if (getSharedBytes() < 0 || getSharedBytes() > kMaxSharedBytes)
    return emitOpError() << "shared_bytes (" << getSharedBytes()
                         << ") must be in [0, " << kMaxSharedBytes << "]";
  if (getTileQ() < 0 || (usesQueryTiles && getTileQ() < 1))
    return emitOpError() << "tile_q (" << getTileQ()
                         << ") must be positive when the grid uses "
                            "query_tiles, else 0";

  bool hasVariant = getKernel() || getMask() || getTileK() || getWarps();
  if (!attention) {
    if (hasVariant || getStages())
      return emitOpError() << "kernel, mask, tile_k, warps and stages "
                              "describe attention entries only";
    if (role == "select" && block[0] != kSelectThreads)
      return emitOpError() << "select entries run " << kSelectThreads
                           << " threads (lfc::selectBlocks' kThreads), got "
                           << block[0];
    return success();
  }
  if (!getKernel() || !getMask() || !getTileK() || !getWarps())
    return emitOpError() << "attention entries need kernel, mask, tile_k and "
                            "warps";
  if (!llvm::is_contained({"mma", "wgmma", "wgmma_mbar", "tma"}, kernel))
    return emitOpError() << "kernel \"" << kernel
                         << "\" must be \"mma\", \"wgmma\", \"wgmma_mbar\" "
                            "or \"tma\"";
  bool tma = kernel == "tma";
  if (tma != getStages().has_value())
    return emitOpError() << "stages is " << (tma ? "required" : "only allowed")
                         << " for kernel \"tma\"";
  if (tma && (*getStages() < 2 || *getStages() > 4))
    return emitOpError() << "stages (" << *getStages() << ") must be in 2..4";
  int64_t wantThreads = *getWarps() * 32 + (tma ? 128 : 0);
  if (block[0] != wantThreads || block[1] != 1 || block[2] != 1)
    return emitOpError() << "block must be [" << wantThreads
                         << ", 1, 1]: " << *getWarps() << " warps"
                         << (tma ? " plus the producer warpgroup" : "");
  if (tma &&
      !(grid.size() == 1 && cast<StringAttr>(grid[0]).getValue() == "params"))
    return emitOpError() << "grid must be [\"params\"] for kernel \"tma\" "
                            "(its persistent grid)";
  auto kernelOp = cast<KernelOp>((*this)->getParentOp());
  AttentionConfigOp config = kernelOp.getAttentionConfig();
  if (config &&
      (config.getTileQ() != getTileQ() || config.getTileK() != *getTileK() ||
       config.getWarps() != *getWarps() || config.getMask() != *getMask()))
    return emitOpError() << "tile_q " << getTileQ() << ", tile_k "
                         << *getTileK() << ", warps " << *getWarps()
                         << " and mask \"" << *getMask()
                         << "\" must match the kernel's attention config ("
                         << config.getTileQ() << ", " << config.getTileK()
                         << ", " << config.getWarps() << ", \""
                         << config.getMask() << "\")";
  return success();
}
