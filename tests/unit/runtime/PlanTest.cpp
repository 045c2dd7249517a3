// Plan loader: the reference plan's contents, and one error per kind of bad
// manifest, each naming the file and the field.
#include "lfc/plan.h"
#include "lfc/jit.h"
#include "lfc/sha256.h"
#include "lfc/static_mask.h"

#include <gtest/gtest.h>

#include <algorithm>
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
  EXPECT_EQ(plan.formatVersion, 2);
  EXPECT_EQ(plan.name, "short_hsa");
  EXPECT_EQ(plan.source, "examples/policies/self_forcing_short.toml");
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
    // No static_mask and no refresh in the manifest: the defaults.
    ASSERT_NE(c.selection.staticMask, nullptr);
    EXPECT_TRUE(c.selection.staticMask->isAll());
    EXPECT_TRUE(c.selectEveryPass);
  }
  ASSERT_EQ(plan.kernels.size(), 3u);
  const lfc::PlanEntry *entry = nullptr;
  const lfc::PlanKernel *dense =
      plan.findKernel("attention", 1, "sm_90a", &entry);
  ASSERT_NE(dense, nullptr);
  EXPECT_EQ(entry->symbol, "short_hsa_attn_dense");
  EXPECT_EQ(entry->launch.grid,
            (std::vector<std::string>{"query_tiles", "heads", "batch"}));
  EXPECT_EQ(entry->launch.block[0], 128);
  EXPECT_EQ(entry->launch.sharedBytes, 98304);
  EXPECT_EQ(entry->attention.kernel, "mma");
  EXPECT_EQ(entry->attention.mask, "dense");
  EXPECT_EQ(entry->attention.tileK, 64);
  EXPECT_EQ(entry->attention.warps, 4);
  EXPECT_EQ(entry->attention.stages, 0);
  ASSERT_NE(plan.findKernel("attention", 4, "", &entry), nullptr);
  EXPECT_EQ(entry->symbol, "short_hsa_attn_list");
  EXPECT_EQ(entry->attention.mask, "list");
  EXPECT_EQ(plan.findKernel("select", 1, "sm_80"),
            nullptr); // chunk 1 is dense: no selection
  ASSERT_NE(plan.findKernel("select", 7, "sm_80", &entry), nullptr);
  EXPECT_EQ(entry->launch.params, "LfcSelectParams");
  EXPECT_EQ(entry->attention.kernel, ""); // not an attention entry
  for (const lfc::PlanKernel &k : plan.kernels) {
    EXPECT_TRUE(k.archs.empty()) << k.name;
    EXPECT_EQ(k.staticMask, "all") << k.name;
  }
  EXPECT_NE(plan.kernels[0].source.find("short_hsa_select_select"),
            std::string::npos);
  // external_templates: the source tree's kernels_templates/ is on the include
  // path.
  ASSERT_EQ(plan.includeDirs.size(), 1u);
  EXPECT_EQ(plan.includeDirs[0], lfc::defaultKernelIncludeDir());
}

