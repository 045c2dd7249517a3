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

/// Rows of one shared-memory staging tile of the commit, pool and select
/// kernels. 48: the select kernel's two fp32 tiles (d128: 49.5 KiB) leave room
/// for four CTAs per H100/H200 SM, so the reference shape's 444 CTAs run in one
/// wave on 132 SMs.
#define LFC_SELECT_TILE_ROWS 48

/// Dynamic shared memory of the commit and pool kernels: two staging tiles of
/// LFC_SELECT_TILE_ROWS 16-bit key rows.
#define LFC_POOL_SHARED_BYTES(dim) (2 * LFC_SELECT_TILE_ROWS * (dim)*2)

/// Commits rows [begin, end) of k into the fp32 running sums of key blocks and
/// frames, one CTA per touched unit (blocks first, then frames):
/// grid = (touched blocks + touched frames, heads, batch), dynamic shared
/// memory LFC_POOL_SHARED_BYTES(dim).
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
/// them. Units that end inside the committed prefix only divide their sums;
/// the others ("active": key blocks from LFC_POOL_FIRST_ACTIVE_BLOCK, frames
/// from LFC_POOL_FIRST_ACTIVE_FRAME) get one CTA each, which stages their rows
/// in shared memory: grid = (LFC_POOL_CTAS(...), heads, batch), dynamic shared
/// memory LFC_POOL_SHARED_BYTES(dim).
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

/// The first key block whose rows extend past the committed prefix.
#define LFC_POOL_FIRST_ACTIVE_BLOCK(committed, blockK, keyBlocks)              \
  ((committed) / (blockK) < (keyBlocks) ? (committed) / (blockK) : (keyBlocks))
/// The first pooled frame in [frameBegin, frameEnd) whose rows extend past the
/// committed prefix.
#define LFC_POOL_FIRST_ACTIVE_FRAME(committed, tokensPerFrame, frameBegin,     \
                                    frameEnd)                                  \
  ((committed) / (tokensPerFrame) < (frameBegin)                               \
       ? (frameBegin)                                                          \
       : ((committed) / (tokensPerFrame) < (frameEnd)                          \
              ? (committed) / (tokensPerFrame)                                 \
              : (frameEnd)))
/// Pool grid: one CTA per active unit, then ceil(passive units * dim /
/// threads) CTAs that divide the committed sums of the others, one thread per
/// (unit, d).
#define LFC_POOL_CTAS(committed, blockK, keyBlocks, tokensPerFrame,            \
                      frameBegin, frameEnd, dim, threads)                      \
  (((keyBlocks)-LFC_POOL_FIRST_ACTIVE_BLOCK(committed, blockK, keyBlocks)) +   \
   ((frameEnd)-LFC_POOL_FIRST_ACTIVE_FRAME(committed, tokensPerFrame,          \
                                           frameBegin, frameEnd)) +            \
   ((LFC_POOL_FIRST_ACTIVE_BLOCK(committed, blockK, keyBlocks) +               \
     LFC_POOL_FIRST_ACTIVE_FRAME(committed, tokensPerFrame, frameBegin,        \
                                 frameEnd) -                                   \
     (frameBegin)) *                                                           \
        (dim) +                                                                \
    (threads)-1) /                                                             \
       (threads))

/// Select kernel shared memory past the staging tiles: fp32 scores of the
/// eligible blocks (by eligible position) and of the frames, then the eligible
/// block list (16-bit indices) and byte flags of the frames. The compiler
/// (lf-lower-to-kernels) and the dialect verifier mirror this formula for a
/// plan's select entry; the runtime launches LFC_SELECT_LAUNCH_BYTES.
#define LFC_SELECT_SHARED_BYTES(keyBlocks, frames)                             \
  (((keyBlocks) + (frames)) * 4 + ((2 * (keyBlocks) + (frames) + 15) / 16) * 16)

/// Select kernel staging: two tiles of LFC_SELECT_TILE_ROWS fp32 rows of
/// dim + 4 floats (the pad spreads a warp's row reads over every bank); the
/// query rows pass through the first tile as 16-bit rows.
#define LFC_SELECT_STAGE_BYTES(dim) (2 * LFC_SELECT_TILE_ROWS * ((dim) + 4) * 4)

/// Dynamic shared memory the select kernel is launched with: the staging tiles,
/// then LFC_SELECT_SHARED_BYTES.
#define LFC_SELECT_LAUNCH_BYTES(keyBlocks, frames, dim)                        \
  (LFC_SELECT_STAGE_BYTES(dim) + LFC_SELECT_SHARED_BYTES(keyBlocks, frames))

/// Hierarchical selection, one CTA per (query block, head, batch):
/// grid = (queryBlocks, heads, batch), dynamic shared memory
/// LFC_SELECT_LAUNCH_BYTES(keyBlocks, frames, dim). Eligible blocks are listed
/// as 16-bit indices: keyBlocks <= 65535 (far past what fits in shared memory).
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
