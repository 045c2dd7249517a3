// GoogleTest driver of the C API tests: writes small plan directories, runs
// the C half (CApiTest.c) on them, and runs the same rollouts through the C++
// lfc::Session, whose outputs the C API must reproduce bit for bit on the CPU
// backend.
#include "lfc/lfc.h"
#include "lfc/runtime.h"
#include "lfc/session.h"
#include "lfc/sha256.h"
#include "tests/unit/capi/CApiTest.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct ChunkSpec {
  bool dense = false;
  int keptDivisor = 3; ///< kept_key_blocks = key_blocks / keptDivisor (>= 1)
  int framesTopK = 3;
  const char *mask = "all";
  bool everyPass = true;
};

struct PlanSpec {
  const char *name;
  int chunks;
  int passes;
  int window; ///< kv_window_frames
  int sink;
  std::vector<ChunkSpec> chunkSpecs;
};

constexpr int kLayers = 2, kHeads = 2, kHeadDim = 16, kTokensPerFrame = 40,
              kFramesPerChunk = 2, kBlock = 16;

/// A global cache of 4 chunks: dense; HSA selecting every pass; HSA with a
/// frame stage selecting once per chunk; static-only (sink, current, radial).
const PlanSpec kGlobal{
    "capi_global",
    4,
    3,
    0,
    1,
    {{true, 1, 0, "all", true},
     {false, 3, 3, "all", true},
     {false, 3, 3, "all", false},
     {false, 1, 0, "union(sink(1),current,radial(2,10))", true}}};

/// A rolling window of 4 frames plus 1 sink frame over 5 chunks of 2 frames:
/// the window rolls from chunk 3 on.
const PlanSpec kWindow{"capi_window",
                       5,
                       2,
                       4,
                       1,
                       {{true, 1, 0, "all", true},
                        {false, 3, 3, "all", true},
                        {false, 3, 3, "all", false},
                        {false, 3, 3, "all", true},
                        {false, 1, 0, "union(sink(1),current)", true}}};

void writeText(const fs::path &p, const std::string &text) {
  fs::create_directories(p.parent_path());
  std::ofstream f(p, std::ios::binary);
  f << text;
  ASSERT_TRUE(f.good()) << p;
}

/// Writes the plan directory of `spec` under `root` (plan.toml and one kernel
/// source: the CPU backend runs every chunk through its reference selection
/// and attention, so the kernel only needs to satisfy the loader).
std::string writePlan(const fs::path &root, const PlanSpec &spec) {
  const fs::path dir = root / spec.name;
  const std::string source =
      "// C API test plan: never compiled (CPU backend only)\n"
      "extern \"C\" __global__ void capi_commit_keys() {}\n";
  writeText(dir / "kernels" / "commit.cu", source);
  std::ostringstream t;
  t << "format_version = 2\n\n[plan]\nname = \"" << spec.name
    << "\"\n\n[geometry]\nlayers = " << kLayers << "\nheads = " << kHeads
    << "\nhead_dim = " << kHeadDim
    << "\ndtype = \"bf16\"\ntokens_per_frame = " << kTokensPerFrame
    << "\nframes_per_chunk = " << kFramesPerChunk
    << "\nchunks = " << spec.chunks << "\npasses_per_chunk = " << spec.passes
    << "\nkv_window_frames = " << spec.window << "\nsink_frames = " << spec.sink
    << "\nsoftmax_scale = 0.25\n";
  for (int i = 1; i <= spec.chunks; ++i) {
    const ChunkSpec &c = spec.chunkSpecs[size_t(i - 1)];
    const int seen = i * kFramesPerChunk;
    const int visible =
        spec.window > 0 ? std::min(seen, spec.sink + spec.window) : seen;
    const int qb = (kFramesPerChunk * kTokensPerFrame + kBlock - 1) / kBlock;
    const int kb = (visible * kTokensPerFrame + kBlock - 1) / kBlock;
    const int kept = std::max(1, kb / c.keptDivisor);
    t << "\n[[chunks]]\nindex = " << i
      << "\nsparsity = " << (c.dense ? 0.0 : 1.0 - double(kept) / kb)
      << "\ndense = " << (c.dense ? "true" : "false")
      << "\nvisible_frames = " << visible << "\nquery_blocks = " << qb
      << "\nkey_blocks = " << kb << "\nkept_key_blocks = " << kept
      << "\nblock_q = " << kBlock << "\nblock_k = " << kBlock
      << "\nsink_frames = 1\nnear_frames = 1\nframes_top_k = " << c.framesTopK
      << "\nstatic_mask = \"" << c.mask << "\"\nrefresh = \""
      << (c.everyPass ? "every_pass" : "per_chunk") << "\"\n";
  }
  t << "\n[[kernels]]\nname = \"capi_commit\"\nsource = \"kernels/commit.cu\""
       "\nsha256 = \""
    << lfc::sha256Hex(source)
    << "\"\n\n[[kernels.entries]]\nsymbol = \"capi_commit_keys\"\nrole = "
       "\"commit_keys\"\ngrid = \"params\"\nblock = [128, 1, 1]\nparams = "
       "\"LfcCommitParams\"\n";
  writeText(dir / "plan.toml", t.str());
  return dir.string();
}

