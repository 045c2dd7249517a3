// `lfc compile` end to end: every example policy compiles into a plan the
// runtime loads, and every kernel of it compiles with NVRTC, without a warning,
// for every arch the runtime would run it on. Needs libnvrtc, not a GPU.
#include "dialect/LfStaticMask.h"
#include "lfc/jit.h"
#include "lfc/plan.h"
#include "lfc/static_mask.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;

namespace {

// The archs the runtime JIT-compiles for (lfc::cuda::supportedArchs()).
const std::vector<std::string> kArchs = {"sm_80",  "sm_86",   "sm_89",
                                         "sm_90a", "sm_100a", "sm_120"};

std::vector<std::string> examplePolicies() {
  std::vector<std::string> names;
  for (const auto &entry : fs::directory_iterator(LFC_POLICIES_DIR))
    if (entry.path().extension() == ".toml")
      names.push_back(entry.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::string readFile(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// A fresh directory per test, removed afterwards; LFC_CACHE_DIR points into
/// it so the JIT never touches the user's cache.
class Scratch {
public:
  explicit Scratch(const std::string &name)
      : dir_(fs::temp_directory_path() /
             ("lfc-compile-test-" + std::to_string(::getpid()) + "-" + name)) {
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "cache");
    ::setenv("LFC_CACHE_DIR", (dir_ / "cache").c_str(), 1);
  }
  ~Scratch() { fs::remove_all(dir_); }
  const fs::path &dir() const { return dir_; }

private:
  fs::path dir_;
};

/// Runs `lfc compile POLICY -o PLAN`; returns its exit status, output in `log`.
int compile(const std::string &policy, const fs::path &plan, std::string &log) {
  fs::path out = plan.string() + ".log";
  std::string command = std::string("'") + LFC_BINARY + "' compile '" + policy +
                        "' -o '" + plan.string() + "' > '" + out.string() +
                        "' 2>&1";
  int status = std::system(command.c_str());
  log = readFile(out);
  fs::remove(out);
  return status;
}

/// The archs the runtime launches `kernel` on: those where Plan::findKernel
/// picks it for some role and chunk (what `lfc jit` compiles, too).
std::vector<std::string> archsOf(const lfc::Plan &plan,
                                 const lfc::PlanKernel &kernel) {
  std::vector<std::string> archs;
  for (const std::string &arch : kArchs) {
    bool used = false;
    for (const lfc::PlanEntry &entry : kernel.entries)
      for (const lfc::PlanChunk &chunk : plan.chunks)
        used |= plan.findKernel(entry.role, chunk.index, arch) == &kernel;
    if (used)
      archs.push_back(arch);
  }
  return archs;
}

class CompileExample : public ::testing::TestWithParam<std::string> {};

TEST_P(CompileExample, LoadsAndEveryKernelCompilesWithoutWarnings) {
  const std::string name = GetParam();
  Scratch scratch(name);
  const std::string policy =
      std::string(LFC_POLICIES_DIR) + "/" + name + ".toml";
  const fs::path planDir = scratch.dir() / name;
  std::string log;
  ASSERT_EQ(compile(policy, planDir, log), 0) << log;
  // One progress line, nothing else.
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << log;

  lfc::Plan plan;
  ASSERT_NO_THROW(plan = lfc::loadPlan(planDir.string()));
  EXPECT_EQ(plan.formatVersion, 2);
  EXPECT_EQ(plan.name, name);
  EXPECT_EQ(plan.source, policy);
  ASSERT_FALSE(plan.kernels.empty());
  // The plan travels: its headers are bundled, nothing points at the tree.
  EXPECT_FALSE(plan.headers.empty());
  ASSERT_EQ(plan.includeDirs.size(), 1u);
  EXPECT_EQ(fs::path(plan.includeDirs[0]), planDir / "include");

  // Which archs each kernel runs on: archs = ["sm_90a"] kernels on sm_90a
  // only; the portable select kernel everywhere; portable attention kernels on
  // the five other archs (sm_90a has its own).
  struct Job {
    const lfc::PlanKernel *kernel;
    std::string arch;
  };
  std::vector<Job> jobs;
  for (const lfc::PlanKernel &kernel : plan.kernels) {
    std::vector<std::string> archs = archsOf(plan, kernel);
    bool selects =
        std::any_of(kernel.entries.begin(), kernel.entries.end(),
                    [](const lfc::PlanEntry &e) { return e.role == "select"; });
    std::vector<std::string> expected;
    if (kernel.archs == std::vector<std::string>{"sm_90a"})
      expected = {"sm_90a"};
    else if (selects)
      expected = kArchs;
    else
      for (const std::string &arch : kArchs)
        if (arch != "sm_90a")
          expected.push_back(arch);
    EXPECT_EQ(archs, expected) << kernel.name;
    for (const std::string &arch : archs)
      jobs.push_back({&kernel, arch});
  }

  std::string why;
  if (!lfc::nvrtcAvailable(&why))
    GTEST_SKIP() << "the plan loads; NVRTC is unavailable to compile it: "
                 << why;
  // Two compiles at a time (NVRTC programs are independent).
  for (size_t first = 0; first < jobs.size(); first += 2) {
    std::vector<std::future<lfc::JitResult>> results;
    for (size_t i = first; i < std::min(first + 2, jobs.size()); ++i)
      results.push_back(std::async(std::launch::async, [&plan, &jobs, i] {
        return lfc::jitCompile(plan.jitRequest(*jobs[i].kernel, jobs[i].arch));
      }));
    for (size_t i = first; i < std::min(first + 2, jobs.size()); ++i) {
      const Job &job = jobs[i];
      lfc::JitResult result;
      ASSERT_NO_THROW(result = results[i - first].get())
          << job.kernel->name << " on " << job.arch;
      EXPECT_FALSE(result.cubin.empty()) << job.kernel->name;
      // NVRTC logs nothing on a clean compile; any text is a warning.
      EXPECT_EQ(result.log.find_first_not_of(" \n\r\t", 0), std::string::npos)
          << job.kernel->name << " on " << job.arch << ":\n"
          << result.log;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Examples, CompileExample,
                         ::testing::ValuesIn(examplePolicies()),
                         [](const auto &info) { return info.param; });

// The compiled Self Forcing preset against the hand-written reference plan
// (tests/data/plans/short_hsa): the same chunks, and the same launch contracts
// for the kernels both have (the reference is portable only).
TEST(CompileReference, SelfForcingShortMatchesTheHandWrittenPlan) {
  Scratch scratch("reference");
  std::string log;
  const fs::path planDir = scratch.dir() / "short";
  ASSERT_EQ(compile(std::string(LFC_POLICIES_DIR) + "/self_forcing_short.toml",
                    planDir, log),
            0)
      << log;
  lfc::Plan compiled = lfc::loadPlan(planDir.string());
  lfc::Plan reference =
      lfc::loadPlan(std::string(LFC_TEST_DATA_DIR) + "/plans/short_hsa");
  ASSERT_EQ(compiled.chunks.size(), reference.chunks.size());
  for (size_t i = 0; i < compiled.chunks.size(); ++i) {
    const lfc::PlanChunk &c = compiled.chunks[i], &r = reference.chunks[i];
    SCOPED_TRACE("chunk " + std::to_string(r.index));
    EXPECT_EQ(c.sparsity, r.sparsity);
    EXPECT_EQ(c.selectEveryPass, r.selectEveryPass);
    EXPECT_EQ(c.selection.dense, r.selection.dense);
    EXPECT_EQ(c.selection.visibleFrames, r.selection.visibleFrames);
    EXPECT_EQ(c.selection.keptKeyBlocks, r.selection.keptKeyBlocks);
    EXPECT_EQ(c.selection.sinkFrames, r.selection.sinkFrames);
    EXPECT_EQ(c.selection.nearFrames, r.selection.nearFrames);
    EXPECT_EQ(c.selection.framesTopK, r.selection.framesTopK);
    EXPECT_EQ(c.selection.blockQ, r.selection.blockQ);
    EXPECT_EQ(c.selection.blockK, r.selection.blockK);
    EXPECT_EQ(c.selection.staticMask->text(), r.selection.staticMask->text());
  }
  // Per role and chunk, the portable entry: same grid, block, shared memory,
  // tiles and variant.
  for (const lfc::PlanChunk &chunk : reference.chunks)
    for (const char *role :
         {"commit_keys", "pool_keys", "select", "attention"}) {
      const lfc::PlanEntry *r = nullptr, *c = nullptr;
      bool inReference = reference.findKernel(role, chunk.index, "", &r);
      bool inCompiled = compiled.findKernel(role, chunk.index, "", &c);
      ASSERT_EQ(inCompiled, inReference) << role << " chunk " << chunk.index;
      if (!inReference)
        continue;
      SCOPED_TRACE(std::string(role) + " chunk " + std::to_string(chunk.index));
      EXPECT_EQ(c->launch.grid, r->launch.grid);
      EXPECT_EQ(c->launch.block[0], r->launch.block[0]);
      EXPECT_EQ(c->launch.sharedBytes, r->launch.sharedBytes);
      EXPECT_EQ(c->launch.tileQ, r->launch.tileQ);
      EXPECT_EQ(c->launch.params, r->launch.params);
      EXPECT_EQ(c->attention.kernel, r->attention.kernel);
      EXPECT_EQ(c->attention.mask, r->attention.mask);
      EXPECT_EQ(c->attention.tileK, r->attention.tileK);
      EXPECT_EQ(c->attention.warps, r->attention.warps);
    }
}

// The compiler's static mask model (dialect/LfStaticMask.h) and the runtime's
// (lfc::StaticMask, which the CPU backend evaluates) read and write the same
// text and spell the same C++ types.
TEST(StaticMaskModels, CompilerAndRuntimeAgree) {
  const char *masks[] = {
      "all",
      "current",
      "sink(1)",
      "near(2)",
      "window_frames(6)",
      "window_tokens(3000)",
      "radial(3,156)",
      "frames(0,2,5)",
      "union(sink(1),current,radial(3,156))",
      "restrict(union(sink(1),current,radial(1,128)),window_frames(2))",
      "union(union(sink(1),near(2)),current)",
  };
  for (const char *text : masks) {
    SCOPED_TRACE(text);
    std::string error;
    std::optional<mlir::lf::StaticMaskExpr> compiler =
        mlir::lf::StaticMaskExpr::parse(text, error);
    ASSERT_TRUE(compiler.has_value()) << error;
    lfc::StaticMask runtime = lfc::StaticMask::parse(text);
    EXPECT_EQ(compiler->text(), runtime.text());
    EXPECT_EQ(compiler->cppType(), runtime.cppType());
  }
  // Both reject what is not canonical.
  for (const char *text :
       {"union(current)", "sink(01)", "radial(0,4)", "frames(3,2)",
        "restrict(current,sink(1),near(1))", "current ", "window(3)"}) {
    SCOPED_TRACE(text);
    std::string error;
    EXPECT_FALSE(mlir::lf::StaticMaskExpr::parse(text, error).has_value());
    EXPECT_FALSE(error.empty());
    EXPECT_THROW(lfc::StaticMask::parse(text), lfc::Error);
  }
}

// Every compiled static mask names its kernels' Mask type as the runtime
// spells it, so a plan's CPU and CUDA executions evaluate the same mask.
TEST(CompileStatic, KernelMaskTypesAreTheRuntimes) {
  Scratch scratch("static");
  for (const char *name :
       {"radial_static", "sliding_window", "sliding_window_topk", "radial"}) {
    SCOPED_TRACE(name);
    std::string log;
    const fs::path planDir = scratch.dir() / name;
    ASSERT_EQ(compile(std::string(LFC_POLICIES_DIR) + "/" + name + ".toml",
                      planDir, log),
              0)
        << log;
    lfc::Plan plan = lfc::loadPlan(planDir.string());
    int masked = 0;
    for (const lfc::PlanKernel &kernel : plan.kernels) {
      if (kernel.staticMask == "all")
        continue;
      ++masked;
      std::string using_ = "using Mask = " +
                           lfc::StaticMask::parse(kernel.staticMask).cppType() +
                           ";\n";
      EXPECT_NE(kernel.source.find(using_), std::string::npos)
          << kernel.name << ":\n"
          << kernel.source;
    }
    EXPECT_GE(masked, 1);
  }
}

} // namespace
