// Quality metrics (lfc/quality.h, docs/QUALITY.md) against closed forms and a
// naive token-level oracle: captured mass, output error and cosine, density,
// sampling, output comparisons and the accumulator's aggregation.
#include "QualityTestUtil.h"

#include "lfc/quality.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace {

using lfc::ChunkSelection;
using lfc::DType;
using lfc::qtest::HostKept;
using lfc::qtest::HostTensor;
namespace q = lfc::quality;

ChunkSelection grid(int T, int F, int visible, int blockQ, int blockK) {
  ChunkSelection s;
  s.tokensPerFrame = T;
  s.framesPerChunk = F;
  s.visibleFrames = visible;
  s.blockQ = blockQ;
  s.blockK = blockK;
  s.keptKeyBlocks = 1;
  return s;
}

// ------------------------------------------------------------ closed forms

TEST(QualityMetrics, EveryBlockKeptIsExactlyDense) {
  const ChunkSelection sel = grid(24, 2, 4, 16, 16); // blocks straddle frames
  const int64_t B = 2, H = 3, D = 32;
  std::mt19937 rng(7);
  HostTensor qt(DType::BF16, B, sel.queryTokens(), H, D);
  HostTensor kt(DType::BF16, B, sel.keyTokens(), H, D);
  HostTensor vt(DType::BF16, B, sel.keyTokens(), H, D);
  qt.fillNormal(rng);
  kt.fillNormal(rng);
  vt.fillNormal(rng);
  const int64_t nqb = sel.queryBlocks(), nkb = sel.keyBlocks();
  HostKept kept(B, H, nqb, nkb);
  std::vector<int32_t> all(static_cast<size_t>(nkb));
  std::iota(all.begin(), all.end(), 0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < nqb; ++i)
        kept.setRow(b, h, i, all);

  const double scale = 1.0 / std::sqrt(double(D));
  for (const lfc::KeptBlocks *k :
       std::vector<const lfc::KeptBlocks *>{&kept.view, nullptr}) {
    q::CallMetrics m =
        q::evaluate(sel, qt.view, kt.view, vt.view, k, scale, q::Sample{}, 3);
    EXPECT_EQ(m.mass.size(), size_t(B * H * sel.queryTokens()));
    for (double mass : m.mass)
      ASSERT_EQ(mass, 1.0);
    EXPECT_EQ(m.massStats.mean, 1.0);
    EXPECT_EQ(m.massStats.min, 1.0);
    EXPECT_EQ(m.massStats.p10, 1.0);
    EXPECT_EQ(m.relL2(), 0.0);
    EXPECT_EQ(m.error.errSq, 0.0);
    EXPECT_NEAR(m.cosine(), 1.0, 1e-15);
    EXPECT_EQ(m.density, 1.0);
    EXPECT_EQ(m.tokenDensity, 1.0);
    ASSERT_EQ(m.perHead.size(), size_t(B * H));
    for (const q::HeadMetrics &hm : m.perHead) {
      EXPECT_EQ(hm.error.relL2(), 0.0);
      EXPECT_EQ(hm.mass.min, 1.0);
      EXPECT_EQ(hm.density, 1.0);
    }
  }
}

// One query, two keys in two blocks of one token: logits a = scale * q.k0 and
// b = scale * q.k1; v0 = (1, 0), v1 = (0, 1). Keeping block 0 captures
// p = e^a / (e^a + e^b); the dense output is (p, 1 - p), the sparse one (1, 0).
struct TwoKeys {
  ChunkSelection sel = grid(1, 1, 2, 1, 1);
  HostTensor qt{DType::BF16, 1, 1, 1, 2};
  HostTensor kt{DType::BF16, 1, 2, 1, 2};
  HostTensor vt{DType::BF16, 1, 2, 1, 2};
  HostKept kept{1, 1, 1, 2};
  TwoKeys(float k0, float k1, float v0x, float v0y, float v1x, float v1y) {
    qt.set(0, 0, 0, 0, 1.0f);
    kt.set(0, 0, 0, 0, k0);
    kt.set(0, 1, 0, 0, k1);
    vt.set(0, 0, 0, 0, v0x);
    vt.set(0, 0, 0, 1, v0y);
    vt.set(0, 1, 0, 0, v1x);
    vt.set(0, 1, 0, 1, v1y);
  }
  q::CallMetrics run(const std::vector<int32_t> &keep, double scale) {
    kept.setRow(0, 0, 0, keep);
    return q::evaluate(sel, qt.view, kt.view, vt.view, &kept.view, scale);
  }
};

