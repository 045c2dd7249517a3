// Loads plan.toml (docs/plan-format.md), validates every field against the
// geometry it implies, and checks the SHA-256 of every source and bundled
// header.
#include "lfc/plan.h"

#include "lfc/runtime.h"
#include "lfc/sha256.h"
#include "lfc/static_mask.h"
#include "runtime/core/Files.h"

#include <toml++/toml.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <tuple>
#include <utility>

namespace fs = std::filesystem;

namespace lfc {
namespace {

const std::set<std::string> kKnownRoles = {"commit_keys",  "pool_keys",
                                           "pool_queries", "frame_scores",
                                           "select",       "attention"};
const std::set<std::string> kGridSymbols = {"batch", "heads", "query_blocks",
                                            "key_blocks", "query_tiles"};
// The largest dynamic shared memory any supported arch allows per block
// (sm_90/sm_100).
constexpr int64_t kMaxSharedBytes = 227 * 1024;

std::string ceilDivStr(int64_t a, int64_t b) {
  return std::to_string((a + b - 1) / b);
}

// Whether the chunk's frame stage restricts anything
// (docs/selection-semantics.md step 3).
bool hasFrameStage(const ChunkSelection &s) {
  return s.framesTopK > 0 && s.visibleFrames - s.framesPerChunk > s.framesTopK;
}

// Reads typed fields with errors of the form "<file>: <field path>: <what is
// wrong>".
class ManifestReader {
public:
  explicit ManifestReader(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const std::string &path, const std::string &msg,
                         const toml::node *at = nullptr) const {
    std::string where;
    if (at && at->source().begin.line)
      where = " (line " + std::to_string(at->source().begin.line) + ")";
    throw Error(file_ + ": " + path + ": " + msg + where);
  }

  // Unknown keys are errors: a misspelt optional field would otherwise be
  // ignored.
  void onlyKeys(const toml::table &t, const std::string &path,
                std::initializer_list<const char *> allowed) const {
    for (const auto &[key, node] : t) {
      bool ok = false;
      for (const char *a : allowed)
        ok = ok || key.str() == a;
      if (!ok) {
        std::string list;
        for (const char *a : allowed)
          list += std::string(list.empty() ? "" : ", ") + a;
        fail(join(path, std::string(key.str())),
             "unknown field (expected one of: " + list + ")", &node);
      }
    }
  }

  static std::string join(const std::string &path, const std::string &key) {
    return path.empty() ? key : path + "." + key;
  }

  const toml::node &required(const toml::table &t, const std::string &path,
                             const char *key) const {
    const toml::node *n = t.get(key);
    if (!n)
      fail(join(path, key), "missing", &t);
    return *n;
  }

  const toml::table &table(const toml::table &t, const std::string &path,
                           const char *key) const {
    const toml::node &n = required(t, path, key);
    if (!n.is_table())
      fail(join(path, key), std::string("must be a table, got ") + typeName(n),
           &n);
    return *n.as_table();
  }

  int64_t integer(const toml::table &t, const std::string &path,
                  const char *key, int64_t lo, int64_t hi,
                  std::optional<int64_t> def = std::nullopt) const {
    const toml::node *n = t.get(key);
    if (!n) {
      if (def)
        return *def;
      fail(join(path, key), "missing", &t);
    }
    if (!n->is_integer())
      fail(join(path, key),
           std::string("must be an integer, got ") + typeName(*n), n);
    int64_t v = n->as_integer()->get();
    if (v < lo || v > hi)
      fail(join(path, key),
           "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) +
               "], got " + std::to_string(v),
           n);
    return v;
  }

  double number(const toml::table &t, const std::string &path, const char *key,
                std::optional<double> def = std::nullopt) const {
    const toml::node *n = t.get(key);
    if (!n) {
      if (def)
        return *def;
      fail(join(path, key), "missing", &t);
    }
    if (n->is_floating_point())
      return n->as_floating_point()->get();
    if (n->is_integer())
      return double(n->as_integer()->get());
    fail(join(path, key), std::string("must be a number, got ") + typeName(*n),
         n);
  }

  bool boolean(const toml::table &t, const std::string &path, const char *key,
               std::optional<bool> def = std::nullopt) const {
    const toml::node *n = t.get(key);
    if (!n) {
      if (def)
        return *def;
      fail(join(path, key), "missing", &t);
    }
    if (!n->is_boolean())
      fail(join(path, key),
           std::string("must be true or false, got ") + typeName(*n), n);
    return n->as_boolean()->get();
  }

  std::string string(const toml::table &t, const std::string &path,
                     const char *key,
                     std::optional<std::string> def = std::nullopt) const {
    const toml::node *n = t.get(key);
    if (!n) {
      if (def)
        return *def;
      fail(join(path, key), "missing", &t);
    }
    if (!n->is_string())
      fail(join(path, key),
           std::string("must be a string, got ") + typeName(*n), n);
    return n->as_string()->get();
  }

  std::vector<std::string> strings(const toml::table &t,
                                   const std::string &path,
                                   const char *key) const {
    std::vector<std::string> out;
    const toml::node *n = t.get(key);
    if (!n)
      return out;
    if (!n->is_array())
      fail(join(path, key),
           std::string("must be an array of strings, got ") + typeName(*n), n);
    const toml::array &a = *n->as_array();
    for (size_t i = 0; i < a.size(); ++i) {
      if (!a[i].is_string())
        fail(join(path, key) + "[" + std::to_string(i) + "]",
             std::string("must be a string, got ") + typeName(a[i]), &a[i]);
      out.push_back(a[i].as_string()->get());
    }
    return out;
  }

