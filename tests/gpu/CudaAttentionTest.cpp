// CUDA block-sparse attention vs the CPU reference backend
// (docs/selection-semantics.md tolerance), across dtypes, head dims, block
// sizes, layouts, ragged lengths and densities.
#include "lfc/cuda_backend.h"
#include "lfc/runtime.h"
#include "tests/gpu/GpuTestUtil.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>
#include <tuple>

namespace lfc::test {
namespace {

ChunkSelection makeSelection(int tokensPerFrame, int framesPerChunk,
                             int visibleFrames, int blockQ, int blockK) {
  ChunkSelection sel;
  sel.tokensPerFrame = tokensPerFrame;
  sel.framesPerChunk = framesPerChunk;
  sel.visibleFrames = visibleFrames;
  sel.blockQ = blockQ;
  sel.blockK = blockK;
  sel.keptKeyBlocks = int(sel.keyBlocks());
  return sel;
}

struct Mismatch {
  int64_t count = 0, nans = 0;
  double worst = 0;
  std::string first;
};

/// Compares every element of `gpu` (device result) against `cpu` (oracle) with
/// |gpu - cpu| <= atol + rtol * |cpu|.
Mismatch compare(const MirroredTensor &cpu, const std::vector<uint16_t> &gpu) {
  const bool bf16 = cpu.dtype == DType::BF16;
  const double atol = bf16 ? 2e-2 : 5e-3, rtol = atol;
  Mismatch m;
  for (size_t i = 0; i < gpu.size(); ++i) {
    const double c = cpu.decode(cpu.host[i]), g = cpu.decode(gpu[i]);
    if (std::isnan(g))
      ++m.nans;
    const double err = std::abs(g - c), bound = atol + rtol * std::abs(c);
    if (!(err <= bound)) {
      if (m.count++ == 0) {
        std::ostringstream os;
        os << "element " << i << ": gpu " << g << " cpu " << c;
        m.first = os.str();
      }
    }
    if (err > m.worst)
      m.worst = err;
  }
  return m;
}

// (dtype, head_dim, block, layout, density)
using AttnCase = std::tuple<DType, int, int, Layout, double>;

class AttentionVsCpu : public ::testing::TestWithParam<AttnCase> {};

TEST_P(AttentionVsCpu, MatchesReferenceWithinTolerance) {
  SKIP_WITHOUT_GPU();
  auto [dtype, dim, block, layout, density] = GetParam();
  // 200 tokens per frame: neither 64 nor 128 divides it, so blocks straddle
  // frames and the last query and key blocks are short.
  const ChunkSelection sel = makeSelection(200, 2, 5, block, block);
  const int64_t B = 2, H = 2, lq = sel.queryTokens(), lk = sel.keyTokens();
  const int64_t nqb = sel.queryBlocks(), nkb = sel.keyBlocks();
  MirroredTensor q(dtype, layout, B, lq, H, dim),
      k(dtype, layout, B, lk, H, dim), v(dtype, layout, B, lk, H, dim),
      oCpu(dtype, layout, B, lq, H, dim), oGpu(dtype, layout, B, lq, H, dim);
  fillRandom(q, 1, 1.f);
  fillRandom(k, 2, 1.f);
  fillRandom(v, 3, 1.f);
  oGpu.dev.fill(
      0xFF); // NaN in both dtypes: any unwritten row fails the comparison

  const int64_t perRow =
      std::max<int64_t>(1, int64_t(std::floor(density * double(nkb))));
  MirroredKept kept(B, H, nqb, nkb);
  // Row 1 keeps nothing: its outputs must be exact zeros.
  fillRandomKept(kept, nkb, perRow, 7, {1});

  auto cpu = createCpuBackend();
  auto gpu = createCudaBackend();
  const float scale = 1.f / std::sqrt(float(dim));
  KeptBlocks hostKept = kept.hostView(), devKept = kept.deviceView();
  cpu->attention(sel, q.hostView(), k.hostView(), v.hostView(), &hostKept,
                 oCpu.hostView(), scale);
  gpu->attention(sel, q.deviceView(), k.deviceView(), v.deviceView(), &devKept,
                 oGpu.deviceView(), scale);
  gpu->synchronize();
  const std::vector<uint16_t> out = oGpu.download();
  Mismatch m = compare(oCpu, out);
  EXPECT_EQ(m.nans, 0);
  EXPECT_EQ(m.count, 0) << "first: " << m.first << ", worst abs error "
                        << m.worst;

  // Row 1 is (b 0, h 0, query block 1).
  for (int64_t s = block; s < std::min<int64_t>(2 * block, lq); ++s)
    for (int64_t d = 0; d < dim; ++d) {
      Tensor4 t = oGpu.hostView();
      ASSERT_EQ(out[size_t(t.offset(0, s, 0) + d)], 0u)
          << "row " << s << " of an empty block";
    }
}

std::string caseName(const ::testing::TestParamInfo<AttnCase> &info) {
  auto [dtype, dim, block, layout, density] = info.param;
  std::ostringstream os;
  os << (dtype == DType::BF16 ? "bf16" : "fp16") << "_d" << dim << "_b" << block
     << "_" << (layout == Layout::BSHD ? "bshd" : "bhsd") << "_p"
     << int(density * 100);
  return os.str();
}

INSTANTIATE_TEST_SUITE_P(
    Sweep, AttentionVsCpu,
    ::testing::Combine(::testing::Values(DType::BF16, DType::F16),
                       ::testing::Values(64, 128), ::testing::Values(64, 128),
                       ::testing::Values(Layout::BSHD, Layout::BHSD),
                       ::testing::Values(0.05, 0.2, 0.5, 1.0)),
    caseName);

TEST(CudaAttention, FullKeptListEqualsDenseKernelAndReference) {
  SKIP_WITHOUT_GPU();
  // The reference frame size: 1560 tokens (not a multiple of 64 or 128).
  const ChunkSelection sel = makeSelection(1560, 1, 3, 128, 128);
  const int64_t B = 1, H = 2, D = 128, lq = sel.queryTokens(),
                lk = sel.keyTokens();
  const int64_t nqb = sel.queryBlocks(), nkb = sel.keyBlocks();
  MirroredTensor q(DType::BF16, Layout::BSHD, B, lq, H, D),
      k(DType::BF16, Layout::BSHD, B, lk, H, D),
      v(DType::BF16, Layout::BSHD, B, lk, H, D),
      oCpu(DType::BF16, Layout::BSHD, B, lq, H, D),
      oList(DType::BF16, Layout::BSHD, B, lq, H, D),
      oDense(DType::BF16, Layout::BSHD, B, lq, H, D);
  fillRandom(q, 11);
  fillRandom(k, 12);
  fillRandom(v, 13);
  oList.dev.fill(0xFF);
  oDense.dev.fill(0xFF);
  MirroredKept all(B, H, nqb, nkb);
  fillRandomKept(all, nkb, nkb, 1);

  auto cpu = createCpuBackend();
  auto gpu = createCudaBackend();
  const float scale = 1.f / std::sqrt(float(D));
  KeptBlocks devKept = all.deviceView();
  cpu->attention(sel, q.hostView(), k.hostView(), v.hostView(), nullptr,
                 oCpu.hostView(), scale);
  gpu->attention(sel, q.deviceView(), k.deviceView(), v.deviceView(), &devKept,
                 oList.deviceView(), scale);
  gpu->attention(sel, q.deviceView(), k.deviceView(), v.deviceView(), nullptr,
                 oDense.deviceView(), scale);
  gpu->synchronize();
  const auto list = oList.download(), dense = oDense.download();
  // Same tiles in the same order: the kept-list kernel must reproduce the dense
  // one exactly.
  EXPECT_EQ(list, dense);
  Mismatch m = compare(oCpu, dense);
  EXPECT_EQ(m.count, 0) << "first: " << m.first << ", worst abs error "
                        << m.worst;
}

TEST(CudaAttention, SingleKeptBlockIsSoftmaxOverThatBlock) {
  SKIP_WITHOUT_GPU();
  // Closed form, no CPU oracle: with v constant per key block and one kept
  // block j, every output row equals block j's constant (softmax weights sum to
  // one).
  const ChunkSelection sel = makeSelection(96, 1, 2, 64, 64);
  const int64_t B = 1, H = 1, D = 64, lq = sel.queryTokens(),
                lk = sel.keyTokens();
  MirroredTensor q(DType::F16, Layout::BHSD, B, lq, H, D),
      k(DType::F16, Layout::BHSD, B, lk, H, D),
      v(DType::F16, Layout::BHSD, B, lk, H, D),
      o(DType::F16, Layout::BHSD, B, lq, H, D);
  fillRandom(q, 21);
  fillRandom(k, 22);
  for (int64_t s = 0; s < lk; ++s)
    for (int64_t d = 0; d < D; ++d)
      v.set(0, s, 0, d,
            0.25f *
                float(s / 64 + 1)); // block j holds (j + 1) / 4, exact in fp16
  v.upload();
  MirroredKept kept(B, H, sel.queryBlocks(), 1);
  kept.idx = {2, 1};
  kept.cnt = {1, 1};
  kept.upload();
  auto gpu = createCudaBackend();
  KeptBlocks dk = kept.deviceView();
  gpu->attention(sel, q.deviceView(), k.deviceView(), v.deviceView(), &dk,
                 o.deviceView(), 0.125f);
  gpu->synchronize();
  const auto out = o.download();
  Tensor4 t = o.hostView();
  for (int64_t s = 0; s < lq; ++s) {
    // Query block 0 keeps key block 2 (value 0.75), query block 1 keeps block 1
    // (0.5).
    const float expected = s < 64 ? 0.75f : 0.5f;
    for (int64_t d = 0; d < D; ++d)
      ASSERT_NEAR(o.decode(out[size_t(t.offset(0, s, 0) + d)]), expected, 1e-3)
          << "row " << s << " dim " << d;
  }
}

TEST(CudaAttention, PackedQkvStridesMatchReference) {
  SKIP_WITHOUT_GPU();
  // Q, K and V as views into one packed [B, S, 3, H, D] buffer (strideS =
  // 3*H*D), and the output into a padded [B, S, H, D + 8] buffer: general
  // strides, not only BSHD/BHSD.
  const ChunkSelection sel = makeSelection(300, 2, 2, 128, 128);
  const int64_t B = 2, H = 3, D = 64, S = sel.queryTokens();
  const int64_t sStride = 3 * H * D, oStride = H * (D + 8);
  std::vector<uint16_t> packed(size_t(B * S * sStride));
  std::mt19937 rng(77);
  std::normal_distribution<float> n(0.f, 1.f);
  for (auto &x : packed)
    x = floatToBf16(n(rng));
  cuda::DeviceBuffer dPacked(packed.size() * 2),
      dOut(size_t(B * S * oStride) * 2);
  dPacked.upload(packed.data(), packed.size() * 2);
  dOut.fill(0xFF);
  std::vector<uint16_t> hostOut(size_t(B * S * oStride), 0xFFFF);
  auto view = [&](void *base, Device dev, int which) {
    Tensor4 t{static_cast<uint16_t *>(base) + which * H * D,
              DType::BF16,
              dev,
              B,
              S,
              H,
              D,
              S * sStride,
              sStride,
              D};
    return t;
  };
  auto outView = [&](void *base, Device dev) {
    return Tensor4{base, DType::BF16, dev,         B,       S,
                   H,    D,           S * oStride, oStride, D + 8};
  };
  MirroredKept kept(B, H, sel.queryBlocks(), sel.keyBlocks());
  fillRandomKept(kept, sel.keyBlocks(), 3, 5, {2});
  auto cpu = createCpuBackend();
  auto gpu = createCudaBackend();
  KeptBlocks hk = kept.hostView(), dk = kept.deviceView();
  cpu->attention(sel, view(packed.data(), Device::Host, 0),
                 view(packed.data(), Device::Host, 1),
                 view(packed.data(), Device::Host, 2), &hk,
                 outView(hostOut.data(), Device::Host), 0.125f);
  gpu->attention(sel, view(dPacked.get(), Device::Cuda, 0),
                 view(dPacked.get(), Device::Cuda, 1),
                 view(dPacked.get(), Device::Cuda, 2), &dk,
                 outView(dOut.get(), Device::Cuda), 0.125f);
  gpu->synchronize();
  std::vector<uint16_t> devOut(hostOut.size());
  dOut.download(devOut.data(), devOut.size() * 2);
  int64_t bad = 0, checked = 0;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t s = 0; s < S; ++s)
      for (int64_t h = 0; h < H; ++h) {
        const size_t row = size_t(b * S * oStride + s * oStride + h * (D + 8));
        for (int64_t d = 0; d < D + 8; ++d) {
          if (d >= D) {
            // The padding between rows must stay untouched.
            bad += devOut[row + d] != 0xFFFF;
            continue;
          }
          const float c = bf16ToFloat(hostOut[row + d]),
                      g = bf16ToFloat(devOut[row + d]);
          bad += !(std::abs(g - c) <= 2e-2f + 2e-2f * std::abs(c));
          ++checked;
        }
      }
  EXPECT_EQ(checked, B * S * H * D);
  EXPECT_EQ(bad, 0);
}

TEST(CudaAttention, RejectsMisalignedStrideNamingKernelAndArgument) {
  SKIP_WITHOUT_GPU();
  const ChunkSelection sel = makeSelection(64, 1, 2, 64, 64);
  MirroredTensor q(DType::BF16, Layout::BSHD, 1, 64, 1, 64),
      k(DType::BF16, Layout::BSHD, 1, 128, 1, 64),
      v(DType::BF16, Layout::BSHD, 1, 128, 1, 64),
      o(DType::BF16, Layout::BSHD, 1, 64, 1, 64);
  Tensor4 badK = k.deviceView();
  badK.strideS = 68; // not a multiple of 8 elements
  auto gpu = createCudaBackend();
  try {
    gpu->attention(sel, q.deviceView(), badK, v.deviceView(), nullptr,
                   o.deviceView(), 0.125f);
    FAIL() << "a stride of 68 elements must be rejected";
  } catch (const Error &e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("lfc_attn_"), std::string::npos) << msg;
    EXPECT_NE(msg.find(": k"), std::string::npos) << msg;
    EXPECT_NE(msg.find("strideS"), std::string::npos) << msg;
    EXPECT_NE(msg.find("multiple of 8"), std::string::npos) << msg;
  }
}

TEST(CudaAttention, RejectsHostPointers) {
  SKIP_WITHOUT_GPU();
  const ChunkSelection sel = makeSelection(64, 1, 2, 64, 64);
  MirroredTensor q(DType::BF16, Layout::BSHD, 1, 64, 1, 64),
      k(DType::BF16, Layout::BSHD, 1, 128, 1, 64),
      v(DType::BF16, Layout::BSHD, 1, 128, 1, 64),
      o(DType::BF16, Layout::BSHD, 1, 64, 1, 64);
  Tensor4 hostQ = q.hostView();
  hostQ.device = Device::Cuda; // lies about where it lives
  auto gpu = createCudaBackend();
  try {
    gpu->attention(sel, hostQ, k.deviceView(), v.deviceView(), nullptr,
                   o.deviceView(), 0.125f);
    FAIL() << "a host pointer must be rejected";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("q: expected a CUDA device pointer"),
              std::string::npos)
        << e.what();
  }
}

} // namespace
} // namespace lfc::test
