// Launch contract shared by the CUDA kernels (NVRTC) and the host
// (runtime/cuda): plain C.
#ifndef LFC_ABI_H
#define LFC_ABI_H

// NVRTC has no <stdint.h>, so only built-in C types appear here. Element
// strides are counted in elements of the tensor's dtype; the innermost
// dimension is contiguous.

/// One 4-D [batch, tokens, heads, head_dim] view.
struct LfcTensorArg {
  const void *data;
  long long strideB, strideS, strideH;
};

/// Block-sparse (or dense) attention, one CTA per (query tile, head, batch):
/// grid = (ceil(lq / tile_q), heads, batch).
struct LfcAttnParams {
  LfcTensorArg q, k, v;
  void *o;
  long long oStrideB, oStrideS, oStrideH;
  int batch, heads, lq, lk;
  /// softmax scale * log2(e): the kernel works in base 2.
  float scaleLog2;
  /// Kept key blocks, idx[((b*H + h)*queryBlocks + i)*maxKept + n] ascending,
  /// and cnt[(b*H + h)*queryBlocks + i]; both null in dense kernels.
  const int *keptIdx;
  const int *keptCnt;
  int queryBlocks;
  int maxKept;
};

/// Ring of shared-memory staging tiles of the commit and pool kernels:
/// LFC_POOL_STAGES tiles of LFC_POOL_TILE_ROWS 16-bit rows, all but one in
/// flight (d128: 24 KiB, so eight 256-thread CTAs fit an H100/H200 SM).
#define LFC_POOL_TILE_ROWS 32
#define LFC_POOL_STAGES 3

/// Dynamic shared memory of the commit and pool kernels.
#define LFC_POOL_SHARED_BYTES(dim)                                             \
  (LFC_POOL_STAGES * LFC_POOL_TILE_ROWS * (dim)*2)

/// Commits rows [begin, end) of k into the fp32 running sums of key blocks and
/// frames, one CTA per touched unit (blocks first, then frames):
/// grid = (touched blocks + touched frames, heads, batch), dynamic shared
/// memory LFC_POOL_SHARED_BYTES(dim). A unit whose last row is committed also
/// gets its final mean.
struct LfcCommitParams {
  LfcTensorArg k;
  /// [batch][heads][maxBlocks][dim] and [batch][heads][maxFrames][dim] fp32
  /// sums.
  float *blockSums;
  float *frameSums;
  /// Means of complete units: blocks transposed,
  /// [batch][heads][dim][maxBlocks]; frames [batch][heads][maxFrames][dim].
  float *blockMeansT;
  float *frameMeans;
  int heads, dim;
  int maxBlocks, maxFrames;
  int blockK, tokensPerFrame;
  int begin, end;
};

/// Per-call pooling: the mean of every query block, and of the key blocks and
/// frames whose rows extend past the committed prefix ("active"; the others'
/// means are in the pooled-key cache). One CTA per unit, active frames first
/// (the longest), then query blocks, then active key blocks:
/// grid = (frameEnd - activeFrame + queryBlocks + keyBlocks - activeBlock,
/// heads, batch), dynamic shared memory LFC_POOL_SHARED_BYTES(dim).
struct LfcPoolKeysParams {
  LfcTensorArg q, k;
  /// Committed sums (may be null when committed == 0), laid out as in
  /// LfcCommitParams.
  const float *blockSums;
  const float *frameSums;
  int cacheBlocks, cacheFrames;
  int committed;
  /// Outputs: [batch][heads][queryBlocks][dim]; blocks transposed,
  /// [batch][heads][dim][keyBlocks] (columns >= activeBlock written);
  /// [batch][heads][frames][dim] (rows [activeFrame, frameEnd) written).
  float *queryMeans;
  float *blockMeansT;
  float *frameMeans;
  int heads, dim;
  int lq, blockQ, queryBlocks;
  int lk, blockK, tokensPerFrame;
  int keyBlocks, frames;
  /// The first key block with rows past the committed prefix.
  int activeBlock;
  /// Frames [activeFrame, frameEnd) are pooled here: the frame stage scores
  /// middle frames only, and those before activeFrame are committed.
  int activeFrame, frameEnd;
};

/// Query blocks one select CTA serves at most (they share every read of the
/// pooled keys); LfcSelectParams::group says how many it does.
#define LFC_SELECT_GROUP 4

/// Select kernel dynamic shared memory, per served query block: score keys by
/// eligible position (4 bytes per key block), the eligible list and each
/// block's eligible position (16-bit each), frame scores (fp32) and frame flags
/// (bytes), rounded up to 16 bytes. The compiler (lf-lower-to-kernels) and
/// the dialect verifier include this header for a plan's select entry. The
/// kernel's static shared memory is under LFC_SELECT_STATIC_BYTES.
#define LFC_SELECT_SHARED_STRIDE(keyBlocks, frames)                            \
  ((((keyBlocks)*8 + (frames)*5) + 15) / 16 * 16)
#define LFC_SELECT_SHARED_BYTES(group, keyBlocks, frames)                      \
  ((group)*LFC_SELECT_SHARED_STRIDE(keyBlocks, frames))
#define LFC_SELECT_STATIC_BYTES 8192

/// Hierarchical selection, one CTA per `group` (1..LFC_SELECT_GROUP) query
/// blocks of one (head, batch): grid = (ceil(queryBlocks / group), heads,
/// batch), dynamic shared memory LFC_SELECT_SHARED_BYTES(group, keyBlocks,
/// frames); the runtime takes the largest group that fits. Eligible blocks are
/// listed as 16-bit indices: keyBlocks <= 65535.
struct LfcSelectParams {
  /// LfcPoolKeysParams' outputs for this call.
  const float *queryMeans;
  const float *blockMeansT;
  const float *frameMeans;
  /// The pooled-key cache's means of complete units (blocks < activeBlock,
  /// frames < activeFrame), laid out as in LfcCommitParams; may be null when
  /// both are 0.
  const float *cachedBlockMeansT;
  const float *cachedFrameMeans;
  int cacheBlocks, cacheFrames;
  int activeBlock, activeFrame;
  int group;
  int heads, dim;
  int lq, blockQ;
  int queryBlocks, keyBlocks, lk, blockK;
  int tokensPerFrame, frames;
  /// Frame classes (docs/selection-semantics.md): past frames [0, past); sink
  /// [0, sinkEnd); near [nearBegin, past); middle [sinkEnd, nearBegin).
  int past, sinkEnd, nearBegin;
  /// Middle frames to keep; < 0: no frame stage (every past frame is eligible).
  int middleKeep;
  int keptBudget;
  int *keptIdx;
  int *keptCnt;
  int maxKept;
};

#endif // LFC_ABI_H