// The reference plan's list attention entry, verbatim.
const char *const kListEntry =
    "symbol = \"short_hsa_attn_list\"\nrole = \"attention\"\n"
    "grid = [\"query_tiles\", \"heads\", \"batch\"]\nblock = [128, 1, 1]\n"
    "shared_bytes = 98304\ntile_q = 128\nparams = \"LfcAttnParams\"\n"
    "kernel = \"mma\"\nmask = \"list\"";

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
        BadManifest{"formatVersion1", "format_version = 2",
                    "format_version = 1",
                    "format_version: this runtime reads version 2, got 1 "
                    "(version 1 predates static masks, per-arch kernels and "
                    "attention variants); recompile the policy with `lfc "
                    "compile`"},
        BadManifest{"formatVersion3", "format_version = 2",
                    "format_version = 3",
                    "format_version: this runtime reads version 2, got 3; "
                    "recompile the policy with `lfc compile`"},
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
                    "\"short_hsa_attn_list\"\nrole = \"attention\"\n"
                    "grid = [\"query_tiles\"",
                    "\"short_hsa_attn_list\"\nrole = \"attention\"\n"
                    "grid = [\"query_tilez\"",
                    "kernels[1].entries[0].grid[0]: unknown grid symbol "
                    "'query_tilez'"},
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
            "kernels[2].chunks: entries must be chunk indices in [1, 7]"},
        BadManifest{"chunkListedTwice", "chunks = [1]", "chunks = [1, 1]",
                    "kernels[2].chunks: chunk 1 is listed twice"},
        BadManifest{"chunkStaticMaskSyntax", "index = 3\n",
                    "index = 3\nstatic_mask = \"union(sink(1))\"\n",
                    "chunks[2].static_mask: static mask 'union(sink(1))': "
                    "column 14: expected ',' (union takes two or more "
                    "operands)"},
        BadManifest{"chunkStaticMaskType", "index = 3\n",
                    "index = 3\nstatic_mask = 3\n",
                    "chunks[2].static_mask: must be a string, got an integer"},
        BadManifest{"radialWiderThanFrame", "index = 3\n",
                    "index = 3\nstatic_mask = \"radial(3,1561)\"\n",
                    "chunks[2].static_mask: 'radial(3,1561)': radial(3,1561) "
                    "needs W (1561) <= tokens_per_frame (1560)"},
        BadManifest{"denseChunkWithStaticMask", "index = 1\n",
                    "index = 1\nstatic_mask = \"sink(1)\"\n",
                    "chunks[0].static_mask: must be \"all\" for a dense chunk "
                    "(it keeps every key block), got 'sink(1)'"},
        BadManifest{"refresh", "index = 2\n",
                    "index = 2\nrefresh = \"sometimes\"\n",
                    "chunks[1].refresh: must be \"every_pass\" or "
                    "\"per_chunk\", got 'sometimes'"},
        BadManifest{"planSourceType",
                    "source = \"examples/policies/self_forcing_short.toml\"",
                    "source = 1", "plan.source: must be a string"},
        BadManifest{"chunkMaskDiffersFromSelectKernel", "index = 4\n",
                    "index = 4\nstatic_mask = "
                    "\"union(sink(1),current,radial(3,156))\"\n",
                    "kernels[0].static_mask: kernel "
                    "'short_hsa_select_bf16_d128' is compiled for static mask "
                    "'all', but chunks[3].static_mask (chunk 4, which it "
                    "serves) is 'union(sink(1),current,radial(3,156))'"},
        BadManifest{"selectKernelMaskDiffersFromChunk",
                    "name = \"short_hsa_select_bf16_d128\"\n",
                    "name = \"short_hsa_select_bf16_d128\"\n"
                    "static_mask = \"current\"\n",
                    "kernels[0].static_mask: kernel "
                    "'short_hsa_select_bf16_d128' is compiled for static mask "
                    "'current', but chunks[1].static_mask (chunk 2, which it "
                    "serves) is 'all'"},
        BadManifest{"kernelStaticMaskSyntax",
                    "name = \"short_hsa_select_bf16_d128\"\n",
                    "name = \"short_hsa_select_bf16_d128\"\n"
                    "static_mask = \"curent\"\n",
                    "kernels[0].static_mask: static mask 'curent': column 1: "
                    "expected a term"},
        BadManifest{"archSpelling", "name = \"short_hsa_select_bf16_d128\"\n",
                    "name = \"short_hsa_select_bf16_d128\"\n"
                    "archs = [\"sm_80\", \"sm90\"]\n",
                    "kernels[0].archs[1]: must be a real architecture sm_XY "
                    "or sm_XYa (e.g. sm_80, sm_90a), got 'sm90'"},
        BadManifest{"archVirtual", "name = \"short_hsa_select_bf16_d128\"\n",
                    "name = \"short_hsa_select_bf16_d128\"\n"
                    "archs = [\"compute_90a\"]\n",
                    "kernels[0].archs[0]: must be a real architecture"},
        BadManifest{"archSuffix", "name = \"short_hsa_select_bf16_d128\"\n",
                    "name = \"short_hsa_select_bf16_d128\"\n"
                    "archs = [\"sm_90b\"]\n",
                    "kernels[0].archs[0]: must be a real architecture"},
        BadManifest{"archTwice", "name = \"short_hsa_select_bf16_d128\"\n",
                    "name = \"short_hsa_select_bf16_d128\"\n"
                    "archs = [\"sm_90a\", \"sm_80\", \"sm_90a\"]\n",
                    "kernels[0].archs[2]: 'sm_90a' is listed twice"},
        BadManifest{"archNotString", "name = \"short_hsa_select_bf16_d128\"\n",
                    "name = \"short_hsa_select_bf16_d128\"\n"
                    "archs = [80]\n",
                    "kernels[0].archs[0]: must be a string, got an integer"},
        BadManifest{"attentionKernelMissing",
                    "kernel = \"mma\"\nmask = \"list\"", "mask = \"list\"",
                    "kernels[1].entries[0].kernel: missing"},
        BadManifest{"attentionKernelUnknown",
                    "kernel = \"mma\"\nmask = \"list\"",
                    "kernel = \"wmma\"\nmask = \"list\"",
                    "kernels[1].entries[0].kernel: unknown attention kernel "
                    "'wmma' (expected mma, wgmma, wgmma_mbar or tma)"},
        BadManifest{"attentionMaskMissing",
                    "kernel = \"mma\"\nmask = \"list\"\n", "kernel = \"mma\"\n",
                    "kernels[1].entries[0].mask: missing"},
        BadManifest{"attentionMaskUnknown", "mask = \"list\"",
                    "mask = \"kept\"",
                    "kernels[1].entries[0].mask: unknown mask mode 'kept' "
                    "(expected dense, list or static)"},
        BadManifest{"tileK", "mask = \"list\"\ntile_k = 64",
                    "mask = \"list\"\ntile_k = 0",
                    "kernels[1].entries[0].tile_k: must be in [1, 4096], got "
                    "0"},
        BadManifest{"tileKMissing", "mask = \"list\"\ntile_k = 64\n",
                    "mask = \"list\"\n",
                    "kernels[1].entries[0].tile_k: missing"},
        BadManifest{"warps", "mask = \"list\"\ntile_k = 64\nwarps = 4",
                    "mask = \"list\"\ntile_k = 64\nwarps = 0",
                    "kernels[1].entries[0].warps: must be in [1, 32], got 0"},
        BadManifest{"warpsDisagreeWithBlock",
                    "mask = \"list\"\ntile_k = 64\nwarps = 4",
                    "mask = \"list\"\ntile_k = 64\nwarps = 8",
                    "kernels[1].entries[0].block: must be [256, 1, 1] for "
                    "kernel 'mma' with 8 warps (warps * 32), got [128, 1, 1]"},
        BadManifest{"stagesOnMma", "mask = \"list\"\ntile_k = 64\nwarps = 4",
                    "mask = \"list\"\ntile_k = 64\nwarps = 4\nstages = 2",
                    "kernels[1].entries[0].stages: only tma kernels have K/V "
                    "stages (kernel is 'mma'); remove it"},
        BadManifest{"tmaNeedsStages", "kernel = \"mma\"\nmask = \"list\"",
                    "kernel = \"tma\"\nmask = \"list\"",
                    "kernels[1].entries[0].stages: missing"},
        BadManifest{"tmaStagesRange", "kernel = \"mma\"\nmask = \"list\"",
                    "kernel = \"tma\"\nstages = 5\nmask = \"list\"",
                    "kernels[1].entries[0].stages: must be in [2, 4], got 5"},
        BadManifest{"tmaBlockHasProducerWarpgroup",
                    "kernel = \"mma\"\nmask = \"list\"",
                    "kernel = \"tma\"\nstages = 3\nmask = \"list\"",
                    "kernels[1].entries[0].block: must be [256, 1, 1] for "
                    "kernel 'tma' with 4 warps (warps * 32 + 128 for the "
                    "producer warpgroup), got [128, 1, 1]"},
        BadManifest{"tmaGrid", kListEntry,
                    "symbol = \"short_hsa_attn_list\"\nrole = \"attention\"\n"
                    "grid = [\"query_tiles\", \"heads\", \"batch\"]\n"
                    "block = [256, 1, 1]\nshared_bytes = 98304\ntile_q = 128\n"
                    "params = \"LfcAttnParams,LfcAttnTmaParams\"\n"
                    "kernel = \"tma\"\nstages = 3\nmask = \"list\"",
                    "kernels[1].entries[0].grid: must be \"params\" for "
                    "kernel 'tma'"},
        BadManifest{"tmaParams", kListEntry,
                    "symbol = \"short_hsa_attn_list\"\nrole = \"attention\"\n"
                    "grid = \"params\"\nblock = [256, 1, 1]\n"
                    "shared_bytes = 98304\ntile_q = 128\n"
                    "params = \"LfcAttnParams\"\n"
                    "kernel = \"tma\"\nstages = 3\nmask = \"list\"",
                    "kernels[1].entries[0].params: must be "
                    "\"LfcAttnParams,LfcAttnTmaParams\" for kernel 'tma', got "
                    "'LfcAttnParams'"},
        BadManifest{"mmaParams",
                    "tile_q = 128\nparams = \"LfcAttnParams\"\n"
                    "kernel = \"mma\"\nmask = \"list\"",
                    "tile_q = 128\n"
                    "params = \"LfcAttnParams,LfcAttnTmaParams\"\n"
                    "kernel = \"mma\"\nmask = \"list\"",
                    "kernels[1].entries[0].params: must be \"LfcAttnParams\" "
                    "for kernel 'mma', got 'LfcAttnParams,LfcAttnTmaParams'"},
        BadManifest{"paramsListSyntax",
                    "tile_q = 128\nparams = \"LfcAttnParams\"\n"
                    "kernel = \"mma\"\nmask = \"list\"",
                    "tile_q = 128\n"
                    "params = \"LfcAttnParams, LfcAttnTmaParams\"\n"
                    "kernel = \"mma\"\nmask = \"list\"",
                    "kernels[1].entries[0].params: must be a C++ type name, "
                    "or several separated by ','"},
        BadManifest{"denseMaskOnSparseChunks", "mask = \"list\"",
                    "mask = \"dense\"",
                    "kernels[1].entries[0].mask: 'dense' is only for kernels "
                    "that serve dense chunks only, and chunk 2 (chunks[1]) is "
                    "not dense"},
        BadManifest{"listMaskOnDenseChunk", "mask = \"dense\"",
                    "mask = \"list\"",
                    "kernels[2].entries[0].mask: 'list' is only for non-dense "
                    "chunks, and chunk 1 (chunks[0]) is dense"},
        BadManifest{"staticMaskUnderABudget", "mask = \"list\"",
                    "mask = \"static\"",
                    "kernels[1].entries[0].mask: 'static' walks the static "
                    "mask's eligible blocks without a selection, so every "
                    "chunk it serves must keep them all (kept_key_blocks == "
                    "key_blocks, no frame stage); chunk 2 (chunks[1]) keeps "
                    "12 of 74 key blocks"},
        BadManifest{"variantOnSelectEntry", "params = \"LfcSelectParams\"",
                    "params = \"LfcSelectParams\"\nwarps = 8",
                    "kernels[0].entries[2].warps: only attention entries have "
                    "a kernel variant (role is 'select')"},
        BadManifest{"roleTwiceInAKernel", "role = \"commit_keys\"",
                    "role = \"pool_keys\"",
                    "kernels[0].entries[1].role: a second 'pool_keys' entry "
                    "in this kernel (one entry per role)"}),
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