  // An array of tables; absent -> empty unless required.
  std::vector<const toml::table *> tables(const toml::table &t, const char *key,
                                          bool isRequired) const {
    std::vector<const toml::table *> out;
    const toml::node *n = t.get(key);
    if (!n) {
      if (isRequired)
        fail(key,
             "missing (expected one or more [[" + std::string(key) +
                 "]] tables)",
             &t);
      return out;
    }
    if (!n->is_array_of_tables())
      fail(key,
           std::string("must be an array of tables ([[") + key + "]]), got " +
               typeName(*n),
           n);
    for (const toml::node &e : *n->as_array())
      out.push_back(e.as_table());
    return out;
  }

  static const char *typeName(const toml::node &n) {
    switch (n.type()) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    default:
      return "a date/time";
    }
  }

private:
  std::string file_;
};

bool isLowerHex64(const std::string &s) {
  static const std::regex pattern("[0-9a-f]{64}");
  return std::regex_match(s, pattern);
}

// A plan-relative path that stays inside `under` (no absolute paths, no "..").
void checkRelativePath(const ManifestReader &r, const std::string &field,
                       const std::string &path, const std::string &under,
                       const toml::node *at) {
  fs::path p(path);
  if (path.empty() || p.is_absolute())
    r.fail(field,
           "must be a path relative to the plan directory, got '" + path + "'",
           at);
  for (const auto &part : p)
    if (part == "..")
      r.fail(field, "must not contain '..', got '" + path + "'", at);
  if (!under.empty() && (p.begin() == p.end() || *p.begin() != under))
    r.fail(field, "must be under " + under + "/, got '" + path + "'", at);
}

std::string loadHashed(const ManifestReader &r, const std::string &field,
                       const fs::path &planDir, const std::string &relPath,
                       const std::string &expectedSha, const toml::node *at) {
  std::string bytes;
  fs::path full = planDir / relPath;
  if (!fs::is_regular_file(full) ||
      !lfc::detail::readWholeFile(full.string(), bytes))
    r.fail(field, "file '" + relPath + "' not found in the plan directory", at);
  std::string actual = sha256Hex(bytes);
  if (actual != expectedSha)
    r.fail(field,
           "SHA-256 of '" + relPath + "' is " + actual + ", manifest says " +
               expectedSha + " (the file changed after the plan was written)",
           at);
  return bytes;
}

// A static mask in canonical text; a parse error names the field and line.
StaticMask parseStaticMask(const ManifestReader &r, const std::string &field,
                           const std::string &text, const toml::node *at) {
  try {
    return StaticMask::parse(text);
  } catch (const Error &e) {
    r.fail(field, e.what(), at);
  }
}

void readGeometry(const ManifestReader &r, const toml::table &root,
                  PlanGeometry &g) {
  const toml::table &t = r.table(root, "", "geometry");
  const std::string p = "geometry";
  r.onlyKeys(t, p,
             {"layers", "heads", "head_dim", "dtype", "tokens_per_frame",
              "frames_per_chunk", "chunks", "passes_per_chunk",
              "kv_window_frames", "sink_frames", "softmax_scale"});
  g.layers = int(r.integer(t, p, "layers", 1, 1024));
  g.heads = int(r.integer(t, p, "heads", 1, 1024));
  g.headDim = int(r.integer(t, p, "head_dim", 1, 1024));
  if (g.headDim % 8 != 0)
    r.fail("geometry.head_dim",
           "must be a multiple of 8 (16-byte rows), got " +
               std::to_string(g.headDim),
           t.get("head_dim"));
  std::string dtype = r.string(t, p, "dtype");
  if (dtype != "bf16" && dtype != "fp16")
    r.fail("geometry.dtype",
           "unknown dtype '" + dtype + "' (expected bf16 or fp16)",
           t.get("dtype"));
  g.dtype = parseDType(dtype, "geometry.dtype");
  g.tokensPerFrame = int(r.integer(t, p, "tokens_per_frame", 1, 1 << 20));
  g.framesPerChunk = int(r.integer(t, p, "frames_per_chunk", 1, 1024));
  g.chunks = int(r.integer(t, p, "chunks", 1, 4096));
  g.passesPerChunk = int(r.integer(t, p, "passes_per_chunk", 1, 1024));
  g.kvWindowFrames = int(r.integer(t, p, "kv_window_frames", 0, 1 << 20));
  g.sinkFrames = int(r.integer(t, p, "sink_frames", 0, 1 << 20));
  double scale =
      r.number(t, p, "softmax_scale", 1.0 / std::sqrt(double(g.headDim)));
  if (!(scale > 0) || !std::isfinite(scale))
    r.fail("geometry.softmax_scale",
           "must be a positive number, got " + std::to_string(scale),
           t.get("softmax_scale"));
  g.softmaxScale = float(scale);
}

void readChunks(const ManifestReader &r, const toml::table &root,
                const PlanGeometry &g, std::vector<PlanChunk> &chunks) {
  auto tables = r.tables(root, "chunks", true);
  if (int(tables.size()) != g.chunks)
    r.fail("chunks",
           "has " + std::to_string(tables.size()) +
               " entries, geometry.chunks is " + std::to_string(g.chunks),
           root.get("chunks"));
  for (size_t i = 0; i < tables.size(); ++i) {
    const toml::table &t = *tables[i];
    const std::string p = "chunks[" + std::to_string(i) + "]";
    r.onlyKeys(t, p,
               {"index", "sparsity", "dense", "visible_frames", "query_blocks",
                "key_blocks", "kept_key_blocks", "block_q", "block_k",
                "sink_frames", "near_frames", "frames_top_k", "static_mask",
                "refresh"});
    PlanChunk c;
    c.index = int(r.integer(t, p, "index", 1, g.chunks));
    if (c.index != int(i) + 1)
      r.fail(p + ".index",
             "must be " + std::to_string(i + 1) +
                 " (chunks are listed in order, 1-based), got " +
                 std::to_string(c.index),
             t.get("index"));
    c.sparsity = r.number(t, p, "sparsity");
    if (!(c.sparsity >= 0 && c.sparsity < 1))
      r.fail(p + ".sparsity",
             "must be in [0, 1), got " + std::to_string(c.sparsity),
             t.get("sparsity"));
    ChunkSelection &s = c.selection;
    s.tokensPerFrame = g.tokensPerFrame;
    s.framesPerChunk = g.framesPerChunk;
    s.dense = r.boolean(t, p, "dense");
    // Dense means "every key block kept, no selection runs". A chunk of
    // sparsity 0 may still be non-dense: a static mask (a sliding window, say)
    // or a frame stage restricts it.
    if (s.dense && c.sparsity != 0)
      r.fail(p + ".dense",
             "must be false when sparsity is not 0 (a dense chunk keeps every "
             "key block; "
             "sparsity is " +
                 std::to_string(c.sparsity) + ")",
             t.get("dense"));
    // Global cache: every frame so far; window: the sink frames plus the last
    // W.
    int64_t seen = int64_t(c.index) * g.framesPerChunk;
    int64_t expectVisible =
        g.kvWindowFrames == 0
            ? seen
            : std::min<int64_t>(seen, g.sinkFrames + g.kvWindowFrames);
    s.visibleFrames = int(r.integer(t, p, "visible_frames", 1, 1 << 20));
    if (s.visibleFrames != expectVisible)
      r.fail(p + ".visible_frames",
             "must be " + std::to_string(expectVisible) + " for chunk " +
                 std::to_string(c.index) + " (" +
                 (g.kvWindowFrames == 0
                      ? "global cache: index * frames_per_chunk"
                      : "window: min(index * frames_per_chunk, "
                        "sink_frames + kv_window_frames)") +
                 "), got " + std::to_string(s.visibleFrames),
             t.get("visible_frames"));
    for (auto [key, field] :
         {std::pair{"block_q", &s.blockQ}, std::pair{"block_k", &s.blockK}}) {
      int64_t v = r.integer(t, p, key, 16, 256);
      if (v & (v - 1))
        r.fail(p + "." + key,
               "must be a power of two in [16, 256], got " + std::to_string(v),
               t.get(key));
      *field = int(v);
    }
    int64_t expectQb = (s.queryTokens() + s.blockQ - 1) / s.blockQ;
    int64_t qb = r.integer(t, p, "query_blocks", 1, INT32_MAX);
    if (qb != expectQb)
      r.fail(p + ".query_blocks",
             "must be ceil(" + std::to_string(s.queryTokens()) + " / " +
                 std::to_string(s.blockQ) + ") = " + std::to_string(expectQb) +
                 ", got " + std::to_string(qb),
             t.get("query_blocks"));
    int64_t nkb = s.keyBlocks();
    int64_t kb = r.integer(t, p, "key_blocks", 1, INT32_MAX);
    if (kb != nkb)
      r.fail(p + ".key_blocks",
             "must be ceil(" + std::to_string(s.keyTokens()) + " / " +
                 std::to_string(s.blockK) +
                 ") = " + ceilDivStr(s.keyTokens(), s.blockK) + ", got " +
                 std::to_string(kb),
             t.get("key_blocks"));
    int64_t kept = r.integer(t, p, "kept_key_blocks", INT32_MIN, INT32_MAX);
    if (kept > nkb)
      r.fail(p + ".kept_key_blocks",
             "must be <= key_blocks (" + std::to_string(nkb) + "), got " +
                 std::to_string(kept),
             t.get("kept_key_blocks"));
    if (s.dense && kept != nkb)
      r.fail(p + ".kept_key_blocks",
             "must equal key_blocks (" + std::to_string(nkb) +
                 ") for a dense chunk, got " + std::to_string(kept),
             t.get("kept_key_blocks"));
    if (kept < 1)
      r.fail(p + ".kept_key_blocks",
             "must be >= 1, got " + std::to_string(kept),
             t.get("kept_key_blocks"));
    s.keptKeyBlocks = int(kept);
    s.sinkFrames = int(r.integer(t, p, "sink_frames", 0, 1 << 20));
    s.nearFrames = int(r.integer(t, p, "near_frames", 0, 1 << 20));
    s.framesTopK = int(r.integer(t, p, "frames_top_k", 0, 1 << 20));
    if (s.framesTopK > 0 && s.framesTopK < s.sinkFrames + s.nearFrames)
      r.fail(p + ".frames_top_k",
             "must be 0 (no frame stage) or >= sink_frames + near_frames (" +
                 std::to_string(s.sinkFrames + s.nearFrames) + "), got " +
                 std::to_string(s.framesTopK),
             t.get("frames_top_k"));
    const toml::node *maskNode = t.get("static_mask");
    StaticMask mask = parseStaticMask(
        r, p + ".static_mask",
        r.string(t, p, "static_mask", std::string("all")), maskNode);
    if (const StaticMask *bad = mask.radialWiderThan(s.tokensPerFrame))
      r.fail(p + ".static_mask",
             "'" + mask.text() + "': " + bad->text() + " needs W (" +
                 std::to_string(bad->args()[1]) + ") <= tokens_per_frame (" +
                 std::to_string(s.tokensPerFrame) +
                 "): the band must fit in one frame",
             maskNode);
    if (s.dense && !mask.isAll())
      r.fail(p + ".static_mask",
             "must be \"all\" for a dense chunk (it keeps every key block), "
             "got '" +
                 mask.text() + "'",
             maskNode);
    s.staticMask = std::make_shared<const StaticMask>(std::move(mask));
    const std::string refresh =
        r.string(t, p, "refresh", std::string("every_pass"));
    if (refresh != "every_pass" && refresh != "per_chunk")
      r.fail(p + ".refresh",
             "must be \"every_pass\" or \"per_chunk\", got '" + refresh + "'",
             t.get("refresh"));
    c.selectEveryPass = refresh == "every_pass";
    chunks.push_back(c);
  }
}

LaunchContract readLaunch(const ManifestReader &r, const toml::table &t,
                          const std::string &p) {
  LaunchContract lc;
  const toml::node *grid = t.get("grid");
  if (!grid)
    r.fail(p + ".grid", "missing", &t);
  bool usesTiles = false;
  // "params": the grid rule is the one documented with the params struct (for
  // kernels whose grid depends on run-time work, such as committing a variable
  // number of rows).
  const bool byParams =
      grid->is_string() && grid->as_string()->get() == "params";
  if (byParams)
    lc.grid = {"params"};
  else if (!grid->is_array() || grid->as_array()->size() != 3)
    r.fail(p + ".grid",
           "must be an array of 3 dimensions (x, y, z) or \"params\"", grid);
  for (size_t d = 0; d < 3 && !byParams; ++d) {
    const toml::array &ga = *grid->as_array();
    const std::string f = p + ".grid[" + std::to_string(d) + "]";
    if (ga[d].is_integer()) {
      int64_t v = ga[d].as_integer()->get();
      if (v < 1 || v > INT32_MAX)
        r.fail(f, "must be >= 1, got " + std::to_string(v), &ga[d]);
      lc.grid.push_back(std::to_string(v));
    } else if (ga[d].is_string()) {
      std::string sym = ga[d].as_string()->get();
      if (!kGridSymbols.count(sym))
        r.fail(f,
               "unknown grid symbol '" + sym +
                   "' (expected batch, heads, query_blocks, key_blocks, "
                   "query_tiles or an "
                   "integer)",
               &ga[d]);
      usesTiles = usesTiles || sym == "query_tiles";
      lc.grid.push_back(sym);
    } else {
      r.fail(f,
             std::string("must be a symbol or an integer, got ") +
                 r.typeName(ga[d]),
             &ga[d]);
    }
  }
  const toml::node *block = t.get("block");
  if (!block)
    r.fail(p + ".block", "missing", &t);
  if (!block->is_array() || block->as_array()->size() != 3)
    r.fail(p + ".block", "must be an array of 3 thread counts (x, y, z)",
           block);
  int64_t threads = 1;
  for (size_t d = 0; d < 3; ++d) {
    const toml::node &n = (*block->as_array())[d];
    if (!n.is_integer() || n.as_integer()->get() < 1 ||
        n.as_integer()->get() > 1024)
      r.fail(p + ".block[" + std::to_string(d) + "]",
             "must be an integer in [1, 1024]", &n);
    lc.block[d] = int(n.as_integer()->get());
    threads *= lc.block[d];
  }
  if (threads > 1024)
    r.fail(p + ".block",
           "has " + std::to_string(threads) +
               " threads; at most 1024 per block",
           block);
  lc.sharedBytes = r.integer(t, p, "shared_bytes", 0, kMaxSharedBytes, 0);
  lc.tileQ = int(r.integer(t, p, "tile_q", 0, 4096, 0));
  if (usesTiles && lc.tileQ == 0)
    r.fail(p + ".tile_q", "must be > 0: the grid uses query_tiles", &t);
  lc.params = r.string(t, p, "params");
  // One C++ type name per by-value parameter, comma-separated (the TMA
  // attention kernel takes two).
  static const std::regex types(
      "[A-Za-z_][A-Za-z0-9_]*(::[A-Za-z_][A-Za-z0-9_]*)*"
      "(,[A-Za-z_][A-Za-z0-9_]*(::[A-Za-z_][A-Za-z0-9_]*)*)*");
  if (!std::regex_match(lc.params, types))
    r.fail(p + ".params",
           "must be a C++ type name, or several separated by ',', got '" +
               lc.params + "'",
           t.get("params"));
  return lc;
}

// The 1-based chunk indices a kernel serves (every chunk when it lists none).
std::vector<int> servedChunks(const PlanKernel &k, int chunkCount) {
  if (!k.chunks.empty())
    return k.chunks;
  std::vector<int> all;
  for (int c = 1; c <= chunkCount; ++c)
    all.push_back(c);
  return all;
}

// The attention variant of an attention entry ([[kernels.entries]] kernel,
// mask, tile_k, warps, stages), checked against its launch contract and the
// chunks the kernel serves.
AttentionVariant readAttention(const ManifestReader &r, const toml::table &et,
                               const std::string &ep, const PlanEntry &entry,
                               const std::vector<int> &served,
                               const std::vector<PlanChunk> &chunks) {
  AttentionVariant v;
  v.kernel = r.string(et, ep, "kernel");
  if (v.kernel != "mma" && v.kernel != "wgmma" && v.kernel != "wgmma_mbar" &&
      v.kernel != "tma")
    r.fail(ep + ".kernel",
           "unknown attention kernel '" + v.kernel +
               "' (expected mma, wgmma, wgmma_mbar or tma)",
           et.get("kernel"));
  const bool tma = v.kernel == "tma";
  v.mask = r.string(et, ep, "mask");
  if (v.mask != "dense" && v.mask != "list" && v.mask != "static")
    r.fail(ep + ".mask",
           "unknown mask mode '" + v.mask +
               "' (expected dense, list or static)",
           et.get("mask"));
  v.tileK = int(r.integer(et, ep, "tile_k", 1, 4096));
  v.warps = int(r.integer(et, ep, "warps", 1, 32));
  if (tma)
    v.stages = int(r.integer(et, ep, "stages", 2, 4));
  else if (et.get("stages"))
    r.fail(ep + ".stages",
           "only tma kernels have K/V stages (kernel is '" + v.kernel +
               "'); remove it",
           et.get("stages"));

  const LaunchContract &lc = entry.launch;
  const int threads = v.warps * 32 + (tma ? 128 : 0);
  if (lc.block[0] != threads || lc.block[1] != 1 || lc.block[2] != 1)
    r.fail(ep + ".block",
           "must be [" + std::to_string(threads) + ", 1, 1] for kernel '" +
               v.kernel + "' with " + std::to_string(v.warps) +
               " warps (warps * 32" +
               (tma ? " + 128 for the producer warpgroup" : "") + "), got [" +
               std::to_string(lc.block[0]) + ", " +
               std::to_string(lc.block[1]) + ", " +
               std::to_string(lc.block[2]) + "]",
           et.get("block"));
  const std::string params =
      tma ? "LfcAttnParams,LfcAttnTmaParams" : "LfcAttnParams";
  if (tma && lc.grid != std::vector<std::string>{"params"})
    r.fail(ep + ".grid",
           "must be \"params\" for kernel 'tma' (its persistent grid is the "
           "rule documented with LfcAttnTmaParams)",
           et.get("grid"));
  if (lc.params != params)
    r.fail(ep + ".params",
           "must be \"" + params + "\" for kernel '" + v.kernel + "', got '" +
               lc.params + "'",
           et.get("params"));

  // Dense chunks run without a kept list; every other chunk needs one (list)
  // or keeps every block its static mask allows (static).
  for (int c : served) {
    const ChunkSelection &s = chunks[size_t(c - 1)].selection;
    const std::string chunk = "chunk " + std::to_string(c) + " (chunks[" +
                              std::to_string(c - 1) + "])";
    if (v.mask == "dense" && !s.dense)
      r.fail(ep + ".mask",
             "'dense' is only for kernels that serve dense chunks only, and " +
                 chunk + " is not dense",
             et.get("mask"));
    if (v.mask != "dense" && s.dense)
      r.fail(ep + ".mask",
             "'" + v.mask + "' is only for non-dense chunks, and " + chunk +
                 " is dense (serve it with a mask = \"dense\" kernel)",
             et.get("mask"));
    if (v.mask == "static" &&
        (s.keptKeyBlocks != s.keyBlocks() || hasFrameStage(s)))
      r.fail(ep + ".mask",
             "'static' walks the static mask's eligible blocks without a "
             "selection, so every chunk it serves must keep them all "
             "(kept_key_blocks == key_blocks, no frame stage); " +
                 chunk +
                 (hasFrameStage(s)
                      ? " has a frame stage (frames_top_k " +
                            std::to_string(s.framesTopK) + " < " +
                            std::to_string(s.visibleFrames - s.framesPerChunk) +
                            " past frames)"
                      : " keeps " + std::to_string(s.keptKeyBlocks) + " of " +
                            std::to_string(s.keyBlocks()) + " key blocks"),
             et.get("mask"));
  }
  return v;
}

void readKernels(const ManifestReader &r, const toml::table &root,
                 const fs::path &dir, const std::vector<PlanChunk> &chunks,
                 std::vector<PlanKernel> &kernels) {
  static const std::regex nameRe("[A-Za-z0-9_][A-Za-z0-9_.-]*");
  static const std::regex symbolRe("[A-Za-z_][A-Za-z0-9_]*");
  static const std::regex archRe("sm_[0-9]+a?");
  const int chunkCount = int(chunks.size());
  std::set<std::string> names, symbols;
  auto tables = r.tables(root, "kernels", true);
  for (size_t i = 0; i < tables.size(); ++i) {
    const toml::table &t = *tables[i];
    const std::string p = "kernels[" + std::to_string(i) + "]";
    r.onlyKeys(t, p,
               {"name", "source", "sha256", "chunks", "options", "archs",
                "static_mask", "entries"});
    PlanKernel k;
    k.name = r.string(t, p, "name");
    if (!std::regex_match(k.name, nameRe))
      r.fail(p + ".name",
             "must be letters, digits, '_', '.', '-', got '" + k.name + "'",
             t.get("name"));
    if (!names.insert(k.name).second)
      r.fail(p + ".name", "duplicate kernel name '" + k.name + "'",
             t.get("name"));
    k.sourceFile = r.string(t, p, "source");
    checkRelativePath(r, p + ".source", k.sourceFile, "kernels",
                      t.get("source"));
    k.sha256 = r.string(t, p, "sha256");
    if (!isLowerHex64(k.sha256))
      r.fail(p + ".sha256",
             "must be 64 lowercase hex digits, got '" + k.sha256 + "'",
             t.get("sha256"));
    k.source = loadHashed(r, p + ".sha256", dir, k.sourceFile, k.sha256,
                          t.get("sha256"));
    if (const toml::node *cn = t.get("chunks")) {
      if (!cn->is_array())
        r.fail(p + ".chunks", "must be an array of 1-based chunk indices", cn);
      for (const toml::node &e : *cn->as_array()) {
        if (!e.is_integer() || e.as_integer()->get() < 1 ||
            e.as_integer()->get() > chunkCount)
          r.fail(p + ".chunks",
                 "entries must be chunk indices in [1, " +
                     std::to_string(chunkCount) + "]",
                 &e);
        const int c = int(e.as_integer()->get());
        if (std::find(k.chunks.begin(), k.chunks.end(), c) != k.chunks.end())
          r.fail(p + ".chunks",
                 "chunk " + std::to_string(c) + " is listed twice", &e);
        k.chunks.push_back(c);
      }
    }
    k.options = r.strings(t, p, "options");
    k.archs = r.strings(t, p, "archs");
    for (size_t a = 0; a < k.archs.size(); ++a) {
      const std::string f = p + ".archs[" + std::to_string(a) + "]";
      if (!std::regex_match(k.archs[a], archRe))
        r.fail(f,
               "must be a real architecture sm_XY or sm_XYa (e.g. sm_80, "
               "sm_90a), got '" +
                   k.archs[a] + "'",
               t.get("archs"));
      for (size_t b = 0; b < a; ++b)
        if (k.archs[b] == k.archs[a])
          r.fail(f, "'" + k.archs[a] + "' is listed twice", t.get("archs"));
    }
    k.staticMask =
        parseStaticMask(r, p + ".static_mask",
                        r.string(t, p, "static_mask", std::string("all")),
                        t.get("static_mask"))
            .text();
    const std::vector<int> served = servedChunks(k, chunkCount);

    auto entries = t.get("entries");
    if (!entries || !entries->is_array_of_tables() ||
        entries->as_array()->empty())
      r.fail(p + ".entries", "must list one or more [[kernels.entries]] tables",
             entries ? entries : &t);
    size_t e = 0;
    bool compilesMask = false; // a select or a static-mask attention entry
    std::set<std::string> roles;
    for (const toml::node &en : *entries->as_array()) {
      const toml::table &et = *en.as_table();
      const std::string ep = p + ".entries[" + std::to_string(e++) + "]";
      r.onlyKeys(et, ep,
                 {"symbol", "role", "grid", "block", "shared_bytes", "tile_q",
                  "params", "kernel", "mask", "tile_k", "warps", "stages"});
      PlanEntry entry;
      entry.symbol = r.string(et, ep, "symbol");
      if (!std::regex_match(entry.symbol, symbolRe))
        r.fail(ep + ".symbol",
               "must be a C identifier, got '" + entry.symbol + "'",
               et.get("symbol"));
      if (!symbols.insert(entry.symbol).second)
        r.fail(ep + ".symbol", "duplicate entry point '" + entry.symbol + "'",
               et.get("symbol"));
      if (!std::regex_search(k.source,
                             std::regex("(^|[^A-Za-z0-9_])" + entry.symbol +
                                        "($|[^A-Za-z0-9_])")))
        r.fail(ep + ".symbol",
               "'" + entry.symbol + "' does not occur in " + k.sourceFile,
               et.get("symbol"));
      entry.role = r.string(et, ep, "role");
      if (!kKnownRoles.count(entry.role))
        r.fail(ep + ".role",
               "unknown role '" + entry.role +
                   "' (expected commit_keys, pool_keys, pool_queries, "
                   "frame_scores, "
                   "select or attention)",
               et.get("role"));
      // Plan::findKernel returns one entry per role: a second one could never
      // run.
      if (!roles.insert(entry.role).second)
        r.fail(ep + ".role",
               "a second '" + entry.role +
                   "' entry in this kernel (one entry per role)",
               et.get("role"));
      entry.launch = readLaunch(r, et, ep);
      if (entry.role == "attention") {
        entry.attention = readAttention(r, et, ep, entry, served, chunks);
        compilesMask = compilesMask || entry.attention.mask == "static";
      } else {
        for (const char *key : {"kernel", "mask", "tile_k", "warps", "stages"})
          if (const toml::node *n = et.get(key))
            r.fail(ep + "." + key,
                   "only attention entries have a kernel variant (role is '" +
                       entry.role + "')",
                   n);
        compilesMask = compilesMask || entry.role == "select";
      }
      k.entries.push_back(entry);
    }
    // The select kernel and the static-mask attention kernel compile the
    // static mask in as a C++ type: it must be the mask of every chunk served.
    if (compilesMask)
      for (int c : served) {
        const StaticMask &m = *chunks[size_t(c - 1)].selection.staticMask;
        if (m.text() != k.staticMask)
          r.fail(p + ".static_mask",
                 "kernel '" + k.name + "' is compiled for static mask '" +
                     k.staticMask + "', but chunks[" + std::to_string(c - 1) +
                     "].static_mask (chunk " + std::to_string(c) +
                     ", which it serves) is '" + m.text() + "'",
                 t.get("static_mask") ? t.get("static_mask") : &t);
      }
    kernels.push_back(std::move(k));
  }

  // Plan::findKernel must have one answer: per (role, chunk), at most one
  // kernel without archs and at most one listing each arch.
  std::map<std::tuple<std::string, int, std::string>, size_t> owner;
  for (size_t i = 0; i < kernels.size(); ++i) {
    const PlanKernel &k = kernels[i];
    const std::vector<std::string> archs =
        k.archs.empty() ? std::vector<std::string>{""} : k.archs;
    for (const PlanEntry &entry : k.entries)
      for (int c : servedChunks(k, chunkCount))
        for (const std::string &arch : archs) {
          auto [it, inserted] =
              owner.emplace(std::make_tuple(entry.role, c, arch), i);
          if (inserted)
            continue;
          const PlanKernel &other = kernels[it->second];
          r.fail(
              "kernels[" + std::to_string(i) + "]" +
                  (arch.empty() ? ".chunks" : ".archs"),
              "kernel '" + k.name + "' serves role '" + entry.role +
                  "' for chunk " + std::to_string(c) +
                  (arch.empty() ? " on every arch (no archs)" : " on " + arch) +
                  ", and so does kernels[" + std::to_string(it->second) +
                  "] ('" + other.name +
                  "'): which one runs would be ambiguous (give them "
                  "disjoint chunks or archs)",
              tables[i]);
        }
  }
}

} // namespace

