// The synthetic AR video model (examples/ar_video, docs/ar_video.md): 3D RoPE
// against its closed form, sink gain, determinism, the noise schedule, content
// motion, and a dense reference rollout on the CPU backend that shows
// spatio-temporal locality, sink attraction and errors carried forward through
// the KV cache.
#include "examples/ar_video/Workload.h"

#include "lfc/backend.h"
#include "lfc/half.h"
#include "lfc/runtime.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <functional>
#include <iostream>
#include <random>
#include <sstream>
#include <vector>

namespace lfc::ar {
namespace {

/// A host buffer with a [1, tokens, heads, dim] BSHD view.
struct Buffer {
  std::vector<float> f32;
  std::vector<uint16_t> b16;
  Tensor4 view;
  Buffer(DType t, int64_t tokens, int64_t heads, int64_t dim) {
    void *data;
    if (t == DType::F32) {
      f32.assign(size_t(tokens * heads * dim), 0.0f);
      data = f32.data();
    } else {
      b16.assign(size_t(tokens * heads * dim), 0);
      data = b16.data();
    }
    view = Tensor4::bshd(data, t, Device::Host, 1, tokens, heads, dim);
  }
  Buffer(const Buffer &) = delete;
  Buffer(Buffer &&) = default;
  float get(int64_t s, int64_t h, int64_t d) const {
    size_t i = size_t(view.offset(0, s, h) + d);
    switch (view.dtype) {
    case DType::F32:
      return f32[i];
    case DType::BF16:
      return bf16ToFloat(b16[i]);
    case DType::F16:
      return halfToFloat(b16[i]);
    }
    return 0;
  }
  /// View of rows [begin, begin + count).
  Tensor4 rows(int64_t begin, int64_t count) const {
    Tensor4 t = view;
    t.data =
        static_cast<char *>(t.data) + begin * t.strideS * dtypeSize(t.dtype);
    t.tokens = count;
    return t;
  }
};

double dot(const float *a, const float *b, int n) {
  double s = 0;
  for (int i = 0; i < n; ++i)
    s += double(a[i]) * double(b[i]);
  return s;
}
double norm(const float *a, int n) { return std::sqrt(dot(a, a, n)); }

/// The tiny geometry of the reference rollout.
Geometry tinyGeometry() {
  Geometry g;
  g.layers = 2;
  g.heads = 2;
  g.headDim = 64;
  g.rows = 6;
  g.cols = 8;
  g.framesPerChunk = 3;
  g.chunks = 5;
  g.passesPerChunk = 3;
  g.sinkFrames = 1;
  return g;
}

// ---------------------------------------------------------------------------
// RoPE

TEST(ArRope, SplitFollowsWan) {
  RopeSplit s128 = ropeSplit(128), s64 = ropeSplit(64);
  EXPECT_EQ(s128.timePairs, 22);
  EXPECT_EQ(s128.rowPairs, 21);
  EXPECT_EQ(s128.colPairs, 21);
  EXPECT_EQ(s64.timePairs, 12);
  EXPECT_EQ(s64.rowPairs, 10);
  EXPECT_EQ(s64.colPairs, 10);
  EXPECT_DOUBLE_EQ(ropeFrequency(0, 22), 1.0);
  EXPECT_NEAR(ropeFrequency(11, 22), 0.01, 1e-15);      // 10000^-0.5
  EXPECT_NEAR(ropeFrequency(5, 10, 100.0), 0.1, 1e-15); // 100^-0.5
  EXPECT_NEAR(ropeFrequency(21, 22), std::pow(1e4, -21.0 / 22), 1e-15);
}

/// Closed form of dot(R(a) q, R(b) k): per pair, (q0 k0 + q1 k1) cos(delta) +
/// (q1 k0 - q0 k1) sin(delta), delta = (pos_b - pos_a) * freq.
double ropeDotClosedForm(const std::vector<float> &q,
                         const std::vector<float> &k, const int a[3],
                         const int b[3]) {
  const int D = int(q.size());
  const RopeSplit s = ropeSplit(D);
  const int pairs[3] = {s.timePairs, s.rowPairs, s.colPairs};
  double sum = 0;
  int i = 0;
  for (int axis = 0; axis < 3; ++axis)
    for (int j = 0; j < pairs[axis]; ++j, ++i) {
      double delta = double(b[axis] - a[axis]) * ropeFrequency(j, pairs[axis]);
      double q0 = q[size_t(2 * i)], q1 = q[size_t(2 * i + 1)];
      double k0 = k[size_t(2 * i)], k1 = k[size_t(2 * i + 1)];
      sum += (q0 * k0 + q1 * k1) * std::cos(delta) +
             (q1 * k0 - q0 * k1) * std::sin(delta);
    }
  return sum;
}

TEST(ArRope, DotDependsOnlyOnOffset) {
  for (int D : {64, 128}) {
    std::mt19937 rng(static_cast<uint32_t>(D));
    std::normal_distribution<float> n;
    std::vector<float> q(static_cast<size_t>(D)), k(static_cast<size_t>(D));
    for (int i = 0; i < D; ++i) {
      q[size_t(i)] = n(rng);
      k[size_t(i)] = 0.5f * q[size_t(i)] + n(rng); // correlated, like W_k
    }
    const double scale = norm(q.data(), D) * norm(k.data(), D);
    const int shifts[][3] = {{0, 0, 0},  {1, 0, 0},    {0, 1, 0},   {0, 0, 1},
                             {5, -2, 3}, {20, 7, -11}, {-3, 29, 51}};
    const int bases[][3] = {{0, 0, 0}, {3, 4, 5}, {17, 12, 40}, {40, 29, 0}};
    for (const auto &sh : shifts) {
      std::vector<double> dots;
      for (const auto &a : bases) {
        int b[3] = {a[0] + sh[0], a[1] + sh[1], a[2] + sh[2]};
        std::vector<float> qa = q, kb = k;
        applyRope3d(qa.data(), D, a[0], a[1], a[2]);
        applyRope3d(kb.data(), D, b[0], b[1], b[2]);
        double d = dot(qa.data(), kb.data(), D);
        EXPECT_NEAR(d, ropeDotClosedForm(q, k, a, b), 1e-4 * scale)
            << "D " << D << " shift (" << sh[0] << ", " << sh[1] << ", "
            << sh[2] << ") from (" << a[0] << ", " << a[1] << ", " << a[2]
            << ")";
        dots.push_back(d);
      }
      for (double d : dots) {
        EXPECT_NEAR(d, dots[0], 1e-4 * scale)
            << "D " << D << ": dot(q at a, k at a + (" << sh[0] << ", " << sh[1]
            << ", " << sh[2] << ")) depends on a";
      }
      if (sh[0] == 0 && sh[1] == 0 && sh[2] == 0) {
        EXPECT_NEAR(dots[0], dot(q.data(), k.data(), D), 1e-5 * scale)
            << "a zero offset must give the unrotated dot product";
      }
    }
  }
}

TEST(ArRope, ModelProjectionsAreRelative) {
  // Identical hidden rows: q and k differ between tokens only by RoPE (chunks
  // 2 and 3 hold no sink frame), so q(t1) . k(t2) depends only on the
  // (frame, row, col) offset, across chunks too.
  Geometry g = tinyGeometry();
  g.headDim = 128;
  SyntheticVideoModel m(g, 11);
  const int64_t Lq = g.chunkTokens(), T = g.tokensPerFrame();
  const int H = g.heads, D = g.headDim;
  std::vector<float> hidden;
  m.initChunk(2, 0, hidden);
  const size_t dm = size_t(g.modelWidth());
  for (int64_t t = 1; t < Lq; ++t)
    std::copy(hidden.begin(), hidden.begin() + long(dm),
              hidden.begin() + long(size_t(t) * dm));
  Buffer q2(DType::F32, Lq, H, D), k2(DType::F32, Lq, H, D),
      v2(DType::F32, Lq, H, D), q3(DType::F32, Lq, H, D),
      k3(DType::F32, Lq, H, D), v3(DType::F32, Lq, H, D);
  m.project(1, 2, hidden, q2.view, k2.view, v2.view);
  m.project(1, 3, hidden, q3.view, k3.view, v3.view);
  auto token = [&](int f, int r, int c) {
    return int64_t(f) * T + r * g.cols + c;
  };
  std::vector<float> qa(static_cast<size_t>(D)), kb(static_cast<size_t>(D));
  auto qk = [&](const Buffer &qb, int64_t tq, const Buffer &kbuf, int64_t tk,
                int h) {
    for (int d = 0; d < D; ++d) {
      qa[size_t(d)] = qb.get(tq, h, d);
      kb[size_t(d)] = kbuf.get(tk, h, d);
    }
    return std::pair{dot(qa.data(), kb.data(), D),
                     norm(qa.data(), D) * norm(kb.data(), D)};
  };
  for (int h = 0; h < H; ++h) {
    // offset (0, 1, 2) at several places inside chunk 2, and (+3 frames,
    // 1, 2) from chunk 2's frames to chunk 3's.
    const int starts[][2] = {{0, 0}, {2, 3}, {4, 5}, {1, 1}};
    for (int frameShift : {0, 3}) {
      double ref = 0;
      for (int i = 0; i < 4; ++i) {
        int r = starts[i][0], c = starts[i][1], f = i % 3;
        // chunk 3's frame f is 3 frames after chunk 2's frame f
        const Buffer &kbuf = frameShift ? k3 : k2;
        auto [d, scale] =
            qk(q2, token(f, r, c), kbuf, token(f, r + 1, c + 2), h);
        if (i == 0)
          ref = d;
        EXPECT_NEAR(d, ref, 1e-4 * scale)
            << "head " << h << ": q(frame " << f << ", " << r << ", " << c
            << ") . k at offset (" << frameShift << ", 1, 2)";
      }
    }
  }
  // v rows are identical (no RoPE on values).
  for (int d = 0; d < D; ++d)
    EXPECT_EQ(v2.get(0, 1, d), v3.get(Lq - 1, 1, d));
}

// ---------------------------------------------------------------------------
// Sink frames

TEST(ArSink, KeysAreGainTimesTheUnscaledKeys) {
  // Closed form: the sink gain is the only difference sinkFrames makes.
  Geometry g = tinyGeometry(), g0 = g;
  g0.sinkFrames = 0;
  g.sinkFrames = 2;
  SyntheticVideoModel m(g, 5), m0(g0, 5);
  const int64_t Lq = g.chunkTokens(), T = g.tokensPerFrame();
  const int H = g.heads, D = g.headDim;
  const float gain = m.params().sinkGain;
  std::vector<float> hidden;
  m.initChunk(1, 1, hidden);
  Buffer q(DType::F32, Lq, H, D), k(DType::F32, Lq, H, D),
      v(DType::F32, Lq, H, D), q0(DType::F32, Lq, H, D),
      k0(DType::F32, Lq, H, D), v0(DType::F32, Lq, H, D);
  m.project(0, 1, hidden, q.view, k.view, v.view);
  m0.project(0, 1, hidden, q0.view, k0.view, v0.view);
  EXPECT_EQ(q.f32, q0.f32);
  EXPECT_EQ(v.f32, v0.f32);
  for (int64_t t = 0; t < Lq; ++t)
    for (int h = 0; h < H; ++h)
      for (int d = 0; d < D; ++d) {
        float want = t < 2 * T ? k0.get(t, h, d) * gain : k0.get(t, h, d);
        ASSERT_EQ(k.get(t, h, d), want) << "token " << t << " head " << h;
      }
}

TEST(ArSink, MeanKeyNormIsGainTimesTheOthers) {
  Geometry g = tinyGeometry();
  g.rows = 12;
  g.cols = 16;
  g.heads = 4;
  ModelParams p;
  p.sinkGain = 3.5f; // any gain; the default is calibrated in the rollout
  SyntheticVideoModel m(g, 21, p);
  const int64_t Lq = g.chunkTokens(), T = g.tokensPerFrame();
  const int H = g.heads, D = g.headDim;
  Buffer q(DType::BF16, Lq, H, D), k(DType::BF16, Lq, H, D),
      v(DType::BF16, Lq, H, D);
  std::vector<float> hidden, row(static_cast<size_t>(D));
  for (int pass : {0, g.passesPerChunk - 1}) {
    m.initChunk(1, pass, hidden);
    for (int layer = 0; layer < g.layers; ++layer) {
      m.project(layer, 1, hidden, q.view, k.view, v.view);
      double sink = 0, other = 0;
      for (int64_t t = 0; t < Lq; ++t)
        for (int h = 0; h < H; ++h) {
          for (int d = 0; d < D; ++d)
            row[size_t(d)] = k.get(t, h, d);
          (t < T ? sink : other) += norm(row.data(), D);
        }
      sink /= double(T * H);
      other /= double((Lq - T) * H);
      EXPECT_NEAR(sink / other, p.sinkGain, 0.05 * double(p.sinkGain))
          << "pass " << pass << " layer " << layer << ": mean sink key norm "
          << sink << ", others " << other;
    }
  }
}

// ---------------------------------------------------------------------------
// Determinism, noise, content

TEST(ArModel, DeterministicFromTheSeed) {
  Geometry g = tinyGeometry();
  SyntheticVideoModel a(g, 99, {}, 1), b(g, 99, {}, 3), c(g, 100, {}, 2);
  const int64_t Lq = g.chunkTokens();
  const int H = g.heads, D = g.headDim;
  auto run = [&](const SyntheticVideoModel &m) {
    std::vector<float> hidden;
    m.initChunk(3, 1, hidden);
    Buffer q(DType::BF16, Lq, H, D), k(DType::BF16, Lq, H, D),
        v(DType::BF16, Lq, H, D);
    m.project(1, 3, hidden, q.view, k.view, v.view);
    m.residual(1, hidden, v.view);
    std::vector<uint16_t> bits = q.b16;
    bits.insert(bits.end(), k.b16.begin(), k.b16.end());
    bits.insert(bits.end(), v.b16.begin(), v.b16.end());
    return std::pair{hidden, bits};
  };
  auto ra = run(a), rb = run(b), rc = run(c);
  EXPECT_EQ(ra.first, rb.first) << "hidden differs between 1 and 3 threads";
  EXPECT_EQ(ra.second, rb.second) << "q/k/v differ between 1 and 3 threads";
  size_t same = 0;
  for (size_t i = 0; i < ra.second.size(); ++i)
    same += ra.second[i] == rc.second[i];
  EXPECT_LT(double(same), 0.05 * double(ra.second.size()))
      << "seeds 99 and 100 agree on " << same << " of " << ra.second.size()
      << " q/k/v elements";
  size_t sameHidden = 0;
  for (size_t i = 0; i < ra.first.size(); ++i)
    sameHidden += ra.first[i] == rc.first[i];
  EXPECT_EQ(sameHidden, 0u);
}

TEST(ArModel, NoiseScheduleClosedForm) {
  EXPECT_EQ(SyntheticVideoModel::noiseSigma(0, 1), 0.0f);
  EXPECT_EQ(SyntheticVideoModel::noiseSigma(0, 2), 1.0f);
  EXPECT_EQ(SyntheticVideoModel::noiseSigma(1, 2), 0.0f);
  const float five[] = {1.0f, 0.75f, 0.5f, 0.25f, 0.0f};
  for (int p = 0; p < 5; ++p)
    EXPECT_EQ(SyntheticVideoModel::noiseSigma(p, 5), five[p]) << "pass " << p;

  Geometry g = tinyGeometry();
  g.passesPerChunk = 5;
  g.rows = 12;
  g.cols = 16;
  SyntheticVideoModel m(g, 3);
  std::vector<float> clean, hidden;
  m.content(2, clean);
  m.initChunk(2, 4, hidden);
  EXPECT_EQ(hidden, clean) << "the refresh pass must see the clean content";
  std::vector<std::vector<double>> noise;
  for (int p = 0; p < 4; ++p) {
    m.initChunk(2, p, hidden);
    const double sigma = m.noiseSigma(p);
    EXPECT_EQ(sigma, five[p]);
    std::vector<double> n(hidden.size());
    double mean = 0, sq = 0;
    for (size_t i = 0; i < hidden.size(); ++i) {
      n[i] = (double(hidden[i]) - double(clean[i])) / sigma;
      mean += n[i];
      sq += n[i] * n[i];
    }
    const double N = double(n.size());
    mean /= N;
    const double sd = std::sqrt(sq / N - mean * mean);
    EXPECT_LT(std::abs(mean), 5 / std::sqrt(N)) << "pass " << p;
    EXPECT_NEAR(sd, 1.0, 0.02) << "pass " << p << ": (hidden - content) / "
                               << sigma << " has std " << sd;
    noise.push_back(std::move(n));
  }
  // Fresh noise per pass: uncorrelated between passes.
  for (size_t a = 0; a < noise.size(); ++a)
    for (size_t b = a + 1; b < noise.size(); ++b) {
      double c = 0;
      for (size_t i = 0; i < noise[a].size(); ++i)
        c += noise[a][i] * noise[b][i];
      c /= double(noise[a].size());
      EXPECT_LT(std::abs(c), 0.03) << "passes " << a << " and " << b;
    }
}

TEST(ArModel, ContentIsSmoothAndMovesWithTheCamera) {
  // Velocity (0.25, 0.5) tokens/frame: after 4 frames the world point shown at
  // (r, c) is shown at (r - 1, c - 2). Correlation of content embeddings along
  // that motion beats the same position, and near tokens beat far ones.
  Geometry g = tinyGeometry();
  g.rows = 16;
  g.cols = 24;
  g.framesPerChunk = 5;
  g.chunks = 2;
  SyntheticVideoModel m(g, 8);
  std::vector<float> e;
  m.content(1, e);
  const int T = g.tokensPerFrame();
  const int dm = g.modelWidth();
  auto at = [&](int f, int r, int c) {
    return &e[size_t((f * T + r * g.cols + c) * dm)];
  };
  auto corr = [&](int df, int dr, int dc) {
    double s = 0;
    int n = 0;
    for (int r = 2; r < g.rows - 2; ++r)
      for (int c = 4; c < g.cols - 4; ++c) {
        const float *x = at(0, r, c), *y = at(df, r + dr, c + dc);
        s += dot(x, y, dm) / (norm(x, dm) * norm(y, dm));
        ++n;
      }
    return s / n;
  };
  const double moving = corr(4, -1, -2), still = corr(4, 0, 0);
  const double near = corr(0, 0, 1), far = corr(0, 0, 4);
  EXPECT_GT(moving, still + 0.2) << "content along the motion " << moving
                                 << ", at the same position " << still;
  EXPECT_GT(moving, 0.5) << "content along the motion " << moving;
  EXPECT_GT(near, far + 0.3) << "neighbour " << near << ", 4 tokens " << far;
}

TEST(ArModel, RejectsBadArguments) {
  Geometry g = tinyGeometry();
  SyntheticVideoModel m(g, 1);
  std::vector<float> hidden;
  EXPECT_THROW(m.initChunk(0, 0, hidden), Error);
  EXPECT_THROW(m.initChunk(g.chunks + 1, 0, hidden), Error);
  EXPECT_THROW(m.initChunk(1, g.passesPerChunk, hidden), Error);
  m.initChunk(1, 0, hidden);
  const int64_t Lq = g.chunkTokens();
  Buffer q(DType::BF16, Lq, g.heads, g.headDim),
      k(DType::BF16, Lq, g.heads, g.headDim),
      bad(DType::BF16, Lq - 1, g.heads, g.headDim);
  EXPECT_THROW(m.project(g.layers, 1, hidden, q.view, k.view, k.view), Error);
  try {
    m.project(0, 1, hidden, q.view, bad.view, k.view);
    ADD_FAILURE() << "no error for a k of the wrong shape";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("project: k: expected shape"),
              std::string::npos)
        << e.what();
  }
  std::vector<float> shortHidden(hidden.begin(), hidden.end() - 1);
  EXPECT_THROW(m.residual(0, shortHidden, q.view), Error);
  Geometry odd = g;
  odd.headDim = 63;
  EXPECT_THROW(SyntheticVideoModel(odd, 1), Error);
}

// ---------------------------------------------------------------------------
// The dense reference rollout.

/// Runs every chunk, pass and layer: project into the layer's KV buffer
/// (BSHD over the whole video), dense CPU attention over the chunk's logical KV
/// sequence, residual. `afterAttention` sees (and may change) each output.
struct ReferenceRollout {
  const SyntheticVideoModel &model;
  std::unique_ptr<Backend> cpu = createCpuBackend();
  std::vector<Buffer> keys, values;
  Buffer q, o;
  std::function<void(int chunk, int pass, int layer, Buffer &q, Buffer &o)>
      afterAttention;

