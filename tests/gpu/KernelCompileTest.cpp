// Every kernel variant lfc launches compiles with NVRTC for every supported
// arch, with no warnings. Needs libnvrtc only, no GPU.
#include "lfc/backend.h"
#include "lfc/jit.h"
#include "runtime/cuda/KernelSources.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <vector>

namespace lfc::test {
namespace {

class KernelsCompile : public ::testing::TestWithParam<std::string> {};

TEST_P(KernelsCompile, EveryVariantWithoutWarnings) {
  std::string why;
  if (!nvrtcAvailable(&why))
    GTEST_SKIP() << "NVRTC unavailable: " << why;
  const std::string arch = GetParam();
  const auto sources = cuda::allKernelSources(arch);
  // 2 dtypes x 2 head dims x (4 kept-list block pairs + 1 dense + 1 selection
  // module); on sm_90a each attention kernel also has its wgmma form, the
  // 128/128 kept-list one its mbarrier-pipelined form, and those with
  // block_q 128 (128/64, 128/128, dense) their TMA warp-specialized form.
  ASSERT_EQ(sources.size(), arch == "sm_90a" ? 60u : 24u);
  // Compiles run in parallel (NVRTC programs are independent); results are
  // checked here.
  std::vector<std::future<JitResult>> results;
  for (const auto &ks : sources)
    results.push_back(std::async(std::launch::async, [&ks, &arch] {
      JitRequest req;
      req.kernelName = ks.name;
      req.source = ks.source;
      req.arch = arch;
      req.includeDirs = {defaultKernelIncludeDir()};
      req.useCache = false;
      return jitCompile(req);
    }));
  for (size_t i = 0; i < sources.size(); ++i) {
    JitResult r;
    ASSERT_NO_THROW(r = results[i].get()) << sources[i].name;
    EXPECT_FALSE(r.cubin.empty()) << sources[i].name;
    // NVRTC logs nothing on a clean compile; any text is a warning.
    EXPECT_EQ(r.log.find_first_not_of(" \n\r\t\0", 0, 5), std::string::npos)
        << sources[i].name << " on " << arch << ":\n"
        << r.log;
  }
}

INSTANTIATE_TEST_SUITE_P(Archs, KernelsCompile,
                         ::testing::ValuesIn(cuda::supportedArchs()),
                         [](const auto &info) { return info.param; });

TEST(KernelNames, EncodeEveryParameter) {
  cuda::AttnVariant v =
      cuda::chooseAttnVariant("sm_90a", DType::BF16, 128, 128, 128,
                              /*dense=*/false, 227 * 1024);
  EXPECT_EQ(
      cuda::kernelName(v),
      "lfc_attn_sm90a_bf16_d128_bq128_bk128_tq128_tk128_w8_wgmma_tma_s2_list");
  EXPECT_EQ(v.threads(), 384); // 8 consumer warps + the producer warpgroup
  // Block_q 64 leaves one consumer warpgroup: the CTA-barrier wgmma kernel.
  v = cuda::chooseAttnVariant("sm_90a", DType::F16, 64, 64, 128,
                              /*dense=*/false, 227 * 1024);
  EXPECT_EQ(cuda::kernelName(v),
            "lfc_attn_sm90a_fp16_d64_bq64_bk128_tq64_tk64_w4_wgmma_list");
  v = cuda::chooseAttnVariant("sm_90a", DType::BF16, 128, 128, 128,
                              /*dense=*/false, 227 * 1024, /*allowTma=*/false);
  EXPECT_EQ(cuda::kernelName(v),
            "lfc_attn_sm90a_bf16_d128_bq128_bk128_tq128_tk64_w8_wgmma_list");
  v = cuda::chooseAttnVariant("sm_80", DType::BF16, 128, 128, 128, false,
                              163 * 1024);
  EXPECT_EQ(cuda::kernelName(v),
            "lfc_attn_sm80_bf16_d128_bq128_bk128_tq128_tk64_w4_list");
  v = cuda::chooseAttnVariant("sm_86", DType::F16, 64, 64, 64, false,
                              99 * 1024);
  EXPECT_EQ(cuda::kernelName(v),
            "lfc_attn_sm86_fp16_d64_bq64_bk64_tq64_tk64_w2_list");
  v = cuda::chooseAttnVariant("sm_120", DType::BF16, 128, 64, 32, true,
                              99 * 1024);
  EXPECT_EQ(cuda::kernelName(v),
            "lfc_attn_sm120_bf16_d128_tq128_tk64_w4_dense");
  EXPECT_EQ(cuda::kernelName(cuda::SelectVariant{"sm_100a", DType::F16, 64}),
            "lfc_select_sm100a_fp16_d64");
}

TEST(KernelNames, EntrySourceIsThinAndNamesItsKernel) {
  cuda::AttnVariant v = cuda::chooseAttnVariant("sm_80", DType::BF16, 128, 128,
                                                128, false, 163 * 1024);
  const std::string src = cuda::entrySource(v);
  EXPECT_NE(src.find("#include \"lfc/attention.cuh\""), std::string::npos);
  EXPECT_NE(src.find("extern \"C\" __global__ void __launch_bounds__(128)\n" +
                     cuda::kernelName(v) + "(const LfcAttnParams p)"),
            std::string::npos)
      << src;
  // Generated sources stay thin: the logic lives in the templates.
  EXPECT_LT(std::count(src.begin(), src.end(), '\n'), 20) << src;
}

TEST(KernelNames, RejectsUnsupportedShapesWithReason) {
  try {
    cuda::chooseAttnVariant("sm_80", DType::BF16, 96, 128, 128, false,
                            163 * 1024);
    FAIL();
  } catch (const Error &e) {
    EXPECT_STREQ(
        e.what(),
        "attention: head_dim 96 has no CUDA kernel; supported: 64, 128");
  }
  try {
    // d128 with 128x64 tiles needs 96 KiB; 40 KiB forces smaller tiles, 8 KiB
    // fits none.
    cuda::chooseAttnVariant("sm_80", DType::BF16, 128, 128, 128, false,
                            8 * 1024);
    FAIL();
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find(
                  "bytes of shared memory; the device allows 8192"),
              std::string::npos)
        << e.what();
  }
  cuda::AttnVariant small = cuda::chooseAttnVariant("sm_80", DType::BF16, 128,
                                                    128, 128, false, 40 * 1024);
  // (64 + 4 * 16) rows x 256 bytes = 32 KiB.
  EXPECT_EQ(small.tileQ, 64);
  EXPECT_EQ(small.tileK, 16);
  EXPECT_LE(small.sharedBytes(), 40 * 1024);
}

} // namespace
} // namespace lfc::test
