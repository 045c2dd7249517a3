// CPU hierarchical selection vs a brute-force oracle written straight from
// docs/selection-semantics.md and docs/static-masks.md, plus structured cases
// with hand-derived answers.
#include "StaticMaskOracle.h"
#include "TestUtil.h"

#include "lfc/runtime.h"
#include "lfc/static_mask.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace {

using lfc::ChunkSelection;
using lfc::DType;
using lfc::StaticMask;
using lfc::test::HostKept;
using lfc::test::HostTensor;

// Sequential fp32 mean of rows [begin, end) of one head: the semantics' pooling
// rule.
std::vector<float> meanRows(const HostTensor &t, int64_t b, int64_t h,
                            int64_t begin, int64_t end) {
  std::vector<float> mean(size_t(t.view.dim));
  for (int64_t d = 0; d < t.view.dim; ++d) {
    float s = 0.0f;
    for (int64_t r = begin; r < end; ++r)
      s = s + t.get(b, r, h, d);
    mean[size_t(d)] = s / float(end - begin);
  }
  return mean;
}

float dotFma(const std::vector<float> &a, const std::vector<float> &b) {
  float acc = 0.0f;
  for (size_t d = 0; d < a.size(); ++d)
    acc = std::fmaf(a[d], b[d], acc);
  return acc;
}

// The first `k` of `ids` ranked by descending score; stable_sort keeps ties in
// ascending index order, which is the lower-index tie rule.
std::vector<int> topByScore(std::vector<int> ids,
                            const std::vector<float> &score, size_t k) {
  std::stable_sort(ids.begin(), ids.end(), [&](int a, int b) {
    return score[size_t(a)] > score[size_t(b)];
  });
  if (ids.size() > k)
    ids.resize(k);
  return ids;
}

// The static mask's eligibility [query block][key block] from the token-level
// oracle (every block when the selection has no mask).
std::vector<std::vector<char>> staticEligibility(const ChunkSelection &sel) {
  if (sel.staticMask)
    return lfc::test::oracleEligibility(*sel.staticMask, sel);
  return std::vector<std::vector<char>>(
      size_t(sel.queryBlocks()), std::vector<char>(size_t(sel.keyBlocks()), 1));
}

// `staticOk`: staticEligibility(sel).
std::vector<int32_t>
oracleKept(const ChunkSelection &sel, const HostTensor &q, const HostTensor &k,
           int64_t b, int64_t h, int64_t i,
           const std::vector<std::vector<char>> &staticOk) {
  const int64_t T = sel.tokensPerFrame, Lk = sel.keyTokens(),
                Lq = sel.queryTokens();
  const int64_t nkb = sel.keyBlocks(), nf = sel.visibleFrames;
  std::vector<int32_t> out;
  if (sel.dense) {
    for (int64_t j = 0; j < nkb; ++j)
      out.push_back(int32_t(j));
    return out;
  }
  std::vector<float> qm =
      meanRows(q, b, h, i * sel.blockQ, std::min(Lq, (i + 1) * sel.blockQ));

  const int64_t P = nf - sel.framesPerChunk;
  const int64_t sinkEnd = std::min<int64_t>(sel.sinkFrames, P);
  std::vector<bool> eligibleFrame(size_t(nf), true);
  if (sel.framesTopK != 0 && P > sel.framesTopK) {
    std::vector<int> middle;
    int sinks = 0, nears = 0;
    std::vector<float> score(size_t(nf), 0.0f);
    for (int64_t f = 0; f < P; ++f) {
      bool sink = f < sinkEnd;
      bool nearFrame = !sink && f >= P - sel.nearFrames;
      sinks += sink;
      nears += nearFrame;
      if (!sink && !nearFrame) {
        middle.push_back(int(f));
        eligibleFrame[size_t(f)] = false;
        score[size_t(f)] = dotFma(qm, meanRows(k, b, h, f * T, (f + 1) * T));
      }
    }
    int keep = std::max(0, sel.framesTopK - sinks - nears);
    for (int f : topByScore(middle, score, size_t(keep)))
      eligibleFrame[size_t(f)] = true;
  }

  std::vector<int> eligible;
  std::vector<float> score(size_t(nkb), 0.0f);
  for (int64_t j = 0; j < nkb; ++j) {
    bool ok = false;
    for (int64_t t = j * sel.blockK; t < std::min(Lk, (j + 1) * sel.blockK);
         ++t)
      ok = ok || eligibleFrame[size_t(t / T)];
    // docs/static-masks.md: eligible = frame stage AND static mask.
    if (!ok || !staticOk[size_t(i)][size_t(j)])
      continue;
    eligible.push_back(int(j));
    score[size_t(j)] = dotFma(qm, meanRows(k, b, h, j * sel.blockK,
                                           std::min(Lk, (j + 1) * sel.blockK)));
  }
  for (int j : topByScore(eligible, score, size_t(sel.keptKeyBlocks)))
    out.push_back(int32_t(j));
  std::sort(out.begin(), out.end());
  return out;
}