  explicit ReferenceRollout(const SyntheticVideoModel &m)
      : model(m), q(m.geometry().dtype, m.geometry().chunkTokens(),
                    m.geometry().heads, m.geometry().headDim),
        o(m.geometry().dtype, m.geometry().chunkTokens(), m.geometry().heads,
          m.geometry().headDim) {
    const Geometry &g = m.geometry();
    const int64_t maxLk = int64_t(g.totalFrames()) * g.tokensPerFrame();
    for (int l = 0; l < g.layers; ++l) {
      keys.emplace_back(g.dtype, maxLk, g.heads, g.headDim);
      values.emplace_back(g.dtype, maxLk, g.heads, g.headDim);
    }
  }

  void run() {
    const Geometry &g = model.geometry();
    const int64_t T = g.tokensPerFrame(), Lq = g.chunkTokens();
    std::vector<float> hidden;
    for (int chunk = 1; chunk <= g.chunks; ++chunk) {
      ChunkSelection sel;
      sel.tokensPerFrame = int(T);
      sel.framesPerChunk = g.framesPerChunk;
      sel.visibleFrames = chunk * g.framesPerChunk;
      sel.sinkFrames = g.sinkFrames;
      sel.blockQ = sel.blockK = 16;
      sel.dense = true;
      sel.keptKeyBlocks = int(sel.keyBlocks());
      const int64_t first = int64_t(chunk - 1) * Lq, Lk = first + Lq;
      for (int pass = 0; pass < g.passesPerChunk; ++pass) {
        model.initChunk(chunk, pass, hidden);
        for (int layer = 0; layer < g.layers; ++layer) {
          model.project(layer, chunk, hidden, q.view,
                        keys[size_t(layer)].rows(first, Lq),
                        values[size_t(layer)].rows(first, Lq));
          cpu->attention(sel, q.view, keys[size_t(layer)].rows(0, Lk),
                         values[size_t(layer)].rows(0, Lk), nullptr, o.view,
                         model.softmaxScale());
          if (afterAttention)
            afterAttention(chunk, pass, layer, q, o);
          model.residual(layer, hidden, o.view);
        }
      }
    }
  }
};

TEST(ArRollout, DenseAttentionIsLocalWithASink) {
  const Geometry g = tinyGeometry();
  SyntheticVideoModel model(g, 2026);
  ReferenceRollout ref(model);
  const int T = g.tokensPerFrame(), F = g.framesPerChunk, H = g.heads,
            D = g.headDim;
  const int nf = g.totalFrames();
  // Per-key mean probability by |query frame - key frame| (non-sink keys), on
  // sink keys and on middle keys (past frames that are neither sink nor within
  // 2 frames of the chunk), over the last chunk's passes, layers and heads.
  std::vector<double> sum(size_t(nf), 0), cnt(size_t(nf), 0);
  double sinkSum = 0, sinkCnt = 0, midSum = 0, midCnt = 0, sinkMass = 0;
  int64_t rowsSeen = 0;
  bool finite = true;
  ref.afterAttention = [&](int chunk, int, int layer, Buffer &q, Buffer &o) {
    for (uint16_t bits : o.b16)
      finite = finite && std::isfinite(bf16ToFloat(bits));
    if (chunk != g.chunks)
      return;
    const Buffer &k = ref.keys[size_t(layer)];
    const int64_t Lk = int64_t(chunk) * F * T, Lq = int64_t(F) * T;
    const int past = (chunk - 1) * F;
    std::vector<double> logit(static_cast<size_t>(Lk));
    std::vector<float> qr(static_cast<size_t>(D)), kr(size_t(D) * size_t(Lk));
    for (int h = 0; h < H; ++h) {
      for (int64_t j = 0; j < Lk; ++j)
        for (int d = 0; d < D; ++d)
          kr[size_t(j * D + d)] = k.get(j, h, d);
      for (int64_t i = 0; i < Lq; ++i) {
        for (int d = 0; d < D; ++d)
          qr[size_t(d)] = q.get(i, h, d);
        double mx = -1e300;
        for (int64_t j = 0; j < Lk; ++j) {
          logit[size_t(j)] = dot(qr.data(), &kr[size_t(j * D)], D) *
                             double(model.softmaxScale());
          mx = std::max(mx, logit[size_t(j)]);
        }
        double z = 0;
        for (double &x : logit)
          z += (x = std::exp(x - mx));
        const int fq = past + int(i / T);
        for (int64_t j = 0; j < Lk; ++j) {
          const double p = logit[size_t(j)] / z;
          const int fk = int(j / T);
          if (fk < g.sinkFrames) {
            sinkSum += p;
            sinkCnt += 1;
            sinkMass += p;
            continue;
          }
          sum[size_t(std::abs(fq - fk))] += p;
          cnt[size_t(std::abs(fq - fk))] += 1;
          if (fk < past - 2) {
            midSum += p;
            midCnt += 1;
          }
        }
        ++rowsSeen;
      }
    }
  };
  const auto t0 = std::chrono::steady_clock::now();
  ref.run();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  EXPECT_TRUE(finite) << "an attention output is not finite";
  std::vector<double> perKey(size_t(nf), 0);
  std::ostringstream curve;
  curve << "mean probability per key (x1e3) by temporal distance:";
  for (int d = 0; d < nf; ++d)
    if (cnt[size_t(d)] > 0) {
      perKey[size_t(d)] = sum[size_t(d)] / cnt[size_t(d)];
      curve << " " << d << ":" << 1e3 * perKey[size_t(d)];
    }
  const double sinkKey = sinkSum / sinkCnt, midKey = midSum / midCnt;
  curve << "; sink " << 1e3 * sinkKey << ", middle " << 1e3 * midKey
        << "; sink frame mass " << sinkMass / double(rowsSeen);
  std::cout << "[ar_video] rollout " << seconds << " s; " << curve.str()
            << "\n";
  for (int d = 0; d + 1 <= 4; ++d)
    EXPECT_GT(perKey[size_t(d)], perKey[size_t(d + 1)])
        << "not monotone at distance " << d << "; " << curve.str();
  EXPECT_GT(perKey[0], 5 * midKey) << curve.str();
  EXPECT_GT(perKey[1], 2 * midKey) << curve.str();
  EXPECT_GT(sinkKey, 5 * midKey) << curve.str();
}

TEST(ArRollout, AttentionErrorsCarryForwardThroughTheCache) {
  // Perturbing layer 0's attention output in chunk 1's refresh pass changes
  // the hidden state that layer 1 projects into the cache; chunk 2 then sees
  // it at layer 1, not at layer 0 (whose k/v come from initChunk alone).
  const Geometry g = tinyGeometry();
  SyntheticVideoModel model(g, 7);
  auto capture = [&](bool perturb) {
    ReferenceRollout ref(model);
    std::vector<std::vector<uint16_t>> outs(size_t(g.layers));
    ref.afterAttention = [&](int chunk, int pass, int layer, Buffer &,
                             Buffer &o) {
      if (perturb && chunk == 1 && pass == g.passesPerChunk - 1 && layer == 0)
        for (uint16_t &bits : o.b16)
          bits = floatToBf16(bf16ToFloat(bits) * 0.5f);
      if (chunk == 2 && pass == 0)
        outs[size_t(layer)] = o.b16;
    };
    ref.run();
    return outs;
  };
  auto clean = capture(false), perturbed = capture(true);
  EXPECT_EQ(clean[0], perturbed[0])
      << "chunk 2's layer-0 attention must not see a layer-0 output error";
  size_t differ = 0;
  for (size_t i = 0; i < clean[1].size(); ++i)
    differ += clean[1][i] != perturbed[1][i];
  EXPECT_GT(double(differ), 0.5 * double(clean[1].size()))
      << "chunk 2's layer-1 attention differs in only " << differ << " of "
      << clean[1].size() << " elements";
}

// ---------------------------------------------------------------------------
// Performance

double secondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
      .count();
}