class CApi : public ::testing::Test {
protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("lfc_capi_test_" + std::to_string(::getpid()));
    fs::create_directories(root_);
    global_ = writePlan(root_, kGlobal);
    window_ = writePlan(root_, kWindow);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  fs::path root_;
  std::string global_, window_;
};

/// The C rollout's loop through lfc::Session: the same inputs (capi_fill_bf16
/// in the same order, q BHSD, k/v/out BSHD), every output in loop order.
std::vector<uint16_t> sessionRollout(const std::string &dir, int64_t batch,
                                     uint64_t seed) {
  const lfc::Plan plan = lfc::loadPlan(dir);
  auto cpu = lfc::createCpuBackend(2);
  lfc::SessionOptions options;
  options.batch = batch;
  lfc::Session s(*cpu, plan, options);
  const lfc::PlanGeometry &g = plan.geometry;
  const int64_t L = s.chunkTokens(), H = g.heads, D = g.headDim;
  const size_t n = size_t(batch * L * H * D);
  std::vector<uint16_t> q(n), k(n), v(n), o(n), outputs;
  using lfc::Tensor4;
  const Tensor4 tq = Tensor4::bhsd(q.data(), g.dtype, lfc::Device::Host, batch,
                                   L, H, D),
                tk = Tensor4::bshd(k.data(), g.dtype, lfc::Device::Host, batch,
                                   L, H, D),
                tv = Tensor4::bshd(v.data(), g.dtype, lfc::Device::Host, batch,
                                   L, H, D),
                to = Tensor4::bshd(o.data(), g.dtype, lfc::Device::Host, batch,
                                   L, H, D);
  uint64_t state = seed;
  while (!s.finished()) {
    for (int pass = 0; pass < s.passes(); ++pass) {
      s.beginPass(pass);
      for (int layer = 0; layer < s.layers(); ++layer) {
        capi_fill_bf16(q.data(), n, &state);
        capi_fill_bf16(k.data(), n, &state);
        capi_fill_bf16(v.data(), n, &state);
        s.attention(layer, tq, tk, tv, to);
        outputs.insert(outputs.end(), o.begin(), o.end());
      }
    }
    s.advance();
  }
  return outputs;
}

/// Runs the C rollout and checks it against sessionRollout, output by output.
void expectSameAsSession(const std::string &dir, int64_t batch, int zeroCopy,
                         uint32_t threads, int calls) {
  const uint64_t seed = 0x5eed0000u + uint64_t(batch);
  const std::vector<uint16_t> want = sessionRollout(dir, batch, seed);
  const size_t perCall = want.size() / size_t(calls);
  ASSERT_EQ(perCall * size_t(calls), want.size());
  std::vector<uint16_t> got(want.size() + perCall, 0xffff);
  capi_rollout_args args{};
  args.plan_dir = dir.c_str();
  args.batch = batch;
  args.seed = seed;
  args.zero_copy = zeroCopy;
  args.threads = threads;
  args.outputs = got.data();
  args.capacity = got.size();
  EXPECT_EQ(capi_rollout(&args), 0) << "failed checks in CApiTest.c (stderr)";
  ASSERT_EQ(args.written, want.size());
  for (int call = 0; call < calls; ++call) {
    const auto a = want.begin() + ptrdiff_t(size_t(call) * perCall);
    const auto b = got.begin() + ptrdiff_t(size_t(call) * perCall);
    ASSERT_TRUE(std::equal(a, a + ptrdiff_t(perCall), b))
        << "call " << call << " differs from lfc::Session";
    // A real output: not all zero.
    EXPECT_TRUE(std::any_of(a, a + ptrdiff_t(perCall),
                            [](uint16_t x) { return (x & 0x7fff) != 0; }))
        << "call " << call;
  }
}