TEST(QualityMetrics, TwoKeysClosedForm) {
  for (double scale : {1.0, 0.5, 1.0 / std::sqrt(128.0)}) {
    TwoKeys c(2.0f, 0.5f, 1, 0, 0, 1);
    const double a = 2.0 * scale, b = 0.5 * scale;
    const double p = std::exp(a) / (std::exp(a) + std::exp(b));
    const double norm = std::sqrt(p * p + (1 - p) * (1 - p));

    q::CallMetrics keep0 = c.run({0}, scale);
    ASSERT_EQ(keep0.mass.size(), 1u);
    EXPECT_NEAR(keep0.mass[0], p, 1e-15);
    EXPECT_NEAR(keep0.relL2(), std::sqrt(2.0) * (1 - p) / norm, 1e-14);
    EXPECT_NEAR(keep0.cosine(), p / norm, 1e-14);
    EXPECT_DOUBLE_EQ(keep0.density, 0.5);
    EXPECT_DOUBLE_EQ(keep0.tokenDensity, 0.5);

    q::CallMetrics keep1 = c.run({1}, scale);
    EXPECT_NEAR(keep1.mass[0], 1 - p, 1e-15);
    EXPECT_NEAR(keep1.relL2(), std::sqrt(2.0) * p / norm, 1e-14);
    EXPECT_NEAR(keep1.cosine(), (1 - p) / norm, 1e-14);

    // Nothing kept: zeros (docs/selection-semantics.md), mass 0, error 1,
    // cosine 0 (one zero vector).
    q::CallMetrics none = c.run({}, scale);
    EXPECT_EQ(none.mass[0], 0.0);
    EXPECT_NEAR(none.relL2(), 1.0, 1e-15);
    EXPECT_EQ(none.cosine(), 0.0);
    EXPECT_EQ(none.density, 0.0);
  }
}

TEST(QualityMetrics, AntiparallelOutputGivesCosineMinusOne) {
  // v0 = (1, 0), v1 = (-1, 0), logits 2 and 0: dense (2p - 1, 0) with p > 1/2,
  // keeping block 1 gives (-1, 0).
  TwoKeys c(2.0f, 0.0f, 1, 0, -1, 0);
  const double p = 1.0 / (1.0 + std::exp(-2.0));
  q::CallMetrics m = c.run({1}, 1.0);
  EXPECT_EQ(m.cosine(), -1.0);
  EXPECT_NEAR(m.relL2(), 2 * p / (2 * p - 1), 1e-13);
  EXPECT_NEAR(m.mass[0], 1 - p, 1e-15);
}

