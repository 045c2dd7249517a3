// Hierarchical Sparse Attention selection: key pooling (cached sums), frame and
// block top-k.
#ifndef LFC_SELECTION_CUH
#define LFC_SELECTION_CUH

#include "lfc/abi.h"
#include "lfc/mma.cuh"
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

/// Issues the cp.async copies of 16-bit rows [r0, r0 + n) of one head into
/// `dst`, packed (dim elements per row). Every thread of the CTA takes part.
__device__ __forceinline__ void stageRows16(unsigned short *dst,
                                            const unsigned short *base,
                                            long long strideS, int dim, int r0,
                                            int n) {
  const int chunks = dim / 8; // 16-byte pieces per row
  for (int i = threadIdx.x; i < n * chunks; i += blockDim.x) {
    const int r = i / chunks, c = i - r * chunks;
    cpAsync16(smemAddr(dst + r * dim + c * 8),
              base + (long long)(r0 + r) * strideS + c * 8, true);
  }
}

/// Issues the cp.async copies of `n` fp32 rows (dim floats each) of `means`
/// into `dst` with a row stride of `ld` floats: rows list[first + r] when
/// `list` is given, else rows first + r.
__device__ __forceinline__ void stageMeans(float *dst, int ld,
                                           const float *means, int dim,
                                           const unsigned short *list,
                                           int first, int n) {
  const int chunks = dim / 4;
  for (int i = threadIdx.x; i < n * chunks; i += blockDim.x) {
    const int r = i / chunks, c = i - r * chunks;
    const int row = list ? int(list[first + r]) : first + r;
    cpAsync16(smemAddr(dst + r * ld + c * 4),
              means + (long long)row * dim + c * 4, true);
  }
}

/// Continues `sum` with the n staged rows of column d, in ascending row order.
template <typename T>
__device__ __forceinline__ float
sumStaged(float sum, const unsigned short *tile, int dim, int d, int n) {
  int r = 0;
  for (; r + 8 <= n; r += 8) {
    unsigned short v[8];
#pragma unroll
    for (int u = 0; u < 8; ++u)
      v[u] = tile[(r + u) * dim + d];
#pragma unroll
    for (int u = 0; u < 8; ++u)
      sum = addRn(sum, toFloat<T>(v[u]));
  }
  for (; r < n; ++r)
    sum = addRn(sum, toFloat<T>(tile[r * dim + d]));
  return sum;
}

/// Continues thread d's (d < dim) `sum` with rows [begin, end) of column d,
/// in ascending row order, exactly as a sequential loop over global memory
/// would: the rows pass through shared memory in tiles of
/// LFC_SELECT_TILE_ROWS (two buffers in `stage`, 2 * LFC_SELECT_TILE_ROWS *
/// dim elements), the next tile loading while the current one is summed.
/// Every thread of the CTA calls it (barriers); other threads' `sum` comes
/// back unchanged.
template <typename T>
__device__ __forceinline__ float
sumRowsStaged(float sum, unsigned short *stage, const unsigned short *base,
              long long strideS, int dim, int begin, int end) {
  constexpr int kRows = LFC_SELECT_TILE_ROWS;
  const int n = end - begin;
  if (n > 0)
    stageRows16(stage, base, strideS, dim, begin, min(kRows, n));
  cpAsyncCommit();
  for (int t = 0; t * kRows < n; ++t) {
    const int next = (t + 1) * kRows;
    if (next < n)
      stageRows16(stage + ((t + 1) & 1) * kRows * dim, base, strideS, dim,
                  begin + next, min(kRows, n - next));
    cpAsyncCommit();
    cpAsyncWait<1>();
    __syncthreads();
    if (int(threadIdx.x) < dim)
      sum = sumStaged<T>(sum, stage + (t & 1) * kRows * dim, dim,
                         int(threadIdx.x), min(kRows, n - t * kRows));
    // The buffer is refilled two tiles later.
    __syncthreads();
  }
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

/// An unsigned key with the order of scores in a top-k: larger score, larger
/// key; equal scores (-0 and +0 too), equal keys; NaN below everything.
/// Candidates at lower indices then win ties.
__device__ __forceinline__ unsigned orderKey(float s) {
  unsigned u = __float_as_uint(s);
  if ((u & 0x7fffffffu) > 0x7f800000u)
    return 0u;
  if (u == 0x80000000u)
    u = 0u;
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

/// dot(a, row) with d ascending, a and row 16-byte aligned in shared memory.
__device__ __forceinline__ float dotStaged(const float *a, const float *row,
                                           int dim) {
  float acc = 0.f;
#pragma unroll 4
  for (int d = 0; d < dim; d += 4) {
    const float4 x = *reinterpret_cast<const float4 *>(a + d);
    const float4 y = *reinterpret_cast<const float4 *>(row + d);
    acc = fmaRn(x.x, y.x, acc);
    acc = fmaRn(x.y, y.y, acc);
    acc = fmaRn(x.z, y.z, acc);
    acc = fmaRn(x.w, y.w, acc);
  }
  return acc;
}

/// This thread's position among the CTA's threads with `flag` set (thread
/// order), and their number in `total`. Every thread calls it; two barriers.
template <int kThreads>
__device__ __forceinline__ int ctaExclusiveScan(bool flag, int *warpCounts,
                                                int &total) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const unsigned ballot = __ballot_sync(0xffffffffu, flag);
  if (lane == 0)
    warpCounts[warp] = __popc(ballot);
  __syncthreads();
  int before = __popc(ballot & ((1u << lane) - 1u));
  total = 0;
  for (int w = 0; w < kThreads / 32; ++w) {
    const int c = warpCounts[w];
    before += w < warp ? c : 0;
    total += c;
  }
  __syncthreads();
  return before;
}

} // namespace detail

