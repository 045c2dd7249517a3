// Kernels of the synthetic AR video model on the GPU (DeviceModel.h;
// docs/ar_video.md, "On the GPU"). CUDA C++ for NVRTC, embedded into the
// library at build time (examples/ar_video/CMakeLists.txt) and compiled for
// the device's arch when a DeviceVideoModel is made.
//
// The parameter structs below are plain C: DeviceModel.cpp includes this file
// (without __CUDACC__, so it sees only them) and fills them; each kernel takes
// one by value. NVRTC has no <stdint.h>, so only built-in C types appear.
//
// Numerics: every result is the host model's (Workload.cpp) operation by
// operation where the host's result is defined by one: the GEMMs run each
// output's sum over k in ascending order as a chain of fused multiply-adds
// from 0 (or from the old value when accumulating), as the host's packed GEMM
// does on CPUs with FMA; the element-wise steps the host compiles without FMA
// use __fadd_rn/__fmul_rn so that NVRTC does not fuse them; 16-bit outputs
// round to nearest even. The noise evaluates log/sin/cos in double and rounds
// to fp32 (the correctly rounded value, which the host's libm gives in all but
// rare cases).
#ifndef LFC_AR_DEVICE_MODEL_KERNELS_CUH
#define LFC_AR_DEVICE_MODEL_KERNELS_CUH

/// Element types of LfcArTensor::dtype.
#define LFC_AR_BF16 0
#define LFC_AR_F16 1
#define LFC_AR_F32 2

/// One [1, tokens, heads, head_dim] view; element strides, head_dim contiguous.
struct LfcArTensor {
  void *data;
  long long strideS, strideH;
  int dtype; ///< LFC_AR_BF16, LFC_AR_F16 or LFC_AR_F32
};

/// hidden = features * embed (+ sigma * normal(noiseKey, i) at flat index i):
/// grid-stride over tokens * width.
struct LfcArInitParams {
  float *hidden;         ///< [tokens, width]
  const float *features; ///< [tokens, channels]
  const float *embed;    ///< [channels, width]
  unsigned long long noiseKey;
  float sigma; ///< 0: no noise (the refresh pass)
  int tokens, width, channels;
};

/// x = hidden / sqrt(mean(hidden^2) + 1e-6) per row: one CTA per row.
struct LfcArNormParams {
  const float *hidden; ///< [tokens, width]
  float *x;            ///< [tokens, width]
  int tokens, width;
};

/// c[m, n] = (accumulate ? c : 0) + a[m, k] * b[k, n], row-major with leading
/// dimensions: grid (ceil(n / 128), ceil(m / 128)), 256 threads. The _vec4
/// entry needs k, n and every leading dimension a multiple of 4 and 16-byte
/// aligned matrices; _scalar takes any.
struct LfcArGemmParams {
  const float *a;
  const float *b;
  float *c;
  long long lda, ldb, ldc;
  int m, n, k;
  int accumulate;
};

/// q/k/v of one layer from y = x * W_qkv: bias, query scale, 3D RoPE, sink
/// gain, rounding, strided stores. Grid-stride over tokens * heads * dim / 2
/// rotation pairs.
struct LfcArQkvParams {
  const float *y;    ///< [tokens, 3 * heads * dim]: q | k | v columns
  const float *bias; ///< [heads, dim]
  /// [positions, pairs] cos/sin per axis (time: absolute frames).
  const float *timeCos, *timeSin, *rowCos, *rowSin, *colCos, *colSin;
  LfcArTensor q, k, v;
  int tokens, heads, dim;
  int cols, tokensPerFrame;
  int firstFrame, sinkFrames;
  int timePairs, rowPairs;
  float queryScale, sinkGain;
};

/// dst[t, h * dim + d] = src[t, h, d] as fp32: grid-stride over
/// tokens * heads * dim.
struct LfcArGatherParams {
  LfcArTensor src;
  float *dst;
  int tokens, heads, dim;
};

