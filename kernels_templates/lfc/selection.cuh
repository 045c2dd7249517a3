// Hierarchical Sparse Attention selection: key pooling (cached sums and means),
// frame and block top-k.
#ifndef LFC_SELECTION_CUH
#define LFC_SELECTION_CUH

#include "lfc/abi.h"
#include "lfc/mma.cuh"
#include "lfc/numeric.cuh"
#include "lfc/static_mask.cuh"

// Every sum and dot product here reproduces the CPU oracle's operation order
// exactly (docs/selection-semantics.md): one thread owns one (unit, d) sum and
// adds rows in ascending order; one thread owns one score and accumulates d in
// ascending order. Where operands come from (shared memory, registers, the
// cache of committed means) never changes that order.

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
/// would. The rows pass through a ring of LFC_POOL_STAGES shared-memory tiles
/// of LFC_POOL_TILE_ROWS rows (`ring`, LFC_POOL_SHARED_BYTES(dim)) with all
/// but one tile in flight. Every thread of the CTA calls it (barriers); other
/// threads' `sum` comes back unchanged.
template <typename T>
__device__ __forceinline__ float
sumRowsRing(float sum, unsigned short *ring, const unsigned short *base,
            long long strideS, int dim, int begin, int end) {
  constexpr int kRows = LFC_POOL_TILE_ROWS, kStages = LFC_POOL_STAGES;
  const int n = end - begin;
  const int tiles = n > 0 ? (n + kRows - 1) / kRows : 0;
#pragma unroll
  for (int s = 0; s < kStages - 1; ++s) {
    if (s < tiles)
      stageRows16(ring + s * kRows * dim, base, strideS, dim, begin + s * kRows,
                  min(kRows, n - s * kRows));
    cpAsyncCommit();
  }
  for (int t = 0; t < tiles; ++t) {
    // Refills the slot that tile t - 1 used (released by its last barrier).
    const int next = t + kStages - 1;
    if (next < tiles)
      stageRows16(ring + (next % kStages) * kRows * dim, base, strideS, dim,
                  begin + next * kRows, min(kRows, n - next * kRows));
    cpAsyncCommit();
    cpAsyncWait<kStages - 1>();
    __syncthreads();
    if (int(threadIdx.x) < dim)
      sum = sumStaged<T>(sum, ring + (t % kStages) * kRows * dim, dim,
                         int(threadIdx.x), min(kRows, n - t * kRows));
    __syncthreads();
  }
  cpAsyncWait<0>();
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

/// dot(a, row) with d ascending; `a` in shared memory with a stride of four
/// floats (one member of LfcSelectParams' group), `row` a 16-byte aligned fp32
/// row in global memory.
__device__ __forceinline__ float dotRow(const float *a, const float *row,
                                        int dim) {
  float acc = 0.f;
  // 16 float4 loads in flight, then their multiply-adds in order.
  for (int d0 = 0; d0 < dim; d0 += 64) {
    float4 y[16];
#pragma unroll
    for (int u = 0; u < 16; ++u)
      y[u] = d0 + 4 * u < dim
                 ? __ldg(reinterpret_cast<const float4 *>(row + d0 + 4 * u))
                 : make_float4(0.f, 0.f, 0.f, 0.f);
#pragma unroll
    for (int u = 0; u < 16; ++u) {
      if (d0 + 4 * u < dim) {
        const float *x = a + 4 * (d0 + 4 * u);
        acc = fmaRn(x[0], y[u].x, acc);
        acc = fmaRn(x[4], y[u].y, acc);
        acc = fmaRn(x[8], y[u].z, acc);
        acc = fmaRn(x[12], y[u].w, acc);
      }
    }
  }
  return acc;
}

/// kGroups exclusive scans at once: this thread's position among the CTA's
/// threads with flag[g] set (thread order) in before[g], their number in
/// total[g]. Every thread calls it; two barriers. `warpCounts` holds
/// kGroups * kThreads / 32 ints.
template <int kThreads, int kGroups>
__device__ __forceinline__ void ctaScan(const bool (&flag)[kGroups],
                                        int *warpCounts, int (&before)[kGroups],
                                        int (&total)[kGroups]) {
  constexpr int kWarps = kThreads / 32;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  unsigned ballot[kGroups];
#pragma unroll
  for (int g = 0; g < kGroups; ++g) {
    ballot[g] = __ballot_sync(0xffffffffu, flag[g]);
    if (lane == 0)
      warpCounts[g * kWarps + warp] = __popc(ballot[g]);
  }
  __syncthreads();
#pragma unroll
  for (int g = 0; g < kGroups; ++g) {
    int b = __popc(ballot[g] & ((1u << lane) - 1u)), t = 0;
    for (int w = 0; w < kWarps; ++w) {
      const int c = warpCounts[g * kWarps + w];
      b += w < warp ? c : 0;
      t += c;
    }
    before[g] = b;
    total[g] = t;
  }
  __syncthreads();
}

} // namespace detail

