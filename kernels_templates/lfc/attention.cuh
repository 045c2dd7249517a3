// Block-sparse attention (FlashAttention-2 style) over kept key blocks,
// mma.sync + cp.async.
#ifndef LFC_ATTENTION_CUH
#define LFC_ATTENTION_CUH

#include "lfc/abi.h"
#include "lfc/mma.cuh"
#include "lfc/numeric.cuh"
#include "lfc/static_mask.cuh"

namespace lfc {

/// Which key blocks a query block visits: every one (Dense), the kept list of
/// LfcAttnParams (KeptList), or those the static mask C::Mask makes eligible,
/// found by index arithmetic with no list in memory (Static).
enum class MaskMode { Dense, KeptList, Static };

/// Everything one attention kernel is specialized on. kBlockQ/kBlockK are the
/// policy's selection blocks; kTileQ/kTileK the CTA's tiles (per-arch choice).
/// A CTA's query tile lies inside one selection query block, and a kept key
/// block is walked in whole tiles. Mask_ (lfc/static_mask.cuh) and
/// kTokensPerFrame_ (> 0) serve MaskMode::Static only.
template <typename T, int kHeadDim_, int kBlockQ_, int kBlockK_, int kTileQ_,
          int kTileK_, int kWarps_, MaskMode kMask_,
          class Mask_ = lfc::mask::All, int kTokensPerFrame_ = 0>
struct AttnConfig {
  using Elem = T;
  using Mask = Mask_;
  static constexpr int kHeadDim = kHeadDim_;
  static constexpr int kBlockQ = kBlockQ_;
  static constexpr int kBlockK = kBlockK_;
  static constexpr int kTileQ = kTileQ_;
  static constexpr int kTileK = kTileK_;
  static constexpr MaskMode kMask = kMask_;
  static constexpr int kTokensPerFrame = kTokensPerFrame_;
  /// Each warp owns kMTiles m16 row tiles: 32 rows per warp halve the
  /// shared-memory reads of K and V per MMA compared with 16, at the cost of
  /// registers.
  static constexpr int kWarps = kWarps_;
  static constexpr int kThreads = kWarps * 32;
  static constexpr int kWarpRows = kTileQ / kWarps;
  static constexpr int kMTiles = kWarpRows / 16;
  static constexpr int kChunks = kHeadDim / 8; ///< 16-byte chunks per row
  static constexpr int kTilesPerBlock = kBlockK / kTileK;
  /// Q tile, then two K and two V stages.
  static constexpr int kSmemBytes = (kTileQ + 4 * kTileK) * kHeadDim * 2;