/// dst[i] = src[i] for i < count: grid-stride.
struct LfcArCopyParams {
  float *dst;
  const float *src;
  long long count;
};

#ifdef __CUDACC__

namespace lfc_ar {

// ---------------------------------------------------------------------------
// Random numbers: the host's counter-based normal (docs/ar_video.md).

__device__ __forceinline__ unsigned long long mix64(unsigned long long z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

__device__ __forceinline__ float normalAt(unsigned long long key,
                                          unsigned long long i) {
  const unsigned long long h = mix64(key ^ mix64(i >> 1));
  // Both conversions are exact (at most 24 significant bits).
  const float u1 = float((h >> 40) + 1ull) * 0x1p-24f;
  const float u2 = float((h >> 16) & 0xffffffull) * 0x1p-24f;
  const float r = sqrtf(__fmul_rn(-2.0f, float(log(double(u1)))));
  const float a = __fmul_rn(float(2.0 * 3.14159265358979323846), u2);
  const float s = (i & 1ull) ? float(sin(double(a))) : float(cos(double(a)));
  return __fmul_rn(r, s);
}

// ---------------------------------------------------------------------------
// Element conversions (round to nearest even; NaN and infinity preserved).

__device__ __forceinline__ unsigned short toBf16Bits(float x) {
  unsigned short r;
  asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(r) : "f"(x));
  return r;
}

__device__ __forceinline__ unsigned short toF16Bits(float x) {
  unsigned short r;
  asm("cvt.rn.f16.f32 %0, %1;" : "=h"(r) : "f"(x));
  return r;
}

__device__ __forceinline__ float fromF16Bits(unsigned short bits) {
  float r;
  asm("cvt.f32.f16 %0, %1;" : "=f"(r) : "h"(bits));
  return r;
}

__device__ __forceinline__ void storePair(const LfcArTensor &t, long long s,
                                          int h, int d, float x0, float x1) {
  const long long off = s * t.strideS + (long long)h * t.strideH + d;
  if (t.dtype == LFC_AR_F32) {
    float *p = static_cast<float *>(t.data) + off;
    p[0] = x0;
    p[1] = x1;
  } else {
    unsigned short *p = static_cast<unsigned short *>(t.data) + off;
    const bool bf16 = t.dtype == LFC_AR_BF16;
    p[0] = bf16 ? toBf16Bits(x0) : toF16Bits(x0);
    p[1] = bf16 ? toBf16Bits(x1) : toF16Bits(x1);
  }
}

__device__ __forceinline__ float loadElement(const LfcArTensor &t,
                                             long long off) {
  if (t.dtype == LFC_AR_F32)
    return static_cast<const float *>(t.data)[off];
  const unsigned short bits = static_cast<const unsigned short *>(t.data)[off];
  if (t.dtype == LFC_AR_BF16)
    return __int_as_float(int(unsigned(bits) << 16));
  return fromF16Bits(bits);
}

__device__ __forceinline__ long long gridStart() {
  return (long long)blockIdx.x * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ long long gridStride() {
  return (long long)gridDim.x * blockDim.x;
}

// ---------------------------------------------------------------------------
// The fp32 GEMM: 128 x 128 tiles, k steps of 8 through double-buffered shared
// memory, 256 threads of 8 x 8 outputs each (rows ty*4 + [0, 4) and
// 64 + ty*4 + [0, 4), columns likewise with tx), so that every shared-memory
// read is a conflict-free float4.

constexpr int kTileM = 128, kTileN = 128, kTileK = 8, kGemmThreads = 256;
// CTAs per SM the GEMM's register budget aims at: 2 caps registers at 128
// (ptxas spills a few bytes on sm_90a), 1 lets it use about 150 without
// spills. On an H200 at 4680 x 4608 x 1536: 34 TFLOP/s with 2, 25 with 1.
#ifndef LFC_AR_GEMM_MIN_BLOCKS
#define LFC_AR_GEMM_MIN_BLOCKS 2
#endif
/// A is stored transposed ([k][m]); 4 floats of padding make the transposing
/// scalar stores conflict-free and keep rows 16-byte aligned.
constexpr int kPadM = kTileM + 4;

template <bool kVec>
__device__ __forceinline__ void gemmTile(const LfcArGemmParams &p) {
  __shared__ __align__(16) float As[2][kTileK][kPadM];
  __shared__ __align__(16) float Bs[2][kTileK][kTileN];
  const int tid = threadIdx.x, tx = tid & 15, ty = tid >> 4;
  const int m0 = blockIdx.y * kTileM, n0 = blockIdx.x * kTileN;

  // This thread's outputs: rows m0 + rowOf(i), columns n0 + colOf(j).
  auto rowOf = [&](int i) { return (i < 4 ? 0 : 60) + ty * 4 + i; };
  auto colOf = [&](int j) { return (j < 4 ? 0 : 60) + tx * 4 + j; };
  float acc[8][8];
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    const int r = m0 + rowOf(i);
    const float *src = p.c + (long long)r * p.ldc;
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      const int c = n0 + colOf(j);
      acc[i][j] = p.accumulate && r < p.m && c < p.n ? src[c] : 0.0f;
    }
  }

