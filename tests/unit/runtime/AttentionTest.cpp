// CPU block-sparse attention vs a naive double-precision softmax over an
// explicit token-level mask built from the kept lists.
//
// Tolerance: the backend accumulates in fp32 and rounds once to the output
// dtype, so the error is dominated by that rounding: at most half an ulp, i.e.
// 2^-8 |ref| for bf16 and 2^-11 |ref| for fp16, plus 1e-4 absolute for fp32
// accumulation over a few thousand keys.
#include "TestUtil.h"

#include "lfc/runtime.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace {

using lfc::ChunkSelection;
using lfc::DType;
using lfc::test::HostKept;
using lfc::test::HostTensor;

struct AttnCase {
  const char *name;
  int T, F, visible, blockQ, blockK, dim, heads, batch;
  DType dtype;
  bool bhsd;
  double keepFraction; // of key blocks per query block (random subsets)
};

// gtest prints the case name instead of the struct's bytes.
void PrintTo(const AttnCase &c, std::ostream *os) { *os << c.name; }

ChunkSelection makeSel(const AttnCase &c) {
  ChunkSelection s;
  s.tokensPerFrame = c.T;
  s.framesPerChunk = c.F;
  s.visibleFrames = c.visible;
  s.blockQ = c.blockQ;
  s.blockK = c.blockK;
  s.keptKeyBlocks = 1;
  return s;
}

// Random ascending kept lists; every fifth row is empty to cover the
// zero-output rule.
HostKept randomKept(const ChunkSelection &sel, int64_t B, int64_t H,
                    double fraction, std::mt19937 &rng) {
  const int64_t nqb = sel.queryBlocks(), nkb = sel.keyBlocks();
  HostKept kept(B, H, nqb, nkb);
  std::bernoulli_distribution take(fraction);
  for (int64_t r = 0; r < B * H * nqb; ++r) {
    int32_t n = 0;
    if (r % 5 != 4)
      for (int64_t j = 0; j < nkb; ++j)
        if (take(rng))
          kept.idx[size_t(r * nkb + n++)] = int32_t(j);
    kept.cnt[size_t(r)] = n;
  }
  return kept;
}

// out[b][s][h][d] in double over the keys the mask allows (kept == nullptr: all
// of them).
std::vector<double> oracle(const ChunkSelection &sel, const HostTensor &q,
                           const HostTensor &k, const HostTensor &v,
                           const HostKept *kept, double scale) {
  const int64_t B = q.view.batch, H = q.view.heads, D = q.view.dim;
  const int64_t Lq = sel.queryTokens(), Lk = sel.keyTokens(),
                nqb = sel.queryBlocks();
  std::vector<double> out(size_t(B * Lq * H * D), 0.0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < nqb; ++i) {
        std::vector<char> allowed(size_t(Lk), kept == nullptr);
        if (kept)
          for (int32_t j : kept->row(b, h, i))
            for (int64_t t = int64_t(j) * sel.blockK;
                 t < std::min(Lk, int64_t(j + 1) * sel.blockK); ++t)
              allowed[size_t(t)] = 1;
        for (int64_t s = i * sel.blockQ; s < std::min(Lq, (i + 1) * sel.blockQ);
             ++s) {
          std::vector<double> score(size_t(Lk), 0.0);
          double maxScore = -INFINITY;
          for (int64_t t = 0; t < Lk; ++t) {
            if (!allowed[size_t(t)])
              continue;
            double dot = 0;
            for (int64_t d = 0; d < D; ++d)
              dot += double(q.get(b, s, h, d)) * double(k.get(b, t, h, d));
            score[size_t(t)] = scale * dot;
            maxScore = std::max(maxScore, score[size_t(t)]);
          }
          double denom = 0;
          for (int64_t t = 0; t < Lk; ++t)
            if (allowed[size_t(t)])
              denom += std::exp(score[size_t(t)] - maxScore);
          for (int64_t t = 0; t < Lk; ++t) {
            if (!allowed[size_t(t)])
              continue;
            double p = std::exp(score[size_t(t)] - maxScore) / denom;
            for (int64_t d = 0; d < D; ++d)
              out[size_t(((b * Lq + s) * H + h) * D + d)] +=
                  p * double(v.get(b, t, h, d));
          }
        }
      }
  return out;
}

void expectClose(const HostTensor &o, const std::vector<double> &ref) {
  const double rtol =
      o.view.dtype == DType::BF16 ? std::ldexp(1.0, -8) : std::ldexp(1.0, -11);
  const double atol = 1e-4;
  const int64_t Lq = o.view.tokens, H = o.view.heads, D = o.view.dim;
  int failures = 0;
  for (int64_t b = 0; b < o.view.batch; ++b)
    for (int64_t s = 0; s < Lq; ++s)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t d = 0; d < D; ++d) {
          double want = ref[size_t(((b * Lq + s) * H + h) * D + d)];
          double got = o.get(b, s, h, d);
          if (!(std::fabs(got - want) <= atol + rtol * std::fabs(want)) &&
              failures++ < 5)
            ADD_FAILURE() << "out[" << b << "][" << s << "][" << h << "][" << d
                          << "] = " << got << ", reference " << want;
        }
  EXPECT_EQ(failures, 0);
}