struct SelCase {
  const char *name;
  int T, F, visible, sink, nearF, topK, blockQ, blockK, kept, dim, heads, batch;
  DType dtype;
  bool bhsd;
  const char *mask = nullptr; ///< static mask text; nullptr: none
};

// gtest prints the case name instead of the struct's bytes.
void PrintTo(const SelCase &c, std::ostream *os) { *os << c.name; }

ChunkSelection makeSel(const SelCase &c) {
  ChunkSelection s;
  s.tokensPerFrame = c.T;
  s.framesPerChunk = c.F;
  s.visibleFrames = c.visible;
  s.sinkFrames = c.sink;
  s.nearFrames = c.nearF;
  s.framesTopK = c.topK;
  s.blockQ = c.blockQ;
  s.blockK = c.blockK;
  s.keptKeyBlocks = c.kept;
  if (c.mask)
    s.staticMask =
        std::make_shared<const StaticMask>(StaticMask::parse(c.mask));
  return s;
}

void expectMatchesOracle(const ChunkSelection &sel, const HostTensor &q,
                         const HostTensor &k, const HostKept &kept) {
  const auto staticOk = staticEligibility(sel);
  for (int64_t b = 0; b < q.view.batch; ++b)
    for (int64_t h = 0; h < q.view.heads; ++h)
      for (int64_t i = 0; i < sel.queryBlocks(); ++i)
        ASSERT_EQ(kept.row(b, h, i), oracleKept(sel, q, k, b, h, i, staticOk))
            << "b " << b << " h " << h << " query block " << i;
}

class SelectionVsOracle : public ::testing::TestWithParam<SelCase> {};

TEST_P(SelectionVsOracle, RandomInputs) {
  const SelCase &c = GetParam();
  ChunkSelection sel = makeSel(c);
  std::mt19937 rng(1234 + c.visible);
  HostTensor q(c.dtype, c.batch, sel.queryTokens(), c.heads, c.dim, c.bhsd);
  HostTensor k(c.dtype, c.batch, sel.keyTokens(), c.heads, c.dim, c.bhsd);
  q.fillNormal(rng);
  k.fillNormal(rng);
  // A per-frame offset makes frame and block scores spread out as in real video
  // keys.
  std::normal_distribution<float> offset(0.0f, 0.5f);
  for (int64_t f = 0; f < c.visible; ++f)
    for (int64_t d = 0; d < c.dim; ++d) {
      float o = offset(rng);
      for (int64_t b = 0; b < c.batch; ++b)
        for (int64_t h = 0; h < c.heads; ++h)
          for (int64_t t = f * c.T; t < (f + 1) * c.T; ++t)
            k.set(b, t, h, d, k.get(b, t, h, d) + o);
    }
  HostKept kept(c.batch, c.heads, sel.queryBlocks(), c.kept);
  auto backend = lfc::createCpuBackend(2);
  backend->select(sel, q.view, k.view, nullptr, kept.view);
  expectMatchesOracle(sel, q, k, kept);
  for (int32_t cnt : kept.cnt)
    EXPECT_LE(cnt, c.kept);
}