  // Staging through registers: A as 128 rows x 2 float4 along k, B as 8
  // k-rows x 32 float4 along n. Elements past m, n and k load as 0, whose
  // products leave the sums as they are.
  const int aRow = tid >> 1, aK = (tid & 1) * 4;
  const int bK = tid >> 5, bCol = (tid & 31) * 4;
  const bool aRowOk = m0 + aRow < p.m;
  const int bc = n0 + bCol;
  const float *aSrc = p.a + (long long)(aRowOk ? m0 + aRow : 0) * p.lda + aK;
  const float *bSrc = p.b + (long long)bK * p.ldb + (bc < p.n ? bc : 0);
  const long long bStep = (long long)kTileK * p.ldb;
  float ra[4], rb[4];
  auto load = [&](int k0) {
    const int ka = k0 + aK, kb = k0 + bK;
    if (kVec) {
      float4 va = make_float4(0.f, 0.f, 0.f, 0.f), vb = va;
      if (aRowOk && ka < p.k)
        va = *reinterpret_cast<const float4 *>(aSrc);
      if (kb < p.k && bc < p.n)
        vb = *reinterpret_cast<const float4 *>(bSrc);
      ra[0] = va.x, ra[1] = va.y, ra[2] = va.z, ra[3] = va.w;
      rb[0] = vb.x, rb[1] = vb.y, rb[2] = vb.z, rb[3] = vb.w;
    } else {
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        ra[j] = aRowOk && ka + j < p.k ? aSrc[j] : 0.0f;
        rb[j] = kb < p.k && bc + j < p.n ? bSrc[j] : 0.0f;
      }
    }
    aSrc += kTileK;
    bSrc += bStep;
  };
  auto stash = [&](int buf) {
#pragma unroll
    for (int j = 0; j < 4; ++j)
      As[buf][aK + j][aRow] = ra[j];
    *reinterpret_cast<float4 *>(&Bs[buf][bK][bCol]) =
        make_float4(rb[0], rb[1], rb[2], rb[3]);
  };

  const int steps = (p.k + kTileK - 1) / kTileK;
  load(0);
  stash(0);
  __syncthreads();
  for (int s = 0; s < steps; ++s) {
    const int cur = s & 1;
    if (s + 1 < steps)
      load((s + 1) * kTileK);
#pragma unroll
    for (int kk = 0; kk < kTileK; ++kk) {
      const float4 a0 = *reinterpret_cast<const float4 *>(&As[cur][kk][ty * 4]);
      const float4 a1 =
          *reinterpret_cast<const float4 *>(&As[cur][kk][64 + ty * 4]);
      const float4 b0 = *reinterpret_cast<const float4 *>(&Bs[cur][kk][tx * 4]);
      const float4 b1 =
          *reinterpret_cast<const float4 *>(&Bs[cur][kk][64 + tx * 4]);
      const float av[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
      const float bv[8] = {b0.x, b0.y, b0.z, b0.w, b1.x, b1.y, b1.z, b1.w};
#pragma unroll
      for (int i = 0; i < 8; ++i)
#pragma unroll
        for (int j = 0; j < 8; ++j)
          acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
    }
    // The other buffer was last read in step s - 1, before its barrier.
    if (s + 1 < steps)
      stash(cur ^ 1);
    __syncthreads();
  }

#pragma unroll
  for (int i = 0; i < 8; ++i) {
    const int r = m0 + rowOf(i);
    if (r >= p.m)
      continue;
    float *dst = p.c + (long long)r * p.ldc;
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const int c0 = n0 + colOf(4 * half);
      const float *v = &acc[i][4 * half];
      if (kVec) {
        if (c0 < p.n)
          *reinterpret_cast<float4 *>(dst + c0) =
              make_float4(v[0], v[1], v[2], v[3]);
      } else {
#pragma unroll
        for (int j = 0; j < 4; ++j)
          if (c0 + j < p.n)
            dst[c0 + j] = v[j];
      }
    }
  }
}

} // namespace lfc_ar