TEST(QualityMetrics, CompareOutputsOrthogonalAndAntiparallel) {
  HostTensor ref(DType::BF16, 1, 2, 1, 2), test(DType::F32, 1, 2, 1, 2);
  // Row 0 orthogonal, row 1 antiparallel.
  ref.set(0, 0, 0, 0, 1);
  test.set(0, 0, 0, 1, 3);
  ref.set(0, 1, 0, 0, 2);
  test.set(0, 1, 0, 0, -2);
  q::OutputComparison row0 =
      q::compareOutputs(test.view, ref.view, q::Sample::rowList({0}));
  EXPECT_EQ(row0.cosine(), 0.0);
  EXPECT_DOUBLE_EQ(row0.relL2(), std::sqrt(10.0)); // |(−1, 3)| / |(1, 0)|
  q::OutputComparison row1 =
      q::compareOutputs(test.view, ref.view, q::Sample::rowList({1}));
  EXPECT_EQ(row1.cosine(), -1.0);
  EXPECT_DOUBLE_EQ(row1.relL2(), 2.0);
  // Both rows: sums of squares over all elements.
  q::OutputComparison both = q::compareOutputs(test.view, ref.view);
  EXPECT_DOUBLE_EQ(both.error.errSq, 10.0 + 16.0);
  EXPECT_DOUBLE_EQ(both.error.refSq, 1.0 + 4.0);
  EXPECT_DOUBLE_EQ(both.relL2(), std::sqrt(26.0 / 5.0));
  EXPECT_DOUBLE_EQ(both.cosine(), -4.0 / std::sqrt(13.0 * 5.0));
  EXPECT_EQ(both.error.elements, 4);
  ASSERT_EQ(both.perHead.size(), 1u);
  EXPECT_EQ(both.perHead[0].error.elements, 4);

  const float a[3] = {1, 0, 0}, b[3] = {0, 1, 0}, c[3] = {-2, 0, 0};
  EXPECT_EQ(q::compareArrays(a, b, 3).cosine(), 0.0);
  EXPECT_EQ(q::compareArrays(c, a, 3).cosine(), -1.0);
  EXPECT_DOUBLE_EQ(q::compareArrays(c, a, 3).relL2(), 3.0);
  EXPECT_EQ(q::compareArrays(a, a, 3).relL2(), 0.0);
  EXPECT_EQ(q::compareArrays(a, a, 3).cosine(), 1.0);
}

TEST(QualityMetrics, ErrorSumsEdgeCases) {
  q::ErrorSums none;
  EXPECT_TRUE(std::isnan(none.relL2()));
  EXPECT_TRUE(std::isnan(none.cosine()));
  q::ErrorSums zeros;
  zeros.elements = 4;
  EXPECT_EQ(zeros.relL2(), 0.0);
  EXPECT_EQ(zeros.cosine(), 1.0);
  q::ErrorSums fromZero = zeros;
  fromZero.errSq = fromZero.testSq = 1;
  EXPECT_TRUE(std::isinf(fromZero.relL2()));
  EXPECT_EQ(fromZero.cosine(), 0.0);
}

TEST(QualityMetrics, PercentileIsNearestRank) {
  std::vector<double> v(30);
  std::iota(v.begin(), v.end(), 1.0);
  std::reverse(v.begin(), v.end());
  EXPECT_EQ(q::percentile(v, 10), 3.0); // rank ceil(3) = 3, not 4
  v.resize(25);                         // 30 .. 6
  EXPECT_EQ(q::percentile(v, 10), 8.0); // rank ceil(2.5) = 3: 6, 7, 8
  EXPECT_EQ(q::percentile({0.5}, 10), 0.5);
  EXPECT_EQ(q::percentile({4, 3, 2}, 10), 2.0);
  EXPECT_TRUE(std::isnan(q::percentile({}, 10)));
  q::MassStats s = q::massStats({0.25, 1.0, 0.75, 0.5});
  EXPECT_EQ(s.rows, 4);
  EXPECT_EQ(s.mean, 0.625);
  EXPECT_EQ(s.min, 0.25);
  EXPECT_EQ(s.p10, 0.25);
}

// ------------------------------------------------------------ density

