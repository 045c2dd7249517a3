// The synthetic AR video model (docs/ar_video.md): content, noise,
// projections with 3D RoPE and sink gain, residual. Plain C++ with std::thread;
// the projections run on a small packed GEMM (vectorized, AVX2+FMA where the
// CPU has it).
#include "examples/ar_video/Workload.h"

#include "lfc/backend.h"
#include "lfc/half.h"
#include "runtime/core/Parallel.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <exception>
#include <mutex>
#include <string>
#include <thread>

namespace lfc::ar {
namespace {

constexpr double kPi = 3.14159265358979323846;

// ---------------------------------------------------------------------------
// Counter-based random numbers: every value is a pure function of (seed,
// stream, index), so results do not depend on threads or call order.

uint64_t mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

enum Stream : uint64_t {
  kWorld = 1,
  kEmbed,
  kWq,
  kGk,
  kWv,
  kWo,
  kBias,
  kBiasScale,
  kNoise,
};

uint64_t streamKey(uint64_t seed, Stream s, uint64_t a = 0, uint64_t b = 0) {
  return mix64(mix64(mix64(mix64(seed) ^ uint64_t(s)) ^ a) ^ b);
}

/// Uniform in [0, 1) with 24 random bits.
float uniformAt(uint64_t key, uint64_t i) {
  return float(mix64(key ^ mix64(i)) >> 40) * 0x1p-24f;
}

/// Standard normal (Box-Muller on one 64-bit hash per pair of indices: 2i and
/// 2i+1 are the cos and sin halves of the same pair).
float normalAt(uint64_t key, uint64_t i) {
  uint64_t h = mix64(key ^ mix64(i >> 1));
  float u1 = float((h >> 40) + 1) * 0x1p-24f;         // (0, 1]
  float u2 = float((h >> 16) & 0xffffffu) * 0x1p-24f; // [0, 1)
  float r = std::sqrt(-2.0f * std::log(u1));
  float a = float(2.0 * kPi) * u2;
  return (i & 1) ? r * std::sin(a) : r * std::cos(a);
}

// ---------------------------------------------------------------------------
// Threads.

using lfc::detail::parallelFor;

/// fn(begin, end) over [0, n) in blocks of `grain`, in parallel.
template <class Fn>
void parallelRanges(unsigned threads, int64_t n, int64_t grain, Fn fn) {
  int64_t blocks = (n + grain - 1) / grain;
  parallelFor(threads, blocks,
              [&](int64_t b) { fn(b * grain, std::min(n, (b + 1) * grain)); });
}

// ---------------------------------------------------------------------------
// GEMM: C[M x N] (+)= A[M x K] * B[K x N], B packed in panels of kNR columns.
// Each element's sum runs over k in ascending order (in kKC blocks, through C),
// so the bits do not depend on the thread count.

constexpr int kNR = 16;  // columns per panel (two 8-float vectors)
constexpr int kMR = 6;   // rows per micro-kernel
constexpr int kKC = 256; // k block
constexpr int kMC = 48;  // rows per tile (multiple of kMR)
constexpr int kNP = 8;   // panels per tile

struct PackedMatrix {
  int64_t K = 0, N = 0, panels = 0;
  std::vector<float> data; // [panel][K][kNR], zero padded