TEST(Plan, BundledLaunchContractMustBeThisRuntimes) {
  PlanCopy plan;
  bundleTemplates(plan);
  // The source tree's headers: the ones this runtime was built with.
  lfc::checkKernelAbi(lfc::loadPlan(plan.dir().string()));
  // A plan from an lfc with another launch contract (its hashes consistent,
  // so it loads) is refused when bound, naming the header.
  fs::path abi = plan.dir() / "include" / "lfc" / "abi.h";
  const std::string original = readText(abi);
  const std::string changed = original + "\n// another launch contract\n";
  writeText(abi, changed);
  plan.edit(lfc::sha256Hex(original), lfc::sha256Hex(changed));
  const lfc::Plan other = lfc::loadPlan(plan.dir().string());
  try {
    lfc::checkKernelAbi(other);
    FAIL() << "no error";
  } catch (const lfc::Error &e) {
    const std::string what = e.what();
    EXPECT_NE(
        what.find("'include/lfc/abi.h' has SHA-256 " + lfc::sha256Hex(changed)),
        std::string::npos)
        << what;
    EXPECT_NE(what.find("recompile the plan"), std::string::npos) << what;
  }
}

// The 1-based line of the one occurrence of `needle` in plan.toml.
int lineOf(const PlanCopy &plan, const std::string &needle) {
  std::string text = readText(plan.manifest());
  size_t at = text.find(needle);
  EXPECT_NE(at, std::string::npos) << needle;
  return 1 + int(std::count(text.begin(), text.begin() + long(at), '\n'));
}

