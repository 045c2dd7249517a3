// lfc::Session on the CPU backend: the KV cache (global, rolling window with
// sink frames, mirrored ring) against an independent dense oracle that keeps
// the video's frames itself, and sparse plans against a PlanRunner over
// explicitly concatenated KV sequences; errors; memory accounting.
#include "lfc/session.h"
#include "lfc/runtime.h"
#include "tests/unit/exec/SessionTestUtil.h"
#include "tests/unit/runtime/TestUtil.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>

namespace lfc::test {
namespace {

enum class Feed { Copy, InPlace };

/// Runs a whole rollout through a Session. check(chunk, pass, layer, out).
template <class Check>
void runSession(Backend &cpu, const Plan &plan, const Model &m, Feed feed,
                Check check) {
  Session s(cpu, plan);
  HostTensor out(m.spec.dtype, 1, m.lq, m.H, m.D);
  while (!s.finished()) {
    const int chunk = s.chunk();
    for (int pass = 0; pass < s.passes(); ++pass) {
      s.beginPass(pass);
      for (int l = 0; l < s.layers(); ++l) {
        const HostTensor q = m.input(chunk, pass, l, 0);
        const HostTensor k = m.input(chunk, pass, l, 1);
        const HostTensor v = m.input(chunk, pass, l, 2);
        if (feed == Feed::InPlace) {
          // The model writes its projections straight into the cache slot.
          cpu.copy(s.chunkKeys(l), k.view);
          cpu.copy(s.chunkValues(l), v.view);
          s.attention(l, q.view, s.chunkKeys(l), s.chunkValues(l), out.view);
        } else {
          s.attention(l, q.view, k.view, v.view, out.view);
        }
        check(s, chunk, pass, l, out);
      }
    }
    s.advance();
  }
}

class SessionCacheTest : public ::testing::TestWithParam<CacheCase> {};

// Dense plans: every output against the double-precision oracle on the frames
// the test assembled itself; the cache's logical view against the same frames
// bit for bit.
TEST_P(SessionCacheTest, DenseMatchesOracleOverRollout) {
  const CacheCase &cc = GetParam();
  const SessionPlanSpec spec = denseSpec(cc, 16);
  const Plan plan = sessionPlan(spec);
  const Model m(spec);
  auto cpu = createCpuBackend(2);
  int calls = 0, rolled = 0;
  runSession(*cpu, plan, m, Feed::Copy,
             [&](Session &s, int chunk, int pass, int l, const HostTensor &o) {
               const HostTensor q = m.input(chunk, pass, l, 0);
               const HostTensor k = m.logical(chunk, pass, l, 1);
               const HostTensor v = m.logical(chunk, pass, l, 2);
               // The session's logical view holds exactly those frames.
               const Tensor4 K = s.keys(l), V = s.values(l);
               ASSERT_EQ(K.tokens, k.view.tokens);
               for (int64_t t = 0; t < K.tokens; ++t)
                 for (int64_t h = 0; h < m.H; ++h)
                   for (int64_t d = 0; d < m.D; ++d) {
                     const auto *kp = static_cast<const uint16_t *>(K.data);
                     const auto *vp = static_cast<const uint16_t *>(V.data);
                     ASSERT_EQ(kp[K.offset(0, t, h) + d],
                               k.storage[size_t(k.index(0, t, h, d))])
                         << "chunk " << chunk << " pass " << pass << " layer "
                         << l << " key token " << t;
                     ASSERT_EQ(vp[V.offset(0, t, h) + d],
                               v.storage[size_t(v.index(0, t, h, d))]);
                   }
               const std::vector<double> ref =
                   denseReference(q, k, v, plan.geometry.softmaxScale);
               expectMatchesDense(o, ref,
                                  "chunk " + std::to_string(chunk) + " pass " +
                                      std::to_string(pass) + " layer " +
                                      std::to_string(l));
               if (::testing::Test::HasFatalFailure())
                 return;
               ++calls;
               rolled += k.view.tokens < int64_t(chunk) * m.lq;
             });
  EXPECT_EQ(calls, spec.chunks * spec.passes * spec.layers);
  if (cc.window > 0)
    EXPECT_GT(rolled, 0) << "the window never rolled: the case tests nothing";
}

INSTANTIATE_TEST_SUITE_P(
    Caches, SessionCacheTest,
    ::testing::Values(CacheCase{"global", 0, 0, 5, 2},
                      CacheCase{"window_sink1", 4, 1, 7, 2},
                      CacheCase{"window_no_sink", 4, 0, 6, 2},
                      CacheCase{"window_sink2", 4, 2, 7, 2},
                      CacheCase{"sink_spans_chunks", 4, 3, 7, 2},
                      CacheCase{"window_is_one_chunk", 3, 1, 6, 3},
                      CacheCase{"long_like", 12, 1, 9, 3}),
    [](const auto &info) { return std::string(info.param.name); });

// Sparse plans (frame + block top-k, pooled keys on the global cache): the
// session against a PlanRunner fed the oracle's concatenated KV sequences,
// bit for bit, including the kept lists; copying k/v and writing them in
// place give the same bits.
TEST(SessionTest, SparseMatchesPlanRunnerOnExplicitSequences) {
  for (const int window : {0, 6}) {
    for (const bool everyPass : {true, false}) {
      SessionPlanSpec spec;
      spec.window = window;
      spec.sink = 1;
      spec.chunks = 6;
      spec.everyPass = everyPass;
      const Plan plan = sessionPlan(spec);
      const Model m(spec);
      auto cpu = createCpuBackend(2);
      PlanRunner ref(*cpu, plan, 1);
      HostTensor refOut(spec.dtype, 1, m.lq, m.H, m.D);
      std::vector<std::vector<uint16_t>> copied;
      int selecting = 0;
      runSession(
          *cpu, plan, m, Feed::Copy,
          [&](Session &s, int chunk, int pass, int l, const HostTensor &o) {
            const HostTensor q = m.input(chunk, pass, l, 0);
            const HostTensor k = m.logical(chunk, pass, l, 1);
            const HostTensor v = m.logical(chunk, pass, l, 2);
            ref.attention(chunk, pass, l, q.view, k.view, v.view, refOut.view);
            if (pass == spec.passes - 1)
              ref.commit(l, k.view, k.view.tokens);
            ASSERT_EQ(o.storage, refOut.storage)
                << "window " << window << " chunk " << chunk << " pass " << pass
                << " layer " << l;
            if (s.selects()) {
              ++selecting;
              const KeptBlocks *a = s.kept(l), *b = ref.kept(l);
              ASSERT_TRUE(a && b);
              const int64_t rows = a->batch * a->heads * a->queryBlocks;
              for (int64_t r = 0; r < rows; ++r) {
                ASSERT_EQ(a->cnt[r], b->cnt[r]);
                for (int n = 0; n < a->cnt[r]; ++n)
                  ASSERT_EQ(a->idx[r * a->maxKept + n],
                            b->idx[r * b->maxKept + n]);
              }
            }
            copied.push_back(o.storage);
          });
      EXPECT_GT(selecting, 0);
      size_t n = 0;
      runSession(*cpu, plan, m, Feed::InPlace,
                 [&](Session &, int, int, int, const HostTensor &o) {
                   ASSERT_LT(n, copied.size());
                   EXPECT_EQ(o.storage, copied[n++]);
                 });
      EXPECT_EQ(n, copied.size());
    }
  }
}

TEST(SessionTest, MemoryIsTheRingNotTheVideo) {
  SessionPlanSpec spec;
  spec.window = 12;
  spec.sink = 1;
  spec.chunks = 21;
  spec.framesPerChunk = 3;
  spec.dense = true;
  spec.passes = 1;
  const Plan plan = sessionPlan(spec);
  auto cpu = createCpuBackend(1);
  Session s(*cpu, plan);
  const CacheMemory mem = s.memory();
  EXPECT_TRUE(mem.ring);
  EXPECT_EQ(mem.frameSlots, 2 * (1 + 12));
  // K and V, per layer: 2 x 13 ring slots + 1 sink frame, bf16.
  const int64_t frame =
      int64_t(spec.tokensPerFrame) * spec.heads * spec.headDim * 2;
  EXPECT_EQ(mem.keyValueBytes, spec.layers * 2 * (26 + 1) * frame);
  EXPECT_LT(mem.keyValueBytes, spec.layers * 2 * 63 * frame);

  spec.window = 0;
  const Plan global = sessionPlan(spec);
  Session g(*cpu, global);
  EXPECT_FALSE(g.memory().ring);
  EXPECT_EQ(g.memory().frameSlots, 63);
  EXPECT_NE(g.memory().describe(spec.layers).find("linear"), std::string::npos);
}

TEST(SessionTest, ErrorsNameTheProblemAndChangeNothing) {
  SessionPlanSpec spec;
  spec.window = 4;
  spec.chunks = 3;
  spec.passes = 2;
  const Plan plan = sessionPlan(spec);
  const Model m(spec);
  auto cpu = createCpuBackend(1);
  Session s(*cpu, plan);
  HostTensor q = m.input(1, 0, 0, 0), k = m.input(1, 0, 0, 1),
             v = m.input(1, 0, 0, 2), out(spec.dtype, 1, m.lq, m.H, m.D);
  auto expectError = [](auto fn, const std::string &needle) {
    try {
      fn();
      ADD_FAILURE() << "no error; expected one containing '" << needle << "'";
    } catch (const Error &e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
          << e.what();
    }
  };
  expectError([&] { s.attention(0, q.view, k.view, v.view, out.view); },
              "beginPass(0)");
  expectError([&] { s.beginPass(1); }, "the next pass is 0");
  s.beginPass(0);
  HostTensor shortK(spec.dtype, 1, m.lq - 1, m.H, m.D);
  expectError([&] { s.attention(0, q.view, shortK.view, v.view, out.view); },
              "k: expected shape [batch, tokens, heads, head_dim] = [1, 80, "
              "2, 16]");
  expectError([&] { s.attention(2, q.view, k.view, v.view, out.view); },
              "layer is outside 0..1");
  s.attention(0, q.view, k.view, v.view, out.view);
  expectError([&] { s.attention(0, q.view, k.view, v.view, out.view); },
              "already ran in this pass");
  expectError([&] { s.advance(); }, "has not run the cache-refresh pass");
  expectError([&] { cpu->setStream(&spec); }, "no streams");
  // The failed calls changed nothing: the rest of the rollout still works.
  s.attention(1, q.view, k.view, v.view, out.view);
  s.beginPass(1);
  s.attention(0, q.view, k.view, v.view, out.view);
  s.attention(1, q.view, k.view, v.view, out.view);
  s.advance();
  EXPECT_EQ(s.chunk(), 2);
  // A plan whose chunks disagree with its cache geometry.
  Plan bad = plan;
  bad.chunks[2].selection.visibleFrames += 1;
  expectError([&] { Session x(*cpu, bad); }, "chunk 3 sees");
}

TEST(SessionTest, TimingAddsUpOnTheCpu) {
  SessionPlanSpec spec;
  spec.chunks = 2;
  const Plan plan = sessionPlan(spec);
  const Model m(spec);
  auto cpu = createCpuBackend(1);
  Session s(*cpu, plan);
  s.setTiming(true);
  HostTensor out(spec.dtype, 1, m.lq, m.H, m.D);
  for (int c = 1; c <= 2; ++c) {
    for (int p = 0; p < s.passes(); ++p) {
      s.beginPass(p);
      for (int l = 0; l < s.layers(); ++l)
        s.attention(l, m.input(c, p, l, 0).view, m.input(c, p, l, 1).view,
                    m.input(c, p, l, 2).view, out.view);
    }
    s.advance();
  }
  const SessionTiming t = s.timing();
  EXPECT_EQ(t.calls, 2 * spec.passes * spec.layers);
  EXPECT_GT(t.attentionMs, 0);
  EXPECT_GE(t.selectMs, 0);
}

} // namespace
} // namespace lfc::test
