// Static masks (docs/static-masks.md) on the CUDA backend vs the CPU reference
// backend, for every term kind and a few compositions, ragged frames (1560 and
// 200 tokens), chunk positions 1.. several (chunk 1 has no past frame, so
// past-only terms are empty there):
// - the static select kernel keeps exactly the CPU's blocks, with and without
//   the frame stage and the block top-k;
// - static attention (kept = nullptr: the kernel walks the mask's eligible
//   blocks itself) matches CPU attention over the CPU's kept list (every
//   eligible block) within the documented tolerance, on the TMA kernel (the
//   sm_90a default, also with the tail split and a persistent grid), the wgmma
//   kernel with a CTA barrier per tile and the portable mma.sync kernel (both
//   forced);
// - a query block with no eligible key block gets exact zeros.
#include "lfc/cuda_backend.h"
#include "lfc/runtime.h"
#include "lfc/static_mask.h"
#include "runtime/cuda/CudaBackend.h"
#include "tests/gpu/GpuTestUtil.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <memory>
#include <sstream>
#include <tuple>

namespace lfc::test {
namespace {

struct Geometry {
  const char *name;
  DType dtype;
  int dim, tokensPerFrame, framesPerChunk, blockQ, blockK;
  Layout layout;
  int chunks; ///< chunk positions 1..chunks (visible frames = index * F)
};

const Geometry kGeometries[] = {
    // The reference frame: 1560 tokens, ragged 128-blocks straddling frames.
    {"bf16_d128_t1560_b128", DType::BF16, 128, 1560, 1, 128, 128, Layout::BSHD,
     4},
    // 64-key blocks (TMA 64-key tiles), two frames per chunk, BHSD.
    {"fp16_d64_t200_bq128_bk64", DType::F16, 64, 200, 2, 128, 64, Layout::BHSD,
     5},
    // A query block of two 128-row tiles, key blocks of two 64-key tiles on the
    // wgmma and mma.sync kernels.
    {"bf16_d128_t200_bq256_bk128", DType::BF16, 128, 200, 2, 256, 128,
     Layout::BSHD, 4},
};

const char *const kMasks[] = {
    "sink(1)",
    "near(2)",
    "current",
    "window_frames(2)",
    "window_tokens(700)",
    "radial(1,100)",
    "frames(0,2)",
    "union(sink(1),current,radial(3,156))",
    "restrict(window_frames(4),union(frames(0,2),near(2)))",
    // Block-level intersection of a per-query-block window with the sink: at
    // chunk 2 the query blocks whose window reaches back into frame 0 keep a
    // block there and the others none (empty and non-empty rows in one
    // launch); at chunk 1 (no sink) and from chunk 3 on every row is empty.
    "restrict(window_tokens(500),sink(1))",
    "union(near(1),restrict(current,window_tokens(300)))",
};

void PrintTo(const Geometry &g, std::ostream *os) { *os << g.name; }

using StaticCase = std::tuple<Geometry, const char *>;

/// e.g. bf16_d128_t1560_b128_union_sink_1_current_radial_3_156
std::string caseName(const ::testing::TestParamInfo<StaticCase> &info) {
  std::string name = std::string(std::get<0>(info.param).name) + "_";
  for (const char *c = std::get<1>(info.param); *c; ++c)
    if (std::isalnum(static_cast<unsigned char>(*c)))
      name += *c;
    else if (*c != ')' && name.back() != '_')
      name += '_';
  return name;
}

ChunkSelection makeSelection(const Geometry &g, int chunk,
                             const std::shared_ptr<const StaticMask> &mask) {
  ChunkSelection sel;
  sel.tokensPerFrame = g.tokensPerFrame;
  sel.framesPerChunk = g.framesPerChunk;
  sel.visibleFrames = chunk * g.framesPerChunk;
  sel.blockQ = g.blockQ;
  sel.blockK = g.blockK;
  sel.keptKeyBlocks = int(sel.keyBlocks());
  sel.staticMask = mask;
  return sel;
}

/// The CPU's kept list of every (b, h, query block) with no frame stage and
/// K = key blocks must be exactly the mask's eligible blocks (so that the
/// attention comparison walks what the kernel should walk).
void expectKeptIsEligible(const MirroredKept &kept, const ChunkSelection &sel,
                          const StaticMask &mask, const std::string &what) {
  for (int64_t r = 0; r < kept.batch * kept.heads * kept.queryBlocks; ++r) {
    const int64_t i = r % kept.queryBlocks;
    std::vector<int32_t> expected;
    for (int64_t j = 0; j < sel.keyBlocks(); ++j)
      if (mask.eligible(sel, i, j))
        expected.push_back(int32_t(j));
    const std::vector<int32_t> got(kept.idx.begin() + r * kept.maxKept,
                                   kept.idx.begin() + r * kept.maxKept +
                                       std::max(kept.cnt[size_t(r)], 0));
    ASSERT_EQ(got, expected) << what << ": row " << r;
  }
}

struct Mismatch {
  int64_t count = 0, nans = 0;
  double worst = 0;
  std::string first;
};

/// |gpu - cpu| <= atol + rtol * |cpu| per element
/// (docs/selection-semantics.md).
Mismatch compare(const MirroredTensor &cpu, const std::vector<uint16_t> &gpu) {
  const double atol = cpu.dtype == DType::BF16 ? 2e-2 : 5e-3, rtol = atol;
  Mismatch m;
  for (size_t i = 0; i < gpu.size(); ++i) {
    const double c = cpu.decode(cpu.host[i]), g = cpu.decode(gpu[i]);
    if (std::isnan(g))
      ++m.nans;
    const double err = std::abs(g - c);
    if (!(err <= atol + rtol * std::abs(c)) && m.count++ == 0) {
      std::ostringstream os;
      os << "element " << i << ": gpu " << g << " cpu " << c;
      m.first = os.str();
    }
    if (err > m.worst)
      m.worst = err;
  }
  return m;
}

class StaticSelectVsCpu : public ::testing::TestWithParam<StaticCase> {};

TEST_P(StaticSelectVsCpu, KeptBlocksAreIdentical) {
  SKIP_WITHOUT_GPU();
  const auto [g, text] = GetParam();
  const auto mask = std::make_shared<const StaticMask>(StaticMask::parse(text));
  auto cpu = createCpuBackend();
  auto gpu = createCudaBackend();
  const int64_t B = 2, H = 2;
  int64_t eligibleSomewhere = 0;
  for (int chunk = 1; chunk <= g.chunks; ++chunk) {
    // Three stages: static mask only (every eligible block kept); with the
    // block top-k; with the frame top-k too (where the past is long enough).
    for (int stage = 0; stage < 3; ++stage) {
      ChunkSelection sel = makeSelection(g, chunk, mask);
      const int past = sel.visibleFrames - sel.framesPerChunk;
      if (stage == 2 && past <= 2)
        continue;
      if (stage >= 1)
        sel.keptKeyBlocks = std::max(1, int(sel.keyBlocks() / 4));
      if (stage == 2) {
        // Sink frame 0, no near frames: middle frames [1, P) compete for one
        // slot (frames_top_k 2 minus the sink).
        sel.sinkFrames = 1;
        sel.nearFrames = 0;
        sel.framesTopK = 2;
      }
      std::ostringstream what;
      what << text << " chunk " << chunk << " stage " << stage;
      const int64_t lq = sel.queryTokens(), lk = sel.keyTokens();
      MirroredTensor q(g.dtype, g.layout, B, lq, H, g.dim),
          k(g.dtype, g.layout, B, lk, H, g.dim);
      fillRandom(q, 41 + uint32_t(chunk), 1.f);
      fillRandom(k, 42 + uint32_t(chunk), 1.f);
      const int64_t maxKept = sel.keyBlocks();
      MirroredKept cpuKept(B, H, sel.queryBlocks(), maxKept),
          gpuKept(B, H, sel.queryBlocks(), maxKept);
      KeptBlocks hk = cpuKept.hostView(), dk = gpuKept.deviceView();
      cpu->select(sel, q.hostView(), k.hostView(), nullptr, hk);
      gpu->select(sel, q.deviceView(), k.deviceView(), nullptr, dk);
      gpu->synchronize();
      gpuKept.download();
      expectSameKept(cpuKept, gpuKept, what.str());
      if (stage == 0) {
        expectKeptIsEligible(cpuKept, sel, *mask, what.str());
        for (int32_t n : cpuKept.cnt)
          eligibleSomewhere += n;
      }
    }
  }
  // Every mask here makes some block eligible at some chunk position.
  EXPECT_GT(eligibleSomewhere, 0) << text;
}

INSTANTIATE_TEST_SUITE_P(Masks, StaticSelectVsCpu,
                         ::testing::Combine(::testing::ValuesIn(kGeometries),
                                            ::testing::ValuesIn(kMasks)),
                         caseName);

/// One way to run static attention on this GPU.
struct KernelChoice {
  const char *what;
  /// setAttnTiles arguments; tileQ 0: the per-arch default.
  int tileQ, tileK, warps, kernel;
  /// setTailSplitSms: 0 real SMs, > 0 pretended SMs (TMA split / persistent).
  int splitSms;
  const char *nameHas;    ///< the kernel name must contain this
  const char *nameHasNot; ///< ... and not this ("" for none)
};

std::vector<KernelChoice> kernelChoices(const cuda::CudaBackend &gpu,
                                        const Geometry &g, int64_t items) {
  std::vector<KernelChoice> out;
  const int tileQ = std::min(g.blockQ, 128);
  if (gpu.arch() == "sm_90a") {
    // The default for block_q >= 128, block_k >= 64: TMA + warp
    // specialization, plainly, with the last wave's items split in key halves
    // (one split item: the second half starts its walk mid-mask), and on a
    // persistent grid of 3 pretended SMs (each CTA rebuilds its walk per
    // unit).
    out.push_back({"tma", 0, 0, 0, 0, 0, "_wgmma_tma_", ""});
    if (items >= 3)
      out.push_back(
          {"tma_split", 0, 0, 0, 0, int(items - 1), "_wgmma_tma_", ""});
    out.push_back({"tma_persistent", 0, 0, 0, 0, 3, "_wgmma_tma_", ""});
    out.push_back(
        {"wgmma", tileQ, 64, tileQ / 16, /*kernel=*/1, 0, "_wgmma_", "_tma_"});
  } else {
    // Every other arch's default is the portable kernel.
    out.push_back({"default", 0, 0, 0, 0, 0, "_static_", "wgmma"});
  }
  // The portable mma.sync kernel, forced (128 x 64 tiles where the blocks
  // allow).
  out.push_back({"portable", tileQ, 64, tileQ / 32, /*kernel=*/0, 0, "_static_",
                 "wgmma"});
  return out;
}

class StaticAttentionVsCpu : public ::testing::TestWithParam<StaticCase> {};

TEST_P(StaticAttentionVsCpu, MatchesCpuOverItsKeptList) {
  SKIP_WITHOUT_GPU();
  const auto [g, text] = GetParam();
  const auto mask = std::make_shared<const StaticMask>(StaticMask::parse(text));
  cuda::CudaBackend gpu;
  auto cpu = createCpuBackend();
  const int64_t B = 1, H = 2, D = g.dim;
  const float scale = 1.f / std::sqrt(float(D));
  for (int chunk = 1; chunk <= g.chunks; ++chunk) {
    const ChunkSelection sel = makeSelection(g, chunk, mask);
    const int64_t lq = sel.queryTokens(), lk = sel.keyTokens();
    const int64_t nqb = sel.queryBlocks(), nkb = sel.keyBlocks();
    MirroredTensor q(g.dtype, g.layout, B, lq, H, D),
        k(g.dtype, g.layout, B, lk, H, D), v(g.dtype, g.layout, B, lk, H, D),
        oCpu(g.dtype, g.layout, B, lq, H, D);
    fillRandom(q, 51 + uint32_t(chunk), 1.f);
    fillRandom(k, 52 + uint32_t(chunk), 1.f);
    fillRandom(v, 53 + uint32_t(chunk), 1.f);
    // The oracle: the CPU's selection with K = key blocks and no frame stage
    // keeps every eligible block; CPU attention over that list.
    MirroredKept kept(B, H, nqb, nkb);
    KeptBlocks hk = kept.hostView();
    cpu->select(sel, q.hostView(), k.hostView(), nullptr, hk);
    std::ostringstream where;
    where << text << " chunk " << chunk;
    expectKeptIsEligible(kept, sel, *mask, where.str());
    cpu->attention(sel, q.hostView(), k.hostView(), v.hostView(), &hk,
                   oCpu.hostView(), scale);

    const int64_t items =
        (lq + std::min(g.blockQ, 128) - 1) / std::min(g.blockQ, 128) * H * B;
    for (const KernelChoice &kc : kernelChoices(gpu, g, items)) {
      gpu.setAttnTiles(kc.tileQ, kc.tileK, kc.warps, kc.kernel);
      gpu.setTailSplitSms(kc.splitSms);
      // The variant attention() launches for a static mask without a kept
      // list (as CudaBackend::attention builds it).
      cuda::AttnVariant var =
          gpu.attnVariant(g.dtype, g.dim, g.blockQ, g.blockK, false);
      var.staticMask = mask->text();
      var.tokensPerFrame = g.tokensPerFrame;
      const std::string kernel = cuda::kernelName(var);
      ASSERT_NE(kernel.find(kc.nameHas), std::string::npos)
          << kc.what << ": " << kernel;
      if (*kc.nameHasNot)
        ASSERT_EQ(kernel.find(kc.nameHasNot), std::string::npos)
            << kc.what << ": " << kernel;
      ASSERT_NE(kernel.find("_static_"), std::string::npos) << kernel;

      MirroredTensor oGpu(g.dtype, g.layout, B, lq, H, D);
      oGpu.dev.fill(0xFF); // NaN in both dtypes: an unwritten row fails
      gpu.attention(sel, q.deviceView(), k.deviceView(), v.deviceView(),
                    nullptr, oGpu.deviceView(), scale);
      gpu.synchronize();
      const std::vector<uint16_t> out = oGpu.download();
      const Mismatch m = compare(oCpu, out);
      EXPECT_EQ(m.nans, 0) << kernel << ", " << where.str();
      EXPECT_EQ(m.count, 0) << kernel << ", " << where.str() << ": first "
                            << m.first << ", worst abs error " << m.worst;
      // Rows of a query block with no eligible key block: exact zeros.
      const Tensor4 t = oGpu.hostView();
      for (int64_t h = 0; h < H; ++h)
        for (int64_t i = 0; i < nqb; ++i) {
          if (kept.cnt[size_t(h * nqb + i)] != 0)
            continue;
          for (int64_t s = i * g.blockQ; s < std::min((i + 1) * g.blockQ, lq);
               ++s)
            for (int64_t d = 0; d < D; ++d)
              ASSERT_EQ(out[size_t(t.offset(0, s, h) + d)], 0u)
                  << kernel << ", " << where.str() << ": row " << s
                  << " of empty query block " << i << ", head " << h;
        }
    }
    gpu.setAttnTiles(0, 0, 0, 0);
    gpu.setTailSplitSms(0);
  }
}

INSTANTIATE_TEST_SUITE_P(Masks, StaticAttentionVsCpu,
                         ::testing::Combine(::testing::ValuesIn(kGeometries),
                                            ::testing::ValuesIn(kMasks)),
                         caseName);

TEST(CudaStaticMask, RowsWithoutEligibleBlocksAreZeros) {
  SKIP_WITHOUT_GPU();
  // restrict(window_tokens(500),sink(1)) at chunk 2 of 1024-token frames (one
  // past frame; no key block straddles two frames): query block i keeps a
  // block of frame 0 iff its window [1024 + 128 i - 500, 2048) reaches into
  // frame 0 (i * 128 < 500), so query blocks 0..3 attend and 4..7 are empty;
  // at chunk 1 there is no sink frame and every row is empty.
  const Geometry g = {"bf16_d128_t1024_b128",
                      DType::BF16,
                      128,
                      1024,
                      1,
                      128,
                      128,
                      Layout::BSHD,
                      2};
  const auto mask = std::make_shared<const StaticMask>(
      StaticMask::parse("restrict(window_tokens(500),sink(1))"));
  cuda::CudaBackend gpu;
  const int64_t B = 1, H = 2, D = g.dim;
  for (int chunk = 1; chunk <= 2; ++chunk) {
    const ChunkSelection sel = makeSelection(g, chunk, mask);
    const int64_t lq = sel.queryTokens(), lk = sel.keyTokens();
    const int64_t nqb = sel.queryBlocks();
    MirroredTensor q(g.dtype, g.layout, B, lq, H, D),
        k(g.dtype, g.layout, B, lk, H, D), v(g.dtype, g.layout, B, lk, H, D);
    fillRandom(q, 61, 1.f);
    fillRandom(k, 62, 1.f);
    fillRandom(v, 63, 1.f);
    const int64_t items = (lq + 127) / 128 * H * B;
    for (const KernelChoice &kc : kernelChoices(gpu, g, items)) {
      gpu.setAttnTiles(kc.tileQ, kc.tileK, kc.warps, kc.kernel);
      gpu.setTailSplitSms(kc.splitSms);
      MirroredTensor o(g.dtype, g.layout, B, lq, H, D);
      o.dev.fill(0xFF);
      gpu.attention(sel, q.deviceView(), k.deviceView(), v.deviceView(),
                    nullptr, o.deviceView(), 1.f / std::sqrt(float(D)));
      gpu.synchronize();
      const std::vector<uint16_t> out = o.download();
      const Tensor4 t = o.hostView();
      for (int64_t h = 0; h < H; ++h)
        for (int64_t i = 0; i < nqb; ++i) {
          const bool attends = chunk == 2 && i * g.blockQ < 500;
          int64_t nonZero = 0;
          for (int64_t s = i * g.blockQ; s < std::min((i + 1) * g.blockQ, lq);
               ++s)
            for (int64_t d = 0; d < D; ++d) {
              const uint16_t bits = out[size_t(t.offset(0, s, h) + d)];
              ASSERT_FALSE(std::isnan(o.decode(bits)))
                  << kc.what << ": chunk " << chunk << " row " << s;
              nonZero += bits != 0;
            }
          if (attends)
            EXPECT_GT(nonZero, 0) << kc.what << ": chunk " << chunk
                                  << " query block " << i << " head " << h;
          else
            EXPECT_EQ(nonZero, 0) << kc.what << ": chunk " << chunk
                                  << " query block " << i << " head " << h;
        }
    }
    gpu.setAttnTiles(0, 0, 0, 0);
    gpu.setTailSplitSms(0);
  }
}

} // namespace
} // namespace lfc::test
