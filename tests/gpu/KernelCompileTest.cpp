// Every kernel variant lfc launches compiles with NVRTC for every supported
// arch, with no warnings. Needs libnvrtc only, no GPU.
#include "lfc/backend.h"
#include "lfc/jit.h"
#include "lfc/sha256.h"
#include "runtime/cuda/KernelSources.h"
#include "runtime/quality/Probe.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <regex>
#include <set>
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
  // Then 2 dtypes x 2 head dims x 5 static masks (every term kind): a select
  // module and an attention kernel each; on sm_90a the attention kernel's
  // forms as above (blocks 128/128 twice: TMA, wgmma, mbarrier, mma.sync;
  // 128/64 and 128/256: TMA, wgmma, mma.sync; 64/128: wgmma, mma.sync).
  ASSERT_EQ(sources.size(), arch == "sm_90a" ? 60u + 84u : 24u + 40u);
  size_t statics = 0;
  for (const auto &ks : sources)
    statics += ks.name.find("_static_") != std::string::npos;
  EXPECT_EQ(statics, arch == "sm_90a" ? 84u : 40u);
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

TEST(QualityProbeKernels, CompileWithoutWarningsForSm80AndSm90a) {
  // The quality probe (kernels_templates/lfc/quality_probe.cuh): every dtype,
  // head_dim and CTA size the runtime picks, for the portable and the Hopper
  // arch.
  std::string why;
  if (!nvrtcAvailable(&why))
    GTEST_SKIP() << "NVRTC unavailable: " << why;
  struct Variant {
    std::string arch;
    DType dtype;
    int dim, warps;
  };
  std::vector<Variant> variants;
  for (const char *arch : {"sm_80", "sm_90a"})
    for (DType t : {DType::BF16, DType::F16})
      for (int dim : {64, 128})
        for (int warps : {8, 4})
          variants.push_back({arch, t, dim, warps});
  std::vector<std::future<JitResult>> results;
  for (const Variant &v : variants)
    results.push_back(std::async(std::launch::async, [&v] {
      JitRequest req;
      req.kernelName =
          quality::detail::probeKernelName(v.arch, v.dtype, v.dim, v.warps);
      req.source =
          quality::detail::probeKernelSource(v.arch, v.dtype, v.dim, v.warps);
      req.arch = v.arch;
      req.includeDirs = {defaultKernelIncludeDir()};
      req.useCache = false;
      return jitCompile(req);
    }));
  for (size_t i = 0; i < variants.size(); ++i) {
    const std::string name =
        quality::detail::probeKernelName(variants[i].arch, variants[i].dtype,
                                         variants[i].dim, variants[i].warps);
    JitResult r;
    ASSERT_NO_THROW(r = results[i].get()) << name;
    EXPECT_FALSE(r.cubin.empty()) << name;
    EXPECT_EQ(r.log.find_first_not_of(" \n\r\t\0", 0, 5), std::string::npos)
        << name << ":\n"
        << r.log;
  }
  EXPECT_EQ(quality::detail::probeKernelName("sm_90a", DType::BF16, 128, 8),
            "lfc_quality_probe_sm90a_bf16_d128_w8");
  // H200 (227 KiB per CTA) and sm_80 (163 KiB) take 8 warps; 99 KiB parts 4.
  EXPECT_EQ(quality::detail::probeWarps(128, 227 * 1024), 8);
  EXPECT_EQ(quality::detail::probeWarps(128, 163 * 1024), 8);
  EXPECT_EQ(quality::detail::probeWarps(128, 99 * 1024), 4);
  EXPECT_EQ(quality::detail::probeWarps(128, 48 * 1024), 0);
}

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

TEST(KernelNames, AreDistinctAndTheirEntriesAreIdentifiers) {
  // Names hold letters, digits, `_ . -` (plan kernel names); the extern "C"
  // entry points are C identifiers, and every name is another kernel.
  const std::regex nameRe("[A-Za-z0-9_.-]+"),
      symbolRe("[A-Za-z_][A-Za-z0-9_]*");
  for (const std::string &arch : cuda::supportedArchs()) {
    std::set<std::string> names;
    for (const auto &ks : cuda::allKernelSources(arch)) {
      EXPECT_TRUE(names.insert(ks.name).second) << "duplicate " << ks.name;
      EXPECT_TRUE(std::regex_match(ks.name, nameRe)) << ks.name;
      const std::string symbol = cuda::entrySymbol(ks.name);
      EXPECT_TRUE(std::regex_match(symbol, symbolRe)) << symbol;
      const bool select = ks.name.rfind("lfc_select_", 0) == 0;
      EXPECT_NE(ks.source.find("\n" + symbol + (select ? "_select(" : "(")),
                std::string::npos)
          << ks.source;
      if (ks.name.find("_static_") == std::string::npos)
        EXPECT_EQ(symbol, ks.name);
    }
  }
}

