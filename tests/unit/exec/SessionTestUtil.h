// Small in-memory plans for Session tests (CPU unit tests and the GPU tests):
// global caches and rolling windows with sink frames.
#pragma once

#include "lfc/plan.h"
#include "lfc/static_mask.h"
#include "tests/unit/runtime/TestUtil.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <algorithm>
#include <memory>
#include <string>

namespace lfc::test {

struct SessionPlanSpec {
  int chunks = 6;
  int framesPerChunk = 2;
  int tokensPerFrame = 40;
  int window = 0; ///< kv_window_frames (the current chunk included); 0: global
  int sink = 1;   ///< sink_frames
  int layers = 2, heads = 2, headDim = 16;
  int passes = 3;
  int block = 16;
  bool dense = false; ///< every chunk dense
  bool everyPass = true;
  int framesTopK = 3; ///< frame stage of the sparse chunks (0: none)
  int near = 1;
  DType dtype = DType::BF16;
};

/// Frames chunk `chunk` (1-based) sees: all so far, or the sink frames plus
/// the last `window` frames.
inline int visibleFrames(const SessionPlanSpec &s, int chunk) {
  const int seen = chunk * s.framesPerChunk;
  return s.window > 0 ? std::min(seen, s.sink + s.window) : seen;
}

inline Plan sessionPlan(const SessionPlanSpec &s) {
  Plan p;
  p.name = "session_test";
  PlanGeometry &g = p.geometry;
  g.layers = s.layers;
  g.heads = s.heads;
  g.headDim = s.headDim;
  g.dtype = s.dtype;
  g.tokensPerFrame = s.tokensPerFrame;
  g.framesPerChunk = s.framesPerChunk;
  g.chunks = s.chunks;
  g.passesPerChunk = s.passes;
  g.kvWindowFrames = s.window;
  g.sinkFrames = s.sink;
  g.softmaxScale = 0.25f;
  for (int i = 1; i <= s.chunks; ++i) {
    PlanChunk c;
    c.index = i;
    c.selectEveryPass = s.everyPass;
    ChunkSelection &sel = c.selection;
    sel.tokensPerFrame = s.tokensPerFrame;
    sel.framesPerChunk = s.framesPerChunk;
    sel.visibleFrames = visibleFrames(s, i);
    sel.blockQ = s.block;
    sel.blockK = s.block;
    const int past = sel.visibleFrames - s.framesPerChunk;
    sel.dense = s.dense || i == 1;
    sel.framesTopK = sel.dense || past <= s.framesTopK ? 0 : s.framesTopK;
    sel.sinkFrames = sel.framesTopK ? std::min(s.sink, past) : 0;
    sel.nearFrames = sel.framesTopK ? s.near : 0;
    sel.keptKeyBlocks = sel.dense ? int(sel.keyBlocks())
                                  : std::max(1, int(sel.keyBlocks() / 3));
    sel.staticMask = std::make_shared<StaticMask>();
    c.sparsity = 1.0 - double(sel.keptKeyBlocks) / double(sel.keyBlocks());
    p.chunks.push_back(c);
  }
  return p;
}

/// The caller's side of a rollout: per (chunk, pass, layer) deterministic
/// random q and the chunk's own k/v (the refresh pass's are what the cache
/// must keep), plus the history of committed frames per layer, from which the
/// oracle builds every chunk's logical KV sequence by hand.
struct Model {
  SessionPlanSpec spec;
  int64_t T, C, H, D, lq;
  explicit Model(const SessionPlanSpec &s)
      : spec(s), T(s.tokensPerFrame), C(s.framesPerChunk), H(s.heads),
        D(s.headDim), lq(C * T) {}

