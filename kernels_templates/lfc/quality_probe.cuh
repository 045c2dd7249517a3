// The quality probe (docs/QUALITY.md, "On the GPU"): for sampled (batch, head,
// query row) of one attention call, the dense attention row, the attention row
// over the kept key blocks alone and the captured softmax mass, in fp32, from
// Q/K/V in device memory. The host (runtime/cuda/QualityProbe.cpp) forms the
// error sums and mass statistics from these rows as evaluate() does.
//
// Three entries per (dtype, head_dim, warps) module:
//  - check:   one thread per kept list row (b, h, query block): validates it
//             (count in [0, max_kept], strictly ascending indices in
//             [0, key_blocks)) and counts its kept key tokens (density);
//  - probe:   one CTA per (key split, group of 8 * warps sampled rows, batch x
//             sampled head): one pass over the split's keys with two online
//             softmaxes per row, one over the keys of kept blocks and one over
//             the others, each with its own running maximum;
//  - combine: one warp per sampled row: merges the splits and both softmaxes
//             into the dense row, the kept-only row and the two mass sums.
//
// The first part (launch contract) is plain C for the host compiler; the
// kernels follow under __CUDACC__ (NVRTC).
#ifndef LFC_QUALITY_PROBE_CUH
#define LFC_QUALITY_PROBE_CUH

// NVRTC finds the templates through -I kernels_templates; the host compiler
// through the source root, as runtime/cuda includes abi.h.
#if defined(__CUDACC__)
#include "lfc/abi.h"
#else
#include "kernels_templates/lfc/abi.h"
#endif

/// Keys per CTA step (one K and one V tile in shared memory).
#define LFC_QP_TILE_KEYS 64
/// Most keys one split (CTA) covers; bounds the per-row kept bitmap.
#define LFC_QP_MAX_SPLIT_KEYS 4096
/// Smallest key block (checkSelection: block_k >= 16).
#define LFC_QP_MIN_BLOCK_K 16
/// 32-bit words of one row's kept bitmap over one split's key blocks, plus the
/// word a 64-bit window read at the last block touches.
#define LFC_QP_BITMAP_WORDS                                                    \
  (LFC_QP_MAX_SPLIT_KEYS / LFC_QP_MIN_BLOCK_K / 32 + 2)
/// Floats of one partial record (sampled row, split): kept max, kept sum,
/// other max, other sum, kept output[dim], other output[dim].
#define LFC_QP_PARTIAL_FLOATS(dim) (2 * (dim) + 4)
/// Floats of one output row: dense[dim], kept-only[dim], kept mass sum, total
/// mass sum (both relative to the row's maximum logit), two unused.
#define LFC_QP_OUT_FLOATS(dim) (2 * (dim) + 4)
/// Dynamic shared memory of the probe entry: Q rows, a K tile (rows padded by
/// 4 floats), a V tile, probabilities and kept bitmaps, all 32-bit.
#define LFC_QP_SHARED_BYTES(dim, warps)                                        \
  (4 * (8 * (warps) * (dim) + LFC_QP_TILE_KEYS * ((dim) + 4) +                 \
        LFC_QP_TILE_KEYS * (dim) + 8 * (warps)*LFC_QP_TILE_KEYS +              \
        8 * (warps)*LFC_QP_BITMAP_WORDS))
/// Threads of the check and combine entries.
#define LFC_QP_AUX_THREADS 256

/// Kept-list check: grid = ceil(lists / LFC_QP_AUX_THREADS).
struct LfcQualityCheckParams {
  const int *keptIdx; ///< [lists][maxKept]
  const int *keptCnt; ///< [lists]
  int lists, maxKept, keyBlocks, lk, blockK;
  /// [lists][4]: count, kept key tokens, first bad position (-1: none, -2: the
  /// count is out of range), the index found there.
  int *out;
};