/// Adds rows [begin, end) of k to the running sums of the blocks and frames
/// they touch: one CTA per touched unit (blocks, then frames); thread d
/// continues column d's sum with the unit's rows staged in shared memory
/// (LFC_POOL_SHARED_BYTES). A unit whose last row is committed stores its mean
/// too (the value the pool kernel would compute from the final sum).
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
  int lo, hi, size;
  float *sums, *mean;
  long long meanStride;
  if (unit < nBlocks) {
    const int j = firstBlock + unit;
    lo = max(p.begin, j * p.blockK);
    hi = min(p.end, (j + 1) * p.blockK);
    size = p.blockK;
    sums = p.blockSums + (head * p.maxBlocks + j) * p.dim;
    mean = p.blockMeansT + head * p.dim * p.maxBlocks + j;
    meanStride = p.maxBlocks;
  } else {
    const int f = firstFrame + unit - nBlocks;
    lo = max(p.begin, f * p.tokensPerFrame);
    hi = min(p.end, (f + 1) * p.tokensPerFrame);
    size = p.tokensPerFrame;
    sums = p.frameSums + (head * p.maxFrames + f) * p.dim;
    mean = p.frameMeans + (head * p.maxFrames + f) * p.dim;
    meanStride = 1;
  }
  float sum = tid < p.dim ? sums[tid] : 0.f;
  sum = detail::sumRowsRing<T>(sum, reinterpret_cast<unsigned short *>(dyn),
                               detail::headBase(p.k, b, h), p.k.strideS, p.dim,
                               lo, hi);
  if (tid < p.dim) {
    sums[tid] = sum;
    // Complete: the unit's last row is committed. Units are complete only
    // at full size (a ragged last block ends past every committed prefix).
    if (hi == lo - lo % size + size)
      mean[tid * meanStride] = divRn(sum, float(size));
  }
}

/// Means of the call's query blocks and of its active key blocks and frames
/// (LfcPoolKeysParams): one CTA per unit; thread d continues column d's sum
/// (the committed one where the unit starts inside the committed prefix) with
/// the unit's remaining rows staged in shared memory (LFC_POOL_SHARED_BYTES).
template <typename T>
__device__ __forceinline__ void poolKeys(const LfcPoolKeysParams &p) {
  extern __shared__ __align__(16) unsigned char dyn[];
  const int b = blockIdx.z, h = blockIdx.y, tid = threadIdx.x, dim = p.dim;
  const long long head = (long long)b * p.heads + h;
  const int frames = p.frameEnd - p.activeFrame;
  int unit = blockIdx.x;
  const LfcTensorArg *src = &p.k;
  int lo, hi, from;
  float sum = 0.f;
  float *out;
  long long outStride = 1;
  // A unit that starts inside the committed prefix continues its committed
  // sum (row `row` of `sums`) with the rows after the prefix.
  auto resume = [&](const float *sums, long long row) {
    from = lo;
    if (p.committed > lo) {
      if (tid < dim)
        sum = sums[row * dim + tid];
      from = min(p.committed, hi);
    }
  };
  if (unit < frames) {
    const int f = p.activeFrame + unit;
    lo = f * p.tokensPerFrame;
    hi = min(p.lk, lo + p.tokensPerFrame);
    resume(p.frameSums, head * p.cacheFrames + f);
    out = p.frameMeans + (head * p.frames + f) * dim;
  } else if ((unit -= frames) < p.queryBlocks) {
    src = &p.q;
    lo = unit * p.blockQ;
    hi = min(p.lq, lo + p.blockQ);
    from = lo;
    out = p.queryMeans + (head * p.queryBlocks + unit) * dim;
  } else {
    const int j = p.activeBlock + unit - p.queryBlocks;
    if (j >= p.keyBlocks)
      return;
    lo = j * p.blockK;
    hi = min(p.lk, lo + p.blockK);
    resume(p.blockSums, head * p.cacheBlocks + j);
    out = p.blockMeansT + head * dim * p.keyBlocks + j;
    outStride = p.keyBlocks;
  }
  sum = detail::sumRowsRing<T>(sum, reinterpret_cast<unsigned short *>(dyn),
                               detail::headBase(*src, b, h), src->strideS, dim,
                               from, hi);
  if (tid < dim)
    out[tid * outStride] = divRn(sum, float(hi - lo));
}