TEST(PlanV2, StaticMaskErrorNamesFieldAndLine) {
  PlanCopy plan;
  plan.edit("index = 5\n", "index = 5\nstatic_mask = \"union(sink(1),\"\n");
  const int line = lineOf(plan, "static_mask = \"union(sink(1),\"");
  EXPECT_EQ(plan.loadError(),
            plan.manifest().string() +
                ": chunks[4].static_mask: static mask 'union(sink(1),': "
                "column 15: expected a term (all, sink(N), near(N), current, "
                "window_frames(N), window_tokens(N), radial(D,W), "
                "frames(a,...), union(x,y,...) or restrict(x,y)) (line " +
                std::to_string(line) + ")");
}

// Writes kernels/<file> declaring `symbols` and returns a [[kernels]] table
// for it (its sha256 from lfc::sha256Hex) followed by `rest`.
std::string addKernelSource(PlanCopy &plan, const std::string &file,
                            const std::vector<std::string> &symbols) {
  std::string src = "// test kernel\n#include \"lfc/abi.h\"\n";
  for (const std::string &s : symbols)
    src += "extern \"C\" __global__ void " + s + "(const LfcAttnParams p) {}\n";
  writeText(plan.dir() / "kernels" / file, src);
  return "source = \"kernels/" + file + "\"\nsha256 = \"" +
         lfc::sha256Hex(src) + "\"\n";
}