class AttentionVsOracle : public ::testing::TestWithParam<AttnCase> {};

TEST_P(AttentionVsOracle, RandomKeptLists) {
  const AttnCase &c = GetParam();
  ChunkSelection sel = makeSel(c);
  std::mt19937 rng(99 + c.dim + c.blockK);
  HostTensor q(c.dtype, c.batch, sel.queryTokens(), c.heads, c.dim, c.bhsd);
  HostTensor k(c.dtype, c.batch, sel.keyTokens(), c.heads, c.dim, c.bhsd);
  HostTensor v(c.dtype, c.batch, sel.keyTokens(), c.heads, c.dim, c.bhsd);
  HostTensor o(c.dtype, c.batch, sel.queryTokens(), c.heads, c.dim, c.bhsd);
  q.fillNormal(rng);
  k.fillNormal(rng);
  v.fillNormal(rng);
  HostKept kept = randomKept(sel, c.batch, c.heads, c.keepFraction, rng);
  const float scale = 1.0f / std::sqrt(float(c.dim));
  lfc::createCpuBackend(2)->attention(sel, q.view, k.view, v.view, &kept.view,
                                      o.view, scale);
  expectClose(o, oracle(sel, q, k, v, &kept, scale));
}

// T, F, visible, Bq, Bk, dim, heads, batch
INSTANTIATE_TEST_SUITE_P(
    Cases, AttentionVsOracle,
    ::testing::Values(AttnCase{"bshdBf16D64", 100, 2, 4, 64, 64, 64, 2, 2,
                               DType::BF16, false, 0.5},
                      AttnCase{"bhsdF16D128", 100, 2, 3, 32, 128, 128, 2, 1,
                               DType::F16, true, 0.6},
                      AttnCase{"ragged1560Bk128", 1560, 1, 2, 128, 128, 64, 1,
                               1, DType::BF16, false, 0.2},
                      AttnCase{"ragged1560Bk64Bhsd", 1560, 1, 2, 64, 64, 128, 1,
                               1, DType::BF16, true, 0.1},
                      AttnCase{"f16Bk16", 40, 1, 3, 16, 16, 64, 1, 2,
                               DType::F16, false, 0.4}),
    [](const auto &info) { return std::string(info.param.name); });

TEST(Attention, EveryBlockKeptEqualsDenseBitForBit) {
  AttnCase c{"", 100, 2, 4, 64, 64, 64, 2, 1, DType::BF16, false, 1.0};
  ChunkSelection sel = makeSel(c);
  std::mt19937 rng(5);
  HostTensor q(c.dtype, 1, sel.queryTokens(), 2, 64),
      k(c.dtype, 1, sel.keyTokens(), 2, 64);
  HostTensor v(c.dtype, 1, sel.keyTokens(), 2, 64);
  HostTensor sparse(c.dtype, 1, sel.queryTokens(), 2, 64), dense = sparse;
  dense.view.data = dense.storage.data();
  q.fillNormal(rng);
  k.fillNormal(rng);
  v.fillNormal(rng);
  HostKept all(1, 2, sel.queryBlocks(), sel.keyBlocks());
  for (int64_t r = 0; r < 2 * sel.queryBlocks(); ++r) {
    std::iota(all.idx.begin() + r * sel.keyBlocks(),
              all.idx.begin() + (r + 1) * sel.keyBlocks(), 0);
    all.cnt[size_t(r)] = int32_t(sel.keyBlocks());
  }
  auto backend = lfc::createCpuBackend(2);
  const float scale = 0.125f;
  backend->attention(sel, q.view, k.view, v.view, &all.view, sparse.view,
                     scale);
  backend->attention(sel, q.view, k.view, v.view, nullptr, dense.view, scale);
  EXPECT_EQ(sparse.storage, dense.storage);
  expectClose(dense, oracle(sel, q, k, v, nullptr, scale));
}