// T, F, visible, sink, near, topK, Bq, Bk, kept, dim, heads, batch
INSTANTIATE_TEST_SUITE_P(
    Cases, SelectionVsOracle,
    ::testing::Values(
        SelCase{"ragged64", 100, 2, 8, 1, 2, 4, 64, 32, 9, 64, 2, 2,
                DType::BF16, false},
        SelCase{"videoGeometry", 1560, 3, 12, 1, 2, 6, 128, 128, 18, 64, 2, 1,
                DType::BF16, false},
        SelCase{"noFrameStage", 100, 2, 8, 1, 2, 0, 64, 64, 5, 64, 1, 2,
                DType::F16, true},
        SelCase{"pastFitsTopK", 96, 1, 5, 1, 1, 6, 32, 64, 3, 128, 2, 1,
                DType::BF16, true},
        SelCase{"noPast", 130, 2, 2, 1, 2, 6, 64, 64, 2, 64, 1, 1, DType::F16,
                false},
        SelCase{"budgetExceedsEligible", 64, 1, 12, 1, 1, 3, 16, 64, 10, 64, 1,
                1, DType::BF16, false},
        SelCase{"noMiddleKept", 80, 1, 9, 2, 3, 4, 64, 16, 12, 64, 1, 1,
                DType::BF16, false},
        // Static masks (docs/static-masks.md). Static-only
        // chunks: no frame stage, the budget is every key block.
        SelCase{"staticOnlyRagged", 100, 2, 8, 0, 0, 0, 32, 16, 50, 64, 2, 1,
                DType::BF16, false, "union(sink(1),current,radial(2,13))"},
        SelCase{"staticOnlyVideo", 1560, 3, 12, 0, 0, 0, 128, 128, 147, 64, 1,
                1, DType::BF16, false, "union(sink(1),current,radial(3,156))"},
        SelCase{"staticOnlyOddFrames", 37, 1, 9, 0, 0, 0, 16, 32, 11, 64, 1, 2,
                DType::F16, true, "union(window_tokens(50),radial(1,5))"},
        // A static mask under the block top-k budget.
        SelCase{"staticRestrictTopK", 37, 1, 12, 0, 0, 0, 16, 16, 6, 64, 2, 1,
                DType::BF16, false,
                "restrict(window_tokens(200),union(frames(0,3,7),"
                "current))"},
        // A static mask combined with the HSA frame stage.
        SelCase{"staticWithHsa", 100, 2, 10, 1, 2, 5, 64, 32, 9, 64, 2, 1,
                DType::BF16, false,
                "union(sink(1),window_frames(5),radial(1,20))"},
        SelCase{"staticWithHsaVideo", 1560, 3, 15, 1, 2, 6, 128, 128, 21, 64, 1,
                1, DType::BF16, false, "union(sink(1),current,radial(3,156))"},
        SelCase{"staticWithHsaFrames", 64, 1, 12, 1, 1, 4, 32, 64, 7, 64, 1, 1,
                DType::F16, false, "union(frames(0,2,4,6,8),current)"}),
    [](const auto &info) { return std::string(info.param.name); });

TEST(Selection, SinkFrameWithLargeKeysIsPicked) {
  // Frame 0 (sink) holds keys aligned with every query; the other frames are
  // noise.
  ChunkSelection sel = makeSel(
      {"", 128, 1, 8, 1, 1, 3, 64, 64, 4, 64, 1, 1, DType::BF16, false});
  std::mt19937 rng(7);
  HostTensor q(DType::BF16, 1, sel.queryTokens(), 1, 64);
  HostTensor k(DType::BF16, 1, sel.keyTokens(), 1, 64);
  q.fillNormal(rng, 0.3f);
  k.fillNormal(rng, 0.3f);
  for (int64_t t = 0; t < sel.queryTokens(); ++t)
    q.set(0, t, 0, 5, q.get(0, t, 0, 5) + 2.0f);
  for (int64_t t = 0; t < 128; ++t)
    k.set(0, t, 0, 5, 8.0f);
  HostKept kept(1, 1, sel.queryBlocks(), 4);
  lfc::createCpuBackend(2)->select(sel, q.view, k.view, nullptr, kept.view);
  for (int64_t i = 0; i < sel.queryBlocks(); ++i) {
    auto row = kept.row(0, 0, i);
    EXPECT_EQ(row[0], 0) << "query block " << i;
    EXPECT_EQ(row[1], 1) << "query block " << i;
  }
  expectMatchesOracle(sel, q, k, kept);
}