DType parseDType(const std::string &name, const std::string &what) {
  if (name == "bf16")
    return DType::BF16;
  if (name == "fp16")
    return DType::F16;
  if (name == "fp32")
    return DType::F32;
  throw Error(what + ": unknown dtype '" + name +
              "' (expected bf16, fp16 or fp32)");
}

void checkKernelAbi(const Plan &plan) {
  struct Known {
    const char *path;
    const char *sha256;
  };
  static const Known known[] = {
      {"include/lfc/abi.h", LFC_ABI_H_SHA256},
      {"include/lfc/tma_abi.h", LFC_TMA_ABI_H_SHA256},
  };
  for (const PlanHeader &h : plan.headers)
    for (const Known &k : known)
      if (fs::path(h.path).lexically_normal() == fs::path(k.path) &&
          h.sha256 != k.sha256)
        throw Error(
            plan.dir +
            "/plan.toml: the plan's kernels were compiled "
            "against another kernel launch contract: '" +
            h.path + "' has SHA-256 " + h.sha256 +
            ", this runtime was built with " + k.sha256 +
            "; recompile the plan with this lfc (lfc compile POLICY -o " +
            plan.dir + " --force)");
}

Plan loadPlan(const std::string &dirArg) {
  std::error_code ec;
  fs::path dir = fs::absolute(dirArg, ec);
  if (ec || !fs::is_directory(dir))
    throw Error("plan: '" + dirArg +
                "' is not a directory (a plan is a directory holding "
                "plan.toml)");
  fs::path manifest = dir / "plan.toml";
  const std::string file = (fs::path(dirArg) / "plan.toml").string();
  if (!fs::is_regular_file(manifest))
    throw Error(file + ": not found (a plan directory must hold plan.toml)");
  toml::parse_result parsed = toml::parse_file(manifest.string());
  if (!parsed) {
    const toml::parse_error &err = parsed.error();
    throw Error(file + ":" + std::to_string(err.source().begin.line) + ":" +
                std::to_string(err.source().begin.column) +
                ": TOML syntax error: " + std::string(err.description()));
  }
  const toml::table &root = parsed.table();
  ManifestReader r(file);
  r.onlyKeys(root, "",
             {"format_version", "plan", "geometry", "chunks", "build",
              "headers", "kernels"});

  Plan plan;
  plan.dir = dir.lexically_normal().string();
  plan.formatVersion = int(r.integer(root, "", "format_version", 0, INT32_MAX));
  if (plan.formatVersion != kPlanFormatVersion)
    r.fail("format_version",
           "this runtime reads version " + std::to_string(kPlanFormatVersion) +
               ", got " + std::to_string(plan.formatVersion) +
               (plan.formatVersion == 1
                    ? " (version 1 predates static masks, per-arch kernels and "
                      "attention variants); recompile the policy with `lfc "
                      "compile`"
                    : "; recompile the policy with `lfc compile`"),
           root.get("format_version"));
  const toml::table &meta = r.table(root, "", "plan");
  r.onlyKeys(meta, "plan", {"name", "generator", "source"});
  plan.name = r.string(meta, "plan", "name");
  plan.source = r.string(meta, "plan", "source", std::string());
  r.string(meta, "plan", "generator", std::string());

  readGeometry(r, root, plan.geometry);
  readChunks(r, root, plan.geometry, plan.chunks);

  bool externalTemplates = false;
  if (const toml::node *bn = root.get("build")) {
    if (!bn->is_table())
      r.fail("build", "must be a table", bn);
    const toml::table &b = *bn->as_table();
    r.onlyKeys(b, "build", {"include_dirs", "options", "external_templates"});
    auto dirs = r.strings(b, "build", "include_dirs");
    for (size_t i = 0; i < dirs.size(); ++i) {
      const std::string f = "build.include_dirs[" + std::to_string(i) + "]";
      checkRelativePath(r, f, dirs[i], "", b.get("include_dirs"));
      if (!fs::is_directory(dir / dirs[i]))
        r.fail(f, "directory '" + dirs[i] + "' not found in the plan directory",
               b.get("include_dirs"));
      plan.includeDirs.push_back((dir / dirs[i]).lexically_normal().string());
    }
    plan.options = r.strings(b, "build", "options");
    externalTemplates = r.boolean(b, "build", "external_templates", false);
  }
  if (externalTemplates) {
    std::string templates = defaultKernelIncludeDir();
    if (!fs::is_directory(templates))
      r.fail("build.external_templates",
             "the plan needs the kernel templates of a source tree, and '" +
                 templates +
                 "' does not exist (set LFC_KERNEL_INCLUDE_DIR, or bundle the "
                 "headers "
                 "under include/)",
             root.get("build"));
    plan.includeDirs.push_back(templates);
  }

  std::set<std::string> listed;
  auto headerTables = r.tables(root, "headers", false);
  for (size_t i = 0; i < headerTables.size(); ++i) {
    const toml::table &t = *headerTables[i];
    const std::string p = "headers[" + std::to_string(i) + "]";
    r.onlyKeys(t, p, {"path", "sha256"});
    PlanHeader h;
    h.path = r.string(t, p, "path");
    checkRelativePath(r, p + ".path", h.path, "include", t.get("path"));
    h.sha256 = r.string(t, p, "sha256");
    if (!isLowerHex64(h.sha256))
      r.fail(p + ".sha256",
             "must be 64 lowercase hex digits, got '" + h.sha256 + "'",
             t.get("sha256"));
    loadHashed(r, p + ".sha256", dir, h.path, h.sha256, t.get("sha256"));
    if (!listed.insert(fs::path(h.path).lexically_normal().string()).second)
      r.fail(p + ".path", "listed twice: '" + h.path + "'", t.get("path"));
    plan.headers.push_back(h);
  }
  // Every bundled header is hashed, so an unlisted file under include/ is an
  // error rather than an unchecked input to the compile.
  if (fs::is_directory(dir / "include"))
    for (const auto &e : fs::recursive_directory_iterator(dir / "include"))
      if (e.is_regular_file()) {
        std::string rel =
            fs::relative(e.path(), dir).lexically_normal().string();
        if (!listed.count(rel))
          r.fail("headers",
                 "'" + rel + "' is in the plan but not listed in [[headers]]",
                 root.get("headers") ? root.get("headers") : &root);
      }

  readKernels(r, root, dir, plan.chunks, plan.kernels);
  return plan;
}