TEST(QualityMetrics, KeptDensityClosedForm) {
  // Lq = 10 rows in 5 query blocks of 2; Lk = 30 keys in 4 blocks of 8 (the
  // last block has 6 tokens).
  const ChunkSelection sel = grid(10, 1, 3, 2, 8);
  HostKept kept(1, 2, 5, 4);
  kept.setRow(0, 0, 0, {0, 1, 2, 3});
  kept.setRow(0, 0, 1, {3});
  kept.setRow(0, 0, 2, {});
  kept.setRow(0, 0, 3, {1, 3});
  kept.setRow(0, 0, 4, {0});
  // head 1: every row keeps block 2
  for (int i = 0; i < 5; ++i)
    kept.setRow(0, 1, i, {2});
  // Each query block has 2 rows, so the mean over rows is the mean over
  // blocks. head 0: blocks (4 + 1 + 0 + 2 + 1) / 4 / 5 = 0.4; tokens
  // (30 + 6 + 0 + 14 + 8) / 30 / 5 = 58 / 150. head 1: 1/4 and 8/30.
  q::Density d = q::keptDensity(sel, &kept.view);
  EXPECT_DOUBLE_EQ(d.blocks, (0.4 + 0.25) / 2);
  EXPECT_DOUBLE_EQ(d.tokens, (58.0 / 150.0 + 8.0 / 30.0) / 2);
  q::Density dense = q::keptDensity(sel, nullptr);
  EXPECT_EQ(dense.blocks, 1.0);
  EXPECT_EQ(dense.tokens, 1.0);

  // A short last query block weighs by its rows: Lq = 9 in blocks of 2 (the
  // last has one row).
  const ChunkSelection shortSel = grid(9, 1, 2, 2, 9);
  HostKept k2(1, 1, 5, 2);
  for (int i = 0; i < 4; ++i)
    k2.setRow(0, 0, i, {0});
  k2.setRow(0, 0, 4, {0, 1});
  EXPECT_DOUBLE_EQ(q::keptDensity(shortSel, &k2.view).blocks,
                   (8 * 0.5 + 1 * 1.0) / 9);
}

// ------------------------------------------------------------ sampling