TEST(ArPerformance, CpuDemoRolloutModelWorkIsFast) {
  const Geometry g = Geometry::cpuDemo();
  const auto t0 = std::chrono::steady_clock::now();
  SyntheticVideoModel m(g, 1);
  const int64_t Lq = g.chunkTokens();
  Buffer q(g.dtype, Lq, g.heads, g.headDim), k(g.dtype, Lq, g.heads, g.headDim),
      v(g.dtype, Lq, g.heads, g.headDim);
  std::vector<float> hidden;
  for (int c = 1; c <= g.chunks; ++c)
    for (int p = 0; p < g.passesPerChunk; ++p) {
      m.initChunk(c, p, hidden);
      for (int l = 0; l < g.layers; ++l) {
        m.project(l, c, hidden, q.view, k.view, v.view);
        m.residual(l, hidden, v.view); // stands in for the attention output
      }
    }
  const double s = secondsSince(t0);
  std::cout << "[ar_video] cpuDemo rollout model work (" << g.chunks
            << " chunks x " << g.passesPerChunk << " passes x " << g.layers
            << " layers): " << s << " s\n";
  EXPECT_LT(s, 1.0) << "the reduced rollout's model work took " << s << " s";
}

TEST(ArPerformance, FullSizeChunkLayerProjection) {
  const Geometry g = Geometry::wan13b();
  SyntheticVideoModel m(g, 1);
  const int64_t Lq = g.chunkTokens();
  Buffer q(g.dtype, Lq, g.heads, g.headDim), k(g.dtype, Lq, g.heads, g.headDim),
      v(g.dtype, Lq, g.heads, g.headDim);
  std::vector<float> hidden;
  auto t0 = std::chrono::steady_clock::now();
  m.initChunk(3, 0, hidden);
  const double init = secondsSince(t0);
  t0 = std::chrono::steady_clock::now();
  m.project(0, 3, hidden, q.view, k.view, v.view); // generates layer 0
  const double first = secondsSince(t0);
  t0 = std::chrono::steady_clock::now();
  m.project(0, 3, hidden, q.view, k.view, v.view);
  const double project = secondsSince(t0);
  t0 = std::chrono::steady_clock::now();
  m.residual(0, hidden, v.view);
  const double residual = secondsSince(t0);
  const double gflop =
      2.0 * double(Lq) * g.modelWidth() * 3 * g.attnWidth() / 1e9;
  std::cout << "[ar_video] wan13b chunk (" << Lq << " tokens): initChunk "
            << init << " s, first project (incl. layer weights) " << first
            << " s, project " << project << " s (" << gflop / project
            << " GFLOP/s), residual " << residual << " s\n";
  EXPECT_LT(project, 60.0);
}

} // namespace
} // namespace lfc::ar
