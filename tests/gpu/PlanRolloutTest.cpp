// Compiled plans executed on the GPU over a full-length synthetic rollout
// (every chunk and pass, a few layers), against the CPU reference backend:
// identical kept blocks in every selection, attention within the documented
// tolerance.
//
// Plans come from $LFC_TEST_PLANS_DIR (one directory per plan, as `lfc compile`
// writes them; the build compiles every example policy into <build>/plans when
// the compiler is built). Without a GPU or without plans the tests skip.
#include "lfc/cuda_backend.h"
#include "lfc/executor.h"
#include "lfc/runtime.h"
#include "tests/gpu/GpuTestUtil.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>

namespace lfc::test {
namespace {

namespace fs = std::filesystem;

std::string plansDir() {
  if (const char *d = std::getenv("LFC_TEST_PLANS_DIR"))
    return d;
#ifdef LFC_TEST_DEFAULT_PLANS_DIR
  return LFC_TEST_DEFAULT_PLANS_DIR;
#else
  return "";
#endif
}

std::vector<std::string> planNames() {
  std::vector<std::string> names;
  const std::string dir = plansDir();
  std::error_code ec;
  if (dir.empty() || !fs::is_directory(dir, ec))
    return names;
  for (const auto &e : fs::directory_iterator(dir, ec))
    if (fs::exists(e.path() / "plan.toml"))
      names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

/// Adds small pass-dependent noise to rows [r0, r1) of every head (a cheap
/// LCG: the content only has to change between passes, identically for both
/// backends, which read the same bits).
void perturbRows(MirroredTensor &t, int64_t r0, int64_t r1, uint32_t seed,
                 float scale) {
  uint32_t s = seed * 2654435761u + 12345u;
  for (int64_t r = r0; r < r1; ++r)
    for (int64_t h = 0; h < t.h; ++h)
      for (int64_t d = 0; d < t.d; ++d) {
        s = s * 1664525u + 1013904223u;
        const float u = float(s >> 8) / float(1u << 24) - 0.5f;
        t.set(0, r, h, d, t.value(0, r, h, d) + scale * u);
      }
  // BSHD: rows [r0, r1) are one contiguous range.
  const size_t row = size_t(t.h * t.d);
  t.dev.upload(t.host.data() + size_t(r0) * row, size_t(r1 - r0) * row * 2,
               size_t(r0) * row * 2);
}

Tensor4 prefix(Tensor4 t, int64_t tokens) {
  t.tokens = tokens;
  return t;
}

/// One head of a [1, S, H, D] view.
Tensor4 head(Tensor4 t, int64_t h) {
  t.data = static_cast<uint16_t *>(t.data) + h * t.strideH;
  t.heads = 1;
  return t;
}

struct Downloaded {
  std::vector<int32_t> idx, cnt;
};
Downloaded download(const KeptBlocks &k) {
  Downloaded d;
  const int64_t rows = k.batch * k.heads * k.queryBlocks;
  d.idx.resize(size_t(rows * k.maxKept));
  d.cnt.resize(size_t(rows));
  auto &drv = cuda::driver();
  cuda::check(drv.cuMemcpyDtoH_v2(d.idx.data(),
                                  reinterpret_cast<CUdeviceptr>(k.idx),
                                  d.idx.size() * 4),
              "cuMemcpyDtoH", "kept idx");
  cuda::check(drv.cuMemcpyDtoH_v2(d.cnt.data(),
                                  reinterpret_cast<CUdeviceptr>(k.cnt),
                                  d.cnt.size() * 4),
              "cuMemcpyDtoH", "kept cnt");
  return d;
}

class PlanRollout : public ::testing::TestWithParam<std::string> {};

TEST_P(PlanRollout, MatchesCpuBackendInEveryChunkAndPass) {
  SKIP_WITHOUT_GPU();
  if (GetParam() == "no-plans") {
    if (std::getenv("LFC_TEST_PLANS_DIR"))
      FAIL() << "LFC_TEST_PLANS_DIR=" << plansDir()
             << " holds no plan directory (lfc compile POLICY -o DIR/NAME)";
    GTEST_SKIP() << "no compiled plans (set LFC_TEST_PLANS_DIR)";
  }
  const Plan plan = loadPlan(plansDir() + "/" + GetParam());
  const PlanGeometry &g = plan.geometry;
  // The test drives the logical KV sequence of each chunk directly (sink and
  // window frames, then the chunk's own): with a rolling window its length
  // stops growing, and its rows [lk - lq, lk) are still the current chunk.
  auto gpu = createCudaBackend();
  auto cpu = createCpuBackend();
  const int layers = std::min(g.layers, 2);
  PlanRunner run(*gpu, plan, 1);
  std::unique_ptr<BoundPlan> cpuBound = cpu->bind(plan);

  const int64_t T = g.tokensPerFrame, H = g.heads, D = g.headDim;
  const int64_t lq = int64_t(g.framesPerChunk) * T;
  const int64_t maxLk = plan.chunks.back().selection.keyTokens();
  VideoLikeSpec spec;
  spec.tokensPerFrame = int(T);
  std::vector<std::unique_ptr<MirroredTensor>> ks, vs;
  for (int l = 0; l < layers; ++l) {
    ks.push_back(std::make_unique<MirroredTensor>(g.dtype, Layout::BSHD, 1,
                                                  maxLk, H, D));
    vs.push_back(std::make_unique<MirroredTensor>(g.dtype, Layout::BSHD, 1,
                                                  maxLk, H, D));
    fillVideoLike(*ks.back(), spec, 100 + l, /*isKey=*/true);
    fillRandom(*vs.back(), 200 + l);
  }
  MirroredTensor q(g.dtype, Layout::BSHD, 1, lq, H, D);
  MirroredTensor o(g.dtype, Layout::BSHD, 1, lq, H, D);
  fillVideoLike(q, spec, 100, /*isKey=*/false);

  // CPU kept lists of the last selection per layer (a per_chunk refresh
  // reuses them).
  int64_t maxKept = 1, maxQb = 1;
  for (const PlanChunk &c : plan.chunks) {
    maxKept = std::max<int64_t>(maxKept, c.selection.keyBlocks());
    maxQb = std::max<int64_t>(maxQb, c.selection.queryBlocks());
  }
  std::vector<std::unique_ptr<MirroredKept>> cpuKept;
  for (int l = 0; l < layers; ++l)
    cpuKept.push_back(std::make_unique<MirroredKept>(1, H, maxQb, maxKept));

  int64_t keptCompared = 0, attnCompared = 0, elements = 0;
  double worst = 0;
  const double atol = g.dtype == DType::BF16 ? 2e-2 : 5e-3, rtol = atol;
  for (const PlanChunk &c : plan.chunks) {
    const ChunkSelection &sel = c.selection;
    const int64_t lk = sel.keyTokens(), nqb = sel.queryBlocks();
    for (int pass = 0; pass < g.passesPerChunk; ++pass) {
      for (int l = 0; l < layers; ++l) {
        const uint32_t seed = uint32_t(c.index * 1000 + pass * 10 + l);
        perturbRows(*ks[size_t(l)], lk - lq, lk, seed, 0.2f);
        perturbRows(*vs[size_t(l)], lk - lq, lk, seed + 7, 0.2f);
        perturbRows(q, 0, lq, seed + 13, 0.2f);
        const Tensor4 kd = prefix(ks[size_t(l)]->deviceView(), lk),
                      vd = prefix(vs[size_t(l)]->deviceView(), lk);
        run.attention(c.index, pass, l, q.deviceView(), kd, vd, o.deviceView());
        gpu->synchronize();

        // The CPU reference selection, refreshed as the plan says.
        MirroredKept &ck = *cpuKept[size_t(l)];
        const bool selects = !sel.dense;
        if (selects && (c.selectEveryPass || pass == 0)) {
          KeptBlocks view{ck.idx.data(), ck.cnt.data(),  1, H,
                          nqb,           sel.keyBlocks()};
          cpuBound->select(c.index, q.hostView(),
                           prefix(ks[size_t(l)]->hostView(), lk), nullptr,
                           view);
        }
        // Identical kept blocks wherever the GPU selected.
        if (run.bound().selects(c.index)) {
          const KeptBlocks *gk = run.kept(l);
          ASSERT_NE(gk, nullptr);
          const Downloaded d = download(*gk);
          int64_t differing = 0;
          std::string first;
          for (int64_t r = 0; r < H * nqb; ++r) {
            bool same = d.cnt[size_t(r)] == ck.cnt[size_t(r)];
            for (int64_t n = 0; same && n < ck.cnt[size_t(r)]; ++n)
              same = d.idx[size_t(r * gk->maxKept + n)] ==
                     ck.idx[size_t(r * sel.keyBlocks() + n)];
            if (!same && differing++ == 0)
              first = "row " + std::to_string(r) + ": cpu cnt " +
                      std::to_string(ck.cnt[size_t(r)]) + ", gpu cnt " +
                      std::to_string(d.cnt[size_t(r)]);
          }
          EXPECT_EQ(differing, 0)
              << GetParam() << " chunk " << c.index << " pass " << pass
              << " layer " << l << ": " << first;
          ++keptCompared;
        }
        // Attention against the CPU backend on one head (rotating), in the
        // first and the last (cache-refresh) pass of the last layer: the CPU
        // computes every key of the kept blocks, which is slow at full size.
        if (l == layers - 1 && (pass == 0 || pass == g.passesPerChunk - 1)) {
          const int64_t h = (c.index + pass) % H;
          MirroredTensor ref(g.dtype, Layout::BSHD, 1, lq, 1, D);
          KeptBlocks hk{ck.idx.data() + h * nqb * sel.keyBlocks(),
                        ck.cnt.data() + h * nqb,
                        1,
                        1,
                        nqb,
                        sel.keyBlocks()};
          cpu->attention(sel, head(q.hostView(), h),
                         head(prefix(ks[size_t(l)]->hostView(), lk), h),
                         head(prefix(vs[size_t(l)]->hostView(), lk), h),
                         sel.dense ? nullptr : &hk, ref.hostView(),
                         g.softmaxScale);
          const std::vector<uint16_t> got = o.download();
          int64_t bad = 0;
          std::string firstBad;
          for (int64_t r = 0; r < lq; ++r)
            for (int64_t d = 0; d < D; ++d) {
              const double want = ref.value(0, r, 0, d);
              const double have = o.decode(got[size_t((r * H + h) * D + d)]);
              const double err = std::abs(have - want);
              worst = std::max(worst, err);
              if (!(err <= atol + rtol * std::abs(want)) && bad++ == 0)
                firstBad = "row " + std::to_string(r) + " d " +
                           std::to_string(d) + ": gpu " + std::to_string(have) +
                           " cpu " + std::to_string(want);
            }
          EXPECT_EQ(bad, 0) << GetParam() << " chunk " << c.index << " pass "
                            << pass << " head " << h << ": " << firstBad;
          ++attnCompared;
          elements += lq * D;
        }
      }
    }
    // The cache-refresh pass wrote the chunk's clean keys: commit them.
    for (int l = 0; l < layers; ++l)
      run.commit(l, prefix(ks[size_t(l)]->deviceView(), sel.keyTokens()),
                 sel.keyTokens());
  }
  std::printf("[ plan %s ] %zu chunks x %d passes x %d layers: %lld kept-list "
              "comparisons, %lld attention comparisons (%lld elements, max "
              "|gpu - cpu| %.3g), %lld GPU selections; kernels per chunk:\n",
              GetParam().c_str(), plan.chunks.size(), g.passesPerChunk, layers,
              (long long)keptCompared, (long long)attnCompared,
              (long long)elements, worst, (long long)run.selections());
  for (const PlanChunk &c : plan.chunks)
    std::printf("    chunk %d: %s\n", c.index,
                run.bound().kernelsFor(c.index).c_str());
  EXPECT_GT(attnCompared, 0);
}

std::vector<std::string> paramsOrPlaceholder() {
  std::vector<std::string> names = planNames();
  if (names.empty())
    names.push_back("no-plans");
  return names;
}

INSTANTIATE_TEST_SUITE_P(Plans, PlanRollout,
                         ::testing::ValuesIn(paramsOrPlaceholder()),
                         [](const ::testing::TestParamInfo<std::string> &info) {
                           std::string n = info.param;
                           for (char &ch : n)
                             if (!std::isalnum(static_cast<unsigned char>(ch)))
                               ch = '_';
                           return n;
                         });

} // namespace
} // namespace lfc::test