// The documented generator, written out independently.
uint64_t referenceSplitmix(uint64_t &x) {
  x += 0x9E3779B97F4A7C15ull;
  uint64_t z = x;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

TEST(QualitySampling, PicksExactlyTheDocumentedRows) {
  using V = std::vector<int64_t>;
  EXPECT_EQ(q::sampleRows(q::Sample::all(), 4), (V{0, 1, 2, 3}));
  EXPECT_EQ(q::sampleRows(q::Sample::everyKth(3, 1), 10), (V{1, 4, 7}));
  EXPECT_EQ(q::sampleRows(q::Sample::everyKth(4), 9), (V{0, 4, 8}));
  EXPECT_EQ(q::sampleRows(q::Sample::rowList({5, 1, 5}), 6), (V{1, 5}));
  EXPECT_EQ(q::sampleRows(q::Sample::random(50, 3), 10).size(), 10u);
  EXPECT_EQ(q::sampleHeads(q::Sample{}, 3), (V{0, 1, 2}));
  EXPECT_EQ(q::sampleHeads(q::Sample{}.withHeads({2, 0, 2}), 3), (V{0, 2}));

  // splitmix64's published first output for seed 0.
  uint64_t state = 0;
  EXPECT_EQ(q::splitmix64(state), 0xe220a8397b1dcdafull);

  // Random: partial Fisher-Yates over [0, Lq) with splitmix64(seed), sorted.
  for (uint64_t seed : {0ull, 1ull, 12345ull}) {
    const int64_t Lq = 4680, n = 64;
    std::vector<int64_t> a(static_cast<size_t>(Lq));
    std::iota(a.begin(), a.end(), int64_t(0));
    uint64_t x = seed;
    for (int64_t i = 0; i < n; ++i) {
      int64_t j = i + int64_t(referenceSplitmix(x) % uint64_t(Lq - i));
      std::swap(a[size_t(i)], a[size_t(j)]);
    }
    V expected(a.begin(), a.begin() + n);
    std::sort(expected.begin(), expected.end());
    V got = q::sampleRows(q::Sample::random(n, seed), Lq);
    EXPECT_EQ(got, expected) << "seed " << seed;
    EXPECT_EQ(std::adjacent_find(got.begin(), got.end()), got.end());
  }
  EXPECT_NE(q::sampleRows(q::Sample::random(8, 1), 1000),
            q::sampleRows(q::Sample::random(8, 2), 1000));

  EXPECT_THROW(q::sampleRows(q::Sample::everyKth(0), 10), lfc::Error);
  EXPECT_THROW(q::sampleRows(q::Sample::everyKth(2, 10), 10), lfc::Error);
  EXPECT_THROW(q::sampleRows(q::Sample::rowList({3, 10}), 10), lfc::Error);
  EXPECT_THROW(q::sampleRows(q::Sample::rowList({}), 10), lfc::Error);
  EXPECT_THROW(q::sampleRows(q::Sample::random(0, 1), 10), lfc::Error);
  EXPECT_THROW(q::sampleHeads(q::Sample{}.withHeads({3}), 3), lfc::Error);
}

TEST(QualitySampling, DescribeStatesTheSample) {
  EXPECT_EQ(q::describe(q::Sample::everyKth(3, 1).withHeads({3, 1}), 2, 4, 10),
            "rows: every 3rd from row 1 (3 of 10 per head); heads: 2 of 4 (1, "
            "3); batches: all 2");
  EXPECT_EQ(q::describe(q::Sample::all(), 1, 12, 4680),
            "rows: all (4680 of 4680 per head); heads: all 12; batches: all 1");
  EXPECT_EQ(q::describe(q::Sample::random(64, 7), 1, 12, 4680),
            "rows: random, seed 7 (64 of 4680 per head); heads: all 12; "
            "batches: all 1");
  EXPECT_EQ(q::describe(q::Sample::everyKth(12), 1, 1, 100),
            "rows: every 12th from row 0 (9 of 100 per head); heads: all 1; "
            "batches: all 1");
}

// ------------------------------------------------------------ oracle

struct Workload {
  ChunkSelection sel = grid(24, 2, 4, 16, 16);
  int64_t B = 2, H = 3, D = 16;
  HostTensor qt, kt, vt;
  HostKept kept;
  double scale = 0.25;
  Workload(DType t, bool bhsd, uint32_t seed)
      : qt(t, 2, 48, 3, 16, bhsd), kt(t, 2, 96, 3, 16, bhsd),
        vt(t, 2, 96, 3, 16, bhsd), kept(2, 3, 3, 6) {
    std::mt19937 rng(seed);
    qt.fillNormal(rng, 1.5f);
    kt.fillNormal(rng);
    vt.fillNormal(rng);
    std::bernoulli_distribution take(0.4);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t i = 0; i < sel.queryBlocks(); ++i) {
          std::vector<int32_t> row;
          if ((b + h + i) % 5 != 4) // some rows keep nothing
            for (int32_t j = 0; j < sel.keyBlocks(); ++j)
              if (take(rng))
                row.push_back(j);
          kept.setRow(b, h, i, row);
        }
  }
};

// Token-level mask, one softmax per row, straight from the definitions.
struct OracleRow {
  double mass;
  q::ErrorSums error;
};
OracleRow oracleRow(const Workload &w, int64_t b, int64_t h, int64_t row) {
  const int64_t Lk = w.sel.keyTokens();
  std::vector<bool> keep(static_cast<size_t>(Lk), false);
  for (int32_t j : w.kept.row(b, h, row / w.sel.blockQ))
    for (int64_t t = j * w.sel.blockK;
         t < std::min<int64_t>(Lk, (j + 1) * w.sel.blockK); ++t)
      keep[size_t(t)] = true;
  std::vector<double> logit(static_cast<size_t>(Lk));
  for (int64_t t = 0; t < Lk; ++t) {
    double s = 0;
    for (int64_t d = 0; d < w.D; ++d)
      s += w.qt.get(b, row, h, d) * w.kt.get(b, t, h, d);
    logit[size_t(t)] = w.scale * s;
  }
  double mx = *std::max_element(logit.begin(), logit.end());
  double Z = 0, Zk = 0;
  std::vector<double> dense(size_t(w.D), 0.0), sparse(size_t(w.D), 0.0);
  for (int64_t t = 0; t < Lk; ++t) {
    double e = std::exp(logit[size_t(t)] - mx);
    Z += e;
    if (keep[size_t(t)])
      Zk += e;
    for (int64_t d = 0; d < w.D; ++d) {
      dense[size_t(d)] += e * w.vt.get(b, t, h, d);
      if (keep[size_t(t)])
        sparse[size_t(d)] += e * w.vt.get(b, t, h, d);
    }
  }
  OracleRow r;
  r.mass = Zk / Z;
  for (int64_t d = 0; d < w.D; ++d) {
    double o = dense[size_t(d)] / Z;
    double s = Zk > 0 ? sparse[size_t(d)] / Zk : 0.0;
    r.error.errSq += (s - o) * (s - o);
    r.error.refSq += o * o;
    r.error.testSq += s * s;
    r.error.dot += s * o;
  }
  r.error.elements = w.D;
  return r;
}