  void resize(int64_t k, int64_t n) {
    K = k;
    N = n;
    panels = (n + kNR - 1) / kNR;
    data.assign(size_t(panels * K * kNR), 0.0f);
  }
  float &at(int64_t k, int64_t n) {
    return data[size_t(((n / kNR) * K + k) * kNR + n % kNR)];
  }
  float get(int64_t k, int64_t n) const {
    return data[size_t(((n / kNR) * K + k) * kNR + n % kNR)];
  }
  /// The dense row-major [K, N] matrix.
  void unpack(std::vector<float> &out) const {
    out.resize(size_t(K * N));
    for (int64_t k = 0; k < K; ++k)
      for (int64_t n = 0; n < N; ++n)
        out[size_t(k * N + n)] = get(k, n);
  }
};

// GCC/Clang vector extensions: 8 lanes for the AVX2 path, 4 lanes (SSE2,
// NEON) otherwise. Vector values never cross a function boundary (no ABI
// concerns); the kernels are inlined into the target-specific tile functions.
typedef float V8 __attribute__((vector_size(32)));
typedef float V4 __attribute__((vector_size(16)));

struct Tile {
  const float *A;
  int64_t lda;
  const PackedMatrix *B;
  float *C;
  int64_t ldc;
  int64_t m0, m1, p0, p1;
  bool accumulate;
};

#if defined(__GNUC__)
#define LFC_AR_INLINE inline __attribute__((always_inline))
#else
#define LFC_AR_INLINE inline
#endif

/// c[i][0..ncols) (+)= sum over k < kc of a[i][k] * bp[k][0..kNR), for
/// i < MR, with MR x kNR accumulators in vectors of V.
template <class V, int MR>
LFC_AR_INLINE void microKernel(int64_t kc, const float *const *a,
                               const float *bp, float *const *c, int ncols,
                               bool load) {
  constexpr int W = int(sizeof(V) / sizeof(float)), NV = kNR / W;
  V acc[size_t(MR)][size_t(NV)];
  for (int i = 0; i < MR; ++i) {
    float tmp[kNR] = {};
    if (load)
      std::memcpy(tmp, c[i], sizeof(float) * size_t(ncols));
    for (int v = 0; v < NV; ++v)
      std::memcpy(&acc[i][v], tmp + v * W, sizeof(V));
  }
  for (int64_t k = 0; k < kc; ++k) {
    V b[size_t(NV)];
    for (int v = 0; v < NV; ++v)
      std::memcpy(&b[v], bp + k * kNR + v * W, sizeof(V));
    for (int i = 0; i < MR; ++i) {
      const float av = a[i][k];
      for (int v = 0; v < NV; ++v)
        acc[i][v] += av * b[v];
    }
  }
  for (int i = 0; i < MR; ++i) {
    float tmp[kNR];
    for (int v = 0; v < NV; ++v)
      std::memcpy(tmp + v * W, &acc[i][v], sizeof(V));
    std::memcpy(c[i], tmp, sizeof(float) * size_t(ncols));
  }
}

template <class V, int MR> LFC_AR_INLINE void gemmTileBody(const Tile &t) {
  const PackedMatrix &B = *t.B;
  float dummy[kNR] = {};
  const float *a[size_t(MR)];
  float *c[size_t(MR)];
  for (int64_t k0 = 0; k0 < B.K; k0 += kKC) {
    const int64_t kc = std::min<int64_t>(kKC, B.K - k0);
    const bool load = t.accumulate || k0 > 0;
    for (int64_t p = t.p0; p < t.p1; ++p) {
      const int ncols = int(std::min<int64_t>(kNR, B.N - p * kNR));
      const float *bp = B.data.data() + (p * B.K + k0) * kNR;
      for (int64_t m = t.m0; m < t.m1; m += MR) {
        const int64_t mr = std::min<int64_t>(MR, t.m1 - m);
        for (int i = 0; i < MR; ++i) {
          a[i] = t.A + (m + std::min<int64_t>(i, mr - 1)) * t.lda + k0;
          c[i] = i < mr ? t.C + (m + i) * t.ldc + p * kNR : dummy;
        }
        microKernel<V, MR>(kc, a, bp, c, ncols, load);
      }
    }
  }
}

void gemmTileGeneric(const Tile &t) { gemmTileBody<V4, 4>(t); }

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define LFC_AR_AVX2_PATH 1
__attribute__((target("avx2,fma"))) void gemmTileAvx2(const Tile &t) {
  gemmTileBody<V8, kMR>(t);
}
bool cpuHasAvx2Fma() {
  static const bool has =
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}
#endif

void gemm(unsigned threads, int64_t M, const float *A, int64_t lda,
          const PackedMatrix &B, float *C, int64_t ldc, bool accumulate) {
  if (M <= 0 || B.N <= 0)
    return;
  if (B.K == 0) {
    if (!accumulate)
      for (int64_t m = 0; m < M; ++m)
        std::fill(C + m * ldc, C + m * ldc + B.N, 0.0f);
    return;
  }
  const int64_t mTiles = (M + kMC - 1) / kMC;
  const int64_t nTiles = (B.panels + kNP - 1) / kNP;
  void (*tileFn)(const Tile &) = gemmTileGeneric;
#ifdef LFC_AR_AVX2_PATH
  if (cpuHasAvx2Fma())
    tileFn = gemmTileAvx2;
#endif
  parallelFor(threads, mTiles * nTiles, [&](int64_t i) {
    int64_t mt = i / nTiles, nt = i % nTiles;
    Tile t{A,
           lda,
           &B,
           C,
           ldc,
           mt * kMC,
           std::min(M, (mt + 1) * kMC),
           nt * kNP,
           std::min(B.panels, (nt + 1) * kNP),
           accumulate};
    tileFn(t);
  });
}

// ---------------------------------------------------------------------------
// Tensors.

void checkHost(const Tensor4 &t, const char *what, int64_t tokens,
               int64_t heads, int64_t dim) {
  std::string name = what;
  if (!t.data)
    throw Error(name + ": data is null");
  if (t.device != Device::Host)
    throw Error(name + ": expected host memory, got CUDA device memory");
  if (t.batch != 1 || t.tokens != tokens || t.heads != heads || t.dim != dim)
    throw Error(name + ": expected shape [1, " + std::to_string(tokens) + ", " +
                std::to_string(heads) + ", " + std::to_string(dim) +
                "], got [" + std::to_string(t.batch) + ", " +
                std::to_string(t.tokens) + ", " + std::to_string(t.heads) +
                ", " + std::to_string(t.dim) + "]");
  if (t.strideS < 0 || t.strideH < 0 || t.strideB < 0)
    throw Error(name + ": negative stride");
  if ((tokens > 1 && t.strideS < dim) || (heads > 1 && t.strideH < dim))
    throw Error(name + ": strides (strideS " + std::to_string(t.strideS) +
                ", strideH " + std::to_string(t.strideH) +
                ") overlap rows of head_dim " + std::to_string(dim));
}

void storeRow(const Tensor4 &t, int64_t s, int64_t h, const float *x) {
  const int64_t base = t.offset(0, s, h);
  switch (t.dtype) {
  case DType::F32:
    std::memcpy(static_cast<float *>(t.data) + base, x,
                sizeof(float) * size_t(t.dim));
    break;
  case DType::BF16: {
    uint16_t *p = static_cast<uint16_t *>(t.data) + base;
    for (int64_t d = 0; d < t.dim; ++d)
      p[d] = floatToBf16(x[d]);
    break;
  }
  case DType::F16: {
    uint16_t *p = static_cast<uint16_t *>(t.data) + base;
    for (int64_t d = 0; d < t.dim; ++d)
      p[d] = floatToHalf(x[d]);
    break;
  }
  }
}

void loadRow(const Tensor4 &t, int64_t s, int64_t h, float *x) {
  const int64_t base = t.offset(0, s, h);
  switch (t.dtype) {
  case DType::F32:
    std::memcpy(x, static_cast<const float *>(t.data) + base,
                sizeof(float) * size_t(t.dim));
    break;
  case DType::BF16: {
    const uint16_t *p = static_cast<const uint16_t *>(t.data) + base;
    for (int64_t d = 0; d < t.dim; ++d)
      x[d] = bf16ToFloat(p[d]);
    break;
  }
  case DType::F16: {
    const uint16_t *p = static_cast<const uint16_t *>(t.data) + base;
    for (int64_t d = 0; d < t.dim; ++d)
      x[d] = halfToFloat(p[d]);
    break;
  }
  }
}

/// Rotates `pairs` consecutive pairs of x by the angles whose cos/sin are
/// given.
inline void rotatePairs(float *x, const float *cosA, const float *sinA,
                        int pairs) {
  for (int i = 0; i < pairs; ++i) {
    const float x0 = x[2 * i], x1 = x[2 * i + 1];
    x[2 * i] = x0 * cosA[i] - x1 * sinA[i];
    x[2 * i + 1] = x0 * sinA[i] + x1 * cosA[i];
  }
}

/// cos/sin of pos * ropeFrequency(j, pairs) for j < pairs, into cs[0..pairs)
/// and sn[0..pairs).
void ropeAngles(int pos, int pairs, double base, float *cs, float *sn) {
  for (int j = 0; j < pairs; ++j) {
    double a = double(pos) * ropeFrequency(j, pairs, base);
    cs[j] = float(std::cos(a));
    sn[j] = float(std::sin(a));
  }
}

/// Per-axis cos/sin tables: [positions][pairs].
struct AxisTable {
  int pairs = 0;
  std::vector<float> cs, sn;
  void build(int positions, int p, double base) {
    pairs = p;
    cs.assign(size_t(positions) * size_t(p), 0.0f);
    sn.assign(size_t(positions) * size_t(p), 0.0f);
    for (int pos = 0; pos < positions; ++pos)
      ropeAngles(pos, p, base, &cs[size_t(pos) * size_t(p)],
                 &sn[size_t(pos) * size_t(p)]);
  }
  const float *cosAt(int pos) const { return &cs[size_t(pos) * size_t(pairs)]; }
  const float *sinAt(int pos) const { return &sn[size_t(pos) * size_t(pairs)]; }
};

std::string str(int v) { return std::to_string(v); }

} // namespace

// ---------------------------------------------------------------------------
// Geometry and RoPE.

void Geometry::validate() const {
  auto fail = [](const std::string &m) { throw Error("ar::Geometry: " + m); };
  struct {
    const char *name;
    int value;
  } positive[] = {{"layers", layers},   {"heads", heads},
                  {"headDim", headDim}, {"rows", rows},
                  {"cols", cols},       {"framesPerChunk", framesPerChunk},
                  {"chunks", chunks},   {"passesPerChunk", passesPerChunk}};
  for (const auto &p : positive)
    if (p.value <= 0)
      fail(std::string(p.name) + " must be > 0, got " + str(p.value));
  if (headDim % 2 != 0 || headDim < 6)
    fail("headDim must be even and >= 6 (three RoPE axes), got " +
         str(headDim));
  if (sinkFrames < 0)
    fail("sinkFrames must be >= 0, got " + str(sinkFrames));
  if (dModel < 0)
    fail("dModel must be >= 0 (0: heads * headDim), got " + str(dModel));
}

Geometry Geometry::cpuDemo() { return Geometry{}; }

Geometry Geometry::wan13b() {
  Geometry g;
  g.layers = 30;
  g.heads = 12;
  g.headDim = 128;
  g.rows = 30;
  g.cols = 52;
  g.framesPerChunk = 3;
  g.chunks = 7;
  g.passesPerChunk = 5;
  g.sinkFrames = 1;
  g.dtype = DType::BF16;
  return g;
}

RopeSplit ropeSplit(int headDim) {
  RopeSplit s;
  s.rowPairs = headDim / 6;
  s.colPairs = headDim / 6;
  s.timePairs = headDim / 2 - s.rowPairs - s.colPairs;
  return s;
}

double ropeFrequency(int j, int pairs, double base) {
  return std::pow(base, -double(j) / double(pairs));
}

void applyRope3d(float *x, int headDim, int frame, int row, int col,
                 double base) {
  const RopeSplit s = ropeSplit(headDim);
  std::vector<float> cs(size_t(headDim / 2)), sn(size_t(headDim / 2));
  ropeAngles(frame, s.timePairs, base, cs.data(), sn.data());
  ropeAngles(row, s.rowPairs, base, cs.data() + s.timePairs,
             sn.data() + s.timePairs);
  ropeAngles(col, s.colPairs, base, cs.data() + s.timePairs + s.rowPairs,
             sn.data() + s.timePairs + s.rowPairs);
  rotatePairs(x, cs.data(), sn.data(), headDim / 2);
}

// ---------------------------------------------------------------------------
// The model.

struct LayerWeights {
  PackedMatrix qkv;        // [dModel x 3*H*D]: columns q | k | v
  PackedMatrix out;        // [H*D x dModel]: W_o^T
  std::vector<float> bias; // [H][D], added to q and k before RoPE
};

struct SyntheticVideoModel::Impl {
  Geometry g;
  ModelParams p;
  uint64_t seed = 0;
  unsigned threads = 1;
  int worldRows = 0, worldCols = 0;
  std::vector<std::vector<float>> worlds; // [world][y][x][channel]
  PackedMatrix embed;                     // [channels x dModel]: W_in^T
  AxisTable timeRope, rowRope, colRope;
  mutable std::vector<std::unique_ptr<LayerWeights>> layers;
  mutable std::unique_ptr<std::once_flag[]> layerOnce;