// ---------------------------------------------------------------------------
// Entry points.

extern "C" __global__ void __launch_bounds__(256)
    lfc_ar_init_chunk(const LfcArInitParams p) {
  const long long total = (long long)p.tokens * p.width;
  for (long long i = lfc_ar::gridStart(); i < total;
       i += lfc_ar::gridStride()) {
    const long long t = i / p.width;
    const int o = int(i - t * p.width);
    const float *f = p.features + t * p.channels;
    float acc = 0.0f;
    for (int c = 0; c < p.channels; ++c)
      acc = fmaf(f[c], p.embed[(long long)c * p.width + o], acc);
    if (p.sigma != 0.0f)
      acc = __fadd_rn(
          acc, __fmul_rn(p.sigma,
                         lfc_ar::normalAt(p.noiseKey, (unsigned long long)i)));
    p.hidden[i] = acc;
  }
}

extern "C" __global__ void __launch_bounds__(256)
    lfc_ar_prenorm(const LfcArNormParams p) {
  __shared__ double partial[32];
  __shared__ float invShared;
  const long long base = (long long)blockIdx.x * p.width;
  const float *src = p.hidden + base;
  double ss = 0.0;
  for (int i = threadIdx.x; i < p.width; i += blockDim.x) {
    const double v = src[i];
    ss += v * v;
  }
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  for (int off = 16; off > 0; off >>= 1)
    ss += __shfl_down_sync(0xffffffffu, ss, off);
  if (lane == 0)
    partial[warp] = ss;
  __syncthreads();
  if (warp == 0) {
    double s = lane < int((blockDim.x + 31) >> 5) ? partial[lane] : 0.0;
    for (int off = 16; off > 0; off >>= 1)
      s += __shfl_down_sync(0xffffffffu, s, off);
    if (lane == 0)
      invShared = float(1.0 / sqrt(s / double(p.width) + 1e-6));
  }
  __syncthreads();
  const float inv = invShared;
  float *dst = p.x + base;
  for (int i = threadIdx.x; i < p.width; i += blockDim.x)
    dst[i] = __fmul_rn(src[i], inv);
}

extern "C" __global__ void __launch_bounds__(lfc_ar::kGemmThreads,
                                             LFC_AR_GEMM_MIN_BLOCKS)
    lfc_ar_gemm_vec4(const LfcArGemmParams p) {
  lfc_ar::gemmTile<true>(p);
}

extern "C" __global__ void __launch_bounds__(lfc_ar::kGemmThreads,
                                             LFC_AR_GEMM_MIN_BLOCKS)
    lfc_ar_gemm_scalar(const LfcArGemmParams p) {
  lfc_ar::gemmTile<false>(p);
}