void expectRel(double got, double want, double tol, const char *what) {
  EXPECT_NEAR(got, want, tol * std::max(1.0, std::fabs(want))) << what;
}

TEST(QualityMetrics, MatchesTokenLevelOracle) {
  for (DType t : {DType::BF16, DType::F16})
    for (bool bhsd : {false, true}) {
      Workload w(t, bhsd, 11 + unsigned(bhsd));
      q::Sample sample = q::Sample::everyKth(5, 2).withHeads({0, 2});
      q::CallMetrics m = q::evaluate(w.sel, w.qt.view, w.kt.view, w.vt.view,
                                     &w.kept.view, w.scale, sample, 2);
      const std::vector<int64_t> rows = q::sampleRows(sample, 48);
      ASSERT_EQ(m.sampledRows, int64_t(rows.size()));
      ASSERT_EQ(m.sampledHeads, 2);
      ASSERT_EQ(m.mass.size(), size_t(2 * 2) * rows.size());
      ASSERT_EQ(m.perHead.size(), 4u);
      q::ErrorSums total;
      size_t n = 0;
      double densityBlocks = 0, densityTokens = 0;
      for (int64_t b = 0; b < 2; ++b) {
        for (int64_t hi = 0; hi < 2; ++hi) {
          int64_t h = hi * 2;
          q::ErrorSums head;
          for (int64_t row : rows) {
            OracleRow o = oracleRow(w, b, h, row);
            expectRel(m.mass[n++], o.mass, 1e-13, "mass");
            head.add(o.error);
          }
          const q::HeadMetrics &hm = m.perHead[size_t(b * 2 + hi)];
          EXPECT_EQ(hm.batch, b);
          EXPECT_EQ(hm.head, h);
          expectRel(hm.error.relL2(), head.relL2(), 1e-12, "head rel L2");
          expectRel(hm.error.cosine(), head.cosine(), 1e-12, "head cosine");
          total.add(head);
        }
        // Density over every head and row, not only the sample.
        for (int64_t h = 0; h < 3; ++h)
          for (int64_t row = 0; row < 48; ++row) {
            std::vector<int32_t> kr = w.kept.row(b, h, row / 16);
            densityBlocks += double(kr.size()) / 6.0;
            int64_t tokens = 0;
            for (int32_t j : kr)
              tokens += std::min<int64_t>(96, (j + 1) * 16) - j * 16;
            densityTokens += double(tokens) / 96.0;
          }
      }
      expectRel(m.relL2(), total.relL2(), 1e-12, "rel L2");
      expectRel(m.cosine(), total.cosine(), 1e-12, "cosine");
      expectRel(m.error.errSq, total.errSq, 1e-12, "errSq");
      EXPECT_EQ(m.error.elements, int64_t(2 * 2 * rows.size() * 16));
      expectRel(m.density, densityBlocks / (2 * 3 * 48), 1e-14, "density");
      expectRel(m.tokenDensity, densityTokens / (2 * 3 * 48), 1e-14,
                "token density");
      EXPECT_GT(m.relL2(), 0.0);
      EXPECT_LT(m.massStats.min, 1.0);
    }
}

