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

/// Commits rows [begin, end) of k into the fp32 running sums of key blocks and
/// frames: grid = (ceil((touched blocks + touched frames) * dim / threads),
/// heads, batch).
struct LfcCommitParams {
  LfcTensorArg k;
  /// [batch][heads][maxBlocks][dim] and [batch][heads][maxFrames][dim] fp32
  /// sums.
  float *blockSums;
  float *frameSums;
  int heads, dim;
  int maxBlocks, maxFrames;
  int blockK, tokensPerFrame;
  int begin, end;
};

/// Pools every key block and frame of the logical KV sequence into fp32 means,
/// continuing the committed sums (rows [0, committed)) with the rows of k after
/// them: grid = (ceil((key blocks + frameEnd - frameBegin) * dim / threads),
/// heads, batch).
struct LfcPoolKeysParams {
  LfcTensorArg k;
  /// Committed sums (may be null when committed == 0), laid out as in
  /// LfcCommitParams.
  const float *blockSums;
  const float *frameSums;
  int cacheBlocks, cacheFrames;
  int committed;
  /// [batch][heads][keyBlocks][dim] and [batch][heads][frames][dim] fp32 means.
  float *blockMeans;
  float *frameMeans;
  int heads, dim;
  int lk, blockK, tokensPerFrame;
  int keyBlocks, frames;
  /// Only frames [frameBegin, frameEnd) are pooled: the frame stage scores
  /// middle frames only.
  int frameBegin, frameEnd;
};

/// Dynamic shared memory of the select kernel: fp32 block and frame scores,
/// then byte flags (eligible block, kept block, eligible frame).
#define LFC_SELECT_SHARED_BYTES(keyBlocks, frames)                             \
  (((keyBlocks) + (frames)) * 4 + ((2 * (keyBlocks) + (frames) + 15) / 16) * 16)

/// Hierarchical selection, one CTA per (query block, head, batch):
/// grid = (queryBlocks, heads, batch).
struct LfcSelectParams {
  LfcTensorArg q;
  const float *blockMeans;
  const float *frameMeans;
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
