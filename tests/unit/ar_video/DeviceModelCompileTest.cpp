// The device model's kernels (examples/ar_video/device_model_kernels.cuh)
// compile with NVRTC for sm_80 and sm_90a without a single warning and export
// every entry point the model looks up. Needs libnvrtc only, no GPU (skips
// without NVRTC).
#include "examples/ar_video/DeviceModel.h"

#include "lfc/backend.h"
#include "lfc/jit.h"

#include <gtest/gtest.h>

#include <string>

namespace lfc::ar {
namespace {

class DeviceModelKernels : public ::testing::TestWithParam<std::string> {};

TEST_P(DeviceModelKernels, CompileWithoutWarnings) {
  std::string why;
  if (!nvrtcAvailable(&why))
    GTEST_SKIP() << "NVRTC unavailable: " << why;
  JitRequest req = deviceModelJitRequest(GetParam());
  req.useCache = false;
  JitResult r;
  ASSERT_NO_THROW(r = jitCompile(req));
  ASSERT_FALSE(r.cubin.empty());
  // NVRTC logs nothing on a clean compile; any text is a warning.
  EXPECT_EQ(r.log.find_first_not_of(" \n\r\t\0", 0, 5), std::string::npos)
      << GetParam() << ":\n"
      << r.log;
  // The CUBIN's symbol table names every entry the model loads.
  const std::string cubin(r.cubin.begin(), r.cubin.end());
  for (const std::string &entry : deviceModelKernelEntries())
    EXPECT_NE(cubin.find(entry + '\0'), std::string::npos)
        << entry << " missing from the " << GetParam() << " CUBIN";
}

INSTANTIATE_TEST_SUITE_P(Archs, DeviceModelKernels,
                         ::testing::Values("sm_80", "sm_90a"),
                         [](const auto &info) { return info.param; });

TEST(DeviceModelSource, IsTheEmbeddedHeader) {
  const std::string &src = deviceModelKernelSource();
  EXPECT_NE(src.find("#ifndef LFC_AR_DEVICE_MODEL_KERNELS_CUH"),
            std::string::npos);
  for (const std::string &entry : deviceModelKernelEntries())
    EXPECT_NE(src.find(entry + "(const LfcAr"), std::string::npos) << entry;
}

} // namespace
} // namespace lfc::ar