TEST(QualityMetrics, SampledRowsAreTheSameRowsOfTheFullCall) {
  Workload w(DType::BF16, false, 5);
  q::CallMetrics full = q::evaluate(w.sel, w.qt.view, w.kt.view, w.vt.view,
                                    &w.kept.view, w.scale);
  q::Sample sample = q::Sample::random(7, 99).withHeads({1});
  q::CallMetrics part = q::evaluate(w.sel, w.qt.view, w.kt.view, w.vt.view,
                                    &w.kept.view, w.scale, sample);
  std::vector<int64_t> rows = q::sampleRows(sample, 48);
  ASSERT_EQ(part.mass.size(), 2 * rows.size());
  size_t n = 0;
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t row : rows) // full: batch, head, row
      EXPECT_EQ(part.mass[n++], full.mass[size_t((b * 3 + 1) * 48 + row)]);
  EXPECT_EQ(part.density, full.density);
}

TEST(QualityMetrics, DeterministicForAnyThreadCount) {
  // 45 rows: one thread evaluates groups of 8 (the last one short), 45 threads
  // one row each; the bits must not change.
  Workload w(DType::F16, true, 3);
  const q::Sample sample = q::Sample::random(45, 3);
  q::CallMetrics one = q::evaluate(w.sel, w.qt.view, w.kt.view, w.vt.view,
                                   &w.kept.view, w.scale, sample, 1);
  for (unsigned threads : {2u, 5u, 45u}) {
    q::CallMetrics many = q::evaluate(w.sel, w.qt.view, w.kt.view, w.vt.view,
                                      &w.kept.view, w.scale, sample, threads);
    EXPECT_EQ(one.mass, many.mass) << threads;
    EXPECT_EQ(one.error.errSq, many.error.errSq) << threads;
    EXPECT_EQ(one.error.refSq, many.error.refSq) << threads;
    EXPECT_EQ(one.error.testSq, many.error.testSq) << threads;
    EXPECT_EQ(one.error.dot, many.error.dot) << threads;
  }
}

TEST(QualityMetrics, RejectsBadArguments) {
  Workload w(DType::BF16, false, 1);
  EXPECT_THROW(
      q::evaluate(w.sel, w.qt.view, w.kt.view, w.vt.view, &w.kept.view, 0.0),
      lfc::Error);
  HostTensor shortK(DType::BF16, 2, 95, 3, 16);
  EXPECT_THROW(
      q::evaluate(w.sel, w.qt.view, shortK.view, w.vt.view, &w.kept.view, 1.0),
      lfc::Error);
  w.kept.setRow(0, 0, 0, {3, 1}); // not ascending
  EXPECT_THROW(
      q::evaluate(w.sel, w.qt.view, w.kt.view, w.vt.view, &w.kept.view, 1.0),
      lfc::Error);
  w.kept.setRow(0, 0, 0, {6}); // past the last key block
  EXPECT_THROW(q::keptDensity(w.sel, &w.kept.view), lfc::Error);
  lfc::Tensor4 onDevice = w.kt.view;
  onDevice.device = lfc::Device::Cuda;
  EXPECT_THROW(q::compareOutputs(onDevice, w.kt.view), lfc::Error);
}

// ------------------------------------------------------------ accumulator

q::Record record(int chunk, int layer, double density, std::vector<double> mass,
                 double errSq, double refSq, double ms) {
  q::Record r;
  r.chunk = chunk;
  r.layer = layer;
  r.density = density;
  r.tokenDensity = density;
  r.mass = std::move(mass);
  r.error.errSq = errSq;
  r.error.refSq = refSq;
  r.error.testSq = refSq;
  r.error.dot = refSq - errSq / 2; // |t|=|r|: t.r = (|t|^2+|r|^2-|t-r|^2)/2
  r.error.elements = 4;
  r.attentionMs = ms;
  return r;
}