  void checkChunk(int chunk, const char *what) const {
    if (chunk < 1 || chunk > g.chunks)
      throw Error(std::string(what) + ": chunk " + str(chunk) +
                  " is outside [1, " + str(g.chunks) + "] (1-based)");
  }
  void checkLayer(int layer, const char *what) const {
    if (layer < 0 || layer >= g.layers)
      throw Error(std::string(what) + ": layer " + str(layer) +
                  " is outside [0, " + str(g.layers) + ")");
  }
  void checkHidden(const std::vector<float> &hidden, const char *what) const {
    const size_t want = size_t(g.chunkTokens()) * size_t(g.modelWidth());
    if (hidden.size() != want)
      throw Error(std::string(what) + ": hidden holds " +
                  std::to_string(hidden.size()) + " floats, expected " +
                  std::to_string(want) + " (chunkTokens " +
                  std::to_string(g.chunkTokens()) + " x modelWidth " +
                  str(g.modelWidth()) + ")");
  }

  void buildWorlds();
  const LayerWeights &layer(int l) const;
  void generateLayer(int l) const;
};

void SyntheticVideoModel::Impl::buildWorlds() {
  const int C = p.contentChannels;
  const int Rw = worldRows, Cw = worldCols;
  const int count = (g.totalFrames() - 1) / p.driftFrames + 2;
  // A circular Gaussian blur per axis, normalized to sum 1; the product of
  // the kernels' squared sums is the variance it leaves of unit white noise.
  auto kernel = [&](int period, double &sumSq) {
    std::vector<double> w;
    const double sigma = p.correlationLength;
    int radius = sigma > 0 ? int(std::ceil(3.0 * sigma)) : 0;
    radius = std::min(radius, (period - 1) / 2);
    double sum = 0;
    for (int d = -radius; d <= radius; ++d) {
      double v = sigma > 0 ? std::exp(-double(d) * d / (2 * sigma * sigma)) : 1;
      w.push_back(v);
      sum += v;
    }
    sumSq = 0;
    for (double &v : w) {
      v /= sum;
      sumSq += v * v;
    }
    return w;
  };
  double sumSqY = 0, sumSqX = 0;
  const std::vector<double> ky = kernel(Rw, sumSqY), kx = kernel(Cw, sumSqX);
  const int ry = int(ky.size() / 2), rx = int(kx.size() / 2);
  const float norm = float(1.0 / std::sqrt(sumSqY * sumSqX));
  worlds.assign(size_t(count), {});
  parallelFor(threads, count, [&](int64_t w) {
    const uint64_t key = streamKey(seed, kWorld, uint64_t(w));
    const size_t n = size_t(Rw) * size_t(Cw) * size_t(C);
    std::vector<float> white(n), tmp(n);
    for (size_t i = 0; i < n; ++i)
      white[i] = normalAt(key, i);
    auto at = [&](int y, int x, int c) {
      return (size_t(y) * size_t(Cw) + size_t(x)) * size_t(C) + size_t(c);
    };
    for (int y = 0; y < Rw; ++y) // blur along x
      for (int x = 0; x < Cw; ++x)
        for (int c = 0; c < C; ++c) {
          double s = 0;
          for (int d = -rx; d <= rx; ++d)
            s += kx[size_t(d + rx)] *
                 double(white[at(y, ((x + d) % Cw + Cw) % Cw, c)]);
          tmp[at(y, x, c)] = float(s);
        }
    std::vector<float> &out = worlds[size_t(w)];
    out.assign(n, 0.0f);
    for (int y = 0; y < Rw; ++y) // blur along y
      for (int x = 0; x < Cw; ++x)
        for (int c = 0; c < C; ++c) {
          double s = 0;
          for (int d = -ry; d <= ry; ++d)
            s += ky[size_t(d + ry)] *
                 double(tmp[at(((y + d) % Rw + Rw) % Rw, x, c)]);
          out[at(y, x, c)] = float(s) * norm;
        }
  });
}

const LayerWeights &SyntheticVideoModel::Impl::layer(int l) const {
  std::call_once(layerOnce[size_t(l)], [&] { generateLayer(l); });
  return *layers[size_t(l)];
}

void SyntheticVideoModel::Impl::generateLayer(int l) const {
  auto w = std::make_unique<LayerWeights>();
  const int64_t dm = g.modelWidth(), hd = g.attnWidth();
  const uint64_t L = uint64_t(l);
  const uint64_t kq = streamKey(seed, kWq, L), kg = streamKey(seed, kGk, L),
                 kv = streamKey(seed, kWv, L), ko = streamKey(seed, kWo, L);
  const float inScale = float(1.0 / std::sqrt(double(dm)));
  const float rho = p.qkAlignment;
  const float rhoPerp = std::sqrt(std::max(0.0f, 1.0f - rho * rho));
  // B[i][o] = W[o][i]: W_q, W_k = rho W_q + sqrt(1 - rho^2) G, W_v.
  w->qkv.resize(dm, 3 * hd);
  PackedMatrix &qkv = w->qkv;
  parallelFor(threads, qkv.panels, [&](int64_t panel) {
    for (int64_t j = 0; j < kNR; ++j) {
      const int64_t n = panel * kNR + j;
      if (n >= qkv.N)
        break;
      const int64_t part = n / hd, o = n % hd;
      for (int64_t i = 0; i < dm; ++i) {
        const uint64_t idx = uint64_t(o * dm + i);
        float v;
        if (part == 0)
          v = normalAt(kq, idx);
        else if (part == 1)
          v = rho * normalAt(kq, idx) + rhoPerp * normalAt(kg, idx);
        else
          v = normalAt(kv, idx);
        qkv.at(i, n) = v * inScale;
      }
    }
  });
  // B[i][o] = W_o[o][i], W_o: [dModel x H*D].
  const float outScale = p.residualGain / std::sqrt(float(hd));
  w->out.resize(hd, dm);
  PackedMatrix &out = w->out;
  parallelFor(threads, out.panels, [&](int64_t panel) {
    for (int64_t j = 0; j < kNR; ++j) {
      const int64_t o = panel * kNR + j;
      if (o >= out.N)
        break;
      for (int64_t i = 0; i < hd; ++i)
        out.at(i, o) = normalAt(ko, uint64_t(o * hd + i)) * outScale;
    }
  });
  // Per-head bias, shared by q and k: std beta_h = positionalBias * (0.5 + u).
  const uint64_t kb = streamKey(seed, kBias, L),
                 ks = streamKey(seed, kBiasScale, L);
  w->bias.resize(size_t(hd));
  for (int h = 0; h < g.heads; ++h) {
    const float beta = p.positionalBias * (0.5f + uniformAt(ks, uint64_t(h)));
    for (int d = 0; d < g.headDim; ++d) {
      const int64_t i = int64_t(h) * g.headDim + d;
      w->bias[size_t(i)] = beta * normalAt(kb, uint64_t(i));
    }
  }
  layers[size_t(l)] = std::move(w);
}

SyntheticVideoModel::SyntheticVideoModel(const Geometry &geometry,
                                         uint64_t seed,
                                         const ModelParams &params,
                                         unsigned threads)
    : impl_(std::make_unique<Impl>()) {
  geometry.validate();
  Impl &m = *impl_;
  m.g = geometry;
  m.p = params;
  m.seed = seed;
  m.threads =
      threads ? threads : std::max(1u, std::thread::hardware_concurrency());
  const ModelParams &p = m.p;
  auto fail = [](const std::string &msg) {
    throw Error("ar::ModelParams: " + msg);
  };
  if (p.contentChannels <= 0)
    fail("contentChannels must be > 0, got " + str(p.contentChannels));
  if (!(p.correlationLength >= 0) || !std::isfinite(p.correlationLength))
    fail("correlationLength must be finite and >= 0");
  m.worldRows = p.worldRows ? p.worldRows : 2 * geometry.rows;
  m.worldCols = p.worldCols ? p.worldCols : 2 * geometry.cols;
  if (m.worldRows < geometry.rows || m.worldCols < geometry.cols)
    fail("the world (" + str(m.worldRows) + " x " + str(m.worldCols) +
         ") must be at least as large as a frame (" + str(geometry.rows) +
         " x " + str(geometry.cols) + ")");
  if (!std::isfinite(p.velocityRow) || !std::isfinite(p.velocityCol))
    fail("velocities must be finite");
  if (p.driftFrames <= 0)
    fail("driftFrames must be > 0, got " + str(p.driftFrames));
  if (!(p.qkAlignment >= -1 && p.qkAlignment <= 1))
    fail("qkAlignment must be in [-1, 1]");
  if (!(p.positionalBias >= 0) || !std::isfinite(p.positionalBias))
    fail("positionalBias must be finite and >= 0");
  if (!(p.sinkGain > 0) || !std::isfinite(p.sinkGain))
    fail("sinkGain must be finite and > 0");
  if (!std::isfinite(p.residualGain))
    fail("residualGain must be finite");
  if (!(p.ropeBase > 1) || !std::isfinite(p.ropeBase))
    fail("ropeBase must be finite and > 1");

  m.buildWorlds();
  const int64_t dm = geometry.modelWidth(), C = p.contentChannels;
  const uint64_t ke = streamKey(seed, kEmbed);
  const float eScale = float(1.0 / std::sqrt(double(C)));
  m.embed.resize(C, dm);
  for (int64_t o = 0; o < dm; ++o)
    for (int64_t c = 0; c < C; ++c)
      m.embed.at(c, o) = normalAt(ke, uint64_t(o * C + c)) * eScale;

  const RopeSplit s = ropeSplit(geometry.headDim);
  m.timeRope.build(geometry.totalFrames(), s.timePairs, p.ropeBase);
  m.rowRope.build(geometry.rows, s.rowPairs, p.ropeBase);
  m.colRope.build(geometry.cols, s.colPairs, p.ropeBase);
  m.layers.resize(size_t(geometry.layers));
  m.layerOnce = std::make_unique<std::once_flag[]>(size_t(geometry.layers));
}

SyntheticVideoModel::~SyntheticVideoModel() = default;
SyntheticVideoModel::SyntheticVideoModel(SyntheticVideoModel &&) noexcept =
    default;
SyntheticVideoModel &
SyntheticVideoModel::operator=(SyntheticVideoModel &&) noexcept = default;

const Geometry &SyntheticVideoModel::geometry() const { return impl_->g; }
const ModelParams &SyntheticVideoModel::params() const { return impl_->p; }
uint64_t SyntheticVideoModel::seed() const { return impl_->seed; }
float SyntheticVideoModel::softmaxScale() const {
  return float(1.0 / std::sqrt(double(impl_->g.headDim)));
}

float SyntheticVideoModel::noiseSigma(int pass, int passes) {
  if (passes <= 1 || pass >= passes - 1)
    return 0.0f;
  return 1.0f - float(pass) / float(passes - 1);
}

float SyntheticVideoModel::noiseSigma(int pass) const {
  return noiseSigma(pass, impl_->g.passesPerChunk);
}

void SyntheticVideoModel::content(int chunk, std::vector<float> &out) const {
  const Impl &m = *impl_;
  const Geometry &g = m.g;
  m.checkChunk(chunk, "content");
  std::vector<float> feat;
  contentFeatures(chunk, feat);
  const int64_t dm = g.modelWidth(), Lq = g.chunkTokens();
  out.assign(size_t(Lq) * size_t(dm), 0.0f);
  gemm(m.threads, Lq, feat.data(), m.p.contentChannels, m.embed, out.data(), dm,
       false);
}

void SyntheticVideoModel::contentFeatures(int chunk,
                                          std::vector<float> &feat) const {
  const Impl &m = *impl_;
  const Geometry &g = m.g;
  m.checkChunk(chunk, "contentFeatures");
  const int64_t T = g.tokensPerFrame(), Lq = g.chunkTokens();
  const int C = m.p.contentChannels;
  const int Rw = m.worldRows, Cw = m.worldCols;
  // Per token: the world features at the token's world position, a cos/sin
  // blend of the two key worlds around its frame.
  feat.assign(size_t(Lq) * size_t(C), 0.0f);
  parallelRanges(m.threads, Lq, 256, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int f = g.firstFrame(chunk) + int(t / T);
      const int r = int((t % T) / g.cols), c = int(t % g.cols);
      const int seg = f / m.p.driftFrames;
      const double u = double(f % m.p.driftFrames) / m.p.driftFrames;
      const float wa = float(std::cos(0.5 * kPi * u)),
                  wb = float(std::sin(0.5 * kPi * u));
      const double y = r + double(m.p.velocityRow) * f,
                   x = c + double(m.p.velocityCol) * f;
      const double yf = std::floor(y), xf = std::floor(x);
      const float fy = float(y - yf), fx = float(x - xf);
      const int y0 = int(((int64_t(yf) % Rw) + Rw) % Rw), y1 = (y0 + 1) % Rw;
      const int x0 = int(((int64_t(xf) % Cw) + Cw) % Cw), x1 = (x0 + 1) % Cw;
      const float w00 = (1 - fy) * (1 - fx), w01 = (1 - fy) * fx,
                  w10 = fy * (1 - fx), w11 = fy * fx;
      const std::vector<float> &A = m.worlds[size_t(seg)];
      const std::vector<float> &B = m.worlds[size_t(seg) + 1];
      auto idx = [&](int yy, int xx) {
        return (size_t(yy) * size_t(Cw) + size_t(xx)) * size_t(C);
      };
      const size_t i00 = idx(y0, x0), i01 = idx(y0, x1), i10 = idx(y1, x0),
                   i11 = idx(y1, x1);
      float *dst = &feat[size_t(t) * size_t(C)];
      for (int ch = 0; ch < C; ++ch) {
        const float a = w00 * A[i00 + size_t(ch)] + w01 * A[i01 + size_t(ch)] +
                        w10 * A[i10 + size_t(ch)] + w11 * A[i11 + size_t(ch)];
        const float b = w00 * B[i00 + size_t(ch)] + w01 * B[i01 + size_t(ch)] +
                        w10 * B[i10 + size_t(ch)] + w11 * B[i11 + size_t(ch)];
        dst[ch] = wa * a + wb * b;
      }
    }
  });
}