std::string attentionEntry(const std::string &symbol, const std::string &kernel,
                           const std::string &mask) {
  const bool tma = kernel == "tma";
  return "\n[[kernels.entries]]\nsymbol = \"" + symbol +
         "\"\nrole = \"attention\"\n" +
         (tma ? "grid = \"params\"\nblock = [256, 1, 1]\n"
                "params = \"LfcAttnParams,LfcAttnTmaParams\"\nstages = 3\n"
              : "grid = [\"query_tiles\", \"heads\", \"batch\"]\n"
                "block = [128, 1, 1]\nparams = \"LfcAttnParams\"\n") +
         "shared_bytes = 98304\ntile_q = 128\nkernel = \"" + kernel +
         "\"\nmask = \"" + mask + "\"\ntile_k = 64\nwarps = 4\n";
}

const char *const kFirstKernel =
    "\n[[kernels]]\nname = \"short_hsa_select_bf16_d128\"";

// Inserts `table` before the reference plan's first kernel.
void prependKernel(PlanCopy &plan, const std::string &table) {
  plan.edit(kFirstKernel, "\n" + table + kFirstKernel);
}

void appendKernel(PlanCopy &plan, const std::string &table) {
  writeText(plan.manifest(), readText(plan.manifest()) + "\n" + table);
}