TEST(QualityAccumulator, SummarizesChunksLayersAndTotals) {
  q::QualityAccumulator acc;
  acc.add(record(1, 0, 1.0, {1, 1}, 0, 4, 2.0));
  acc.add(record(1, 1, 1.0, {1, 1}, 0, 12, q::kNaN));
  acc.add(record(2, 0, 0.5, {0.5, 0.75}, 1, 4, 1.0));
  acc.add(record(2, 1, 0.25, {0.25, 1.0}, 2, 12, 0.5));
  q::ErrorSums carried;
  carried.errSq = 0.01;
  carried.refSq = 1;
  carried.testSq = 1;
  carried.dot = 0.995;
  carried.elements = 8;
  acc.setCarried(2, carried);
  const float s[2] = {1, 0}, d[2] = {1, 0};
  acc.carry(1, s, d, 2);

  std::vector<q::Summary> chunks = acc.chunks();
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[0].key, 1);
  EXPECT_EQ(chunks[0].records, 2);
  EXPECT_EQ(chunks[0].density, 1.0);
  EXPECT_EQ(chunks[0].mass.mean, 1.0);
  EXPECT_EQ(chunks[0].error.relL2(), 0.0);
  EXPECT_EQ(chunks[0].attentionMs, 2.0); // the untimed record is skipped
  EXPECT_TRUE(std::isnan(chunks[0].selectionMs));
  EXPECT_EQ(chunks[0].carried.relL2(), 0.0);
  EXPECT_EQ(chunks[1].density, 0.375);
  EXPECT_EQ(chunks[1].mass.rows, 4);
  EXPECT_EQ(chunks[1].mass.mean, 0.625);
  EXPECT_EQ(chunks[1].mass.min, 0.25);
  EXPECT_EQ(chunks[1].mass.p10, 0.25);
  EXPECT_DOUBLE_EQ(chunks[1].error.relL2(), std::sqrt(3.0 / 16.0));
  EXPECT_EQ(chunks[1].attentionMs, 1.5);
  EXPECT_DOUBLE_EQ(chunks[1].carried.relL2(), 0.1);

  std::vector<q::Summary> layers = acc.layers();
  ASSERT_EQ(layers.size(), 2u);
  EXPECT_EQ(layers[1].key, 1);
  EXPECT_EQ(layers[1].density, 0.625);
  EXPECT_DOUBLE_EQ(layers[1].error.relL2(), std::sqrt(2.0 / 24.0));

  q::Summary t = acc.totals();
  EXPECT_EQ(t.records, 4);
  EXPECT_EQ(t.density, 0.6875);
  EXPECT_EQ(t.mass.rows, 8);
  EXPECT_EQ(t.mass.min, 0.25);
  EXPECT_EQ(t.mass.p10, 0.25);
  EXPECT_DOUBLE_EQ(t.error.relL2(), std::sqrt(3.0 / 32.0));
  EXPECT_EQ(t.attentionMs, 3.5);
  EXPECT_DOUBLE_EQ(t.carried.relL2(), 0.1); // the last chunk's
}

TEST(QualityAccumulator, AddsCallMetrics) {
  TwoKeys c(2.0f, 0.5f, 1, 0, 0, 1);
  q::CallMetrics m = c.run({0}, 1.0);
  q::QualityAccumulator acc;
  q::Record &r = acc.add(3, 1, 7, m, 0.5, 1.5, 4.0);
  EXPECT_EQ(r.chunk, 3);
  EXPECT_EQ(r.pass, 1);
  EXPECT_EQ(r.layer, 7);
  EXPECT_EQ(r.density, 0.5);
  EXPECT_EQ(r.mass, m.mass);
  EXPECT_EQ(r.error.relL2(), m.relL2());
  EXPECT_EQ(r.selectionMs, 0.5);
  EXPECT_EQ(r.attentionMs, 1.5);
  EXPECT_EQ(r.denseAttentionMs, 4.0);
  EXPECT_EQ(acc.totals().mass.mean, m.massStats.mean);
}

} // namespace
