// Launch contract of the TMA attention kernel (attention_sm90_tma.cuh): the
// tensor maps the host encodes with cuTensorMapEncodeTiled and the tail-split
// schedule. Plain C++ types only, as abi.h.
#ifndef LFC_TMA_ABI_H
#define LFC_TMA_ABI_H

/// An opaque CUtensorMap (128 bytes, 128-byte aligned as cuda.h 13 declares
/// it; TMA needs 64); the kernel only hands its address to
/// cp.async.bulk.tensor.
struct LfcTmaMap {
  alignas(128) unsigned long long opaque[16];
};

/// The second kernel parameter, after LfcAttnParams.
struct LfcAttnTmaParams {
  /// Maps over [batch, tokens, heads, head_dim] (dims innermost first:
  /// head_dim, tokens, heads, batch), 128-byte swizzle, boxes of 64 head-dim
  /// columns by tile_q (q) or tile_k (k, v) tokens.
  LfcTmaMap q, k, v;
  /// Work items are (query tile, head, batch), query tile fastest. Units
  /// [0, wholeItems) are one item each; the 2 * splitItems units after them
  /// are one half of the key tiles of items wholeItems + i, so that a last,
  /// partial wave of items runs on twice as many SMs. The grid is 1-D; CTA c
  /// runs units c, c + gridDim.x, ... (persistent when gridDim.x < units).
  int queryTiles, wholeItems, splitItems;
  /// Split halves meet here: per (split item, consumer warpgroup, half)
  /// LFC_TMA_PARTIAL_FLOATS(head_dim) x 128 floats (unnormalized output, row
  /// max, row sum), and per (split item, warpgroup) an arrival counter that is
  /// zero between launches (the second arrival resets it).
  float *partial;
  int *counters;
};

#define LFC_TMA_PARTIAL_FLOATS(headDim) ((headDim) / 2 + 4)

#endif // LFC_TMA_ABI_H