  static_assert(kHeadDim == 64 || kHeadDim == 128,
                "head_dim must be 64 or 128");
  static_assert(kTileQ % 16 == 0 && kTileQ <= 128,
                "tile_q: multiple of 16, at most 128");
  static_assert(kTileK % 16 == 0 && kTileK <= 128,
                "tile_k: multiple of 16, at most 128");
  static_assert(kBlockQ % kTileQ == 0,
                "a query tile must not straddle selection blocks");
  static_assert(kBlockK % kTileK == 0,
                "a kept key block must be whole key tiles");
  static_assert(kWarpRows * kWarps == kTileQ && (kMTiles == 1 || kMTiles == 2),
                "each warp owns 16 or 32 query rows");
  static_assert(kMask != MaskMode::Static || kTokensPerFrame_ > 0,
                "a static mask needs the tokens per frame");
};

namespace detail {

/// Issues the cp.async copies of kRows rows starting at token `row0` of one
/// head into a swizzled tile; rows at or past `limit` are zero-filled.
template <class C, int kRows>
__device__ __forceinline__ void
loadTile(unsigned sTile, const unsigned short *base, long long strideS,
         int row0, int limit) {
  constexpr int kTotal = kRows * C::kChunks;
  static_assert(kTotal % C::kThreads == 0,
                "every thread copies the same number of chunks");
  static_assert(C::kThreads % C::kChunks == 0,
                "a thread keeps its chunk column");
  constexpr int kRowStep = C::kThreads / C::kChunks;
  const int c = threadIdx.x % C::kChunks, r0 = threadIdx.x / C::kChunks;
  const unsigned short *src = base + (long long)(row0 + r0) * strideS + c * 8;
#pragma unroll
  for (int j = 0; j < kTotal / C::kThreads; ++j) {
    const int r = r0 + j * kRowStep;
    const bool valid = row0 + r < limit;
    cpAsync16(sTile + swizzle<C::kChunks>(r, c),
              valid ? src + (long long)j * kRowStep * strideS : base, valid);
  }
}

/// The (b, h) slice of a [batch, tokens, heads, dim] tensor argument.
__device__ __forceinline__ const unsigned short *
headSlice(const LfcTensorArg &t, int b, int h) {
  return static_cast<const unsigned short *>(t.data) + b * t.strideB +
         h * t.strideH;
}

/// The key tiles of kernel tile size C::kTileK that the query tile starting at
/// row q0 visits: every tile of the KV sequence (dense), or the tiles of its
/// query block's kept key blocks in list order (C::kTilesPerBlock per block).
/// MaskMode::Static: the specialization below.
template <class C, MaskMode kMode = C::kMask> struct KeyTiles {
  const int *kept = nullptr;
  int count = 0;

  KeyTiles() = default;
  __device__ __forceinline__ KeyTiles(const LfcAttnParams &p, int b, int h,
                                      int q0, bool = true) {
    if constexpr (C::kMask == MaskMode::KeptList) {
      const long long row =
          ((long long)b * p.heads + h) * p.queryBlocks + q0 / C::kBlockQ;
      kept = p.keptIdx + row * p.maxKept;
      count = p.keptCnt[row] * C::kTilesPerBlock;
    } else {
      count = (p.lk + C::kTileK - 1) / C::kTileK;
    }
  }
  /// First key row of tile t.
  __device__ __forceinline__ int start(int t) const {
    if constexpr (C::kMask == MaskMode::KeptList)
      return kept[t / C::kTilesPerBlock] * C::kBlockK +
             (t % C::kTilesPerBlock) * C::kTileK;
    else
      return t * C::kTileK;
  }
  /// The first key row as the softmax's lk mask needs it (see Static).
  __device__ __forceinline__ int maskStart(int t) const { return start(t); }
};

/// Static mask: the tiles of the key blocks C::Mask makes eligible for the
/// query block, ascending, C::kTilesPerBlock per block, as KeptList would walk
/// the same blocks listed. No list: the count is taken at construction and
/// start(t) moves a cursor over the eligible blocks, amortized O(1) per call
/// for non-decreasing t (a decreasing t restarts it from the first block).
///
/// warpWide: every lane of the calling warp constructs the same tiles and
/// calls start() with the same t, converged (the mma.sync and wgmma kernels,
/// the TMA kernel's consumers). Each lane then evaluates the mask for one key
/// block of a 32-block window and a ballot collects the window's eligibility:
/// counting costs one mask evaluation per lane per 32 key blocks, and the
/// cursor keeps the current window's bits, so advancing is a bit scan. Else
/// (the TMA producer, one thread) the thread evaluates every block serially.
template <class C> struct KeyTiles<C, MaskMode::Static> {
  using Mask = typename C::Mask;
  // One query block per query tile and whole tiles per key block, as KeptList
  // requires (it reads the kept row of q0 / kBlockQ and walks kept blocks in
  // kTilesPerBlock tiles).
  static_assert(C::kBlockQ % C::kTileQ == 0,
                "a query tile must not straddle selection blocks");
  static_assert(C::kBlockK % C::kTileK == 0,
                "an eligible key block must be whole key tiles");
  static_assert(C::kTokensPerFrame > 0,
                "a static mask needs the tokens per frame");

  mask::Query query{};
  int count = 0;
  bool warpWide = true;
  // Cursor: the n-th eligible key block (-1: before the first) is block j;
  // warpWide: the bits of window [winBase, winBase + 32) not yet visited
  // (above j).
  mutable int n = -1, j = -1, winBase = -32;
  mutable unsigned winBits = 0;
  int lastBlock = 0; ///< the highest eligible key block

  KeyTiles() = default;
  __device__ __forceinline__ KeyTiles(const LfcAttnParams &p, int, int, int q0,
                                      bool warpWide_ = true)
      : query{C::kTokensPerFrame, C::kBlockQ, C::kBlockK, p.lq, p.lk,
              q0 / C::kBlockQ},
        warpWide(warpWide_) {
    int eligible = 0;
    if (warpWide) {
      for (int base = 0; base < keyBlocks(); base += 32) {
        const unsigned bits = window(base);
        eligible += __popc(bits);
        if (bits)
          lastBlock = base + 31 - __clz(bits);
      }
    } else {
      for (int k = 0; k < keyBlocks(); ++k)
        if (Mask::overlaps(query, k)) {
          ++eligible;
          lastBlock = k;
        }
    }
    count = eligible * C::kTilesPerBlock;
  }

  /// What the softmax needs of tile t's first key row: exact for the tiles
  /// of the last eligible block, which alone may reach past lk; 0 (no key
  /// past lk) for the others, so a consumer that does not load tiles never
  /// walks the mask.
  __device__ __forceinline__ int maskStart(int t) const {
    return t >= count - C::kTilesPerBlock
               ? lastBlock * C::kBlockK + (t % C::kTilesPerBlock) * C::kTileK
               : 0;
  }

  /// First key row of tile t.
  __device__ __forceinline__ int start(int t) const {
    const int want = t / C::kTilesPerBlock;
    if (want < n) {
      n = j = -1;
      winBase = -32;
      winBits = 0;
    }
    while (n < want)
      advance();
    return j * C::kBlockK + (t % C::kTilesPerBlock) * C::kTileK;
  }

private:
  __device__ __forceinline__ int keyBlocks() const {
    return (query.lk + C::kBlockK - 1) / C::kBlockK;
  }
  /// Eligibility of key blocks [base, base + 32), one lane each.
  __device__ __forceinline__ unsigned window(int base) const {
    const int k = base + int(threadIdx.x % 32);
    return __ballot_sync(0xffffffffu,
                         k < keyBlocks() && Mask::overlaps(query, k));
  }
  /// Moves to the next eligible block (past the last: block keyBlocks(), whose
  /// tiles lie past lk; never reached for t < count).
  __device__ __forceinline__ void advance() const {
    ++n;
    if (warpWide) {
      while (winBits == 0 && winBase + 32 < keyBlocks()) {
        winBase += 32;
        winBits = window(winBase);
      }
      if (winBits == 0) {
        j = keyBlocks();
        return;
      }
      j = winBase + __ffs(winBits) - 1;
      winBits &= winBits - 1;
    } else {
      do
        ++j;
      while (j < keyBlocks() && !Mask::overlaps(query, j));
    }
  }
};

/// One key tile's step of the online softmax, for the two query rows a thread
/// holds in an accumulator fragment laid out like mma.sync m16n8 (wgmma m64nN
/// uses the same per-warp layout): masks keys at or past `lk` (they exist only
/// as zero fill), updates the running max and sum, turns the scores `s` into
/// unnormalized probabilities, and returns in `rescale` the factor the output
/// accumulator's rows must be multiplied by. The max is tracked on raw scores;
/// scaleLog2 > 0 preserves it, and each exponent is one FMA.
template <int NT>
__device__ __forceinline__ void
onlineSoftmaxStep(float (&s)[NT][4], float (&rowMax)[2], float (&rowSum)[2],
                  float (&rescale)[2], int k0, int tileK, int lk, int lane,
                  float scaleLog2) {
  if (k0 + tileK > lk) {
#pragma unroll
    for (int n = 0; n < NT; ++n) {
      const int col = k0 + n * 8 + 2 * (lane % 4);
      if (col >= lk)
        s[n][0] = s[n][2] = negInf();
      if (col + 1 >= lk)
        s[n][1] = s[n][3] = negInf();
    }
  }
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    float mx = negInf();
#pragma unroll
    for (int n = 0; n < NT; ++n)
      mx = fmaxf(mx, fmaxf(s[n][2 * r], s[n][2 * r + 1]));
    mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
    mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
    const float newMax = fmaxf(rowMax[r], mx);
    // A row that has seen only masked keys keeps max -inf; subtracting 0
    // instead keeps every exponent at exp2(-inf) = 0 rather than NaN.
    const float base = newMax == negInf() ? 0.f : newMax * scaleLog2;
    rescale[r] = exp2Approx(rowMax[r] * scaleLog2 - base);
    rowMax[r] = newMax;
    float sum = 0.f;
#pragma unroll
    for (int n = 0; n < NT; ++n) {
      s[n][2 * r] = exp2Approx(fmaf(s[n][2 * r], scaleLog2, -base));
      s[n][2 * r + 1] = exp2Approx(fmaf(s[n][2 * r + 1], scaleLog2, -base));
      sum += s[n][2 * r] + s[n][2 * r + 1];
    }
    rowSum[r] = rowSum[r] * rescale[r] + sum;
  }
}

} // namespace detail