TEST(KernelNames, EncodeStaticMasks) {
  cuda::AttnVariant v =
      cuda::chooseAttnVariant("sm_90a", DType::BF16, 128, 128, 128,
                              /*dense=*/false, 227 * 1024);
  v.staticMask = "union(sink(1),current,radial(3,156))";
  v.tokensPerFrame = 1560;
  const std::string name = cuda::kernelName(v);
  EXPECT_EQ(name, "lfc_attn_sm90a_bf16_d128_bq128_bk128_tq128_tk128_w8_wgmma_"
                  "tma_s2_tpf1560_static_union-sink1-current-radial3x156");
  EXPECT_EQ(cuda::entrySymbol(name),
            "lfc_attn_sm90a_bf16_d128_bq128_bk128_tq128_tk128_w8_wgmma_tma_s2_"
            "tpf1560_static_union_sink1_current_radial3x156");
  // The tokens per frame are compiled in: another T is another kernel.
  v.tokensPerFrame = 880;
  EXPECT_NE(cuda::kernelName(v), name);

  const std::string src = cuda::entrySource(v);
  EXPECT_NE(src.find("using Mask = lfc::mask::Union<lfc::mask::Sink<1>, "
                     "lfc::mask::Current, lfc::mask::Radial<3, 156>>;"),
            std::string::npos)
      << src;
  EXPECT_NE(src.find("lfc::MaskMode::Static, Mask, /*tokens_per_frame=*/880>"),
            std::string::npos)
      << src;
  EXPECT_LT(std::count(src.begin(), src.end(), '\n'), 20) << src;

  // Nesting stays injective: `.` closes an operator's operands (implied at the
  // end).
  EXPECT_EQ(cuda::staticMaskTag("union(union(sink(1),near(2)),current)"),
            "union-union-sink1-near2.-current");
  EXPECT_EQ(cuda::staticMaskTag("union(sink(1),union(near(2),current))"),
            "union-sink1-union-near2-current");
  EXPECT_EQ(cuda::staticMaskTag(
                "restrict(window_frames(4),union(frames(0,2),near(2)))"),
            "restrict-window_frames4-union-frames0x2-near2");
  EXPECT_EQ(cuda::staticMaskTag("window_tokens(3000)"), "window_tokens3000");
  EXPECT_EQ(cuda::staticMaskTag("all"), "all");

  // Over 48 characters: a prefix, then the first 8 hex digits of the text's
  // SHA-256.
  const std::string longText =
      "union(frames(0,1,2,3,4,5,6,7,8,9,10,11,12,13),window_tokens(123456))";
  const std::string tag = cuda::staticMaskTag(longText);
  EXPECT_EQ(tag.size(), 48u) << tag;
  EXPECT_EQ(tag, "union-frames0x1x2x3x4x5x6x7x8x9x10x11x1-" +
                     sha256Hex(longText).substr(0, 8));
  EXPECT_NE(cuda::staticMaskTag("union(frames(0,1,2,3,4,5,6,7,8,9,10,11,12,13),"
                                "window_tokens(123457))"),
            tag);

  // Selection: "" and "all" are the kernel without a mask.
  EXPECT_EQ(cuda::kernelName(cuda::SelectVariant{"sm_90a", DType::BF16, 128}),
            "lfc_select_sm90a_bf16_d128");
  EXPECT_EQ(
      cuda::kernelName(cuda::SelectVariant{"sm_90a", DType::BF16, 128, "all"}),
      "lfc_select_sm90a_bf16_d128");
  EXPECT_EQ(
      cuda::entrySource(cuda::SelectVariant{"sm_90a", DType::BF16, 128, "all"}),
      cuda::entrySource(cuda::SelectVariant{"sm_90a", DType::BF16, 128}));
  const cuda::SelectVariant s{"sm_90a", DType::F16, 64, "window_frames(6)"};
  EXPECT_EQ(cuda::kernelName(s),
            "lfc_select_sm90a_fp16_d64_static_window_frames6");
  const std::string ssrc = cuda::entrySource(s);
  EXPECT_NE(ssrc.find("using Mask = lfc::mask::WindowFrames<6>;"),
            std::string::npos)
      << ssrc;
  EXPECT_NE(ssrc.find("lfc::selectBlocks<lfc::F16, 256, /*max_dim=*/64, "
                      "Mask>(p);"),
            std::string::npos)
      << ssrc;
}

TEST(KernelNames, RejectsBadStaticMasks) {
  // Not canonical: the parser's error, with its column.
  try {
    cuda::staticMaskTag("union(sink(1))");
    FAIL();
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("static mask 'union(sink(1))'"),
              std::string::npos)
        << e.what();
  }
  cuda::AttnVariant v = cuda::chooseAttnVariant("sm_80", DType::BF16, 128, 128,
                                                128, false, 163 * 1024);
  v.staticMask = "current";
  // No tokens per frame.
  EXPECT_THROW(cuda::kernelName(v), Error);
  v.tokensPerFrame = 1560;
  v.dense = true;
  EXPECT_THROW(cuda::kernelName(v), Error);
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