  /// q/k/v of one call: [1, lq, H, D], seeded by (chunk, pass, layer, role).
  HostTensor input(int chunk, int pass, int layer, int role) const {
    HostTensor t(spec.dtype, 1, lq, H, D);
    std::mt19937 rng(uint32_t(((chunk * 16 + pass) * 64 + layer) * 4 + role));
    t.fillNormal(rng);
    return t;
  }
  /// The logical KV sequence of `chunk` for `layer` built from scratch: the
  /// frames the chunk sees, in order, from the refresh passes of earlier
  /// chunks (role 1 = k, 2 = v), then the chunk's own rows of this pass.
  HostTensor logical(int chunk, int pass, int layer, int role) const {
    const int visible = visibleFrames(spec, chunk);
    const int seen = chunk * int(C);
    std::vector<int> frames;
    if (visible < seen) {
      for (int f = 0; f < spec.sink; ++f)
        frames.push_back(f);
      for (int f = seen - spec.window; f < seen; ++f)
        frames.push_back(f);
    } else {
      for (int f = 0; f < seen; ++f)
        frames.push_back(f);
    }
    EXPECT_EQ(int(frames.size()), visible);
    HostTensor out(spec.dtype, 1, int64_t(visible) * T, H, D);
    for (size_t i = 0; i < frames.size(); ++i) {
      const int f = frames[i];
      const int owner = f / int(C) + 1; // chunk that produced frame f
      const HostTensor src =
          input(owner, owner == chunk ? pass : spec.passes - 1, layer, role);
      const int64_t row0 = int64_t(f % int(C)) * T;
      for (int64_t t = 0; t < T; ++t)
        for (int64_t h = 0; h < H; ++h)
          for (int64_t d = 0; d < D; ++d)
            out.set(0, int64_t(i) * T + t, h, d, src.get(0, row0 + t, h, d));
    }
    return out;
  }
};

/// Dense attention in double precision, straight from the definition.
inline std::vector<double> denseReference(const HostTensor &q,
                                          const HostTensor &k,
                                          const HostTensor &v, double scale) {
  const int64_t lq = q.view.tokens, lk = k.view.tokens, H = q.view.heads,
                D = q.view.dim;
  std::vector<double> out(size_t(lq * H * D));
  std::vector<double> p(static_cast<size_t>(lk));
  for (int64_t h = 0; h < H; ++h)
    for (int64_t i = 0; i < lq; ++i) {
      double m = -INFINITY;
      for (int64_t j = 0; j < lk; ++j) {
        double s = 0;
        for (int64_t d = 0; d < D; ++d)
          s += double(q.get(0, i, h, d)) * double(k.get(0, j, h, d));
        p[size_t(j)] = s * scale;
        m = std::max(m, p[size_t(j)]);
      }
      double z = 0;
      for (int64_t j = 0; j < lk; ++j)
        z += (p[size_t(j)] = std::exp(p[size_t(j)] - m));
      for (int64_t d = 0; d < D; ++d) {
        double acc = 0;
        for (int64_t j = 0; j < lk; ++j)
          acc += p[size_t(j)] * double(v.get(0, j, h, d));
        out[size_t((i * H + h) * D + d)] = acc / z;
      }
    }
  return out;
}

/// A cache geometry of the parameterized session tests.
struct CacheCase {
  const char *name;
  int window, sink, chunks, framesPerChunk;
};

/// The dense-oracle spec of a cache case: every chunk dense, two passes.
inline SessionPlanSpec denseSpec(const CacheCase &c, int headDim) {
  SessionPlanSpec spec;
  spec.window = c.window;
  spec.sink = c.sink;
  spec.chunks = c.chunks;
  spec.framesPerChunk = c.framesPerChunk;
  spec.tokensPerFrame = 24;
  spec.headDim = headDim;
  spec.dense = true;
  spec.passes = 2;
  return spec;
}

/// Every element of `out` [1, lq, H, D] within 1e-2 + 1e-2 |ref| of the
/// oracle's `ref` (row-major [lq, H, D]).
inline void expectMatchesDense(const HostTensor &out,
                               const std::vector<double> &ref,
                               const std::string &where) {
  const int64_t lq = out.view.tokens, H = out.view.heads, D = out.view.dim;
  for (int64_t i = 0; i < lq; ++i)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t d = 0; d < D; ++d) {
        const double r = ref[size_t((i * H + h) * D + d)];
        ASSERT_NEAR(out.get(0, i, h, d), r, 1e-2 + 1e-2 * std::abs(r))
            << where << " row " << i << " head " << h;
      }
}

} // namespace lfc::test