template <class C>
__device__ __forceinline__ void blockSparseAttention(const LfcAttnParams &p) {
  using T = typename C::Elem;
  constexpr int D = C::kHeadDim, TK = C::kTileK, NT = TK / 8, DT = D / 8;
  extern __shared__ __align__(128) unsigned char smem[];
  const unsigned sQ = smemAddr(smem);
  const unsigned sK0 = sQ + C::kTileQ * D * 2;
  const unsigned sV0 = sK0 + 2 * TK * D * 2;
  constexpr unsigned kStage = TK * D * 2;

  const int b = blockIdx.z, h = blockIdx.y;
  const int q0 = blockIdx.x * C::kTileQ;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const unsigned short *qBase = detail::headSlice(p.q, b, h);
  const unsigned short *kBase = detail::headSlice(p.k, b, h);
  const unsigned short *vBase = detail::headSlice(p.v, b, h);
  const detail::KeyTiles<C> tiles(p, b, h, q0);
  const int numTiles = tiles.count;
  auto tileStart = [&](int t) { return tiles.start(t); };

  detail::loadTile<C, C::kTileQ>(sQ, qBase, p.q.strideS, q0, p.lq);
  if (numTiles > 0) {
    const int k0 = tileStart(0);
    detail::loadTile<C, TK>(sK0, kBase, p.k.strideS, k0, p.lk);
    detail::loadTile<C, TK>(sV0, vBase, p.v.strideS, k0, p.lk);
  }
  cpAsyncCommit();
  cpAsyncWait<0>();
  __syncthreads();

  constexpr int MT = C::kMTiles;
  const int warpRow0 = warp * C::kWarpRows;
  float acc[MT][DT][4];
#pragma unroll
  for (int mt = 0; mt < MT; ++mt)
#pragma unroll
    for (int i = 0; i < DT; ++i)
      acc[mt][i][0] = acc[mt][i][1] = acc[mt][i][2] = acc[mt][i][3] = 0.f;
  // Running max of the raw scores and partial row sums (this lane's columns) of
  // rows lane/4 and lane/4 + 8 of each m-tile.
  float rowMax[MT][2], rowSum[MT][2];
#pragma unroll
  for (int mt = 0; mt < MT; ++mt) {
    rowMax[mt][0] = rowMax[mt][1] = negInf();
    rowSum[mt][0] = rowSum[mt][1] = 0.f;
  }

  // Per-lane swizzled offsets of the ldmatrix rows. swizzle(row + 8m, 8h + c)
  // equals swizzle(row, c) plus constants, so four offsets per operand (one per
  // c = 2j + half) cover every k-step; the rest folds into immediates instead
  // of live address registers.
  const int mi = lane / 8;
  unsigned qOff[4], kOff[4], vOff[4];
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    qOff[j] = swizzle<C::kChunks>(warpRow0 + lane % 16, 2 * j + lane / 16);
    kOff[j] = swizzle<C::kChunks>((mi / 2) * 8 + lane % 8, 2 * j + mi % 2);
    vOff[j] = swizzle<C::kChunks>((mi % 2) * 8 + lane % 8, 2 * j + mi / 2);
  }
  constexpr unsigned kRow16 = 16 * C::kChunks * 16; // bytes of 16 rows

  // One barrier per key tile: it publishes tile t's copies and retires tile t -
  // 1, whose stage the copies of tile t + 1, issued right after it, overwrite.
  for (int t = 0; t < numTiles; ++t) {
    const int stage = t & 1;
    const int k0 = tileStart(t);
    cpAsyncWait<0>();
    __syncthreads();
    if (t + 1 < numTiles) {
      const int kn = tileStart(t + 1);
      detail::loadTile<C, TK>(sK0 + (stage ^ 1) * kStage, kBase, p.k.strideS,
                              kn, p.lk);
      detail::loadTile<C, TK>(sV0 + (stage ^ 1) * kStage, vBase, p.v.strideS,
                              kn, p.lk);
      cpAsyncCommit();
    }
    const unsigned sK = sK0 + stage * kStage, sV = sV0 + stage * kStage;

    float s[MT][NT][4];
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
      for (int n = 0; n < NT; ++n)
        s[mt][n][0] = s[mt][n][1] = s[mt][n][2] = s[mt][n][3] = 0.f;
#pragma unroll
    for (int ks = 0; ks < D / 16; ++ks) {
      // Q is re-read from shared memory per k-step: keeping all of it in
      // registers as well as 32 rows of O and S would spill.
      unsigned qa[MT][4];
#pragma unroll
      for (int mt = 0; mt < MT; ++mt)
        ldmatrixX4(sQ + qOff[ks % 4] + (ks / 4) * 128 + mt * kRow16, qa[mt][0],
                   qa[mt][1], qa[mt][2], qa[mt][3]);
#pragma unroll
      for (int np = 0; np < NT / 2; ++np) {
        unsigned b0, b1, b2, b3;
        ldmatrixX4(sK + kOff[ks % 4] + (ks / 4) * 128 + np * kRow16, b0, b1, b2,
                   b3);
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
          mma16816<T>(s[mt][2 * np], qa[mt], b0, b1);
          mma16816<T>(s[mt][2 * np + 1], qa[mt], b2, b3);
        }
      }
    }

    // Keys past lk exist only as zero fill: they must get no probability.
    if (k0 + TK > p.lk) {
#pragma unroll
      for (int n = 0; n < NT; ++n) {
        const int col = k0 + n * 8 + 2 * (lane % 4);
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
          if (col >= p.lk)
            s[mt][n][0] = s[mt][n][2] = negInf();
          if (col + 1 >= p.lk)
            s[mt][n][1] = s[mt][n][3] = negInf();
        }
      }
    }