JitRequest Plan::jitRequest(const PlanKernel &kernel,
                            const std::string &arch) const {
  JitRequest req;
  req.kernelName = kernel.name;
  req.source = kernel.source;
  req.sourceName = kernel.sourceFile;
  req.arch = arch;
  req.includeDirs = includeDirs;
  req.options = options;
  req.options.insert(req.options.end(), kernel.options.begin(),
                     kernel.options.end());
  return req;
}

const PlanKernel *Plan::findKernel(const std::string &role, int chunkIndex,
                                   const std::string &arch,
                                   const PlanEntry **entry) const {
  // An arch-specific kernel wins over a portable one (no archs); the loader
  // made sure there is at most one of each.
  const PlanKernel *portable = nullptr, *specific = nullptr;
  const PlanEntry *portableEntry = nullptr, *specificEntry = nullptr;
  for (const PlanKernel &k : kernels) {
    if (!k.chunks.empty() && std::find(k.chunks.begin(), k.chunks.end(),
                                       chunkIndex) == k.chunks.end())
      continue;
    const bool listsArch =
        !arch.empty() &&
        std::find(k.archs.begin(), k.archs.end(), arch) != k.archs.end();
    if (!listsArch && !k.archs.empty())
      continue;
    for (const PlanEntry &e : k.entries) {
      if (e.role != role)
        continue;
      if (listsArch && !specific) {
        specific = &k;
        specificEntry = &e;
      } else if (!listsArch && !portable) {
        portable = &k;
        portableEntry = &e;
      }
      break;
    }
  }
  if (entry)
    *entry = specific ? specificEntry : portableEntry;
  return specific ? specific : portable;
}

} // namespace lfc
