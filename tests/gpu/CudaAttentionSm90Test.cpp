// The sm_90a TMA warp-specialized attention kernel vs the CPU reference
// backend: block shapes that give 64- and 128-key tiles, several tiles per
// key block, query blocks spanning two CTAs, tensors shorter than one TMA box,
// ragged tails, BHSD, fp16, head_dim 64, dense and empty rows, and items
// split across two CTAs and CTAs that run several items (the tail split and
// the persistent grid, forced with a pretended SM count). Also the portable
// mma.sync kernel, forced, since the H200 is the only GPU the tests run on.
#include "lfc/cuda_backend.h"
#include "lfc/runtime.h"
#include "runtime/cuda/CudaBackend.h"
#include "tests/gpu/GpuTestUtil.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

namespace lfc::test {
namespace {

struct TmaCase {
  const char *name;
  DType dtype;
  int dim, blockQ, blockK;
  Layout layout;
  int tokensPerFrame, framesPerChunk, visibleFrames;
  int64_t batch, heads;
  double density; ///< <= 0: dense (no kept list)
  /// > 0: schedule (tail split, persistent grid) as if the GPU had this many
  /// SMs.
  int splitSms = 0;
  /// Force the portable mma.sync kernel (128x64 tiles, 4 warps) that every
  /// arch but sm_90a runs: the H200 is the only GPU the tests see, so this is
  /// where that kernel gets checked.
  bool portable = false;
};

std::ostream &operator<<(std::ostream &os, const TmaCase &c) {
  return os << c.name;
}

class TmaAttentionVsCpu : public ::testing::TestWithParam<TmaCase> {};

TEST_P(TmaAttentionVsCpu, MatchesReference) {
  std::string why;
  if (!cudaBackendAvailable(&why))
    GTEST_SKIP() << "no CUDA backend: " << why;
  const TmaCase c = GetParam();
  cuda::CudaBackend gpu;
  if (gpu.arch() != "sm_90a")
    GTEST_SKIP() << "the TMA kernel is sm_90a only; this GPU is " << gpu.arch();
  const bool dense = c.density <= 0;
  if (c.portable)
    gpu.setAttnTiles(128, 64, 4, /*kernel=mma.sync*/ 0);
  const std::string kernel = cuda::kernelName(
      gpu.attnVariant(c.dtype, c.dim, c.blockQ, c.blockK, dense));
  // Otherwise this test would silently cover another kernel: the TMA kernel is
  // the default on sm_90a for block_q >= 128, block_k >= 64.
  if (c.portable)
    ASSERT_EQ(kernel.find("wgmma"), std::string::npos) << kernel;
  else
    ASSERT_NE(kernel.find("_wgmma_tma_"), std::string::npos) << kernel;

  ChunkSelection sel;
  sel.tokensPerFrame = c.tokensPerFrame;
  sel.framesPerChunk = c.framesPerChunk;
  sel.visibleFrames = c.visibleFrames;
  sel.blockQ = c.blockQ;
  sel.blockK = c.blockK;
  sel.keptKeyBlocks = int(sel.keyBlocks());
  const int64_t B = c.batch, H = c.heads, D = c.dim;
  const int64_t lq = sel.queryTokens(), lk = sel.keyTokens();
  const int64_t nqb = sel.queryBlocks(), nkb = sel.keyBlocks();
  MirroredTensor q(c.dtype, c.layout, B, lq, H, D),
      k(c.dtype, c.layout, B, lk, H, D), v(c.dtype, c.layout, B, lk, H, D),
      oCpu(c.dtype, c.layout, B, lq, H, D),
      oGpu(c.dtype, c.layout, B, lq, H, D);
  fillRandom(q, 31, 1.f);
  fillRandom(k, 32, 1.f);
  fillRandom(v, 33, 1.f);
  oGpu.dev.fill(0xFF); // NaN in both dtypes: an unwritten row fails

  MirroredKept kept(B, H, nqb, nkb);
  // One query block keeps nothing: its rows must be exact zeros. Split cases
  // empty the last one (the last item, which the tail split splits; items and
  // rows coincide for block_q 128), the others query block 1 of (b 0, h 0).
  const bool emptyRow = !dense && nqb > 1;
  const int64_t emptyB = c.splitSms ? B - 1 : 0,
                emptyH = c.splitSms ? H - 1 : 0,
                emptyBlock = c.splitSms ? nqb - 1 : 1;
  if (!dense)
    fillRandomKept(
        kept, nkb,
        std::max<int64_t>(1, int64_t(std::floor(c.density * double(nkb)))), 9,
        emptyRow
            ? std::vector<int64_t>{(emptyB * H + emptyH) * nqb + emptyBlock}
            : std::vector<int64_t>{});
  gpu.setTailSplitSms(c.splitSms);
  KeptBlocks hk = kept.hostView(), dk = kept.deviceView();
  auto cpu = createCpuBackend();
  const float scale = 1.f / std::sqrt(float(D));
  cpu->attention(sel, q.hostView(), k.hostView(), v.hostView(),
                 dense ? nullptr : &hk, oCpu.hostView(), scale);
  gpu.attention(sel, q.deviceView(), k.deviceView(), v.deviceView(),
                dense ? nullptr : &dk, oGpu.deviceView(), scale);
  gpu.synchronize();
  const std::vector<uint16_t> out = oGpu.download();

  const double atol = c.dtype == DType::BF16 ? 2e-2 : 5e-3, rtol = atol;
  int64_t bad = 0;
  std::string first;
  for (size_t i = 0; i < out.size(); ++i) {
    const double ref = oCpu.decode(oCpu.host[i]), got = oGpu.decode(out[i]);
    if (!(std::abs(got - ref) <= atol + rtol * std::abs(ref)) && bad++ == 0) {
      std::ostringstream os;
      os << "element " << i << ": gpu " << got << " cpu " << ref;
      first = os.str();
    }
  }
  EXPECT_EQ(bad, 0) << kernel << ", first: " << first;
  if (emptyRow) {
    const Tensor4 t = oGpu.hostView();
    for (int64_t s = emptyBlock * c.blockQ;
         s < std::min<int64_t>((emptyBlock + 1) * c.blockQ, lq); ++s)
      for (int64_t d = 0; d < D; ++d)
        ASSERT_EQ(out[size_t(t.offset(emptyB, s, emptyH) + d)], 0u)
            << kernel << ": row " << s << " of an empty query block";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, TmaAttentionVsCpu,
    ::testing::Values(
        // The portable mma.sync kernel: ragged 1560-token frames, both layouts,
        // both dtypes and head sizes, dense and sparse with an empty row.
        TmaCase{"portable_bf16_d128_b128_bshd_p20", DType::BF16, 128, 128, 128,
                Layout::BSHD, 1560, 1, 3, 1, 2, 0.2, 0, true},
        TmaCase{"portable_fp16_d64_bq128_bk64_bhsd_p50", DType::F16, 64, 128,
                64, Layout::BHSD, 200, 2, 5, 2, 2, 0.5, 0, true},
        TmaCase{"portable_bf16_d128_b128_bshd_dense", DType::BF16, 128, 128,
                128, Layout::BSHD, 1560, 1, 3, 1, 2, 0, 0, true},
        // The reference geometry's frame (1560 tokens: ragged 128-blocks).
        TmaCase{"ref_bf16_d128_b128_bshd_p20", DType::BF16, 128, 128, 128,
                Layout::BSHD, 1560, 1, 3, 1, 2, 0.2},
        TmaCase{"ref_bf16_d128_b128_bshd_dense", DType::BF16, 128, 128, 128,
                Layout::BSHD, 1560, 1, 3, 1, 2, 0},
        // 64-key tiles, fp16, head_dim 64, BHSD, batch 2.
        TmaCase{"fp16_d64_bq128_bk64_bhsd_p50", DType::F16, 64, 128, 64,
                Layout::BHSD, 200, 2, 5, 2, 2, 0.5},
        TmaCase{"bf16_d128_bq128_bk64_bshd_dense", DType::BF16, 128, 128, 64,
                Layout::BSHD, 200, 2, 4, 1, 3, 0},
        // A query block of two CTAs; key blocks of two 128-key tiles.
        TmaCase{"fp16_d128_bq256_bk128_bhsd_p40", DType::F16, 128, 256, 128,
                Layout::BHSD, 300, 2, 4, 2, 1, 0.4},
        TmaCase{"bf16_d64_bq128_bk256_bshd_p50", DType::BF16, 64, 128, 256,
                Layout::BSHD, 300, 2, 5, 2, 2, 0.5},
        // 40 queries and 160 keys: both shorter than one TMA box.
        TmaCase{"bf16_d128_b128_short_dense", DType::BF16, 128, 128, 128,
                Layout::BSHD, 40, 1, 4, 1, 1, 0},
        // Tail split: 26 items on a pretended 20 SMs split the last 6 (3 or 4
        // of 7 kept blocks per half); 16 items on 12 SMs split the last 4, one
        // kept 64-key tile each, so one half of each sees no key at all.
        TmaCase{"split_ref_bf16_d128_b128_bshd_p20", DType::BF16, 128, 128, 128,
                Layout::BSHD, 1560, 1, 3, 1, 2, 0.2, 20},
        TmaCase{"split_ref_bf16_d128_b128_bshd_dense", DType::BF16, 128, 128,
                128, Layout::BSHD, 1560, 1, 3, 1, 2, 0, 20},
        TmaCase{"split_fp16_d64_bq128_bk64_bhsd_p5", DType::F16, 64, 128, 64,
                Layout::BHSD, 200, 2, 5, 2, 2, 0.05, 12},
        // Persistent grid without a split: 16 items on 8 pretended SMs, two
        // units per CTA, K/V stages and phases running on across them.
        TmaCase{"persist_fp16_d64_bq128_bk64_bhsd_p50", DType::F16, 64, 128, 64,
                Layout::BHSD, 200, 2, 5, 2, 2, 0.5, 8},
        TmaCase{"persist_bf16_d128_b128_bshd_p20", DType::BF16, 128, 128, 128,
                Layout::BSHD, 1560, 1, 3, 1, 2, 0.2, 5}),
    [](const auto &info) { return std::string(info.param.name); });

} // namespace
} // namespace lfc::test