/// Frame top-k, block eligibility, block top-k and the sorted kept lists of
/// up to LFC_SELECT_GROUP query blocks of one (batch, head) (p.group). kThreads
/// threads, kMaxDim >= dim. A block is eligible iff the frame stage allows it
/// and the static mask `Mask` (lfc/static_mask.cuh) does
/// (docs/static-masks.md).
///
/// The query means come from the pool kernel; each key block's mean is read
/// once per CTA (transposed layout: a warp reads 32 blocks' column d in one
/// line) and scored against every query block of the group. The top-k is a
/// radix select on unsigned keys (four 8-bit digits, most significant first):
/// it finds the budget-th largest key; blocks above it are kept, and of those
/// equal to it the ones at the lowest positions (the tie rule).
template <typename T, int kThreads, int kMaxDim, class Mask = lfc::mask::All>
__device__ __forceinline__ void selectBlocks(const LfcSelectParams &p) {
  constexpr int G = LFC_SELECT_GROUP, kWarps = kThreads / 32;
  static_assert(kThreads == 256, "one thread per radix bin");
  static_assert(kWarps >= G, "a warp per query block picks its radix digit");
  static_assert(kMaxDim % 4 == 0, "rows are whole float4s");
  // Members' query means by dimension: one 16-byte read gives every member's.
  __shared__ __align__(16) float4 qMeanT[kMaxDim];
  __shared__ int warpCounts[G * kWarps];
  __shared__ unsigned hist[G][256];
  __shared__ unsigned threshold[G];
  __shared__ int need[G];
  // Layout: LFC_SELECT_SHARED_BYTES (abi.h), one stride per member.
  extern __shared__ __align__(16) unsigned char dyn[];
  const int stride = LFC_SELECT_SHARED_STRIDE(p.keyBlocks, p.frames);
  const int nkb = p.keyBlocks, dim = p.dim;
  auto keyOf = [&](int g) {
    return reinterpret_cast<unsigned *>(dyn + g * stride);
  };
  auto eligibleOf = [&](int g) {
    return reinterpret_cast<unsigned short *>(dyn + g * stride + 4 * nkb);
  };
  auto posOf = [&](int g) {
    return reinterpret_cast<unsigned short *>(dyn + g * stride + 6 * nkb);
  };
  auto frameScoreOf = [&](int g) {
    return reinterpret_cast<float *>(dyn + g * stride + 8 * nkb);
  };
  auto frameFlagOf = [&](int g) {
    return dyn + g * stride + 8 * nkb + 4 * p.frames;
  };

  const int b = blockIdx.z, h = blockIdx.y, qb0 = blockIdx.x * p.group;
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const int members = min(min(G, p.group), p.queryBlocks - qb0);
  const long long head = (long long)b * p.heads + h;
  const bool frameStage = p.middleKeep >= 0;
  const int middle = frameStage ? p.nearBegin - p.sinkEnd : 0;

  static_assert(G == 4, "qMeanT packs four members per float4");
  for (int i = tid; i < G * dim; i += kThreads) {
    const int g = i / dim, d = i - g * dim;
    const float v =
        g < members ? p.queryMeans[(head * p.queryBlocks + qb0 + g) * dim + d]
                    : 0.f;
    reinterpret_cast<float *>(&qMeanT[d])[g] = v;
  }
  // Only members' strides exist in shared memory (p.group of them).
  for (int i = tid; i < members * p.frames; i += kThreads) {
    const int g = i / p.frames, f = i - g * p.frames;
    frameFlagOf(g)[f] = frameStage && f >= p.sinkEnd && f < p.nearBegin ? 0 : 1;
  }
  __syncthreads();

  // Frame stage: only middle frames compete; sink, near and current frames
  // always pass.
  for (int i = tid; i < members * middle; i += kThreads) {
    const int g = i / middle, f = p.sinkEnd + i - g * middle;
    const float *row =
        f < p.activeFrame
            ? p.cachedFrameMeans + (head * p.cacheFrames + f) * dim
            : p.frameMeans + (head * p.frames + f) * dim;
    frameScoreOf(g)[f] =
        detail::dotRow(reinterpret_cast<const float *>(qMeanT) + g, row, dim);
  }
  __syncthreads();
  for (int i = tid; i < members * middle; i += kThreads) {
    const int g = i / middle, f = p.sinkEnd + i - g * middle;
    const float *score = frameScoreOf(g);
    int rank = 0;
    for (int o = p.sinkEnd; o < p.nearBegin; ++o)
      rank += detail::ranksBefore(score[o], o, score[f], f);
    frameFlagOf(g)[f] = rank < p.middleKeep;
  }
  __syncthreads();

  // Block stage: a block is eligible if it overlaps an eligible frame (blocks
  // may straddle) and the static mask allows it. Each member lists its
  // eligible blocks in ascending order; posOf maps a block to its position.
  int n[G];
#pragma unroll
  for (int g = 0; g < G; ++g)
    n[g] = 0;
  for (int base = 0; base < nkb; base += kThreads) {
    const int j = base + tid;
    bool ok[G];
    int f0 = 0, f1 = -1;
    if (j < nkb) {
      f0 = j * p.blockK / p.tokensPerFrame;
      f1 = (min(p.lk, (j + 1) * p.blockK) - 1) / p.tokensPerFrame;
    }
#pragma unroll
    for (int g = 0; g < G; ++g) {
      bool e = false;
      if (g < members) {
        const unsigned char *flag = frameFlagOf(g);
        for (int f = f0; f <= f1; ++f)
          e |= flag[f] != 0;
        if constexpr (!mask::IsAll<Mask>::value) {
          const mask::Query query{
              p.tokensPerFrame, p.blockQ, p.blockK, p.lq, p.lk, qb0 + g};
          e = e && Mask::overlaps(query, j);
        }
      }
      ok[g] = e;
    }
    int at[G], total[G];
    detail::ctaScan<kThreads, G>(ok, warpCounts, at, total);
#pragma unroll
    for (int g = 0; g < G; ++g) {
      if (j < nkb && g < members)
        posOf(g)[j] = ok[g] ? static_cast<unsigned short>(n[g] + at[g])
                            : static_cast<unsigned short>(0xffffu);
      if (ok[g])
        eligibleOf(g)[n[g] + at[g]] = static_cast<unsigned short>(j);
      n[g] += total[g];
    }
  }

  // Scores, only if some member's budget cuts: thread j scores block j
  // against every member (one read of the block's mean), d ascending.
  const int budget = p.keptBudget;
  bool cut[G], anyCut = false;
#pragma unroll
  for (int g = 0; g < G; ++g) {
    cut[g] = n[g] > budget && budget > 0;
    anyCut |= cut[g];
  }
  if (anyCut) {
    for (int j = tid; j < nkb; j += kThreads) {
      const bool cached = j < p.activeBlock;
      const float *col =
          cached ? p.cachedBlockMeansT + head * dim * p.cacheBlocks + j
                 : p.blockMeansT + head * dim * nkb + j;
      const long long ld = cached ? p.cacheBlocks : nkb;
      float acc[G] = {0.f, 0.f, 0.f, 0.f};
      auto step = [&](int d, float m) {
        const float4 qd = qMeanT[d];
        acc[0] = fmaRn(qd.x, m, acc[0]);
        acc[1] = fmaRn(qd.y, m, acc[1]);
        acc[2] = fmaRn(qd.z, m, acc[2]);
        acc[3] = fmaRn(qd.w, m, acc[3]);
      };
      // 32 loads in flight per thread, then their multiply-adds in order.
      int d0 = 0;
      for (; d0 + 32 <= dim; d0 += 32) {
        const float *c = col + d0 * ld;
        float m[32];
#pragma unroll
        for (int u = 0; u < 32; ++u)
          m[u] = __ldg(c + u * ld);
#pragma unroll
        for (int u = 0; u < 32; ++u)
          step(d0 + u, m[u]);
      }
      for (; d0 < dim; ++d0)
        step(d0, __ldg(col + d0 * ld));
#pragma unroll
      for (int g = 0; g < G; ++g) {
        if (!cut[g])
          continue;
        const unsigned pos = posOf(g)[j];
        if (pos != 0xffffu)
          keyOf(g)[pos] = detail::orderKey(acc[g]);
      }
    }
    // Radix select of each cutting member's budget-th largest key.
    if (tid < G) {
      threshold[tid] = 0u;
      need[tid] = budget;
    }
    for (int shift = 24; shift >= 0; shift -= 8) {
#pragma unroll
      for (int g = 0; g < G; ++g)
        hist[g][tid] = 0u;
      __syncthreads();
      const unsigned high = shift == 24 ? 0u : ~0u << (shift + 8);
      // Keys share their high digits (sign and exponent): lanes with the same
      // bin add once, through their leader.
#pragma unroll
      for (int g = 0; g < G; ++g) {
        if (!cut[g])
          continue;
        const unsigned *key = keyOf(g);
        const unsigned prefix = threshold[g];
        for (int base = 0; base < n[g]; base += kThreads) {
          const int pos = base + tid;
          const unsigned k = pos < n[g] ? key[pos] : 0u;
          const bool counted = pos < n[g] && (k & high) == prefix;
          const unsigned bin = counted ? (k >> shift) & 255u : 256u + lane;
          const unsigned peers = __match_any_sync(0xffffffffu, bin);
          if (counted && lane == __ffs(peers) - 1)
            atomicAdd(&hist[g][bin], unsigned(__popc(peers)));
        }
      }
      __syncthreads();
      // Warp g finds the digit where the count from the top reaches need[g].
      bool mine = false;
#pragma unroll
      for (int g = 0; g < G; ++g)
        mine |= warp == g && cut[g];
      if (mine) {
        const int g = warp;
        unsigned local[8], s = 0;
#pragma unroll
        for (int i = 0; i < 8; ++i) {
          local[i] = hist[g][lane * 8 + i];
          s += local[i];
        }
        // Inclusive suffix sum over lanes: keys in bins >= this lane's.
        unsigned suffix = s;
#pragma unroll
        for (int o = 1; o < 32; o <<= 1) {
          const unsigned v = __shfl_down_sync(0xffffffffu, suffix, o);
          if (lane + o < 32)
            suffix += v;
        }
        unsigned above = suffix - s;
        const unsigned want = unsigned(need[g]);
        int digit = -1;
        unsigned newNeed = 0;
#pragma unroll
        for (int i = 7; i >= 0; --i) {
          if (digit < 0 && above < want && above + local[i] >= want) {
            digit = lane * 8 + i;
            newNeed = want - above;
          }
          above += local[i];
        }
        __syncwarp();
        if (digit >= 0) {
          threshold[g] |= unsigned(digit) << shift;
          need[g] = int(newNeed);
        }
      }
      __syncthreads();
    }
  }

  // Compaction: keep (in ascending order) every eligible block of a member
  // that does not cut; of one that cuts, the keys above its threshold and the
  // first need[g] keys equal to it.
  int written[G], equalSeen[G];
#pragma unroll
  for (int g = 0; g < G; ++g)
    written[g] = equalSeen[g] = 0;
  int longest = 0;
#pragma unroll
  for (int g = 0; g < G; ++g)
    longest = max(longest, n[g]);
  for (int base = 0; base < longest; base += kThreads) {
    const int pos = base + tid;
    bool equal[G], keep[G];
#pragma unroll
    for (int g = 0; g < G; ++g) {
      const bool in = pos < n[g];
      const unsigned k = in && cut[g] ? keyOf(g)[pos] : 0u;
      equal[g] = in && cut[g] && k == threshold[g];
      keep[g] = in && (cut[g] ? k > threshold[g] : n[g] <= budget);
    }
    int at[G], total[G];
    if (anyCut) {
      detail::ctaScan<kThreads, G>(equal, warpCounts, at, total);
#pragma unroll
      for (int g = 0; g < G; ++g) {
        keep[g] = keep[g] || (equal[g] && equalSeen[g] + at[g] < need[g]);
        equalSeen[g] += total[g];
      }
    }
    detail::ctaScan<kThreads, G>(keep, warpCounts, at, total);
#pragma unroll
    for (int g = 0; g < G; ++g) {
      if (keep[g] && written[g] + at[g] < p.maxKept)
        p.keptIdx[(head * p.queryBlocks + qb0 + g) * (long long)p.maxKept +
                  written[g] + at[g]] = eligibleOf(g)[pos];
      written[g] += total[g];
    }
  }
  if (tid == 0) {
#pragma unroll
    for (int g = 0; g < G; ++g)
      if (g < members)
        p.keptCnt[head * p.queryBlocks + qb0 + g] = min(written[g], p.maxKept);
  }
}

} // namespace lfc

#endif // LFC_SELECTION_CUH
