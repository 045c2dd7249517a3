// CUDA HSA selection vs the CPU reference backend: kept blocks and counts must
// be identical.
#include "lfc/cuda_backend.h"
#include "lfc/runtime.h"
#include "tests/gpu/GpuTestUtil.h"

#include <gtest/gtest.h>

#include <sstream>
#include <tuple>

namespace lfc::test {
namespace {

struct SelCase {
  const char *name;
  DType dtype;
  Layout layout;
  int dim, tokensPerFrame, framesPerChunk, visibleFrames, sink, nearFrames,
      topK, block;
  double density;
  bool videoLike;
};

class SelectionVsCpu : public ::testing::TestWithParam<SelCase> {};

TEST_P(SelectionVsCpu, KeptBlocksAreIdentical) {
  SKIP_WITHOUT_GPU();
  const SelCase c = GetParam();
  ChunkSelection sel;
  sel.tokensPerFrame = c.tokensPerFrame;
  sel.framesPerChunk = c.framesPerChunk;
  sel.visibleFrames = c.visibleFrames;
  sel.sinkFrames = c.sink;
  sel.nearFrames = c.nearFrames;
  sel.framesTopK = c.topK;
  sel.blockQ = sel.blockK = c.block;
  sel.keptKeyBlocks = int(c.density * double(sel.keyBlocks()));
  const int64_t B = 2, H = 3, lq = sel.queryTokens(), lk = sel.keyTokens();
  MirroredTensor q(c.dtype, c.layout, B, lq, H, c.dim),
      k(c.dtype, c.layout, B, lk, H, c.dim);
  if (c.videoLike) {
    VideoLikeSpec spec;
    spec.tokensPerFrame = c.tokensPerFrame;
    spec.sinkFrames = c.sink;
    // Queries are the chunk's frames: same scene, continuing the motion.
    fillVideoLike(k, spec, 5, /*isKey=*/true);
    MirroredTensor qFull(c.dtype, c.layout, B, lk, H, c.dim);
    fillVideoLike(qFull, spec, 5, /*isKey=*/false);
    const int64_t past = lk - lq;
    for (int64_t b = 0; b < B; ++b)
      for (int64_t s = 0; s < lq; ++s)
        for (int64_t h = 0; h < H; ++h)
          for (int64_t d = 0; d < c.dim; ++d)
            q.at(b, s, h, d) = qFull.at(b, past + s, h, d);
    q.upload();
  } else {
    fillRandom(q, 31);
    fillRandom(k, 32);
  }
  const int64_t maxKept = std::max(sel.keptKeyBlocks, 1);
  MirroredKept cpuKept(B, H, sel.queryBlocks(), maxKept),
      gpuKept(B, H, sel.queryBlocks(), maxKept);
  auto cpu = createCpuBackend();
  auto gpu = createCudaBackend();
  KeptBlocks hk = cpuKept.hostView(), dk = gpuKept.deviceView();
  cpu->select(sel, q.hostView(), k.hostView(), nullptr, hk);
  gpu->select(sel, q.deviceView(), k.deviceView(), nullptr, dk);
  gpu->synchronize();
  gpuKept.download();
  expectSameKept(cpuKept, gpuKept);
  // The selection must be non-trivial for the comparison to mean something.
  int64_t total = 0;
  for (int32_t n : cpuKept.cnt)
    total += n;
  if (sel.keptKeyBlocks > 0)
    EXPECT_GT(total, 0);
  else
    EXPECT_EQ(total, 0);
}

const SelCase kSelCases[] = {
    // name, dtype, layout, dim, T, F, nf, sink, near, topK, block, density,
    // videoLike
    {"ref_bf16_d128_b128_video", DType::BF16, Layout::BSHD, 128, 1560, 3, 12, 1,
     2, 6, 128, 0.15, true},
    {"ref_bf16_d128_b64_video", DType::BF16, Layout::BSHD, 128, 1560, 3, 9, 1,
     2, 6, 64, 0.2, true},
    {"fp16_d64_b64_bhsd_video", DType::F16, Layout::BHSD, 64, 300, 2, 14, 1, 2,
     5, 64, 0.3, true},
    {"bf16_d64_b128_random", DType::BF16, Layout::BHSD, 64, 250, 2, 16, 2, 1, 6,
     128, 0.25, false},
    {"fp16_d128_b64_random", DType::F16, Layout::BSHD, 128, 200, 3, 12, 1, 2, 6,
     64, 0.1, false},
    {"no_frame_stage", DType::BF16, Layout::BSHD, 128, 200, 3, 9, 1, 2, 0, 64,
     0.2, true},
    {"past_within_topk", DType::BF16, Layout::BSHD, 64, 200, 3, 9, 1, 2, 6, 64,
     0.2, false},
    {"budget_above_eligible", DType::BF16, Layout::BSHD, 64, 200, 2, 12, 1, 1,
     4, 64, 0.9, true},
    {"zero_budget", DType::F16, Layout::BSHD, 64, 200, 2, 6, 1, 1, 3, 64, 0.0,
     false},
};

INSTANTIATE_TEST_SUITE_P(Cases, SelectionVsCpu, ::testing::ValuesIn(kSelCases),
                         [](const auto &info) {
                           return std::string(info.param.name);
                         });

TEST(CudaSelection, TiesBreakTowardLowerIndex) {
  SKIP_WITHOUT_GPU();
  // Every key identical: all block scores tie except the short last block's,
  // which has the same mean too; the top K must then be blocks 0..K-1 (frame
  // stage off).
  ChunkSelection sel;
  sel.tokensPerFrame = 128;
  sel.framesPerChunk = 1;
  sel.visibleFrames = 4;
  sel.blockQ = sel.blockK = 64;
  sel.keptKeyBlocks = 3;
  MirroredTensor q(DType::BF16, Layout::BSHD, 1, 128, 1, 64),
      k(DType::BF16, Layout::BSHD, 1, 512, 1, 64);
  for (int64_t s = 0; s < 128; ++s)
    for (int64_t d = 0; d < 64; ++d)
      q.set(0, s, 0, d, 0.5f);
  for (int64_t s = 0; s < 512; ++s)
    for (int64_t d = 0; d < 64; ++d)
      k.set(0, s, 0, d, 0.25f);
  q.upload();
  k.upload();
  MirroredKept kept(1, 1, 2, 3);
  auto gpu = createCudaBackend();
  KeptBlocks dk = kept.deviceView();
  gpu->select(sel, q.deviceView(), k.deviceView(), nullptr, dk);
  gpu->synchronize();
  kept.download();
  EXPECT_EQ(kept.cnt, (std::vector<int32_t>{3, 3}));
  EXPECT_EQ(kept.idx, (std::vector<int32_t>{0, 1, 2, 0, 1, 2}));
}

TEST(CudaSelection, PooledKeyCacheGivesTheSameSelection) {
  SKIP_WITHOUT_GPU();
  // Commit the past in uneven steps (ending mid-block and mid-frame), then
  // select with the cache: continuing the sums must give the bits of pooling
  // from scratch.
  ChunkSelection sel;
  sel.tokensPerFrame = 300;
  sel.framesPerChunk = 2;
  sel.visibleFrames = 12;
  sel.sinkFrames = 1;
  sel.nearFrames = 2;
  sel.framesTopK = 5;
  sel.blockQ = sel.blockK = 64;
  sel.keptKeyBlocks = int(0.2 * double(sel.keyBlocks()));
  const int64_t B = 1, H = 2, D = 128, lq = sel.queryTokens(),
                lk = sel.keyTokens();
  MirroredTensor q(DType::BF16, Layout::BSHD, B, lq, H, D),
      k(DType::BF16, Layout::BSHD, B, lk, H, D);
  VideoLikeSpec spec;
  spec.tokensPerFrame = 300;
  fillVideoLike(k, spec, 9, true);
  fillRandom(q, 10, 1.f);
  auto cpu = createCpuBackend();
  auto gpu = createCudaBackend();
  auto cache =
      gpu->createPooledKeys(B, H, D, lk, sel.blockK, sel.tokensPerFrame);
  for (int64_t end : {int64_t(700), int64_t(1500), int64_t(2999), lk - lq})
    gpu->commitKeys(*cache, k.deviceView(), end);
  EXPECT_EQ(cache->committedTokens(), lk - lq);
  MirroredKept cpuKept(B, H, sel.queryBlocks(), sel.keptKeyBlocks),
      fromScratch(B, H, sel.queryBlocks(), sel.keptKeyBlocks),
      fromCache(B, H, sel.queryBlocks(), sel.keptKeyBlocks);
  KeptBlocks hk = cpuKept.hostView(), d1 = fromScratch.deviceView(),
             d2 = fromCache.deviceView();
  cpu->select(sel, q.hostView(), k.hostView(), nullptr, hk);
  gpu->select(sel, q.deviceView(), k.deviceView(), nullptr, d1);
  gpu->select(sel, q.deviceView(), k.deviceView(), cache.get(), d2);
  gpu->synchronize();
  fromScratch.download();
  fromCache.download();
  expectSameKept(cpuKept, fromScratch);
  expectSameKept(cpuKept, fromCache);
}

TEST(CudaSelection, TenThousandKeyBlocksNeedOptInSharedMemory) {
  SKIP_WITHOUT_GPU();
  // 10240 key blocks of 16 tokens: ~60 KiB of scores and flags in one CTA, past
  // the 48 KiB a kernel gets without opting in.
  ChunkSelection sel;
  sel.tokensPerFrame = 4096;
  sel.framesPerChunk = 1;
  sel.visibleFrames = 40;
  sel.sinkFrames = 1;
  sel.nearFrames = 2;
  sel.framesTopK = 8;
  sel.blockQ = 256;
  sel.blockK = 16;
  sel.keptKeyBlocks = 700;
  ASSERT_EQ(sel.keyBlocks(), 10240);
  const int64_t lq = sel.queryTokens(), lk = sel.keyTokens();
  MirroredTensor q(DType::BF16, Layout::BSHD, 1, lq, 1, 64),
      k(DType::BF16, Layout::BSHD, 1, lk, 1, 64);
  VideoLikeSpec spec;
  spec.tokensPerFrame = 4096;
  fillVideoLike(k, spec, 41, true);
  fillRandom(q, 42);
  MirroredKept cpuKept(1, 1, sel.queryBlocks(), 700),
      gpuKept(1, 1, sel.queryBlocks(), 700);
  auto cpu = createCpuBackend();
  auto gpu = createCudaBackend();
  KeptBlocks hk = cpuKept.hostView(), dk = gpuKept.deviceView();
  cpu->select(sel, q.hostView(), k.hostView(), nullptr, hk);
  gpu->select(sel, q.deviceView(), k.deviceView(), nullptr, dk);
  gpu->synchronize();
  gpuKept.download();
  expectSameKept(cpuKept, gpuKept);
}

TEST(CudaSelection, TooManyKeyBlocksForOneCtaIsAnErrorNamingTheLimit) {
  SKIP_WITHOUT_GPU();
  ChunkSelection sel;
  sel.tokensPerFrame = 40000;
  sel.framesPerChunk = 1;
  sel.visibleFrames = 25;
  sel.blockQ = 256;
  sel.blockK =
      16; // 62500 key blocks: ~310 KiB of scores, more than any GPU's CTA gets
  sel.keptKeyBlocks = 100;
  MirroredTensor q(DType::BF16, Layout::BSHD, 1, sel.queryTokens(), 1, 64),
      k(DType::BF16, Layout::BSHD, 1, sel.keyTokens(), 1, 64);
  MirroredKept kept(1, 1, sel.queryBlocks(), 100);
  auto gpu = createCudaBackend();
  KeptBlocks dk = kept.deviceView();
  try {
    gpu->select(sel, q.deviceView(), k.deviceView(), nullptr, dk);
    FAIL() << "62500 key blocks cannot be ranked in one CTA";
  } catch (const Error &e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("_select: 62500 key blocks and 25 frames need"),
              std::string::npos)
        << msg;
    EXPECT_NE(msg.find("use a larger block_k"), std::string::npos) << msg;
  }
}

TEST(CudaSelection, CommitRejectsGoingBackwards) {
  SKIP_WITHOUT_GPU();
  auto gpu = createCudaBackend();
  MirroredTensor k(DType::BF16, Layout::BSHD, 1, 256, 1, 64);
  fillRandom(k, 1);
  auto cache = gpu->createPooledKeys(1, 1, 64, 256, 64, 128);
  gpu->commitKeys(*cache, k.deviceView(), 200);
  try {
    gpu->commitKeys(*cache, k.deviceView(), 100);
    FAIL() << "committing fewer tokens than already committed must fail";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find(
                  "endToken (100) must be in [committed (200)"),
              std::string::npos)
        << e.what();
  }
}

} // namespace
} // namespace lfc::test