TEST(Selection, MiddleFrameWithLargeKeysWinsTheFrameStage) {
  // 10 past frames, sink 1 + near 2 + 1 middle slot: the strong middle frame 4
  // takes it.
  ChunkSelection sel = makeSel(
      {"", 64, 1, 11, 1, 2, 4, 64, 64, 5, 64, 1, 1, DType::BF16, false});
  std::mt19937 rng(8);
  HostTensor q(DType::BF16, 1, sel.queryTokens(), 1, 64);
  HostTensor k(DType::BF16, 1, sel.keyTokens(), 1, 64);
  q.fillNormal(rng, 0.3f);
  k.fillNormal(rng, 0.3f);
  for (int64_t t = 0; t < sel.queryTokens(); ++t)
    q.set(0, t, 0, 9, 3.0f);
  for (int64_t t = 4 * 64; t < 5 * 64; ++t)
    k.set(0, t, 0, 9, 3.0f);
  HostKept kept(1, 1, 1, 5);
  lfc::createCpuBackend(1)->select(sel, q.view, k.view, nullptr, kept.view);
  // Eligible frames: sink 0, middle 4, near 8 9, current 10: exactly the budget
  // of 5.
  EXPECT_EQ(kept.row(0, 0, 0), (std::vector<int32_t>{0, 4, 8, 9, 10}));
}

TEST(Selection, QueryBlockEqualToKeyBlockIsPicked) {
  // Each query block carries its own strong direction; the current chunk's keys
  // are the queries themselves, so key block (past blocks + i) equals query
  // block i.
  const int64_t D = 64, T = 256;
  ChunkSelection sel = makeSel(
      {"", int(T), 1, 4, 1, 1, 0, 64, 64, 2, int(D), 1, 1, DType::BF16, false});
  std::mt19937 rng(9);
  HostTensor q(DType::BF16, 1, sel.queryTokens(), 1, D);
  HostTensor k(DType::BF16, 1, sel.keyTokens(), 1, D);
  q.fillNormal(rng, 0.2f);
  k.fillNormal(rng, 0.2f);
  const int64_t pastTokens = 3 * T, nqb = sel.queryBlocks();
  for (int64_t t = 0; t < sel.queryTokens(); ++t) {
    q.set(0, t, 0, t / 64, q.get(0, t, 0, t / 64) + 3.0f);
    for (int64_t d = 0; d < D; ++d)
      k.set(0, pastTokens + t, 0, d, q.get(0, t, 0, d));
  }
  HostKept kept(1, 1, nqb, 2);
  lfc::createCpuBackend(2)->select(sel, q.view, k.view, nullptr, kept.view);
  for (int64_t i = 0; i < nqb; ++i) {
    auto row = kept.row(0, 0, i);
    EXPECT_NE(std::find(row.begin(), row.end(), int32_t(pastTokens / 64 + i)),
              row.end())
        << "query block " << i << " did not keep its own key block";
  }
  expectMatchesOracle(sel, q, k, kept);
}

TEST(Selection, TiesResolveToLowerIndex) {
  // All keys zero: every frame and block score ties at 0. Frames (= blocks
  // here): sink 0, middle 1..6 (2 slots: 1, 2), near 7 8, current 9; the block
  // budget 4 keeps 0 1 2 7.
  ChunkSelection sel = makeSel(
      {"", 64, 1, 10, 1, 2, 5, 64, 64, 4, 64, 1, 1, DType::BF16, false});
  std::mt19937 rng(10);
  HostTensor q(DType::BF16, 1, sel.queryTokens(), 1, 64);
  HostTensor k(DType::BF16, 1, sel.keyTokens(), 1, 64);
  q.fillNormal(rng);
  HostKept kept(1, 1, 1, 4);
  lfc::createCpuBackend(1)->select(sel, q.view, k.view, nullptr, kept.view);
  EXPECT_EQ(kept.row(0, 0, 0), (std::vector<int32_t>{0, 1, 2, 7}));
}