/// Probe: grid = (splits, ceil(sampledRows / (8 * warps)), batch *
/// sampledHeads), 32 * warps threads, LFC_QP_SHARED_BYTES(dim, warps) bytes.
struct LfcQualityProbeParams {
  LfcTensorArg q, k, v;
  const int *rows;  ///< [sampledRows] query rows
  const int *heads; ///< [sampledHeads] heads
  int sampledRows, sampledHeads;
  int lk;         ///< keys
  int blockQ;     ///< query rows per query block
  int blockKLog2; ///< key block = 1 << blockKLog2 keys
  float scale;    ///< softmax scale (logit = scale * q . k)
  /// Kept key blocks of query block i of (b, h): list b * listStrideB + h *
  /// listStrideH + i holds keptCnt[list] ascending indices at keptIdx[list *
  /// maxKept ...]. keptIdx null: every block is kept.
  const int *keptIdx;
  const int *keptCnt;
  long long listStrideB, listStrideH;
  int maxKept;
  /// Keys per split: a multiple of LFC_QP_TILE_KEYS, at most
  /// LFC_QP_MAX_SPLIT_KEYS; split s covers [s * splitKeys, min(lk, ...)).
  int splitKeys;
  int splits;
  /// [batch * sampledHeads * sampledRows][splits][LFC_QP_PARTIAL_FLOATS(dim)]
  float *partial;
};

/// Combine: grid = ceil(rows / (LFC_QP_AUX_THREADS / 32)), one warp per row.
struct LfcQualityCombineParams {
  const float *partial;
  float *out; ///< [rows][LFC_QP_OUT_FLOATS(dim)]
  int rows, splits;
};

#if defined(__CUDACC__)

#include "lfc/numeric.cuh"

namespace lfc {
namespace qprobe {

__device__ __forceinline__ float negInf() { return __int_as_float(0xff800000); }

__device__ __forceinline__ float warpMax(float x) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1)
    x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, o));
  return x;
}

__device__ __forceinline__ float warpSum(float x) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1)
    x += __shfl_xor_sync(0xffffffffu, x, o);
  return x;
}

/// The (b, h) slice of a [batch, tokens, heads, dim] tensor argument.
__device__ __forceinline__ const unsigned short *slice(const LfcTensorArg &t,
                                                       int b, int h) {
  return static_cast<const unsigned short *>(t.data) + b * t.strideB +
         h * t.strideH;
}

/// Eight 16-bit values (one 16-byte load) widened exactly to fp32.
template <typename T>
__device__ __forceinline__ void widen8(const uint4 &raw, float (&out)[8]) {
  const unsigned w[4] = {raw.x, raw.y, raw.z, raw.w};
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    out[2 * i] = toFloat<T>((unsigned short)(w[i] & 0xffffu));
    out[2 * i + 1] = toFloat<T>((unsigned short)(w[i] >> 16));
  }
}

/// kPerLane consecutive fp32 values (2 or 4: one vector load).
template <int kPerLane>
__device__ __forceinline__ void loadLane(const float *src,
                                         float (&out)[kPerLane]) {
  if constexpr (kPerLane == 4) {
    const float4 x = *reinterpret_cast<const float4 *>(src);
    out[0] = x.x;
    out[1] = x.y;
    out[2] = x.z;
    out[3] = x.w;
  } else {
    const float2 x = *reinterpret_cast<const float2 *>(src);
    out[0] = x.x;
    out[1] = x.y;
  }
}

template <int kPerLane>
__device__ __forceinline__ void storeLane(float *dst,
                                          const float (&in)[kPerLane]) {
  if constexpr (kPerLane == 4)
    *reinterpret_cast<float4 *>(dst) = make_float4(in[0], in[1], in[2], in[3]);
  else
    *reinterpret_cast<float2 *>(dst) = make_float2(in[0], in[1]);
}

/// Folds one split's (max, sum, output) of one softmax into the running one.
template <int kPerLane>
__device__ __forceinline__ void merge(float &m, float &z, float (&o)[kPerLane],
                                      float ms, float zs, const float *os) {
  if (ms == negInf()) // the split has no key of this softmax
    return;
  float x[kPerLane];
  loadLane<kPerLane>(os, x);
  const float n = fmaxf(m, ms);
  const float a = expf(m - n), c = expf(ms - n); // a = 0 while m is -inf
  z = fmaf(zs, c, z * a);
#pragma unroll
  for (int d = 0; d < kPerLane; ++d)
    o[d] = fmaf(x[d], c, o[d] * a);
  m = n;
}

} // namespace qprobe