extern "C" __global__ void __launch_bounds__(256)
    lfc_ar_qkv(const LfcArQkvParams p) {
  const int pairs = p.dim >> 1, hd = p.heads * p.dim;
  const long long total = (long long)p.tokens * p.heads * pairs;
  for (long long idx = lfc_ar::gridStart(); idx < total;
       idx += lfc_ar::gridStride()) {
    const int i = int(idx % pairs);
    const long long th = idx / pairs;
    const int h = int(th % p.heads);
    const long long t = th / p.heads;
    const int f = p.firstFrame + int(t / p.tokensPerFrame);
    const int rc = int(t % p.tokensPerFrame);
    // The pair's axis (time, row, col pairs in that order) and angle.
    float cs, sn;
    if (i < p.timePairs) {
      const long long e = (long long)f * p.timePairs + i;
      cs = p.timeCos[e];
      sn = p.timeSin[e];
    } else if (i < p.timePairs + p.rowPairs) {
      const long long e =
          (long long)(rc / p.cols) * p.rowPairs + (i - p.timePairs);
      cs = p.rowCos[e];
      sn = p.rowSin[e];
    } else {
      const int colPairs = pairs - p.timePairs - p.rowPairs;
      const long long e =
          (long long)(rc % p.cols) * colPairs + (i - p.timePairs - p.rowPairs);
      cs = p.colCos[e];
      sn = p.colSin[e];
    }
    const int d = 2 * i;
    const float *yq = p.y + t * 3 * hd + h * p.dim + d;
    const float *yk = yq + hd, *yv = yq + 2 * hd;
    const float b0 = p.bias[h * p.dim + d], b1 = p.bias[h * p.dim + d + 1];

    // q = tau * RoPE(y_q + b).
    float x0 = __fmul_rn(__fadd_rn(yq[0], b0), p.queryScale);
    float x1 = __fmul_rn(__fadd_rn(yq[1], b1), p.queryScale);
    lfc_ar::storePair(p.q, t, h, d,
                      __fsub_rn(__fmul_rn(x0, cs), __fmul_rn(x1, sn)),
                      __fadd_rn(__fmul_rn(x0, sn), __fmul_rn(x1, cs)));
    // k = g * RoPE(y_k + b), g = sinkGain on the sink frames.
    x0 = __fadd_rn(yk[0], b0);
    x1 = __fadd_rn(yk[1], b1);
    float k0 = __fsub_rn(__fmul_rn(x0, cs), __fmul_rn(x1, sn));
    float k1 = __fadd_rn(__fmul_rn(x0, sn), __fmul_rn(x1, cs));
    if (f < p.sinkFrames) {
      k0 = __fmul_rn(k0, p.sinkGain);
      k1 = __fmul_rn(k1, p.sinkGain);
    }
    lfc_ar::storePair(p.k, t, h, d, k0, k1);
    lfc_ar::storePair(p.v, t, h, d, yv[0], yv[1]);
  }
}

extern "C" __global__ void __launch_bounds__(256)
    lfc_ar_gather(const LfcArGatherParams p) {
  const long long total = (long long)p.tokens * p.heads * p.dim;
  for (long long idx = lfc_ar::gridStart(); idx < total;
       idx += lfc_ar::gridStride()) {
    const int d = int(idx % p.dim);
    const long long th = idx / p.dim;
    const int h = int(th % p.heads);
    const long long t = th / p.heads;
    p.dst[idx] = lfc_ar::loadElement(
        p.src, t * p.src.strideS + (long long)h * p.src.strideH + d);
  }
}

extern "C" __global__ void __launch_bounds__(256)
    lfc_ar_copy(const LfcArCopyParams p) {
  for (long long i = lfc_ar::gridStart(); i < p.count;
       i += lfc_ar::gridStride())
    p.dst[i] = p.src[i];
}

#endif // __CUDACC__
#endif // LFC_AR_DEVICE_MODEL_KERNELS_CUH