TEST(Attention, EmptyKeptListGivesZerosNotNaN) {
  AttnCase c{"", 64, 1, 2, 32, 32, 64, 1, 1, DType::F16, false, 0};
  ChunkSelection sel = makeSel(c);
  std::mt19937 rng(6);
  HostTensor q(c.dtype, 1, 64, 1, 64), k(c.dtype, 1, 128, 1, 64),
      v(c.dtype, 1, 128, 1, 64);
  HostTensor o(c.dtype, 1, 64, 1, 64);
  q.fillNormal(rng);
  k.fillNormal(rng);
  v.fillNormal(rng);
  std::fill(o.storage.begin(), o.storage.end(),
            uint16_t(0x7e00)); // NaN: must be overwritten
  HostKept kept(1, 1, 2, 4);
  kept.cnt[0] = 0; // query block 0 keeps nothing
  kept.cnt[1] = 2;
  kept.idx[4] = 1;
  kept.idx[5] = 3;
  lfc::createCpuBackend(1)->attention(sel, q.view, k.view, v.view, &kept.view,
                                      o.view, 0.125f);
  for (int64_t s = 0; s < 32; ++s)
    for (int64_t d = 0; d < 64; ++d)
      ASSERT_EQ(o.storage[size_t(o.index(0, s, 0, d))], 0)
          << "row " << s << " dim " << d;
  expectClose(o, oracle(sel, q, k, v, &kept, 0.125));
}

TEST(Attention, SelectedBlocksMatchOracle) {
  // The two halves together, as a session runs them: select, then attend over
  // the result.
  ChunkSelection sel;
  sel.tokensPerFrame = 130;
  sel.framesPerChunk = 2;
  sel.visibleFrames = 8;
  sel.sinkFrames = 1;
  sel.nearFrames = 2;
  sel.framesTopK = 4;
  sel.blockQ = 64;
  sel.blockK = 64;
  sel.keptKeyBlocks = 6;
  std::mt19937 rng(12);
  HostTensor q(DType::BF16, 1, sel.queryTokens(), 2, 64),
      k(DType::BF16, 1, sel.keyTokens(), 2, 64);
  HostTensor v(DType::BF16, 1, sel.keyTokens(), 2, 64),
      o(DType::BF16, 1, sel.queryTokens(), 2, 64);
  q.fillNormal(rng);
  k.fillNormal(rng);
  v.fillNormal(rng);
  HostKept kept(1, 2, sel.queryBlocks(), 6);
  auto backend = lfc::createCpuBackend(2);
  backend->select(sel, q.view, k.view, nullptr, kept.view);
  backend->attention(sel, q.view, k.view, v.view, &kept.view, o.view, 0.125f);
  for (int32_t cnt : kept.cnt)
    EXPECT_EQ(cnt, 6);
  expectClose(o, oracle(sel, q, k, v, &kept, 0.125));
}

TEST(Attention, RejectsBadArguments) {
  AttnCase c{"", 64, 1, 2, 32, 32, 64, 1, 1, DType::BF16, false, 0};
  ChunkSelection sel = makeSel(c);
  HostTensor q(DType::BF16, 1, 64, 1, 64), k(DType::BF16, 1, 128, 1, 64);
  HostTensor v(DType::BF16, 1, 128, 1, 64), o(DType::BF16, 1, 64, 1, 64);
  HostTensor vHalf(DType::F16, 1, 128, 1, 64),
      oShort(DType::BF16, 1, 63, 1, 64);
  auto backend = lfc::createCpuBackend(1);
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
      [&] {
        backend->attention(sel, q.view, k.view, vHalf.view, nullptr, o.view, 1);
      },
      "attention: v: expected dtype bf16, got fp16");
  expectError(
      [&] {
        backend->attention(sel, q.view, k.view, v.view, nullptr, oShort.view,
                           1);
      },
      "attention: o: expected shape [batch, tokens, heads, head_dim] = [1, 64, "
      "1, 64], "
      "got [1, 63, 1, 64]");
  HostKept unsorted(1, 1, 2, 4);
  unsorted.cnt[0] = 2;
  unsorted.cnt[1] = 1;
  unsorted.idx[0] = 3;
  unsorted.idx[1] = 1;
  unsorted.idx[4] = 0;
  expectError(
      [&] {
        backend->attention(sel, q.view, k.view, v.view, &unsorted.view, o.view,
                           1);
      },
      "attention: kept.idx row 0 must hold strictly ascending key blocks in "
      "[0, 4), got 1 at "
      "position 1");
  HostKept overfull(1, 1, 2, 4);
  overfull.cnt[0] = 5;
  overfull.cnt[1] = 0;
  expectError(
      [&] {
        backend->attention(sel, q.view, k.view, v.view, &overfull.view, o.view,
                           1);
      },
      "attention: kept.cnt[0] = 5 is outside [0, maxKept (4)]");
  lfc::Tensor4 overlapping = k.view;
  overlapping.strideS = 8;
  overlapping.strideB = 8 * 128;
  expectError(
      [&] {
        backend->attention(sel, q.view, overlapping, v.view, nullptr, o.view,
                           1);
      },
      "attention: k: strides (strideS 8, strideH 64) overlap rows of head_dim "
      "64");
  expectError(
      [&] {
        backend->attention(sel, q.view, k.view, v.view, nullptr, o.view, 0);
      },
      "attention: scale must be a positive finite number");
}

} // namespace