/// The check entry: validates every kept list row and counts its kept tokens.
__device__ __forceinline__ void
qualityCheckKept(const LfcQualityCheckParams &p) {
  const long long list = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (list >= p.lists)
    return;
  const int cnt = p.keptCnt[list];
  int tokens = 0, bad = -1, badValue = 0;
  if (cnt < 0 || cnt > p.maxKept) {
    bad = -2;
  } else {
    const int *idx = p.keptIdx + list * p.maxKept;
    int prev = -1;
    for (int n = 0; n < cnt; ++n) {
      const int j = idx[n];
      if (j < 0 || j >= p.keyBlocks || j <= prev) {
        bad = n;
        badValue = j;
        break;
      }
      tokens += min(p.lk, (j + 1) * p.blockK) - j * p.blockK;
      prev = j;
    }
  }
  *reinterpret_cast<int4 *>(p.out + 4 * list) =
      make_int4(cnt, tokens, bad, badValue);
}

/// The probe entry. Warp w owns rows 8w .. 8w+7 of the CTA's group; per key
/// tile, lane l computes the logits of keys l and l + 32 for its warp's rows,
/// then accumulates dims [l * dim / 32, (l + 1) * dim / 32) of their outputs.
/// A key counts in the kept softmax of a row iff its key block is in the kept
/// list of the row's query block; keys past lk count nowhere. Every key block
/// holds a multiple of 8 keys (block_k >= 16, a power of two), so each 8-key
/// step of the output accumulation is kept or not as a whole, for the whole
/// warp's lanes: a uniform branch picks the accumulator.
template <typename T, int kDim, int kWarps>
__device__ __forceinline__ void qualityProbe(const LfcQualityProbeParams &p) {
  constexpr int kRows = 8 * kWarps;
  constexpr int kThreads = 32 * kWarps;
  constexpr int kTile = LFC_QP_TILE_KEYS;
  constexpr int kKStride = kDim + 4; // conflict-free 16-byte row reads
  constexpr int kWords = LFC_QP_BITMAP_WORDS;
  constexpr int kPerLane = kDim / 32;
  constexpr int kRowChunks = kDim / 8; // 16-byte chunks per K/V row
  constexpr int kFetch = kTile * kRowChunks / kThreads;
  static_assert(kDim == 64 || kDim == 128, "head_dim 64 or 128");
  static_assert(kTile == 64, "lanes hold keys l and l + 32");
  static_assert(kTile * kRowChunks % kThreads == 0,
                "every thread fetches the same number of chunks");

  extern __shared__ float4 qpSmem[];
  float *sQ = reinterpret_cast<float *>(qpSmem); // [kRows][kDim]
  float *sK = sQ + kRows * kDim;                 // [kTile][kKStride]
  float *sV = sK + kTile * kKStride;             // [kTile][kDim]
  float *sP = sV + kTile * kDim;                 // [kRows][kTile]
  unsigned *sBits = reinterpret_cast<unsigned *>(sP + kRows * kTile);

  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int unit = blockIdx.z; // b * sampledHeads + sampled head
  const int b = unit / p.sampledHeads, h = p.heads[unit % p.sampledHeads];
  const int firstRow = blockIdx.y * kRows;
  const int k0 = blockIdx.x * p.splitKeys;
  const int k1 = min(p.lk, k0 + p.splitKeys);
  const int jb0 = k0 >> p.blockKLog2, jb1 = (k1 - 1) >> p.blockKLog2;
  // Rows past the sample repeat its last row and are never written.
  auto sampledRow = [&](int r) {
    return p.rows[min(firstRow + r, p.sampledRows - 1)];
  };

  // Q rows in fp32; the bitmaps of the split's key blocks (dense: all set).
  const unsigned short *qBase = qprobe::slice(p.q, b, h);
  for (int i = threadIdx.x; i < kRows * kDim; i += kThreads) {
    const int r = i / kDim, d = i % kDim;
    sQ[i] = toFloat<T>(qBase[(long long)sampledRow(r) * p.q.strideS + d]);
  }
  for (int i = threadIdx.x; i < kRows * kWords; i += kThreads)
    sBits[i] = p.keptIdx ? 0u : ~0u;
  __syncthreads();
  if (p.keptIdx) {
    for (int rr = 0; rr < 8; ++rr) {
      const int r = warp * 8 + rr;
      const long long list =
          b * p.listStrideB + h * p.listStrideH + sampledRow(r) / p.blockQ;
      const int cnt = min(max(p.keptCnt[list], 0), p.maxKept);
      const int *idx = p.keptIdx + list * p.maxKept;
      for (int n = lane; n < cnt; n += 32) {
        const int j = idx[n];
        if (j >= jb0 && j <= jb1)
          atomicOr(&sBits[r * kWords + ((j - jb0) >> 5)],
                   1u << ((j - jb0) & 31));
      }
    }
  }

  // K and V tiles travel through registers: the next tile's loads are in
  // flight while the current one is computed.
  const unsigned short *kBase = qprobe::slice(p.k, b, h);
  const unsigned short *vBase = qprobe::slice(p.v, b, h);
  uint4 kRaw[kFetch], vRaw[kFetch];
  auto fetch = [&](int tileBegin) {
#pragma unroll
    for (int f = 0; f < kFetch; ++f) {
      const int c = threadIdx.x + f * kThreads;
      const int key = tileBegin + c / kRowChunks, part = c % kRowChunks;
      const uint4 zero = make_uint4(0u, 0u, 0u, 0u);
      kRaw[f] = key < p.lk
                    ? *reinterpret_cast<const uint4 *>(
                          kBase + (long long)key * p.k.strideS + part * 8)
                    : zero;
      vRaw[f] = key < p.lk
                    ? *reinterpret_cast<const uint4 *>(
                          vBase + (long long)key * p.v.strideS + part * 8)
                    : zero;
    }
  };
  auto store = [&]() {
#pragma unroll
    for (int f = 0; f < kFetch; ++f) {
      const int c = threadIdx.x + f * kThreads;
      const int t = c / kRowChunks, part = c % kRowChunks;
      float x[8];
      qprobe::widen8<T>(kRaw[f], x);
      float4 *dk = reinterpret_cast<float4 *>(sK + t * kKStride + part * 8);
      dk[0] = make_float4(x[0], x[1], x[2], x[3]);
      dk[1] = make_float4(x[4], x[5], x[6], x[7]);
      qprobe::widen8<T>(vRaw[f], x);
      float4 *dv = reinterpret_cast<float4 *>(sV + t * kDim + part * 8);
      dv[0] = make_float4(x[0], x[1], x[2], x[3]);
      dv[1] = make_float4(x[4], x[5], x[6], x[7]);
    }
  };

  // Per row: the kept (K) and other (U) softmax: running maximum (uniform in
  // the warp), this lane's share of the sum, this lane's output dims.
  float mK[8], mU[8], zK[8], zU[8], oK[8][kPerLane], oU[8][kPerLane];
#pragma unroll
  for (int rr = 0; rr < 8; ++rr) {
    mK[rr] = mU[rr] = qprobe::negInf();
    zK[rr] = zU[rr] = 0.f;
#pragma unroll
    for (int d = 0; d < kPerLane; ++d)
      oK[rr][d] = oU[rr][d] = 0.f;
  }
  const float *wQ = sQ + warp * 8 * kDim;
  float *wP = sP + warp * 8 * kTile;
  const unsigned *wBits = sBits + warp * 8 * kWords;

  fetch(k0);
  for (int tb = k0; tb < k1; tb += kTile) {
    __syncthreads(); // the previous tile is consumed (and the setup is done)
    store();
    __syncthreads();
    if (tb + kTile < k1)
      fetch(tb + kTile);

    // Logits of keys tb + lane and tb + lane + 32 for the warp's 8 rows.
    float s0[8], s1[8];
#pragma unroll
    for (int rr = 0; rr < 8; ++rr)
      s0[rr] = s1[rr] = 0.f;
    const float4 *kRow0 =
        reinterpret_cast<const float4 *>(sK + lane * kKStride);
    const float4 *kRow1 =
        reinterpret_cast<const float4 *>(sK + (lane + 32) * kKStride);
#pragma unroll 4
    for (int d4 = 0; d4 < kDim / 4; ++d4) {
      const float4 a = kRow0[d4], c = kRow1[d4];
#pragma unroll
      for (int rr = 0; rr < 8; ++rr) {
        const float4 x = reinterpret_cast<const float4 *>(wQ + rr * kDim)[d4];
        s0[rr] = fmaf(x.x, a.x, s0[rr]);
        s0[rr] = fmaf(x.y, a.y, s0[rr]);
        s0[rr] = fmaf(x.z, a.z, s0[rr]);
        s0[rr] = fmaf(x.w, a.w, s0[rr]);
        s1[rr] = fmaf(x.x, c.x, s1[rr]);
        s1[rr] = fmaf(x.y, c.y, s1[rr]);
        s1[rr] = fmaf(x.z, c.z, s1[rr]);
        s1[rr] = fmaf(x.w, c.w, s1[rr]);
      }
    }

    // Kept flags of the tile's key blocks: bit i of field[rr] is block
    // (tb >> blockKLog2) + i of row rr (a tile touches at most 4 blocks).
    const int jt = tb >> p.blockKLog2;
    const int rel = jt - jb0, word = rel >> 5, shift = rel & 31;
    unsigned field[8];
#pragma unroll
    for (int rr = 0; rr < 8; ++rr) {
      const unsigned lo = wBits[rr * kWords + word];
      const unsigned hi = wBits[rr * kWords + word + 1];
      field[rr] = shift ? (lo >> shift) | (hi << (32 - shift)) : lo;
    }
    const int key0 = tb + lane, key1 = key0 + 32;
    const bool in0 = key0 < p.lk, in1 = key1 < p.lk;
    const int j0 = (key0 >> p.blockKLog2) - jt,
              j1 = (key1 >> p.blockKLog2) - jt;

    // Both online softmaxes; the probabilities go to the warp's rows of sP.
#pragma unroll
    for (int rr = 0; rr < 8; ++rr) {
      const bool c0 = (field[rr] >> j0) & 1u, c1 = (field[rr] >> j1) & 1u;
      const float x0 = in0 ? s0[rr] * p.scale : qprobe::negInf();
      const float x1 = in1 ? s1[rr] * p.scale : qprobe::negInf();
      const float tk = qprobe::warpMax(
          fmaxf(c0 ? x0 : qprobe::negInf(), c1 ? x1 : qprobe::negInf()));
      const float tu = qprobe::warpMax(
          fmaxf(c0 ? qprobe::negInf() : x0, c1 ? qprobe::negInf() : x1));
      if (tk > mK[rr]) { // uniform: tk and mK are the warp's
        const float a = expf(mK[rr] - tk);
        zK[rr] *= a;
#pragma unroll
        for (int d = 0; d < kPerLane; ++d)
          oK[rr][d] *= a;
        mK[rr] = tk;
      }
      if (tu > mU[rr]) {
        const float a = expf(mU[rr] - tu);
        zU[rr] *= a;
#pragma unroll
        for (int d = 0; d < kPerLane; ++d)
          oU[rr][d] *= a;
        mU[rr] = tu;
      }
      const float p0 = in0 ? expf(x0 - (c0 ? mK[rr] : mU[rr])) : 0.f;
      const float p1 = in1 ? expf(x1 - (c1 ? mK[rr] : mU[rr])) : 0.f;
      zK[rr] += (c0 ? p0 : 0.f) + (c1 ? p1 : 0.f);
      zU[rr] += (c0 ? 0.f : p0) + (c1 ? 0.f : p1);
      wP[rr * kTile + lane] = p0;
      wP[rr * kTile + lane + 32] = p1;
    }
    __syncwarp();

    // Outputs: 8 keys at a time, all of one key block.
#pragma unroll 1
    for (int step = 0; step < kTile / 8; ++step) {
      const int js = ((tb + step * 8) >> p.blockKLog2) - jt;
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        const int t = step * 8 + half * 4;
        float v[4][kPerLane];
#pragma unroll
        for (int i = 0; i < 4; ++i)
          qprobe::loadLane<kPerLane>(sV + (t + i) * kDim + lane * kPerLane,
                                     v[i]);
#pragma unroll
        for (int rr = 0; rr < 8; ++rr) {
          const float4 w =
              *reinterpret_cast<const float4 *>(wP + rr * kTile + t);
          if ((field[rr] >> js) & 1u) {
#pragma unroll
            for (int d = 0; d < kPerLane; ++d) {
              oK[rr][d] = fmaf(w.x, v[0][d], oK[rr][d]);
              oK[rr][d] = fmaf(w.y, v[1][d], oK[rr][d]);
              oK[rr][d] = fmaf(w.z, v[2][d], oK[rr][d]);
              oK[rr][d] = fmaf(w.w, v[3][d], oK[rr][d]);
            }
          } else {
#pragma unroll
            for (int d = 0; d < kPerLane; ++d) {
              oU[rr][d] = fmaf(w.x, v[0][d], oU[rr][d]);
              oU[rr][d] = fmaf(w.y, v[1][d], oU[rr][d]);
              oU[rr][d] = fmaf(w.z, v[2][d], oU[rr][d]);
              oU[rr][d] = fmaf(w.w, v[3][d], oU[rr][d]);
            }
          }
        }
      }
    }
  }

  // This split's record per row.