#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        float mx = negInf();
#pragma unroll
        for (int n = 0; n < NT; ++n)
          mx = fmaxf(mx, fmaxf(s[mt][n][2 * r], s[mt][n][2 * r + 1]));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
        // The max is tracked on raw scores; scaling by scaleLog2 > 0 preserves
        // it, and the exponent becomes one FMA: s * scaleLog2 - max *
        // scaleLog2.
        const float newMax = fmaxf(rowMax[mt][r], mx);
        // A row that has seen only masked keys keeps max -inf; subtracting 0
        // instead keeps every exponent at exp2(-inf) = 0 rather than NaN.
        const float base = newMax == negInf() ? 0.f : newMax * p.scaleLog2;
        const float rescale = exp2Approx(rowMax[mt][r] * p.scaleLog2 - base);
        rowMax[mt][r] = newMax;
        float sum = 0.f;
#pragma unroll
        for (int n = 0; n < NT; ++n) {
          s[mt][n][2 * r] =
              exp2Approx(fmaf(s[mt][n][2 * r], p.scaleLog2, -base));
          s[mt][n][2 * r + 1] =
              exp2Approx(fmaf(s[mt][n][2 * r + 1], p.scaleLog2, -base));
          sum += s[mt][n][2 * r] + s[mt][n][2 * r + 1];
        }
        rowSum[mt][r] = rowSum[mt][r] * rescale + sum;
