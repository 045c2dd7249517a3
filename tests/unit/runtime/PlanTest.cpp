// Plan loader: the reference plan's contents, and one error per kind of bad
// manifest, each naming the file and the field.
#include "lfc/plan.h"
#include "lfc/jit.h"
#include "lfc/sha256.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace {

const fs::path kReferencePlan =
    fs::path(LFC_TEST_DATA_DIR) / "plans" / "short_hsa";

std::string readText(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void writeText(const fs::path &p, const std::string &text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

// A private copy of the reference plan, removed at the end of the test.
class PlanCopy {
public:
  PlanCopy() {
    dir_ = fs::temp_directory_path() /
           ("lfc-plan-test-" + std::to_string(::getpid()) + "-" +
            std::to_string(counter_++));
    fs::remove_all(dir_);
    fs::copy(kReferencePlan, dir_, fs::copy_options::recursive);
  }
  ~PlanCopy() { fs::remove_all(dir_); }
  const fs::path &dir() const { return dir_; }
  fs::path manifest() const { return dir_ / "plan.toml"; }
  // Replaces the one occurrence of `from` in plan.toml.
  void edit(const std::string &from, const std::string &to) {
    std::string text = readText(manifest());
    size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos)
        << "test bug: '" << from << "' not in plan.toml";
    ASSERT_EQ(text.find(from, at + 1), std::string::npos)
        << "test bug: '" << from << "' is not unique";
    writeText(manifest(), text.replace(at, from.size(), to));
  }
  std::string loadError() const {
    try {
      lfc::loadPlan(dir_.string());
    } catch (const lfc::Error &e) {
      return e.what();
    }
    return "(no error)";
  }

private:
  fs::path dir_;
  static inline int counter_ = 0;
};

TEST(Plan, LoadsReferencePlan) {
  lfc::Plan plan = lfc::loadPlan(kReferencePlan.string());
  EXPECT_EQ(plan.formatVersion, 1);
  EXPECT_EQ(plan.name, "short_hsa");
  EXPECT_EQ(plan.geometry.heads, 12);
  EXPECT_EQ(plan.geometry.headDim, 128);
  EXPECT_EQ(plan.geometry.dtype, lfc::DType::BF16);
  EXPECT_FLOAT_EQ(plan.geometry.softmaxScale, 1.0f / std::sqrt(128.0f));
  ASSERT_EQ(plan.chunks.size(), 7u);
  // DESIGN.md's check values: sparsities .827 .855 .872 .883 .892 .898 for
  // chunks 2..7.
  const double sparsity[] = {0, .827, .855, .872, .883, .892, .898};
  // floor((1 - s) * ceil(3 * i * 1560 / 128)), worked out by hand from the
  // exact s_i.
  const int keyBlocks[] = {37, 74, 110, 147, 183, 220, 256};
  const int kept[] = {37, 12, 15, 18, 21, 23, 26};
  for (int i = 0; i < 7; ++i) {
    const lfc::PlanChunk &c = plan.chunks[size_t(i)];
    EXPECT_EQ(c.index, i + 1);
    EXPECT_NEAR(c.sparsity, sparsity[i], 5e-4) << "chunk " << i + 1;
    EXPECT_EQ(c.selection.keyBlocks(), keyBlocks[i]);
    EXPECT_EQ(c.selection.queryBlocks(), 37);
    EXPECT_EQ(c.selection.keptKeyBlocks, kept[i]);
    EXPECT_EQ(c.selection.visibleFrames, 3 * (i + 1));
    EXPECT_EQ(c.selection.dense, i == 0);
    EXPECT_EQ(c.selection.framesTopK, 6);
  }
  ASSERT_EQ(plan.kernels.size(), 3u);
  const lfc::PlanEntry *entry = nullptr;
  const lfc::PlanKernel *dense = plan.findKernel("attention", 1, &entry);
  ASSERT_NE(dense, nullptr);
  EXPECT_EQ(entry->symbol, "short_hsa_attn_dense");
  EXPECT_EQ(entry->launch.grid,
            (std::vector<std::string>{"query_tiles", "heads", "batch"}));
  EXPECT_EQ(entry->launch.block[0], 128);
  EXPECT_EQ(entry->launch.sharedBytes, 98304);
  EXPECT_EQ(plan.findKernel("select", 1),
            nullptr); // chunk 1 is dense: no selection
  ASSERT_NE(plan.findKernel("select", 7, &entry), nullptr);
  EXPECT_EQ(entry->launch.params, "LfcSelectParams");
  EXPECT_NE(plan.kernels[0].source.find("short_hsa_select_select"),
            std::string::npos);
  // external_templates: the source tree's kernels_templates/ is on the include
  // path.
  ASSERT_EQ(plan.includeDirs.size(), 1u);
  EXPECT_EQ(plan.includeDirs[0], lfc::defaultKernelIncludeDir());
}

struct BadManifest {
  const char *name;
  const char *from;
  const char *to;
  const char *error;
};

// gtest prints the case name instead of the struct's bytes.
void PrintTo(const BadManifest &c, std::ostream *os) { *os << c.name; }

class PlanErrors : public ::testing::TestWithParam<BadManifest> {};

TEST_P(PlanErrors, NamesFileAndField) {
  PlanCopy plan;
  plan.edit(GetParam().from, GetParam().to);
  std::string error = plan.loadError();
  EXPECT_NE(error.find(GetParam().error), std::string::npos) << error;
  EXPECT_NE(error.find("plan.toml"), std::string::npos) << error;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, PlanErrors,
    ::testing::Values(
        BadManifest{"keptOverBudget", "kept_key_blocks = 12",
                    "kept_key_blocks = 80",
                    "plan.toml: chunks[1].kept_key_blocks: must be <= "
                    "key_blocks (74), got 80"},
        BadManifest{
            "keyBlocks", "key_blocks = 74", "key_blocks = 75",
            "chunks[1].key_blocks: must be ceil(9360 / 128) = 74, got 75"},
        BadManifest{"visibleFrames", "visible_frames = 9", "visible_frames = 8",
                    "chunks[2].visible_frames: must be 9 for chunk 3"},
        BadManifest{"denseWithSparsity",
                    "sparsity = 0.8269904165014675\ndense = false",
                    "sparsity = 0.8269904165014675\ndense = true",
                    "chunks[1].dense: must be false when sparsity is not 0"},
        BadManifest{"missingField", "heads = 12\n", "",
                    "geometry.heads: missing"},
        BadManifest{
            "unknownField", "heads = 12\n", "heads = 12\nhead = 12\n",
            "geometry.head: unknown field (expected one of: layers, heads"},
        BadManifest{"wrongType", "heads = 12", "heads = \"12\"",
                    "geometry.heads: must be an integer, got a string"},
        BadManifest{"formatVersion", "format_version = 1", "format_version = 2",
                    "format_version: this runtime reads version 1, got 2"},
        BadManifest{
            "dtype", "dtype = \"bf16\"", "dtype = \"bfloat\"",
            "geometry.dtype: unknown dtype 'bfloat' (expected bf16 or fp16)"},
        BadManifest{
            "blockSize", "kept_key_blocks = 18\nblock_q = 128",
            "kept_key_blocks = 18\nblock_q = 96",
            "chunks[3].block_q: must be a power of two in [16, 256], got 96"},
        BadManifest{"chunkCount", "chunks = 7", "chunks = 6",
                    "chunks: has 7 entries, geometry.chunks is 6"},
        BadManifest{"syntax", "layers = 30", "layers = = 30",
                    "TOML syntax error"},
        BadManifest{"sourceHash", "sha256 = \"ab71804f", "sha256 = \"bb71804f",
                    "kernels[0].sha256: SHA-256 of "
                    "'kernels/select_bf16_d128.cu' is ab71804f"},
        BadManifest{"sourceOutsideKernels",
                    "source = \"kernels/select_bf16_d128.cu\"",
                    "source = \"../select_bf16_d128.cu\"",
                    "kernels[0].source: must not "
                    "contain '..'"},
        BadManifest{"missingSource", "source = \"kernels/select_bf16_d128.cu\"",
                    "source = \"kernels/nope.cu\"",
                    "kernels[0].sha256: file 'kernels/nope.cu' not found"},
        BadManifest{"gridSymbol",
                    "grid = [\"query_blocks\", \"heads\", \"batch\"]",
                    "grid = [\"query_blockz\", \"heads\", \"batch\"]",
                    "kernels[0].entries[2].grid[0]: unknown grid symbol "
                    "'query_blockz'"},
        BadManifest{"tooManyThreads",
                    "symbol = \"short_hsa_attn_list\"\nrole = \"attention\"\n"
                    "grid = [\"query_tiles\", \"heads\", \"batch\"]\n"
                    "block = [128, 1, 1]",
                    "symbol = \"short_hsa_attn_list\"\nrole = \"attention\"\n"
                    "grid = [\"query_tiles\", \"heads\", \"batch\"]\nblock = "
                    "[128, 16, 1]",
                    "kernels[1].entries[0].block: has 2048 threads; at most "
                    "1024 per block"},
        BadManifest{"unknownRole", "role = \"commit_keys\"",
                    "role = \"comit_keys\"",
                    "kernels[0].entries[0].role: unknown role 'comit_keys'"},
        BadManifest{"symbolNotInSource", "symbol = \"short_hsa_attn_dense\"",
                    "symbol = \"short_hsa_attn_dens\"",
                    "kernels[2].entries[0].symbol: 'short_hsa_attn_dens' does "
                    "not occur in"},
        BadManifest{
            "chunkOutOfRange", "chunks = [1]", "chunks = [8]",
            "kernels[2].chunks: entries must be chunk indices in [1, 7]"}),
    [](const auto &info) { return std::string(info.param.name); });

TEST(Plan, EntrySymbolMustOccurInSource) {
  PlanCopy plan;
  plan.edit("symbol = \"short_hsa_attn_dense\"",
            "symbol = \"short_hsa_attn_sparse\"");
  EXPECT_NE(plan.loadError().find(
                "kernels[2].entries[0].symbol: 'short_hsa_attn_sparse' does "
                "not occur in kernels/attn_bf16_d128_dense.cu"),
            std::string::npos)
      << plan.loadError();
}

TEST(Plan, ChangedSourceFailsItsHash) {
  PlanCopy plan;
  fs::path src = plan.dir() / "kernels" / "attn_bf16_d128_dense.cu";
  writeText(src, readText(src) + "// edited\n");
  std::string error = plan.loadError();
  EXPECT_NE(error.find("plan.toml: kernels[2].sha256: SHA-256 of "
                       "'kernels/attn_bf16_d128_dense.cu' is "),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("the file changed after the plan was written"),
            std::string::npos);
}

TEST(Plan, NotADirectory) {
  try {
    lfc::loadPlan("/nonexistent/plan");
    FAIL() << "no error";
  } catch (const lfc::Error &e) {
    EXPECT_NE(
        std::string(e.what()).find("'/nonexistent/plan' is not a directory"),
        std::string::npos)
        << e.what();
  }
}

// Bundles the source tree's templates under include/ so the plan compiles
// without them.
void bundleTemplates(PlanCopy &plan) {
  fs::path templates = lfc::defaultKernelIncludeDir();
  std::string headers;
  for (const auto &e : fs::recursive_directory_iterator(templates)) {
    if (!e.is_regular_file())
      continue;
    std::string rel =
        ("include" / fs::relative(e.path(), templates)).generic_string();
    std::string text = readText(e.path());
    writeText(plan.dir() / rel, text);
    headers += "\n[[headers]]\npath = \"" + rel + "\"\nsha256 = \"" +
               lfc::sha256Hex(text) + "\"\n";
  }
  plan.edit("external_templates = true", "include_dirs = [\"include\"]");
  plan.edit("\n[[kernels]]\nname = \"short_hsa_select_bf16_d128\"",
            headers + "\n[[kernels]]\nname = \"short_hsa_select_bf16_d128\"");
}

TEST(Plan, SelfContainedPlanCompilesFromItsBundledHeaders) {
  PlanCopy plan;
  bundleTemplates(plan);
  lfc::Plan loaded = lfc::loadPlan(plan.dir().string());
  ASSERT_EQ(loaded.includeDirs.size(), 1u);
  EXPECT_EQ(loaded.includeDirs[0], (plan.dir() / "include").string());
  EXPECT_FALSE(loaded.headers.empty());
  // Point the templates elsewhere: the compile must not need them.
  struct EnvGuard {
    EnvGuard() { ::setenv("LFC_KERNEL_INCLUDE_DIR", "/nonexistent", 1); }
    ~EnvGuard() { ::unsetenv("LFC_KERNEL_INCLUDE_DIR"); }
  } guard;
  lfc::JitRequest req = loaded.jitRequest(loaded.kernels[2], "sm_80");
  req.useCache = false;
  lfc::JitResult r = lfc::jitCompile(req);
  EXPECT_EQ(r.log, "");
  ASSERT_GE(r.cubin.size(), 4u);
  EXPECT_EQ(std::string(r.cubin.data(), 4), "\x7f"
                                            "ELF");
}

TEST(Plan, BundledHeaderMustMatchItsHashAndBeListed) {
  PlanCopy plan;
  bundleTemplates(plan);
  fs::path abi = plan.dir() / "include" / "lfc" / "abi.h";
  std::string original = readText(abi);
  writeText(abi, original + "\n");
  EXPECT_NE(plan.loadError().find("SHA-256 of 'include/lfc/abi.h' is"),
            std::string::npos)
      << plan.loadError();
  writeText(abi, original);
  writeText(plan.dir() / "include" / "stray.cuh", "// not in the manifest\n");
  EXPECT_NE(plan.loadError().find("plan.toml: headers: 'include/stray.cuh' is "
                                  "in the plan but not listed"),
            std::string::npos)
      << plan.loadError();
}

} // namespace
