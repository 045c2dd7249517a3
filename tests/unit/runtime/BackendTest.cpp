// createBackend(): LFC_BACKEND handling and the CPU fallback.
#include "lfc/cuda_backend.h"
#include "lfc/runtime.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace {

// Restores LFC_BACKEND after each test.
class BackendFactory : public ::testing::Test {
protected:
  void SetUp() override {
    if (const char *v = std::getenv("LFC_BACKEND"))
      saved_ = v, hadValue_ = true;
  }
  void TearDown() override {
    if (hadValue_)
      ::setenv("LFC_BACKEND", saved_.c_str(), 1);
    else
      ::unsetenv("LFC_BACKEND");
  }
  std::string saved_;
  bool hadValue_ = false;
};

TEST_F(BackendFactory, CpuOnRequest) {
  ::setenv("LFC_BACKEND", "cpu", 1);
  auto backend = lfc::createBackend();
  EXPECT_EQ(backend->device(), lfc::Device::Host);
  EXPECT_EQ(backend->name().rfind("cpu", 0), 0u) << backend->name();
}

TEST_F(BackendFactory, UnknownValueIsAnError) {
  ::setenv("LFC_BACKEND", "tpu", 1);
  try {
    lfc::createBackend();
    FAIL() << "no error";
  } catch (const lfc::Error &e) {
    EXPECT_NE(std::string(e.what()).find(
                  "LFC_BACKEND: unknown backend 'tpu'; expected cpu, "
                  "cuda or auto"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(BackendFactory, CudaWithoutGpuIsAnErrorWithTheReason) {
  std::string why;
  if (lfc::cudaBackendAvailable(&why))
    GTEST_SKIP() << "a CUDA device is present";
  ::setenv("LFC_BACKEND", "cuda", 1);
  try {
    lfc::createBackend();
    FAIL() << "no error";
  } catch (const lfc::Error &e) {
    std::string what = e.what();
    EXPECT_NE(
        what.find("CUDA backend requested (LFC_BACKEND=cuda) but unavailable"),
        std::string::npos)
        << what;
    EXPECT_NE(what.find(why), std::string::npos) << what;
  }
}

TEST_F(BackendFactory, AutoFallsBackToCpuWithoutGpu) {
  std::string why;
  if (lfc::cudaBackendAvailable(&why))
    GTEST_SKIP() << "a CUDA device is present";
  ::unsetenv("LFC_BACKEND");
  EXPECT_EQ(lfc::createBackend()->device(), lfc::Device::Host);
  // An explicit kind overrides the environment.
  ::setenv("LFC_BACKEND", "cuda", 1);
  EXPECT_EQ(lfc::createBackend(lfc::BackendKind::Cpu)->device(),
            lfc::Device::Host);
}

TEST(BackendKind, Parses) {
  EXPECT_EQ(lfc::parseBackendKind(""), lfc::BackendKind::Auto);
  EXPECT_EQ(lfc::parseBackendKind("auto"), lfc::BackendKind::Auto);
  EXPECT_EQ(lfc::parseBackendKind("cpu"), lfc::BackendKind::Cpu);
  EXPECT_EQ(lfc::parseBackendKind("cuda"), lfc::BackendKind::Cuda);
  EXPECT_THROW(lfc::parseBackendKind("CUDA"), lfc::Error);
}

} // namespace