TEST(PlanV2, FindKernelPrefersTheArchSpecificKernel) {
  PlanCopy plan;
  // Listed before the portable kernels: the rule, not the order, decides.
  prependKernel(plan,
                "[[kernels]]\nname = \"attn_sm90a_wgmma\"\n" +
                    addKernelSource(plan, "wgmma.cu", {"attn_wgmma"}) +
                    "chunks = [2, 3, 4, 5, 6, 7]\narchs = [\"sm_90a\"]\n" +
                    attentionEntry("attn_wgmma", "wgmma", "list"));
  appendKernel(plan, "[[kernels]]\nname = \"attn_tma_dense\"\n" +
                         addKernelSource(plan, "tma.cu", {"attn_tma"}) +
                         "chunks = [1]\narchs = [\"sm_100a\", \"sm_90a\"]\n" +
                         attentionEntry("attn_tma", "tma", "dense"));
  appendKernel(plan, "[[kernels]]\nname = \"scores_sm90a\"\n" +
                         addKernelSource(plan, "scores.cu", {"scores"}) +
                         "chunks = [2]\narchs = [\"sm_90a\"]\n"
                         "\n[[kernels.entries]]\nsymbol = \"scores\"\n"
                         "role = \"frame_scores\"\n"
                         "grid = [\"query_blocks\", \"heads\", \"batch\"]\n"
                         "block = [256, 1, 1]\nparams = \"LfcAttnParams\"\n");
  lfc::Plan p = lfc::loadPlan(plan.dir().string());
  auto name = [&](const std::string &role, int chunk, const std::string &arch,
                  const lfc::PlanEntry **entry = nullptr) -> std::string {
    const lfc::PlanKernel *k = p.findKernel(role, chunk, arch, entry);
    return k ? k->name : "(none)";
  };
  const std::string list =
      "short_hsa_attn_bf16_d128_bq128_bk128_tq128_tk64_list";
  const std::string dense = "short_hsa_attn_bf16_d128_tq128_tk64_dense";
  const lfc::PlanEntry *entry = nullptr;
  EXPECT_EQ(name("attention", 3, "sm_90a", &entry), "attn_sm90a_wgmma");
  EXPECT_EQ(entry->symbol, "attn_wgmma");
  EXPECT_EQ(entry->attention.kernel, "wgmma");
  EXPECT_EQ(name("attention", 3, "sm_80", &entry), list);
  EXPECT_EQ(entry->symbol, "short_hsa_attn_list");
  EXPECT_EQ(name("attention", 3, "sm_100a"), list);
  EXPECT_EQ(name("attention", 3, ""), list); // "" never matches archs
  EXPECT_EQ(name("attention", 1, "sm_90a", &entry), "attn_tma_dense");
  EXPECT_EQ(entry->attention.kernel, "tma");
  EXPECT_EQ(entry->attention.mask, "dense");
  EXPECT_EQ(entry->attention.stages, 3);
  EXPECT_EQ(entry->launch.params, "LfcAttnParams,LfcAttnTmaParams");
  EXPECT_EQ(entry->launch.grid, (std::vector<std::string>{"params"}));
  EXPECT_EQ(name("attention", 1, "sm_100a"), "attn_tma_dense");
  EXPECT_EQ(name("attention", 1, "sm_120"), dense);
  EXPECT_EQ(name("attention", 1, ""), dense);
  // No arch-specific select: the portable one serves every arch.
  EXPECT_EQ(name("select", 3, "sm_90a"), "short_hsa_select_bf16_d128");
  // No portable frame_scores kernel: only sm_90a has one, only for chunk 2.
  EXPECT_EQ(name("frame_scores", 2, "sm_90a"), "scores_sm90a");
  EXPECT_EQ(name("frame_scores", 2, "sm_80"), "(none)");
  EXPECT_EQ(name("frame_scores", 2, ""), "(none)");
  EXPECT_EQ(name("frame_scores", 3, "sm_90a"), "(none)");
  const lfc::PlanKernel *tma = p.findKernel("attention", 1, "sm_90a");
  ASSERT_NE(tma, nullptr);
  EXPECT_EQ(tma->archs, (std::vector<std::string>{"sm_100a", "sm_90a"}));
}

