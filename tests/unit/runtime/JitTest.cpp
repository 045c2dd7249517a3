// NVRTC JIT and its disk cache. NVRTC compiles without a GPU, so these run
// everywhere libnvrtc is installed.
#include "lfc/jit.h"
#include "lfc/backend.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;

namespace {

const char *kTinyKernel = R"(
extern "C" __global__ void add_one(float *x) { x[threadIdx.x] += 1.0f; }
)";

class Jit : public ::testing::Test {
protected:
  void SetUp() override {
    std::string why;
    if (!lfc::nvrtcAvailable(&why))
      GTEST_SKIP() << why;
    cache_ = fs::temp_directory_path() /
             ("lfc-jit-test-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(cache_);
  }
  void TearDown() override { fs::remove_all(cache_); }

  lfc::JitRequest request(const std::string &arch = "sm_80") const {
    lfc::JitRequest r;
    r.kernelName = "tiny_add_one";
    r.source = kTinyKernel;
    r.arch = arch;
    r.cacheDir = cache_.string();
    return r;
  }
  std::vector<fs::path> entries() const {
    std::vector<fs::path> out;
    if (fs::exists(cache_))
      for (const auto &e : fs::directory_iterator(cache_))
        out.push_back(e.path());
    return out;
  }
  static std::string readBytes(const fs::path &p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  static void writeBytes(const fs::path &p, const std::string &b) {
    std::ofstream(p, std::ios::binary | std::ios::trunc) << b;
  }

  fs::path cache_;
};

bool isElf(const std::vector<char> &b) {
  return b.size() > 4 && b[0] == 0x7f && b[1] == 'E' && b[2] == 'L' &&
         b[3] == 'F';
}

TEST(JitArch, ArchForDevice) {
  EXPECT_EQ(lfc::archForDevice(9, 0), "sm_90a");
  EXPECT_EQ(lfc::archForDevice(10, 0), "sm_100a");
  EXPECT_EQ(lfc::archForDevice(8, 0), "sm_80");
  EXPECT_EQ(lfc::archForDevice(8, 6), "sm_86");
  EXPECT_EQ(lfc::archForDevice(8, 9), "sm_89");
  EXPECT_EQ(lfc::archForDevice(12, 0), "sm_120");
}

TEST(JitArch, RejectsVirtualAndMalformedArchs) {
  for (const char *bad : {"compute_80", "sm80", "sm_9x", "", "sm_90ab"})
    EXPECT_THROW(lfc::validateArch(bad), lfc::Error) << bad;
  for (const char *good : {"sm_80", "sm_90a", "sm_100a", "sm_120", "sm_100f"})
    EXPECT_NO_THROW(lfc::validateArch(good)) << good;
}

TEST_F(Jit, CompilesForSm80AndSm90aThenHitsTheCache) {
  for (const char *arch : {"sm_80", "sm_90a"}) {
    lfc::JitResult cold = lfc::jitCompile(request(arch));
    EXPECT_FALSE(cold.cacheHit) << arch;
    EXPECT_TRUE(isElf(cold.cubin)) << arch;
    EXPECT_GT(cold.compileMs, 0.0);
    EXPECT_EQ(cold.log, "");
    EXPECT_TRUE(fs::exists(cold.cachePath));
    lfc::JitResult warm = lfc::jitCompile(request(arch));
    EXPECT_TRUE(warm.cacheHit) << arch;
    EXPECT_EQ(warm.compileMs, 0.0);
    EXPECT_EQ(warm.cubin, cold.cubin) << arch;
    EXPECT_EQ(warm.cachePath, cold.cachePath);
    EXPECT_EQ(warm.cacheRejected, "");
  }
  EXPECT_EQ(entries().size(), 2u);
}

TEST_F(Jit, EntryNameIsReadable) {
  lfc::JitResult r = lfc::jitCompile(request("sm_90a"));
  std::string name = fs::path(r.cachePath).filename().string();
  EXPECT_EQ(name.rfind("tiny_add_one.sm_90a." + r.key.substr(0, 32), 0), 0u)
      << name;
  EXPECT_EQ(r.key.size(), 64u);
}

TEST_F(Jit, OptionsArchAndSourceChangeTheEntry) {
  lfc::JitRequest withOption = request();
  withOption.options = {"-DLFC_TEST_FLAG=1"};
  lfc::JitRequest otherSource = request();
  otherSource.source += "\n// a comment changes the key\n";
  std::set<std::string> keys, paths;
  for (const lfc::JitRequest &r :
       {request("sm_80"), request("sm_86"), withOption, otherSource}) {
    lfc::JitResult res = lfc::jitCompile(r);
    EXPECT_FALSE(res.cacheHit);
    keys.insert(res.key);
    paths.insert(res.cachePath);
  }
  EXPECT_EQ(keys.size(), 4u);
  EXPECT_EQ(paths.size(), 4u);
  EXPECT_EQ(entries().size(), 4u);
}

TEST_F(Jit, IncludedHeaderContentIsPartOfTheKey) {
  fs::path inc = cache_ / "inc";
  fs::create_directories(inc / "sub");
  writeBytes(inc / "outer.cuh", "#include \"sub/inner.cuh\"\n");
  writeBytes(inc / "sub" / "inner.cuh", "#define LFC_INNER 1.0f\n");
  lfc::JitRequest r = request();
  r.cacheDir = (cache_ / "entries").string();
  r.includeDirs = {inc.string()};
  r.source = "#include \"outer.cuh\"\n"
             "extern \"C\" __global__ void k(float *x) { x[0] = LFC_INNER; }\n";
  lfc::JitResult first = lfc::jitCompile(r);
  EXPECT_TRUE(lfc::jitCompile(r).cacheHit);
  // A header two levels down changes: a new key, a fresh compile.
  writeBytes(inc / "sub" / "inner.cuh", "#define LFC_INNER 2.0f\n");
  lfc::JitResult second = lfc::jitCompile(r);
  EXPECT_FALSE(second.cacheHit);
  EXPECT_NE(second.key, first.key);
  EXPECT_NE(second.cubin, first.cubin);
}

TEST_F(Jit, CorruptEntryIsRebuilt) {
  lfc::JitResult cold = lfc::jitCompile(request());
  std::string bytes = readBytes(cold.cachePath);
  bytes[bytes.size() - 100] ^= 0x5a; // inside the CUBIN
  writeBytes(cold.cachePath, bytes);
  lfc::JitResult again = lfc::jitCompile(request());
  EXPECT_FALSE(again.cacheHit);
  EXPECT_NE(again.cacheRejected.find("payload hash mismatch"),
            std::string::npos)
      << again.cacheRejected;
  EXPECT_EQ(again.cubin, cold.cubin);
  EXPECT_TRUE(lfc::jitCompile(request()).cacheHit); // the rebuilt entry is good
}

TEST_F(Jit, TruncatedEntryIsRebuilt) {
  lfc::JitResult cold = lfc::jitCompile(request());
  std::string bytes = readBytes(cold.cachePath);
  writeBytes(cold.cachePath, bytes.substr(0, bytes.size() / 2));
  lfc::JitResult half = lfc::jitCompile(request());
  EXPECT_FALSE(half.cacheHit);
  EXPECT_NE(half.cacheRejected.find("does not match the header (truncated?)"),
            std::string::npos)
      << half.cacheRejected;
  writeBytes(cold.cachePath, bytes.substr(0, 20));
  lfc::JitResult header = lfc::jitCompile(request());
  EXPECT_FALSE(header.cacheHit);
  EXPECT_NE(header.cacheRejected.find("truncated header (20 bytes)"),
            std::string::npos)
      << header.cacheRejected;
  EXPECT_EQ(header.cubin, cold.cubin);
}

TEST_F(Jit, ForeignEntryIsRebuilt) {
  lfc::JitResult cold = lfc::jitCompile(request("sm_80"));
  lfc::JitResult other = lfc::jitCompile(request("sm_86"));
  // A valid entry of another key under this key's name.
  fs::copy_file(other.cachePath, cold.cachePath,
                fs::copy_options::overwrite_existing);
  lfc::JitResult swapped = lfc::jitCompile(request("sm_80"));
  EXPECT_FALSE(swapped.cacheHit);
  EXPECT_NE(swapped.cacheRejected.find("entry belongs to another key"),
            std::string::npos)
      << swapped.cacheRejected;
  EXPECT_EQ(swapped.cubin, cold.cubin);
  // Not an lfc entry at all.
  writeBytes(cold.cachePath, std::string(200, 'x'));
  lfc::JitResult junk = lfc::jitCompile(request("sm_80"));
  EXPECT_NE(junk.cacheRejected.find("bad magic"), std::string::npos)
      << junk.cacheRejected;
  EXPECT_EQ(junk.cubin, cold.cubin);
}

TEST_F(Jit, ConcurrentWritersLeaveOneValidEntry) {
  // Every thread misses, compiles and installs the same key at about the same
  // time.
  constexpr int kThreads = 4;
  std::vector<lfc::JitResult> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back(
        [&, t] { results[size_t(t)] = lfc::jitCompile(request()); });
  for (std::thread &t : threads)
    t.join();
  for (const lfc::JitResult &r : results) {
    EXPECT_TRUE(isElf(r.cubin));
    EXPECT_EQ(r.cubin, results[0].cubin);
  }
  auto files = entries();
  ASSERT_EQ(files.size(), 1u) << "temporary files left behind";
  lfc::JitResult reread = lfc::jitCompile(request());
  EXPECT_TRUE(reread.cacheHit);
  EXPECT_EQ(reread.cubin, results[0].cubin);
}

TEST_F(Jit, CompileErrorNamesTheKernelAndCarriesTheLog) {
  lfc::JitRequest r = request();
  r.kernelName = "broken_kernel";
  r.source = "extern \"C\" __global__ void k(float *x) { x[0] = "
             "undefined_symbol_xyz; }\n";
  try {
    lfc::jitCompile(r);
    FAIL() << "no error";
  } catch (const lfc::Error &e) {
    std::string what = e.what();
    EXPECT_NE(what.find("kernel 'broken_kernel'"), std::string::npos) << what;
    EXPECT_NE(what.find("undefined_symbol_xyz"), std::string::npos) << what;
    EXPECT_NE(what.find("sm_80"), std::string::npos) << what;
  }
  EXPECT_TRUE(entries().empty()); // nothing cached for a failed compile
}

TEST_F(Jit, WarningsAreReportedAndKeptInTheCache) {
  lfc::JitRequest r = request();
  r.kernelName = "warns";
  r.source =
      "extern \"C\" __global__ void k(float *x) { int unused_var_abc = 3; }\n";
  lfc::JitResult cold = lfc::jitCompile(r);
  EXPECT_NE(cold.log.find("unused_var_abc"), std::string::npos) << cold.log;
  lfc::JitResult warm = lfc::jitCompile(r);
  EXPECT_TRUE(warm.cacheHit);
  EXPECT_EQ(warm.log, cold.log);
}

TEST_F(Jit, WithoutCacheWritesNothing) {
  lfc::JitRequest r = request();
  r.useCache = false;
  lfc::JitResult res = lfc::jitCompile(r);
  EXPECT_TRUE(isElf(res.cubin));
  EXPECT_EQ(res.cachePath, "");
  EXPECT_FALSE(fs::exists(cache_));
}

TEST_F(Jit, CacheDirectoryFromEnvironment) {
  ::setenv("LFC_CACHE_DIR", cache_.c_str(), 1);
  EXPECT_EQ(lfc::defaultCacheDir(), cache_.string());
  lfc::JitRequest r = request();
  r.cacheDir.clear();
  lfc::JitResult res = lfc::jitCompile(r);
  ::unsetenv("LFC_CACHE_DIR");
  EXPECT_EQ(fs::path(res.cachePath).parent_path(), cache_);
}

TEST_F(Jit, MissingIncludeDirectoryIsAnError) {
  lfc::JitRequest r = request();
  r.includeDirs = {"/nonexistent/lfc-templates"};
  try {
    lfc::jitCompile(r);
    FAIL() << "no error";
  } catch (const lfc::Error &e) {
    EXPECT_NE(std::string(e.what()).find(
                  "include directory '/nonexistent/lfc-templates' does "
                  "not exist"),
              std::string::npos)
        << e.what();
  }
}

} // namespace
