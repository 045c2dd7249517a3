// The kernels' static mask types (kernels_templates/lfc/static_mask.cuh),
// compiled here as host code, against the CPU backend's lfc::StaticMask on the
// same texts: both implement docs/static-masks.md and must agree on every
// (query block, key block) of every geometry. This runs in CI without a GPU;
// the GPU tests check the same types inside the kernels.
#define __device__
#define __forceinline__ inline
#include "kernels_templates/lfc/static_mask.cuh"
#undef __device__
#undef __forceinline__

#include "lfc/static_mask.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

namespace lfc::test {
namespace {

struct KernelMask {
  std::string text;
  std::function<bool(const mask::Query &, int)> overlaps;
};

template <class M> KernelMask kernelMask(const std::string &text) {
  return {text, [](const mask::Query &q, int j) { return M::overlaps(q, j); }};
}

std::vector<KernelMask> masks() {
  using namespace lfc::mask;
  return {
      kernelMask<All>("all"),
      kernelMask<Sink<1>>("sink(1)"),
      kernelMask<Sink<3>>("sink(3)"),
      kernelMask<Near<2>>("near(2)"),
      kernelMask<Current>("current"),
      kernelMask<WindowFrames<4>>("window_frames(4)"),
      kernelMask<WindowTokens<300>>("window_tokens(300)"),
      kernelMask<WindowTokens<3120>>("window_tokens(3120)"),
      kernelMask<Radial<3, 156>>("radial(3,156)"),
      kernelMask<Radial<1, 13>>("radial(1,13)"),
      kernelMask<Frames<0, 2, 5>>("frames(0,2,5)"),
      kernelMask<Union<Sink<1>, Current, Radial<3, 156>>>(
          "union(sink(1),current,radial(3,156))"),
      kernelMask<Restrict<WindowFrames<4>, Union<Frames<0, 2>, Near<2>>>>(
          "restrict(window_frames(4),union(frames(0,2),near(2)))"),
      kernelMask<Union<Near<1>, Restrict<Current, WindowTokens<300>>>>(
          "union(near(1),restrict(current,window_tokens(300)))"),
  };
}

TEST(StaticMaskKernelParity, KernelTypesAgreeWithTheCpuMaskEverywhere) {
  struct Geo {
    int tokensPerFrame, framesPerChunk, blockQ, blockK;
  };
  const Geo geos[] = {{1560, 3, 128, 128}, {1560, 3, 64, 128},
                      {200, 2, 128, 64},   {100, 3, 16, 256},
                      {37, 2, 32, 16},     {1024, 1, 256, 128}};
  int64_t checked = 0;
  for (const KernelMask &km : masks()) {
    const auto cpu = std::make_shared<StaticMask>(StaticMask::parse(km.text));
    for (const Geo &g : geos)
      for (int chunk = 1; chunk <= 8; ++chunk) {
        ChunkSelection sel;
        sel.tokensPerFrame = g.tokensPerFrame;
        sel.framesPerChunk = g.framesPerChunk;
        sel.visibleFrames = chunk * g.framesPerChunk;
        sel.blockQ = g.blockQ;
        sel.blockK = g.blockK;
        sel.staticMask = cpu;
        if (km.text.find("radial(3,156)") != std::string::npos &&
            g.tokensPerFrame < 156)
          continue; // W <= T (docs/static-masks.md)
        int64_t differing = 0;
        std::string first;
        for (int64_t qb = 0; qb < sel.queryBlocks(); ++qb) {
          const mask::Query q{g.tokensPerFrame,         g.blockQ,
                              g.blockK,                 int(sel.queryTokens()),
                              int(sel.keyTokens()),     int(qb)};
          for (int64_t j = 0; j < sel.keyBlocks(); ++j) {
            const bool want = cpu->eligible(sel, qb, j);
            const bool got = km.overlaps(q, int(j));
            ++checked;
            if (want != got && differing++ == 0)
              first = "query block " + std::to_string(qb) + ", key block " +
                      std::to_string(j) + ": cpu " + std::to_string(want) +
                      ", kernel " + std::to_string(got);
          }
        }
        EXPECT_EQ(differing, 0)
            << km.text << ", T " << g.tokensPerFrame << ", blocks "
            << g.blockQ << "/" << g.blockK << ", chunk " << chunk << ": "
            << first;
      }
  }
  EXPECT_GT(checked, 1000000);
}

} // namespace
} // namespace lfc::test