#pragma unroll
  for (int rr = 0; rr < 8; ++rr) {
    const float zk = qprobe::warpSum(zK[rr]), zu = qprobe::warpSum(zU[rr]);
    const int r = firstRow + warp * 8 + rr;
    if (r >= p.sampledRows)
      continue;
    float *rec = p.partial + (((long long)unit * p.sampledRows + r) * p.splits +
                              blockIdx.x) *
                                 LFC_QP_PARTIAL_FLOATS(kDim);
    if (lane == 0)
      *reinterpret_cast<float4 *>(rec) = make_float4(mK[rr], zk, mU[rr], zu);
    qprobe::storeLane<kPerLane>(rec + 4 + lane * kPerLane, oK[rr]);
    qprobe::storeLane<kPerLane>(rec + 4 + kDim + lane * kPerLane, oU[rr]);
  }
}

/// The combine entry: per sampled row, the splits' records folded in split
/// order, then dense = (oK aK + oU aU) / (zK aK + zU aU) and kept-only = oK /
/// zK (zeros when no key is kept), with a = exp(m - max(mK, mU)). When every
/// key is kept (the other softmax is empty: aU = 0, aK = 1) the two rows are
/// the same bits and the kept mass sum equals the total.
template <int kDim>
__device__ __forceinline__ void
qualityCombine(const LfcQualityCombineParams &p) {
  constexpr int kPerLane = kDim / 32;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const long long row = (long long)blockIdx.x * (blockDim.x >> 5) + warp;
  if (row >= p.rows)
    return;
  float mK = qprobe::negInf(), mU = qprobe::negInf(), zK = 0.f, zU = 0.f;
  float oK[kPerLane], oU[kPerLane];
#pragma unroll
  for (int d = 0; d < kPerLane; ++d)
    oK[d] = oU[d] = 0.f;
  for (int s = 0; s < p.splits; ++s) {
    const float *rec =
        p.partial + (row * p.splits + s) * LFC_QP_PARTIAL_FLOATS(kDim);
    const float4 mz = *reinterpret_cast<const float4 *>(rec);
    qprobe::merge<kPerLane>(mK, zK, oK, mz.x, mz.y, rec + 4 + lane * kPerLane);
    qprobe::merge<kPerLane>(mU, zU, oU, mz.z, mz.w,
                            rec + 4 + kDim + lane * kPerLane);
  }
  const float m = fmaxf(mK, mU);
  const float aK = mK == qprobe::negInf() ? 0.f : expf(mK - m);
  const float aU = mU == qprobe::negInf() ? 0.f : expf(mU - m);
  const float kept = zK * aK, total = fmaf(zU, aU, kept);
  float dense[kPerLane], sparse[kPerLane];
#pragma unroll
  for (int d = 0; d < kPerLane; ++d) {
    dense[d] = fmaf(oU[d], aU, oK[d] * aK) / total;
    sparse[d] = zK > 0.f ? oK[d] / zK : 0.f;
  }
  float *out = p.out + row * LFC_QP_OUT_FLOATS(kDim);
  qprobe::storeLane<kPerLane>(out + lane * kPerLane, dense);
  qprobe::storeLane<kPerLane>(out + kDim + lane * kPerLane, sparse);
  if (lane == 0)
    *reinterpret_cast<float4 *>(out + 2 * kDim) =
        make_float4(kept, total, 0.f, 0.f);
}

} // namespace lfc

#endif // __CUDACC__

#endif // LFC_QUALITY_PROBE_CUH