int calls(const PlanSpec &spec) { return spec.chunks * spec.passes * kLayers; }

TEST_F(CApi, Basics) { EXPECT_EQ(capi_basics(global_.c_str()), 0); }

TEST_F(CApi, VersionIsTheProjectVersion) {
  int32_t major = -1, minor = -1, patch = -1;
  ASSERT_EQ(lfc_version(&major, &minor, &patch), LFC_OK);
  std::ostringstream v;
  v << major << "." << minor << "." << patch;
  EXPECT_EQ(v.str(), LFC_TEST_PROJECT_VERSION);
}

TEST_F(CApi, GlobalCacheMatchesSession) {
  expectSameAsSession(global_, 1, 0, 0, calls(kGlobal));
}

TEST_F(CApi, GlobalCacheZeroCopyBatch2MatchesSession) {
  expectSameAsSession(global_, 2, 1, 3, calls(kGlobal));
}

TEST_F(CApi, RollingWindowWithSinkMatchesSession) {
  expectSameAsSession(window_, 1, 0, 2, calls(kWindow));
}

TEST_F(CApi, RollingWindowZeroCopyBatch2MatchesSession) {
  expectSameAsSession(window_, 2, 1, 0, calls(kWindow));
}

TEST_F(CApi, Errors) { EXPECT_EQ(capi_errors(global_.c_str()), 0); }

TEST_F(CApi, LastErrorIsPerThread) {
  lfc_plan *plan = nullptr;
  ASSERT_EQ(lfc_plan_get_geometry(nullptr, nullptr),
            LFC_ERROR_INVALID_ARGUMENT);
  const std::string mine = lfc_last_error();
  std::string theirs;
  std::thread([&] {
    EXPECT_STREQ(lfc_last_error(), "");
    EXPECT_EQ(lfc_plan_load((root_ / "missing").c_str(), &plan),
              LFC_ERROR_PLAN);
    theirs = lfc_last_error();
  }).join();
  EXPECT_EQ(plan, nullptr);
  EXPECT_NE(theirs.find("missing"), std::string::npos) << theirs;
  EXPECT_EQ(lfc_last_error(), mine);
  EXPECT_NE(mine.find("lfc_plan_get_geometry: plan is null"), std::string::npos)
      << mine;
}

TEST_F(CApi, SessionKeepsPlanAndBackendAlive) {
  // Handles released in any order, the session last.
  lfc_plan *plan = nullptr;
  lfc_backend *cpu = nullptr;
  lfc_session *s = nullptr;
  ASSERT_EQ(lfc_plan_load(window_.c_str(), &plan), LFC_OK);
  ASSERT_EQ(lfc_backend_create_cpu(1, &cpu), LFC_OK);
  ASSERT_EQ(lfc_session_create(plan, cpu, 1, nullptr, &s), LFC_OK);
  ASSERT_EQ(lfc_backend_destroy(cpu), LFC_OK);
  ASSERT_EQ(lfc_plan_destroy(plan), LFC_OK);
  std::vector<uint16_t> in(size_t(80 * kHeads * kHeadDim)), out(in.size());
  uint64_t state = 1;
  capi_fill_bf16(in.data(), in.size(), &state);
  const lfc_tensor t = lfc_tensor_bshd(in.data(), LFC_DTYPE_BF16,
                                       LFC_DEVICE_HOST, 1, 80, kHeads,
                                       kHeadDim),
                   o = lfc_tensor_bshd(out.data(), LFC_DTYPE_BF16,
                                       LFC_DEVICE_HOST, 1, 80, kHeads,
                                       kHeadDim);
  ASSERT_EQ(lfc_session_begin_pass(s, 0), LFC_OK);
  EXPECT_EQ(lfc_session_attention(s, 0, &t, &t, &t, &o), LFC_OK)
      << lfc_last_error();
  lfc_cache_memory m;
  EXPECT_EQ(lfc_session_memory(s, &m), LFC_OK);
  EXPECT_EQ(m.ring, 1);
  EXPECT_EQ(lfc_session_destroy(s), LFC_OK);
}

} // namespace