void SyntheticVideoModel::embeddingMatrix(std::vector<float> &out) const {
  impl_->embed.unpack(out);
}

uint64_t SyntheticVideoModel::noiseKey(int chunk, int pass) const {
  const Impl &m = *impl_;
  m.checkChunk(chunk, "noiseKey");
  if (pass < 0 || pass >= m.g.passesPerChunk)
    throw Error("noiseKey: pass " + str(pass) + " is outside [0, " +
                str(m.g.passesPerChunk) + ")");
  return streamKey(m.seed, kNoise, uint64_t(chunk), uint64_t(pass));
}

void SyntheticVideoModel::layerMatrices(int layer, LayerMatrices &out) const {
  const Impl &m = *impl_;
  m.checkLayer(layer, "layerMatrices");
  const LayerWeights &w = m.layer(layer);
  w.qkv.unpack(out.qkv);
  w.out.unpack(out.out);
  out.bias = w.bias;
}

void SyntheticVideoModel::ropeTables(RopeTables &out) const {
  const Impl &m = *impl_;
  out.split = ropeSplit(m.g.headDim);
  out.timeCos = m.timeRope.cs;
  out.timeSin = m.timeRope.sn;
  out.rowCos = m.rowRope.cs;
  out.rowSin = m.rowRope.sn;
  out.colCos = m.colRope.cs;
  out.colSin = m.colRope.sn;
}

