// Eligible key blocks per query block under a chunk's static mask, for `lfc
// explain` (docs/explain.md). Evaluated with the runtime's own model,
// lfc::StaticMask (runtime/core/StaticMask.cpp, which agrees bit for bit with
// the kernels' kernels_templates/lfc/static_mask.cuh), so explain counts
// exactly the blocks the kernels consider. This header and its .cpp are plain
// C++ (no MLIR): the .cpp is built with exceptions and turns the runtime
// parser's lfc::Error into a value, so MLIR code built without exceptions can
// call it.
#ifndef LFC_COMPILER_EXPLAIN_STATICMASKCOUNT_H
#define LFC_COMPILER_EXPLAIN_STATICMASKCOUNT_H

#include <cstdint>
#include <string>
#include <vector>

namespace lfc::explain {

/// One chunk's selection geometry (docs/static-masks.md "Geometry").
struct ChunkShape {
  int64_t tokensPerFrame = 0;
  int64_t framesPerChunk = 0;
  int64_t visibleFrames = 0; ///< past + current frames of the KV sequence
  int64_t blockQ = 0, blockK = 0;
};

/// For every query block `i` of `shape`, the number of key blocks `j` that
/// the static mask `maskText` (canonical text, docs/static-masks.md) makes
/// eligible, into `eligible` (one entry per query block). Stops and returns
/// false, with `error` set, when the text is not canonical, the shape does not
/// fit the runtime's int fields, or evaluating it would take more than
/// `*workLeft` (query block, key block) tests; each test made is subtracted
/// from `*workLeft`. Masks whose terms do not depend on the query block
/// (everything except window_tokens and radial) cost one row of tests.
bool countEligibleBlocks(const std::string &maskText, const ChunkShape &shape,
                         std::vector<int64_t> &eligible, int64_t *workLeft,
                         std::string &error) noexcept;

} // namespace lfc::explain

#endif // LFC_COMPILER_EXPLAIN_STATICMASKCOUNT_H
