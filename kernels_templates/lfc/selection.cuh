// Hierarchical Sparse Attention selection: key pooling (cached sums), frame and
// block top-k.
#ifndef LFC_SELECTION_CUH
#define LFC_SELECTION_CUH

#include "lfc/abi.h"
#include "lfc/numeric.cuh"
#include "lfc/static_mask.cuh"

// Every sum and dot product here reproduces the CPU oracle's operation order
// exactly (docs/selection-semantics.md): one thread owns one (unit, d) sum and
// adds rows in ascending order; one thread owns one score and accumulates d in
// ascending order.

namespace lfc {

namespace detail {

__device__ __forceinline__ const unsigned short *headBase(const LfcTensorArg &t,
                                                          int b, int h) {
  return static_cast<const unsigned short *>(t.data) + b * t.strideB +
         h * t.strideH;
}

/// Continues `sum` with rows [begin, end) of column d.
template <typename T>
__device__ __forceinline__ float sumRows(float sum, const unsigned short *base,
                                         long long strideS, int d, int begin,
                                         int end) {
  for (int r = begin; r < end; ++r)
    sum = addRn(sum, toFloat<T>(base[(long long)r * strideS + d]));
  return sum;
}

/// `a` ranks before `b` in a top-k: larger score first, ties to the lower
/// index, NaN last.
__device__ __forceinline__ bool ranksBefore(float sa, int ia, float sb,
                                            int ib) {
  const bool nanA = sa != sa, nanB = sb != sb;
  if (nanA || nanB)
    return nanA == nanB ? ia < ib : nanB;
  return sa > sb || (sa == sb && ia < ib);
}

__device__ __forceinline__ float dotSeq(const float *a, const float *b, int n) {
  float acc = 0.f;
  for (int d = 0; d < n; ++d)
    acc = fmaRn(a[d], b[d], acc);
  return acc;
}

} // namespace detail

/// Adds rows [begin, end) of k to the running sums of the blocks and frames
/// they touch.
template <typename T>
__device__ __forceinline__ void commitKeys(const LfcCommitParams &p) {
  const int b = blockIdx.z, h = blockIdx.y;
  const int firstBlock = p.begin / p.blockK, lastBlock = (p.end - 1) / p.blockK;
  const int firstFrame = p.begin / p.tokensPerFrame,
            lastFrame = (p.end - 1) / p.tokensPerFrame;
  const int nBlocks = lastBlock - firstBlock + 1,
            nFrames = lastFrame - firstFrame + 1;
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  const int unit = int(i / p.dim), d = int(i % p.dim);
  if (p.end <= p.begin || unit >= nBlocks + nFrames)
    return;
  const unsigned short *k = detail::headBase(p.k, b, h);
  const long long head = (long long)b * p.heads + h;
  if (unit < nBlocks) {
    const int j = firstBlock + unit;
    const int lo = max(p.begin, j * p.blockK),
              hi = min(p.end, (j + 1) * p.blockK);
    float *sum = p.blockSums + (head * p.maxBlocks + j) * p.dim + d;
    *sum = detail::sumRows<T>(*sum, k, p.k.strideS, d, lo, hi);
  } else {
    const int f = firstFrame + unit - nBlocks;
    const int lo = max(p.begin, f * p.tokensPerFrame),
              hi = min(p.end, (f + 1) * p.tokensPerFrame);
    float *sum = p.frameSums + (head * p.maxFrames + f) * p.dim + d;
    *sum = detail::sumRows<T>(*sum, k, p.k.strideS, d, lo, hi);
  }
}

/// Means of every key block and of frames [frameBegin, frameEnd) of the logical
/// KV sequence.
template <typename T>
__device__ __forceinline__ void poolKeys(const LfcPoolKeysParams &p) {
  const int b = blockIdx.z, h = blockIdx.y;
  const int nFrames = p.frameEnd - p.frameBegin;
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  const int unit = int(i / p.dim), d = int(i % p.dim);
  if (unit >= p.keyBlocks + nFrames)
    return;
  const unsigned short *k = detail::headBase(p.k, b, h);
  const long long head = (long long)b * p.heads + h;
  const bool isBlock = unit < p.keyBlocks;
  const int index = isBlock ? unit : p.frameBegin + unit - p.keyBlocks;
  const int size = isBlock ? p.blockK : p.tokensPerFrame;
  const int lo = index * size, hi = min(p.lk, lo + size);
  float sum = 0.f;
  int from = lo;
  if (p.committed > lo) {
    sum = isBlock ? p.blockSums[(head * p.cacheBlocks + index) * p.dim + d]
                  : p.frameSums[(head * p.cacheFrames + index) * p.dim + d];
    from = min(p.committed, hi);
  }
  sum = detail::sumRows<T>(sum, k, p.k.strideS, d, from, hi);
  const float mean = divRn(sum, float(hi - lo));
  if (isBlock)
    p.blockMeans[(head * p.keyBlocks + index) * p.dim + d] = mean;
  else
    p.frameMeans[(head * p.frames + index) * p.dim + d] = mean;
}

/// Frame top-k, block eligibility, block top-k and the sorted kept list of one
/// (batch, head, query block). kThreads threads, kMaxDim >= dim. A block is
/// eligible iff the frame stage allows it and the static mask `Mask`
/// (lfc/static_mask.cuh) does (docs/static-masks.md).
template <typename T, int kThreads, int kMaxDim, class Mask = lfc::mask::All>
__device__ __forceinline__ void selectBlocks(const LfcSelectParams &p) {
  __shared__ float qMean[kMaxDim];
  __shared__ int warpCounts[kThreads / 32];
  __shared__ int eligibleCount;
  // Layout: LFC_SELECT_SHARED_BYTES (abi.h).
  extern __shared__ __align__(16) unsigned char dyn[];
  float *blockScore = reinterpret_cast<float *>(dyn);
  float *frameScore = blockScore + p.keyBlocks;
  unsigned char *blockFlag =
      reinterpret_cast<unsigned char *>(frameScore + p.frames);
  unsigned char *keptFlag = blockFlag + p.keyBlocks;
  unsigned char *frameFlag = keptFlag + p.keyBlocks;

  const int b = blockIdx.z, h = blockIdx.y, qb = blockIdx.x;
  const int tid = threadIdx.x;
  const long long head = (long long)b * p.heads + h;

  if (tid == 0)
    eligibleCount = 0;
  if (tid < p.dim) {
    const int lo = qb * p.blockQ, hi = min(p.lq, lo + p.blockQ);
    const float sum = detail::sumRows<T>(0.f, detail::headBase(p.q, b, h),
                                         p.q.strideS, tid, lo, hi);
    qMean[tid] = divRn(sum, float(hi - lo));
  }
  __syncthreads();

  // Frame stage: only middle frames compete; sink, near and current frames
  // always pass.
  const bool frameStage = p.middleKeep >= 0;
  for (int f = tid; f < p.frames; f += kThreads) {
    const bool middle = frameStage && f >= p.sinkEnd && f < p.nearBegin;
    frameFlag[f] = middle ? 0 : 1;
    if (middle)
      frameScore[f] = detail::dotSeq(
          qMean, p.frameMeans + (head * p.frames + f) * p.dim, p.dim);
  }
  __syncthreads();
  if (frameStage) {
    for (int f = p.sinkEnd + tid; f < p.nearBegin; f += kThreads) {
      int rank = 0;
      for (int g = p.sinkEnd; g < p.nearBegin; ++g)
        rank += detail::ranksBefore(frameScore[g], g, frameScore[f], f);
      frameFlag[f] = rank < p.middleKeep;
    }
  }
  __syncthreads();

  // Block stage: a block is eligible if it overlaps an eligible frame (blocks
  // may straddle) and the static mask allows it.
  int myEligible = 0;
  for (int j = tid; j < p.keyBlocks; j += kThreads) {
    const int f0 = j * p.blockK / p.tokensPerFrame;
    const int f1 = (min(p.lk, (j + 1) * p.blockK) - 1) / p.tokensPerFrame;
    bool eligible = false;
    for (int f = f0; f <= f1; ++f)
      eligible |= frameFlag[f] != 0;
    if constexpr (!mask::IsAll<Mask>::value) {
      const mask::Query query{
          p.tokensPerFrame, p.blockQ, p.blockK, p.lq, p.lk, qb};
      eligible = eligible && Mask::overlaps(query, j);
    }
    blockFlag[j] = eligible;
    if (eligible) {
      blockScore[j] = detail::dotSeq(
          qMean, p.blockMeans + (head * p.keyBlocks + j) * p.dim, p.dim);
      ++myEligible;
    }
  }
  atomicAdd(&eligibleCount, myEligible);
  __syncthreads();
  const bool topK = eligibleCount > p.keptBudget;
  for (int j = tid; j < p.keyBlocks; j += kThreads) {
    bool keep = blockFlag[j] != 0;
    if (topK && keep) {
      int rank = 0;
      for (int g = 0; g < p.keyBlocks; ++g)
        rank += blockFlag[g] &&
                detail::ranksBefore(blockScore[g], g, blockScore[j], j);
      keep = rank < p.keptBudget;
    }
    keptFlag[j] = keep;
  }
  __syncthreads();

  // Compact the kept flags into the ascending list: an exclusive scan per round
  // of kThreads.
  int *idx = p.keptIdx + head * p.queryBlocks * (long long)p.maxKept +
             (long long)qb * p.maxKept;
  const int warp = tid / 32, lane = tid % 32;
  int written = 0;
  for (int base = 0; base < p.keyBlocks; base += kThreads) {
    const int j = base + tid;
    const bool kept = j < p.keyBlocks && keptFlag[j];
    const unsigned ballot = __ballot_sync(0xffffffffu, kept);
    if (lane == 0)
      warpCounts[warp] = __popc(ballot);
    __syncthreads();
    int before = written;
    for (int w = 0; w < warp; ++w)
      before += warpCounts[w];
    before += __popc(ballot & ((1u << lane) - 1u));
    if (kept && before < p.maxKept)
      idx[before] = j;
    for (int w = 0; w < kThreads / 32; ++w)
      written += warpCounts[w];
    __syncthreads();
  }
  if (tid == 0)
    p.keptCnt[head * p.queryBlocks + qb] = min(written, p.maxKept);
}

} // namespace lfc

#endif // LFC_SELECTION_CUH