TEST(PlanV2, TwoPortableKernelsForOneRoleAndChunkAreAmbiguous) {
  PlanCopy plan;
  appendKernel(plan, "[[kernels]]\nname = \"attn_again\"\n" +
                         addKernelSource(plan, "again.cu", {"attn_again"}) +
                         "chunks = [5, 6]\n" +
                         attentionEntry("attn_again", "mma", "list"));
  EXPECT_NE(plan.loadError().find(
                "plan.toml: kernels[3].chunks: kernel 'attn_again' serves role "
                "'attention' for chunk 5 on every arch (no archs), and so does "
                "kernels[1] ('short_hsa_attn_bf16_d128_bq128_bk128_tq128_tk64_"
                "list'): which one runs would be ambiguous"),
            std::string::npos)
      << plan.loadError();
}

TEST(PlanV2, TwoKernelsForOneArchRoleAndChunkAreAmbiguous) {
  PlanCopy plan;
  appendKernel(plan,
               "[[kernels]]\nname = \"attn_a\"\n" +
                   addKernelSource(plan, "a.cu", {"attn_a"}) +
                   "chunks = [2, 3]\narchs = [\"sm_90a\", \"sm_100a\"]\n" +
                   attentionEntry("attn_a", "wgmma", "list"));
  // A different arch for the same chunks is fine...
  appendKernel(plan, "[[kernels]]\nname = \"attn_b\"\n" +
                         addKernelSource(plan, "b.cu", {"attn_b"}) +
                         "chunks = [3, 4]\narchs = [\"sm_120\"]\n" +
                         attentionEntry("attn_b", "mma", "list"));
  EXPECT_NO_THROW(lfc::loadPlan(plan.dir().string()));
  // ...the same arch is not.
  appendKernel(plan, "[[kernels]]\nname = \"attn_c\"\n" +
                         addKernelSource(plan, "c.cu", {"attn_c"}) +
                         "chunks = [3]\narchs = [\"sm_100a\"]\n" +
                         attentionEntry("attn_c", "mma", "list"));
  EXPECT_NE(plan.loadError().find(
                "plan.toml: kernels[5].archs: kernel 'attn_c' serves role "
                "'attention' for chunk 3 on sm_100a, and so does kernels[3] "
                "('attn_a')"),
            std::string::npos)
      << plan.loadError();
}