/// Adds rows [begin, end) of k to the running sums of the blocks and frames
/// they touch: one CTA per touched unit (blocks, then frames); thread d
/// continues column d's sum with the unit's rows staged in shared memory
/// (LFC_POOL_SHARED_BYTES).
template <typename T>
__device__ __forceinline__ void commitKeys(const LfcCommitParams &p) {
  extern __shared__ __align__(16) unsigned char dyn[];
  const int b = blockIdx.z, h = blockIdx.y, tid = threadIdx.x;
  if (p.end <= p.begin)
    return;
  const int firstBlock = p.begin / p.blockK, lastBlock = (p.end - 1) / p.blockK;
  const int firstFrame = p.begin / p.tokensPerFrame,
            lastFrame = (p.end - 1) / p.tokensPerFrame;
  const int nBlocks = lastBlock - firstBlock + 1,
            nFrames = lastFrame - firstFrame + 1;
  const int unit = blockIdx.x;
  if (unit >= nBlocks + nFrames)
    return;
  const long long head = (long long)b * p.heads + h;
  int lo, hi;
  float *sums;
  if (unit < nBlocks) {
    const int j = firstBlock + unit;
    lo = max(p.begin, j * p.blockK);
    hi = min(p.end, (j + 1) * p.blockK);
    sums = p.blockSums + (head * p.maxBlocks + j) * p.dim;
  } else {
    const int f = firstFrame + unit - nBlocks;
    lo = max(p.begin, f * p.tokensPerFrame);
    hi = min(p.end, (f + 1) * p.tokensPerFrame);
    sums = p.frameSums + (head * p.maxFrames + f) * p.dim;
  }
  float sum = tid < p.dim ? sums[tid] : 0.f;
  sum = detail::sumRowsStaged<T>(sum, reinterpret_cast<unsigned short *>(dyn),
                                 detail::headBase(p.k, b, h), p.k.strideS,
                                 p.dim, lo, hi);
  if (tid < p.dim)
    sums[tid] = sum;
}