TEST(Selection, StaticOnlyChunkKeepsExactlyTheMasksBlocks) {
  // T = 100, 3 past frames, blocks of 64, no frame stage, budget = every key
  // block: "current" ([300, 400)) keeps blocks 4 [256, 320), 5 and 6 for every
  // query block; scores play no part.
  ChunkSelection sel = makeSel({"", 100, 1, 4, 0, 0, 0, 64, 64, 7, 64, 1, 1,
                                DType::BF16, false, "current"});
  ASSERT_EQ(sel.keyBlocks(), 7);
  std::mt19937 rng(12);
  HostTensor q(DType::BF16, 1, sel.queryTokens(), 1, 64);
  HostTensor k(DType::BF16, 1, sel.keyTokens(), 1, 64);
  q.fillNormal(rng);
  k.fillNormal(rng);
  HostKept kept(1, 1, sel.queryBlocks(), 7);
  lfc::createCpuBackend(2)->select(sel, q.view, k.view, nullptr, kept.view);
  for (int64_t i = 0; i < sel.queryBlocks(); ++i)
    EXPECT_EQ(kept.row(0, 0, i), (std::vector<int32_t>{4, 5, 6}))
        << "query block " << i;
}

TEST(Selection, StaticMaskRestrictsTheFrameStagesBlocks) {
  // As TiesResolveToLowerIndex: the frame stage keeps frames 0 1 2 7 8 9
  // (= blocks). The static mask allows 2, 5 and 9: frame 5 lost the frame
  // stage, so 2 and 9 remain, under the budget of 4.
  ChunkSelection sel =
      makeSel({"", 64, 1, 10, 1, 2, 5, 64, 64, 4, 64, 1, 1, DType::BF16, false,
               "union(frames(2,5),current)"});
  std::mt19937 rng(10);
  HostTensor q(DType::BF16, 1, sel.queryTokens(), 1, 64);
  HostTensor k(DType::BF16, 1, sel.keyTokens(), 1, 64);
  q.fillNormal(rng);
  HostKept kept(1, 1, 1, 4);
  lfc::createCpuBackend(1)->select(sel, q.view, k.view, nullptr, kept.view);
  EXPECT_EQ(kept.row(0, 0, 0), (std::vector<int32_t>{2, 9}));
}

TEST(Selection, DenseChunkWithAStaticMaskIsRejected) {
  ChunkSelection sel = makeSel({"", 100, 2, 4, 1, 1, 2, 64, 64, 0, 64, 1, 1,
                                DType::BF16, false, "sink(1)"});
  sel.dense = true;
  HostTensor q(DType::BF16, 1, sel.queryTokens(), 1, 64);
  HostTensor k(DType::BF16, 1, sel.keyTokens(), 1, 64);
  HostKept kept(1, 1, sel.queryBlocks(), sel.keyBlocks());
  try {
    lfc::createCpuBackend(1)->select(sel, q.view, k.view, nullptr, kept.view);
    ADD_FAILURE() << "no error";
  } catch (const lfc::Error &e) {
    EXPECT_NE(std::string(e.what()).find(
                  "dense (every key block kept) contradicts staticMask "
                  "'sink(1)'"),
              std::string::npos)
        << e.what();
  }
}

TEST(Selection, DenseKeepsEveryBlock) {
  ChunkSelection sel = makeSel(
      {"", 100, 2, 4, 1, 1, 2, 64, 64, 0, 64, 1, 1, DType::BF16, false});
  sel.dense = true;
  HostTensor q(DType::BF16, 1, sel.queryTokens(), 1, 64);
  HostTensor k(DType::BF16, 1, sel.keyTokens(), 1, 64);
  HostKept kept(1, 1, sel.queryBlocks(), sel.keyBlocks());
  lfc::createCpuBackend(1)->select(sel, q.view, k.view, nullptr, kept.view);
  std::vector<int32_t> all(size_t(sel.keyBlocks())); // ceil(400 / 64) = 7
  std::iota(all.begin(), all.end(), 0);
  ASSERT_EQ(all.size(), 7u);
  for (int64_t i = 0; i < sel.queryBlocks(); ++i)
    EXPECT_EQ(kept.row(0, 0, i), all);
}