TEST(PlanV2, StaticOnlyChunkWithAStaticAttentionKernel) {
  // Chunk 3 becomes static-only (docs/static-masks.md): the preset's sink +
  // current + radial mask, every eligible block kept (kept_key_blocks ==
  // key_blocks; 6 past frames <= frames_top_k, so no frame stage), served by a
  // static-mask attention kernel and no select kernel.
  PlanCopy plan;
  const std::string mask = "union(sink(1),current,radial(3,156))";
  plan.edit("index = 3\n", "index = 3\nstatic_mask = \"" + mask +
                               "\"\nrefresh = \"per_chunk\"\n");
  plan.edit("kept_key_blocks = 15", "kept_key_blocks = 110");
  std::string text = readText(plan.manifest());
  for (size_t at;
       (at = text.find("chunks = [2, 3, 4, 5, 6, 7]")) != std::string::npos;)
    text.replace(at, 27, "chunks = [2, 4, 5, 6, 7]");
  writeText(plan.manifest(), text);
  appendKernel(plan, "[[kernels]]\nname = \"attn_static\"\n" +
                         addKernelSource(plan, "static.cu", {"attn_static"}) +
                         "chunks = [3]\nstatic_mask = \"" + mask + "\"\n" +
                         attentionEntry("attn_static", "mma", "static"));
  lfc::Plan p = lfc::loadPlan(plan.dir().string());
  const lfc::PlanChunk &c = p.chunks[2];
  ASSERT_NE(c.selection.staticMask, nullptr);
  EXPECT_EQ(c.selection.staticMask->text(), mask);
  EXPECT_EQ(c.selection.staticMask->kind(), lfc::StaticMask::Kind::Union);
  EXPECT_FALSE(c.selectEveryPass);
  EXPECT_TRUE(p.chunks[1].selectEveryPass);
  EXPECT_TRUE(p.chunks[1].selection.staticMask->isAll());
  const lfc::PlanEntry *entry = nullptr;
  const lfc::PlanKernel *k = p.findKernel("attention", 3, "sm_80", &entry);
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->name, "attn_static");
  EXPECT_EQ(k->staticMask, mask);
  EXPECT_EQ(entry->attention.mask, "static");
  EXPECT_EQ(p.findKernel("select", 3, "sm_80"), nullptr);

  // The kernel compiles its mask in: it must be the chunk's.
  PlanCopy other;
  other.edit("index = 3\n", "index = 3\nstatic_mask = \"" + mask + "\"\n");
  other.edit("kept_key_blocks = 15", "kept_key_blocks = 110");
  text = readText(other.manifest());
  for (size_t at;
       (at = text.find("chunks = [2, 3, 4, 5, 6, 7]")) != std::string::npos;)
    text.replace(at, 27, "chunks = [2, 4, 5, 6, 7]");
  writeText(other.manifest(), text);
  appendKernel(other,
               "[[kernels]]\nname = \"attn_static\"\n" +
                   addKernelSource(other, "static.cu", {"attn_static"}) +
                   "chunks = [3]\nstatic_mask = \"union(sink(1),current)\"\n" +
                   attentionEntry("attn_static", "mma", "static"));
  EXPECT_NE(other.loadError().find(
                "kernels[3].static_mask: kernel 'attn_static' is compiled for "
                "static mask 'union(sink(1),current)', but chunks[2]."
                "static_mask (chunk 3, which it serves) is '" +
                mask + "'"),
            std::string::npos)
      << other.loadError();
}

TEST(PlanV2, StaticAttentionNeedsNoFrameStage) {
  // Chunk 7 keeps every key block but has a frame stage (18 past frames >
  // frames_top_k 6): only a selection can apply it.
  PlanCopy plan;
  plan.edit("kept_key_blocks = 26", "kept_key_blocks = 256");
  plan.edit("sha256 = \"7712e7e4fd61bd9860f0d13dd5f780d9432e51b46f6d183e28fc3ce"
            "28a23863e\"\nchunks = [2, 3, 4, 5, 6, 7]",
            "sha256 = \"7712e7e4fd61bd9860f0d13dd5f780d9432e51b46f6d183e28fc3ce"
            "28a23863e\"\nchunks = [7]");
  plan.edit("mask = \"list\"", "mask = \"static\"");
  EXPECT_NE(plan.loadError().find(
                "kernels[1].entries[0].mask: 'static' walks the static mask's "
                "eligible blocks without a selection, so every chunk it serves "
                "must keep them all (kept_key_blocks == key_blocks, no frame "
                "stage); chunk 7 (chunks[6]) has a frame stage (frames_top_k 6 "
                "< 18 past frames)"),
            std::string::npos)
      << plan.loadError();
}

} // namespace