void SyntheticVideoModel::initChunk(int chunk, int pass,
                                    std::vector<float> &hidden) const {
  const Impl &m = *impl_;
  m.checkChunk(chunk, "initChunk");
  if (pass < 0 || pass >= m.g.passesPerChunk)
    throw Error("initChunk: pass " + str(pass) + " is outside [0, " +
                str(m.g.passesPerChunk) + ")");
  content(chunk, hidden);
  const float sigma = noiseSigma(pass);
  if (sigma == 0.0f)
    return;
  const uint64_t key = noiseKey(chunk, pass);
  parallelRanges(m.threads, int64_t(hidden.size()), 1 << 16,
                 [&](int64_t begin, int64_t end) {
                   for (int64_t i = begin; i < end; ++i)
                     hidden[size_t(i)] += sigma * normalAt(key, uint64_t(i));
                 });
}

void SyntheticVideoModel::project(int layer, int chunk,
                                  const std::vector<float> &hidden,
                                  const Tensor4 &q, const Tensor4 &k,
                                  const Tensor4 &v) const {
  const Impl &m = *impl_;
  const Geometry &g = m.g;
  m.checkLayer(layer, "project");
  m.checkChunk(chunk, "project");
  m.checkHidden(hidden, "project");
  const int64_t Lq = g.chunkTokens(), T = g.tokensPerFrame();
  const int H = g.heads, D = g.headDim;
  checkHost(q, "project: q", Lq, H, D);
  checkHost(k, "project: k", Lq, H, D);
  checkHost(v, "project: v", Lq, H, D);
  const LayerWeights &w = m.layer(layer);
  const int64_t dm = g.modelWidth(), hd = g.attnWidth();

  // Pre-norm: every token's hidden row scaled to unit RMS.
  std::vector<float> x(size_t(Lq) * size_t(dm));
  parallelRanges(m.threads, Lq, 64, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const float *src = &hidden[size_t(t * dm)];
      double ss = 0;
      for (int64_t i = 0; i < dm; ++i)
        ss += double(src[i]) * double(src[i]);
      const float inv = float(1.0 / std::sqrt(ss / double(dm) + 1e-6));
      float *dst = &x[size_t(t * dm)];
      for (int64_t i = 0; i < dm; ++i)
        dst[i] = src[i] * inv;
    }
  });
  std::vector<float> y(size_t(Lq) * size_t(3 * hd));
  gemm(m.threads, Lq, x.data(), dm, w.qkv, y.data(), 3 * hd, false);

  const RopeSplit s = ropeSplit(D);
  const float gain = m.p.sinkGain;
  parallelRanges(m.threads, Lq, 64, [&](int64_t begin, int64_t end) {
    std::vector<float> row(static_cast<size_t>(D));
    for (int64_t t = begin; t < end; ++t) {
      const int f = g.firstFrame(chunk) + int(t / T);
      const int r = int((t % T) / g.cols), c = int(t % g.cols);
      const float *yt = &y[size_t(t * 3 * hd)];
      for (int h = 0; h < H; ++h) {
        const float *b = &w.bias[size_t(h * D)];
        for (int part = 0; part < 2; ++part) { // q, then k
          const float *src = yt + part * hd + int64_t(h) * D;
          const float scale = part == 0 ? m.p.queryScale : 1.0f;
          for (int d = 0; d < D; ++d)
            row[size_t(d)] = (src[d] + b[d]) * scale;
          float *x0 = row.data();
          rotatePairs(x0, m.timeRope.cosAt(f), m.timeRope.sinAt(f),
                      s.timePairs);
          x0 += 2 * s.timePairs;
          rotatePairs(x0, m.rowRope.cosAt(r), m.rowRope.sinAt(r), s.rowPairs);
          x0 += 2 * s.rowPairs;
          rotatePairs(x0, m.colRope.cosAt(c), m.colRope.sinAt(c), s.colPairs);
          if (part == 1 && f < g.sinkFrames)
            for (int d = 0; d < D; ++d)
              row[size_t(d)] *= gain;
          storeRow(part == 0 ? q : k, t, h, row.data());
        }
        storeRow(v, t, h, yt + 2 * hd + int64_t(h) * D);
      }
    }
  });
}

void SyntheticVideoModel::residual(int layer, std::vector<float> &hidden,
                                   const Tensor4 &attnOut) const {
  const Impl &m = *impl_;
  const Geometry &g = m.g;
  m.checkLayer(layer, "residual");
  m.checkHidden(hidden, "residual");
  const int64_t Lq = g.chunkTokens();
  const int H = g.heads, D = g.headDim;
  checkHost(attnOut, "residual: attnOut", Lq, H, D);
  const LayerWeights &w = m.layer(layer);
  const int64_t hd = g.attnWidth();
  std::vector<float> a(size_t(Lq) * size_t(hd));
  parallelRanges(m.threads, Lq, 256, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t)
      for (int h = 0; h < H; ++h)
        loadRow(attnOut, t, h, &a[size_t(t * hd + int64_t(h) * D)]);
  });
  gemm(m.threads, Lq, a.data(), hd, w.out, hidden.data(), g.modelWidth(), true);
}

} // namespace lfc::ar