/// Means of every key block and of frames [frameBegin, frameEnd) of the logical
/// KV sequence. Active units (rows past the committed prefix) have one CTA
/// each: thread d continues column d's committed sum with the unit's remaining
/// rows staged in shared memory (LFC_POOL_SHARED_BYTES). The CTAs after them
/// divide the final sums of the other units, one thread per (unit, d).
template <typename T>
__device__ __forceinline__ void poolKeys(const LfcPoolKeysParams &p) {
  extern __shared__ __align__(16) unsigned char dyn[];
  const int b = blockIdx.z, h = blockIdx.y, tid = threadIdx.x, dim = p.dim;
  const long long head = (long long)b * p.heads + h;
  const int blockA =
      LFC_POOL_FIRST_ACTIVE_BLOCK(p.committed, p.blockK, p.keyBlocks);
  const int frameA = LFC_POOL_FIRST_ACTIVE_FRAME(p.committed, p.tokensPerFrame,
                                                 p.frameBegin, p.frameEnd);
  const int activeBlocks = p.keyBlocks - blockA;
  const int active = activeBlocks + p.frameEnd - frameA;
  const int cta = blockIdx.x;
  if (cta >= active) {
    // Units inside the committed prefix: rows [lo, lo + size), all committed.
    const long long i = (long long)(cta - active) * blockDim.x + tid;
    const int unit = int(i / dim), d = int(i % dim);
    if (unit >= blockA + frameA - p.frameBegin)
      return;
    if (unit < blockA) {
      p.blockMeans[(head * p.keyBlocks + unit) * dim + d] =
          divRn(p.blockSums[(head * p.cacheBlocks + unit) * dim + d],
                float(p.blockK));
    } else {
      const int f = p.frameBegin + unit - blockA;
      p.frameMeans[(head * p.frames + f) * dim + d] =
          divRn(p.frameSums[(head * p.cacheFrames + f) * dim + d],
                float(p.tokensPerFrame));
    }
    return;
  }
  const bool isBlock = cta < activeBlocks;
  const int index = isBlock ? blockA + cta : frameA + cta - activeBlocks;
  const int size = isBlock ? p.blockK : p.tokensPerFrame;
  const int lo = index * size, hi = min(p.lk, lo + size);
  float sum = 0.f;
  int from = lo;
  if (p.committed > lo) {
    if (tid < dim)
      sum = isBlock ? p.blockSums[(head * p.cacheBlocks + index) * dim + tid]
                    : p.frameSums[(head * p.cacheFrames + index) * dim + tid];
    from = min(p.committed, hi);
  }
  sum = detail::sumRowsStaged<T>(sum, reinterpret_cast<unsigned short *>(dyn),
                                 detail::headBase(p.k, b, h), p.k.strideS, dim,
                                 from, hi);
  if (tid < dim) {
    const float mean = divRn(sum, float(hi - lo));
    if (isBlock)
      p.blockMeans[(head * p.keyBlocks + index) * dim + tid] = mean;
    else
      p.frameMeans[(head * p.frames + index) * dim + tid] = mean;
  }
}