TEST(Selection, PooledKeyCacheGivesIdenticalKeptBlocks) {
  // An AR rollout: chunk c sees c frames; after each chunk its frame is
  // committed in two uneven steps, so block and frame sums are continued
  // mid-block and mid-frame.
  const int64_t T = 100, D = 64, H = 2, B = 1, chunks = 6;
  std::mt19937 rng(11);
  HostTensor k(DType::BF16, B, chunks * T, H, D);
  k.fillNormal(rng);
  auto backend = lfc::createCpuBackend(2);
  auto cache = backend->createPooledKeys(B, H, D, chunks * T, 32, int(T));
  for (int64_t c = 1; c <= chunks; ++c) {
    ChunkSelection sel = makeSel({"", int(T), 1, int(c), 1, 1, 3, 32, 32, 5,
                                  int(D), int(H), int(B), DType::BF16, false});
    sel.keptKeyBlocks =
        int(std::min<int64_t>(5, sel.keyBlocks())); // chunk 1 has 4 blocks
    HostTensor q(DType::BF16, B, T, H, D);
    q.fillNormal(rng);
    lfc::Tensor4 kView = k.view;
    kView.tokens =
        c * T; // the logical KV sequence so far, inside the full buffer
    HostKept cached(B, H, sel.queryBlocks(), 5),
        scratch(B, H, sel.queryBlocks(), 5);
    backend->select(sel, q.view, kView, cache.get(), cached.view);
    backend->select(sel, q.view, kView, nullptr, scratch.view);
    EXPECT_EQ(cached.idx, scratch.idx) << "chunk " << c;
    EXPECT_EQ(cached.cnt, scratch.cnt) << "chunk " << c;
    HostTensor kPrefix(DType::BF16, B, c * T, H, D);
    for (int64_t t = 0; t < c * T; ++t)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t d = 0; d < D; ++d)
          kPrefix.set(0, t, h, d, k.get(0, t, h, d));
    expectMatchesOracle(sel, q, kPrefix, cached);
    backend->commitKeys(*cache, kView, c * T - 37);
    backend->commitKeys(*cache, kView, c * T);
    EXPECT_EQ(cache->committedTokens(), c * T);
  }
}

TEST(Selection, RejectsBadArguments) {
  ChunkSelection sel =
      makeSel({"", 64, 1, 4, 1, 1, 0, 64, 64, 2, 64, 1, 1, DType::BF16, false});
  auto backend = lfc::createCpuBackend(1);
  HostTensor q(DType::BF16, 1, 64, 1, 64), k(DType::BF16, 1, 256, 1, 64);
  HostTensor shortK(DType::BF16, 1, 200, 1, 64),
      halfK(DType::F16, 1, 256, 1, 64);
  HostKept kept(1, 1, 1, 2), small(1, 1, 1, 1);
  auto expectError = [&](auto fn, const std::string &needle) {
    try {
      fn();
      ADD_FAILURE() << "no error; expected one containing: " << needle;
    } catch (const lfc::Error &e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
          << e.what();
    }
  };
  expectError(
      [&] { backend->select(sel, q.view, shortK.view, nullptr, kept.view); },
      "select: k: expected shape [batch, tokens, heads, head_dim] = [1, 256, "
      "1, 64]");
  expectError(
      [&] { backend->select(sel, q.view, halfK.view, nullptr, kept.view); },
      "select: k: expected dtype bf16, got fp16");
  expectError(
      [&] { backend->select(sel, q.view, k.view, nullptr, small.view); },
      "select: kept: maxKept must be >= 2");
  lfc::Tensor4 misaligned = k.view;
  misaligned.strideS = 68;
  misaligned.strideB = 68 * 256;
  expectError(
      [&] { backend->select(sel, q.view, misaligned, nullptr, kept.view); },
      "select: k: strideS (68 elements) must be a multiple of 8 elements");
  lfc::Tensor4 offset = k.view;
  offset.data = k.storage.data() + 1;
  expectError([&] { backend->select(sel, q.view, offset, nullptr, kept.view); },
              "select: k: base pointer must be 16-byte aligned");
  auto wrongCache = backend->createPooledKeys(1, 1, 64, 256, 32, 64);
  expectError(
      [&] {
        backend->select(sel, q.view, k.view, wrongCache.get(), kept.view);
      },
      "select: pooled-key cache was created for batch 1, heads 1, head_dim 64, "
      "blockK 32");
  ChunkSelection badBlock = sel;
  badBlock.blockK = 48;
  expectError(
      [&] { backend->select(badBlock, q.view, k.view, nullptr, kept.view); },
      "blockK must be a power of two in [16, 256], got 48");
}

} // namespace