#pragma unroll
        for (int i = 0; i < DT; ++i) {
          acc[mt][i][2 * r] *= rescale;
          acc[mt][i][2 * r + 1] *= rescale;
        }
      }

#pragma unroll
    for (int ks = 0; ks < TK / 16; ++ks) {
      unsigned a[MT][4];
#pragma unroll
      for (int mt = 0; mt < MT; ++mt) {
        a[mt][0] = packPair<T>(s[mt][2 * ks][0], s[mt][2 * ks][1]);
        a[mt][1] = packPair<T>(s[mt][2 * ks][2], s[mt][2 * ks][3]);
        a[mt][2] = packPair<T>(s[mt][2 * ks + 1][0], s[mt][2 * ks + 1][1]);
        a[mt][3] = packPair<T>(s[mt][2 * ks + 1][2], s[mt][2 * ks + 1][3]);
      }
#pragma unroll
      for (int dp = 0; dp < DT / 2; ++dp) {
        unsigned b0, b1, b2, b3;
        ldmatrixX4Trans(sV + vOff[dp % 4] + (dp / 4) * 128 + ks * kRow16, b0,
                        b1, b2, b3);
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
          mma16816<T>(acc[mt][2 * dp], a[mt], b0, b1);
          mma16816<T>(acc[mt][2 * dp + 1], a[mt], b2, b3);
        }
      }
    }
  }

  // Finish the row sums over the quad, then normalize; an empty row (no kept
  // key, or every key masked) has sum 0 and is written as zeros. Stage the
  // warp's rows through its own rows of the Q tile (only this warp reads them),
  // so the global stores are 16 bytes wide.
  unsigned char *sOut = smem;