/// Frame top-k, block eligibility, block top-k and the sorted kept list of one
/// (batch, head, query block). kThreads threads, kMaxDim >= dim. A block is
/// eligible iff the frame stage allows it and the static mask `Mask`
/// (lfc/static_mask.cuh) does (docs/static-masks.md).
///
/// Every operand of a sum or dot product reaches its thread through shared
/// memory: the query rows and the pooled means are staged with cp.async in
/// tiles of LFC_SELECT_TILE_ROWS rows (the next tile loading while the current
/// one is consumed); each chain keeps the order of
/// docs/selection-semantics.md. Only eligible blocks are scored, and only when
/// the budget cuts.
template <typename T, int kThreads, int kMaxDim, class Mask = lfc::mask::All>
__device__ __forceinline__ void selectBlocks(const LfcSelectParams &p) {
  constexpr int kRows = LFC_SELECT_TILE_ROWS;
  static_assert(kThreads % 32 == 0 && kThreads >= kMaxDim && kThreads >= kRows,
                "a thread per column and per staged row");
  static_assert(kMaxDim % 8 == 0, "rows are whole 16-byte pieces");
  __shared__ __align__(16) float qMean[kMaxDim];
  __shared__ int warpCounts[kThreads / 32];
  // Layout: LFC_SELECT_LAUNCH_BYTES (abi.h).
  extern __shared__ __align__(16) unsigned char dyn[];
  const int dim = p.dim, ld = dim + 4;
  float *tileA = reinterpret_cast<float *>(dyn);
  float *tileB = tileA + kRows * ld;
  // Score keys of the eligible blocks, by position in `eligible`.
  unsigned *key = reinterpret_cast<unsigned *>(tileB + kRows * ld);
  float *frameScore = reinterpret_cast<float *>(key + p.keyBlocks);
  unsigned short *eligible =
      reinterpret_cast<unsigned short *>(frameScore + p.frames);
  unsigned char *frameFlag =
      reinterpret_cast<unsigned char *>(eligible + p.keyBlocks);

  const int b = blockIdx.z, h = blockIdx.y, qb = blockIdx.x;
  const int tid = threadIdx.x;
  const long long head = (long long)b * p.heads + h;
  const bool frameStage = p.middleKeep >= 0;
  const int middle = frameStage ? p.nearBegin - p.sinkEnd : 0;
  const float *frameMeans = p.frameMeans + head * p.frames * dim;
  const float *blockMeans = p.blockMeans + head * p.keyBlocks * dim;

  // The first tile of middle-frame means loads while the query rows are
  // summed.
  if (middle > 0)
    detail::stageMeans(tileB, ld, frameMeans, dim, nullptr, p.sinkEnd,
                       min(middle, kRows));
  cpAsyncCommit();
  {
    const int lo = qb * p.blockQ, hi = min(p.lq, lo + p.blockQ);
    const float sum = detail::sumRowsStaged<T>(
        0.f, reinterpret_cast<unsigned short *>(tileA),
        detail::headBase(p.q, b, h), p.q.strideS, dim, lo, hi);
    if (tid < dim)
      qMean[tid] = divRn(sum, float(hi - lo));
  }
  for (int f = tid; f < p.frames; f += kThreads)
    frameFlag[f] = frameStage && f >= p.sinkEnd && f < p.nearBegin ? 0 : 1;
  __syncthreads();

  // Frame stage: only middle frames compete; sink, near and current frames
  // always pass.
  for (int t = 0; t < middle; t += kRows) {
    const int rows = min(kRows, middle - t);
    if (t > 0)
      detail::stageMeans(tileB, ld, frameMeans, dim, nullptr, p.sinkEnd + t,
                         rows);
    cpAsyncCommit();
    cpAsyncWait<0>();
    __syncthreads();
    if (tid < rows)
      frameScore[p.sinkEnd + t + tid] =
          detail::dotStaged(qMean, tileB + tid * ld, dim);
    __syncthreads();
  }
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
  // may straddle) and the static mask allows it. The eligible blocks are
  // listed in ascending order.
  int n = 0;
  for (int base = 0; base < p.keyBlocks; base += kThreads) {
    const int j = base + tid;
    bool ok = false;
    if (j < p.keyBlocks) {
      const int f0 = j * p.blockK / p.tokensPerFrame;
      const int f1 = (min(p.lk, (j + 1) * p.blockK) - 1) / p.tokensPerFrame;
      for (int f = f0; f <= f1; ++f)
        ok |= frameFlag[f] != 0;
      if constexpr (!mask::IsAll<Mask>::value) {
        const mask::Query query{
            p.tokensPerFrame, p.blockQ, p.blockK, p.lq, p.lk, qb};
        ok = ok && Mask::overlaps(query, j);
      }
    }
    int total;
    const int at =
        n + detail::ctaExclusiveScan<kThreads>(ok, warpCounts, total);
    if (ok)
      eligible[at] = static_cast<unsigned short>(j);
    n += total;
  }
  __syncthreads();

  // Scores of the eligible blocks, only where the budget cuts: their means
  // staged by tiles (double-buffered), one score per thread.
  const int budget = p.keptBudget;
  const bool topK = n > budget;
  if (topK && budget > 0) {
    detail::stageMeans(tileA, ld, blockMeans, dim, eligible, 0, min(n, kRows));
    cpAsyncCommit();
    for (int t = 0; t * kRows < n; ++t) {
      const int next = (t + 1) * kRows;
      if (next < n)
        detail::stageMeans((t & 1) ? tileA : tileB, ld, blockMeans, dim,
                           eligible, next, min(kRows, n - next));
      cpAsyncCommit();
      cpAsyncWait<1>();
      __syncthreads();
      const float *tile = (t & 1) ? tileB : tileA;
      if (tid < min(kRows, n - t * kRows))
        key[t * kRows + tid] =
            detail::orderKey(detail::dotStaged(qMean, tile + tid * ld, dim));
      // The buffer is refilled two tiles later.
      __syncthreads();
    }
  }

  // Rank (larger key first; equal keys: lower position, i.e. lower index) and
  // compact the kept blocks into the ascending list, kThreads per round.
  int *idx = p.keptIdx + head * p.queryBlocks * (long long)p.maxKept +
             (long long)qb * p.maxKept;
  int written = 0;
  for (int base = 0; base < n; base += kThreads) {
    const int pos = base + tid;
    bool keep = pos < n;
    if (keep && topK) {
      int rank = 0;
      if (budget > 0) {
        const unsigned mine = key[pos];
        for (int g = 0; g < pos; ++g)
          rank += key[g] >= mine;
        for (int g = pos + 1; g < n; ++g)
          rank += key[g] > mine;
      }
      keep = rank < budget;
    }
    int total;
    const int at =
        written + detail::ctaExclusiveScan<kThreads>(keep, warpCounts, total);
    if (keep && at < p.maxKept)
      idx[at] = eligible[pos];
    written += total;
  }
  if (tid == 0)
    p.keptCnt[head * p.queryBlocks + qb] = min(written, p.maxKept);
}

} // namespace lfc

#endif // LFC_SELECTION_CUH
