// Eligible key blocks per query block under a static mask, with the runtime's
// model (see StaticMaskCount.h). Built with exceptions: lfc::StaticMask::parse
// throws lfc::Error on text that is not canonical.
#include "compiler/explain/StaticMaskCount.h"

#include "lfc/backend.h"
#include "lfc/static_mask.h"

#include <climits>
#include <exception>
#include <memory>

namespace lfc::explain {
namespace {

/// Whether `mask` has a term whose key tokens depend on the query block
/// (docs/static-masks.md: window_tokens starts N tokens before the query
/// block, radial centres its band on the query block's centre).
bool dependsOnQueryBlock(const StaticMask &mask) {
  if (mask.kind() == StaticMask::Kind::WindowTokens ||
      mask.kind() == StaticMask::Kind::Radial)
    return true;
  for (const StaticMask &operand : mask.operands())
    if (dependsOnQueryBlock(operand))
      return true;
  return false;
}

bool fitsInt(int64_t value) { return value > 0 && value <= INT_MAX; }

} // namespace

bool countEligibleBlocks(const std::string &maskText, const ChunkShape &shape,
                         std::vector<int64_t> &eligible, int64_t *workLeft,
                         std::string &error) noexcept {
  eligible.clear();
  try {
    if (!fitsInt(shape.tokensPerFrame) || !fitsInt(shape.framesPerChunk) ||
        !fitsInt(shape.visibleFrames) || !fitsInt(shape.blockQ) ||
        !fitsInt(shape.blockK) || shape.visibleFrames < shape.framesPerChunk) {
      error = "the chunk's geometry does not fit the static mask model";
      return false;
    }
    StaticMask mask = StaticMask::parse(maskText);
    ChunkSelection sel;
    sel.tokensPerFrame = static_cast<int>(shape.tokensPerFrame);
    sel.framesPerChunk = static_cast<int>(shape.framesPerChunk);
    sel.visibleFrames = static_cast<int>(shape.visibleFrames);
    sel.blockQ = static_cast<int>(shape.blockQ);
    sel.blockK = static_cast<int>(shape.blockK);
    const int64_t queryBlocks = sel.queryBlocks();
    const int64_t keyBlocks = sel.keyBlocks();
    // Every query block sees the same key blocks unless a term depends on it.
    const int64_t rows = dependsOnQueryBlock(mask) ? queryBlocks : 1;
    if (keyBlocks > *workLeft / rows) {
      error = "counting its eligible blocks takes " + std::to_string(rows) +
              " x " + std::to_string(keyBlocks) +
              " block tests, more than the " + std::to_string(*workLeft) +
              " left";
      return false;
    }
    *workLeft -= rows * keyBlocks;
    eligible.reserve(static_cast<size_t>(queryBlocks));
    for (int64_t i = 0; i < rows; ++i) {
      int64_t count = 0;
      for (int64_t j = 0; j < keyBlocks; ++j)
        count += mask.eligible(sel, i, j) ? 1 : 0;
      eligible.push_back(count);
    }
    eligible.resize(static_cast<size_t>(queryBlocks), eligible.front());
    return true;
  } catch (const std::exception &e) {
    error = e.what();
  } catch (...) {
    error = "the static mask model failed without a message";
  }
  eligible.clear();
  return false;
}

} // namespace lfc::explain