#pragma unroll
  for (int mt = 0; mt < MT; ++mt) {
    float inv[2];
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      float l = rowSum[mt][r];
      l += __shfl_xor_sync(0xffffffffu, l, 1);
      l += __shfl_xor_sync(0xffffffffu, l, 2);
      inv[r] = l > 0.f ? 1.f / l : 0.f;
    }
    const int rowA = warpRow0 + mt * 16 + lane / 4;
    const unsigned off = (lane % 4) * 4;
#pragma unroll
    for (int i = 0; i < DT; ++i) {
      *reinterpret_cast<unsigned *>(sOut + swizzle<C::kChunks>(rowA, i) + off) =
          packPair<T>(acc[mt][i][0] * inv[0], acc[mt][i][1] * inv[0]);
      *reinterpret_cast<unsigned *>(sOut + swizzle<C::kChunks>(rowA + 8, i) +
                                    off) =
          packPair<T>(acc[mt][i][2] * inv[1], acc[mt][i][3] * inv[1]);
    }
  }
  __syncwarp();
  unsigned short *oBase =
      static_cast<unsigned short *>(p.o) + b * p.oStrideB + h * p.oStrideH;
  for (int i = lane; i < C::kWarpRows * C::kChunks; i += 32) {
    const int r = warpRow0 + i / C::kChunks, c = i % C::kChunks;
    if (q0 + r < p.lq) {
      const uint4 val =
          *reinterpret_cast<const uint4 *>(sOut + swizzle<C::kChunks>(r, c));
      *reinterpret_cast<uint4 *>(oBase + (long long)(q0 + r) * p.oStrideS +
                                 c * 8) = val;
    }
  }
}

} // namespace lfc

#endif // LFC_ATTENTION_CUH
