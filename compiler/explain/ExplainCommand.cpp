// `lfc explain`: compiles a policy through the lf pipeline and prints, per
// chunk, what it attends to and what that costs (columns documented in
// docs/explain.md).
#include "compiler/explain/Commands.h"
#include "compiler/explain/StaticMaskCount.h"

#include "compiler/frontend/EmitLf.h"
#include "compiler/frontend/MlirDiagnostics.h"
#include "compiler/frontend/PolicyParser.h"
#include "compiler/passes/MaskForm.h"
#include "compiler/passes/Passes.h"
#include "dialect/LfDialect.h"
#include "dialect/LfOps.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace {

using lfc::frontend::PolicySpec;
using Flops = unsigned __int128;

/// (query block, key block) eligibility tests explain may spend on counting
/// the static masks of one policy (about a second); chunks beyond it show the
/// budget (docs/explain.md).
constexpr int64_t kMaxMaskTests = int64_t(1) << 26;

const char kUsage[] =
    "usage: lfc explain POLICY.toml [--json] [--layers N] [--emit-lf]\n"
    "\n"
    "Compiles a sparsity policy (resolve growth, specialize per chunk) and "
    "prints, for\n"
    "every chunk, the frames and KV tokens it attends to, its query and key "
    "blocks, the\n"
    "key blocks kept per query block (their mean, within the chunk's static "
    "mask), its\n"
    "sparsity and density, and the attention FLOPs of one pass of one layer "
    "(all heads),\n"
    "dense and sparse; then the totals over the whole rollout (chunks x passes "
    "x layers)\n"
    "and the attention speedup bound (dense / sparse FLOPs). Columns and "
    "formulas:\n"
    "docs/explain.md.\n"
    "\n"
    "options:\n"
    "  --json       print one JSON object instead of the table\n"
    "  --layers N   count N layers in the totals instead of the policy's "
    "'layers'\n"
    "  -h, --help   print this help\n"
    "\n"
    "Errors are printed as FILE:LINE:COL: error: MESSAGE on stderr (exit "
    "status 1);\n"
    "nothing is printed on stdout then. Usage errors exit with status 2.\n";

struct Options {
  std::string policyPath;
  bool json = false;
  bool emitLf = false;
  std::optional<int64_t> layers;
};

/// Parses the command line; prints the problem and returns nullopt on a usage
/// error.
std::optional<Options> parseOptions(int argc, char **argv,
                                    bool &helpRequested) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      helpRequested = true;
      return std::nullopt;
    }
    if (arg == "--json") {
      options.json = true;
      continue;
    }
    if (arg == "--emit-lf") {
      options.emitLf = true;
      continue;
    }
    if (arg == "--layers" || arg.rfind("--layers=", 0) == 0) {
      std::string value;
      if (arg == "--layers") {
        if (i + 1 >= argc) {
          std::fprintf(stderr,
                       "lfc explain: error: --layers needs a value (a positive "
                       "integer)\n");
          return std::nullopt;
        }
        value = argv[++i];
      } else {
        value = arg.substr(std::strlen("--layers="));
      }
      errno = 0;
      char *end = nullptr;
      long long parsed = std::strtoll(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || errno == ERANGE || parsed < 1 ||
          parsed > std::numeric_limits<int32_t>::max()) {
        std::fprintf(
            stderr,
            "lfc explain: error: --layers must be a positive integer below "
            "2^31, got '%s'\n",
            value.c_str());
        return std::nullopt;
      }
      options.layers = parsed;
      continue;
    }
    if (!arg.empty() && arg[0] == '-') {
      std::fprintf(
          stderr,
          "lfc explain: error: unknown option '%s' (valid: --json, --layers N, "
          "--emit-lf, --help)\n",
          arg.c_str());
      return std::nullopt;
    }
    if (!options.policyPath.empty()) {
      std::fprintf(
          stderr,
          "lfc explain: error: one policy file at a time, got '%s' and '%s'\n",
          options.policyPath.c_str(), arg.c_str());
      return std::nullopt;
    }
    options.policyPath = arg;
  }
  if (options.json && options.emitLf) {
    std::fprintf(stderr,
                 "lfc explain: error: --json and --emit-lf print different "
                 "things; pass one of them\n");
    return std::nullopt;
  }
  if (options.policyPath.empty()) {
    std::fprintf(stderr, "lfc explain: error: no policy file given\n%s",
                 kUsage);
    return std::nullopt;
  }
  return options;
}

/// One row of the table: what lf-specialize-chunks computed for a chunk, plus
/// what its static mask keeps, plus FLOPs.
struct ChunkRow {
  int64_t index = 0;
  double sparsity = 0.0;
  int64_t visibleFrames = 0;
  int64_t queryTokens = 0;
  int64_t kvTokens = 0;
  int64_t queryBlocks = 0;
  int64_t keyBlocks = 0;
  /// The budget K of lf.chunk (key_blocks for a dense chunk).
  int64_t keptKeyBlocks = 0;
  int64_t framesKept = 0;
  bool dense = false;
  /// The canonical static mask lf-lower-to-kernels gives the chunk ("all":
  /// none); nullopt when the policy's mask has no kernel lowering.
  std::optional<std::string> staticMask;
  /// Key blocks kept per query block, min(eligible, K), when the static mask
  /// was counted (staticMaskCounted); empty otherwise (every query block keeps
  /// K).
  std::vector<int64_t> keptPerQueryBlock;
  bool staticMaskCounted = false;
  /// Mean of keptPerQueryBlock over the query blocks; K when not counted.
  double meanKept = 0.0;
  double density = 1.0;
  Flops denseFlops = 0;
  Flops sparseFlops = 0;
};

std::string toDecimal(Flops value) {
  if (value == 0)
    return "0";
  std::string digits;
  while (value > 0) {
    digits.insert(digits.begin(),
                  static_cast<char>('0' + static_cast<int>(value % 10)));
    value /= 10;
  }
  return digits;
}

/// Shortest %g form that reads back as the same double, so JSON consumers see
/// exactly what the compiler computed.
std::string toJsonNumber(double value) {
  char buf[64];
  for (int precision = 15; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, value);
    if (std::strtod(buf, nullptr) == value)
      break;
  }
  return buf;
}

std::string jsonString(const std::string &text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

bool mulFlops(Flops a, Flops b, Flops &out) {
  return !__builtin_mul_overflow(a, b, &out);
}

/// Fills the FLOP columns. dense = 4 * heads * head_dim * Lq * Lk (QK^T and PV,
/// 2 FLOPs per multiply-add each); sparse replaces Lk by the key tokens a query
/// block keeps, at most kept * block_k and never more than Lk, for every query
/// row of the block. kept is K for every query block unless the static mask
/// was counted.
bool computeFlops(const PolicySpec &spec, ChunkRow &row) {
  Flops perToken = 4 * static_cast<Flops>(spec.geometry.heads.value) *
                   static_cast<Flops>(spec.geometry.headDim.value);
  auto keptKeyTokens = [&](int64_t kept) {
    return std::min<Flops>(static_cast<Flops>(kept) * spec.select.blockK.value,
                           static_cast<Flops>(row.kvTokens));
  };
  Flops perQuery = 0;
  if (!mulFlops(perToken, static_cast<Flops>(row.queryTokens), perQuery) ||
      !mulFlops(perQuery, static_cast<Flops>(row.kvTokens), row.denseFlops))
    return false;
  if (row.dense)
    return mulFlops(perQuery, static_cast<Flops>(row.kvTokens),
                    row.sparseFlops);
  if (!row.staticMaskCounted)
    return mulFlops(perQuery, keptKeyTokens(row.keptKeyBlocks),
                    row.sparseFlops);
  // Sum over query blocks b of rows(b) * kept key tokens(b); every term is at
  // most Lq * Lk, which fits 64 bits.
  const int64_t blockQ = spec.select.blockQ.value;
  Flops pairs = 0;
  for (size_t b = 0; b < row.keptPerQueryBlock.size(); ++b) {
    int64_t begin = static_cast<int64_t>(b) * blockQ;
    int64_t rows = std::min(begin + blockQ, row.queryTokens) - begin;
    pairs += static_cast<Flops>(rows) * keptKeyTokens(row.keptPerQueryBlock[b]);
  }
  return mulFlops(perToken, pairs, row.sparseFlops);
}

/// Counts, for a non-dense chunk whose static mask is not `all`, the key
/// blocks each query block keeps: min(eligible under the static mask, K).
/// Fills keptPerQueryBlock and meanKept, or leaves the row at the budget when
/// the mask cannot be counted (within the work left). Results are shared
/// between chunks of the same mask and visible frames (rolling windows).
class KeptCounter {
public:
  explicit KeptCounter(const PolicySpec &spec) : spec(spec) {}

  void count(ChunkRow &row) {
    if (row.dense || !row.staticMask || *row.staticMask == "all")
      return;
    auto key = std::make_pair(*row.staticMask, row.visibleFrames);
    auto found = eligibleCache.find(key);
    if (found == eligibleCache.end()) {
      lfc::explain::ChunkShape shape;
      shape.tokensPerFrame = spec.geometry.tokensPerFrame.value;
      shape.framesPerChunk = spec.geometry.framesPerChunk.value;
      shape.visibleFrames = row.visibleFrames;
      shape.blockQ = spec.select.blockQ.value;
      shape.blockK = spec.select.blockK.value;
      std::vector<int64_t> eligible;
      std::string error;
      if (!lfc::explain::countEligibleBlocks(*row.staticMask, shape, eligible,
                                             &workLeft, error) ||
          eligible.size() != static_cast<size_t>(row.queryBlocks))
        eligible.clear();
      found = eligibleCache.emplace(key, std::move(eligible)).first;
    }
    const std::vector<int64_t> &eligible = found->second;
    if (eligible.empty())
      return;
    row.staticMaskCounted = true;
    row.keptPerQueryBlock.clear();
    int64_t sum = 0;
    for (int64_t blocks : eligible) {
      row.keptPerQueryBlock.push_back(std::min(blocks, row.keptKeyBlocks));
      sum += row.keptPerQueryBlock.back();
    }
    row.meanKept =
        static_cast<double>(sum) / static_cast<double>(row.queryBlocks);
  }

private:
  const PolicySpec &spec;
  int64_t workLeft = kMaxMaskTests;
  std::map<std::pair<std::string, int64_t>, std::vector<int64_t>> eligibleCache;
};

std::string formatGiga(Flops flops) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(flops) / 1e9);
  return buf;
}

std::string describeCache(const PolicySpec &spec) {
  const auto &g = spec.geometry;
  if (g.kvWindowFrames.value == 0)
    return "global KV cache";
  return "KV window of " + std::to_string(g.kvWindowFrames.value) +
         " frames + " + std::to_string(g.sinkFrames.value) + " sink frame" +
         (g.sinkFrames.value == 1 ? "" : "s");
}

/// "1, 2, 5" for the chunks of `rows` that satisfy `pred`; empty if none.
template <typename Pred>
std::string chunkList(const std::vector<ChunkRow> &rows, Pred pred) {
  std::string list;
  for (const ChunkRow &row : rows)
    if (pred(row))
      list += (list.empty() ? "" : ", ") + std::to_string(row.index);
  return list;
}

std::string renderTable(const PolicySpec &spec,
                        const std::vector<ChunkRow> &rows,
                        const std::string &policyStaticMask, int64_t layers,
                        Flops totalDense, Flops totalSparse) {
  const auto &g = spec.geometry;
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "policy %s (%s)\n", spec.name.c_str(),
                spec.file.c_str());
  out += line;
  std::snprintf(line, sizeof line,
                "geometry: %lld layers, %lld heads x head_dim %lld (%s), %lld "
                "tokens/frame, "
                "%lld chunks x %lld frames, %lld passes/chunk, %s\n",
                (long long)layers, (long long)g.heads.value,
                (long long)g.headDim.value, g.dtype.value.c_str(),
                (long long)g.tokensPerFrame.value, (long long)g.chunks.value,
                (long long)g.framesPerChunk.value,
                (long long)g.passesPerChunk.value, describeCache(spec).c_str());
  out += line;
  std::snprintf(
      line, sizeof line, "selection: block_q %lld, block_k %lld, refresh %s",
      (long long)spec.select.blockQ.value, (long long)spec.select.blockK.value,
      spec.select.refresh.value.c_str());
  out += line;
  if (!policyStaticMask.empty() && policyStaticMask != "all")
    out += ", static mask " + policyStaticMask;
  out += "\n\n";
  std::snprintf(line, sizeof line,
                "%5s %6s %9s %8s %8s %10s %8s %7s %13s %13s\n", "chunk",
                "frames", "kv_tokens", "q_blocks", "k_blocks", "kept/q_blk",
                "sparsity", "density", "dense_GFLOP", "sparse_GFLOP");
  out += line;
  for (const ChunkRow &row : rows) {
    std::snprintf(
        line, sizeof line,
        "%5lld %6lld %9lld %8lld %8lld %10.1f %8.3f %7.3f %13s %13s\n",
        (long long)row.index, (long long)row.visibleFrames,
        (long long)row.kvTokens, (long long)row.queryBlocks,
        (long long)row.keyBlocks, row.meanKept, row.sparsity, row.density,
        formatGiga(row.denseFlops).c_str(),
        formatGiga(row.sparseFlops).c_str());
    out += line;
  }
  out += "(GFLOP per pass of one layer, all heads)\n";
  std::string uncounted = chunkList(rows, [](const ChunkRow &row) {
    return !row.dense && row.staticMask && *row.staticMask != "all" &&
           !row.staticMaskCounted;
  });
  if (!uncounted.empty())
    out += "(kept/q_blk of chunk(s) " + uncounted +
           " is the budget, an upper bound: counting the static mask's "
           "eligible blocks would take more than " +
           std::to_string(kMaxMaskTests) + " block tests)\n";
  out += "\n";
  std::snprintf(line, sizeof line,
                "total over %lld chunks x %lld passes x %lld layers: dense %s "
                "GFLOP, sparse "
                "%s GFLOP, attention speedup bound %.2fx\n",
                (long long)g.chunks.value, (long long)g.passesPerChunk.value,
                (long long)layers, formatGiga(totalDense).c_str(),
                formatGiga(totalSparse).c_str(),
                totalSparse == 0 ? 0.0
                                 : static_cast<double>(totalDense) /
                                       static_cast<double>(totalSparse));
  out += line;
  return out;
}

std::string renderJson(const PolicySpec &spec,
                       const std::vector<ChunkRow> &rows, int64_t layers,
                       Flops totalDense, Flops totalSparse) {
  const auto &g = spec.geometry;
  std::string out = "{\n";
  out += "  \"policy\": " + jsonString(spec.name) + ",\n";
  out += "  \"file\": " + jsonString(spec.file) + ",\n";
  out += "  \"geometry\": {\"layers\": " + std::to_string(layers) +
         ", \"heads\": " + std::to_string(g.heads.value) +
         ", \"head_dim\": " + std::to_string(g.headDim.value) +
         ", \"dtype\": " + jsonString(g.dtype.value) +
         ", \"tokens_per_frame\": " + std::to_string(g.tokensPerFrame.value) +
         ", \"frames_per_chunk\": " + std::to_string(g.framesPerChunk.value) +
         ", \"chunks\": " + std::to_string(g.chunks.value) +
         ", \"passes_per_chunk\": " + std::to_string(g.passesPerChunk.value) +
         ", \"kv_window_frames\": " + std::to_string(g.kvWindowFrames.value) +
         ", \"sink_frames\": " + std::to_string(g.sinkFrames.value) + "},\n";
  out += "  \"select\": {\"block_q\": " +
         std::to_string(spec.select.blockQ.value) +
         ", \"block_k\": " + std::to_string(spec.select.blockK.value) +
         ", \"refresh\": " + jsonString(spec.select.refresh.value) + "},\n";
  out += "  \"chunks\": [\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    const ChunkRow &row = rows[i];
    out += "    {\"index\": " + std::to_string(row.index) +
           ", \"sparsity\": " + toJsonNumber(row.sparsity) +
           ", \"density\": " + toJsonNumber(row.density) +
           ", \"dense\": " + (row.dense ? "true" : "false") +
           ", \"visible_frames\": " + std::to_string(row.visibleFrames) +
           ", \"query_tokens\": " + std::to_string(row.queryTokens) +
           ", \"kv_tokens\": " + std::to_string(row.kvTokens) +
           ", \"query_blocks\": " + std::to_string(row.queryBlocks) +
           ", \"key_blocks\": " + std::to_string(row.keyBlocks) +
           ", \"kept_key_blocks\": " + std::to_string(row.keptKeyBlocks) +
           ", \"mean_kept_key_blocks\": " + toJsonNumber(row.meanKept) +
           ", \"static_mask\": " +
           (row.staticMask ? jsonString(*row.staticMask) : "null") +
           ", \"static_mask_counted\": " +
           (row.staticMaskCounted ? "true" : "false") +
           ", \"frames_kept\": " + std::to_string(row.framesKept) +
           ", \"dense_flops\": " + toDecimal(row.denseFlops) +
           ", \"sparse_flops\": " + toDecimal(row.sparseFlops) + "}" +
           (i + 1 < rows.size() ? "," : "") + "\n";
  }
  out += "  ],\n";
  out += "  \"total_dense_flops\": " + toDecimal(totalDense) + ",\n";
  out += "  \"total_sparse_flops\": " + toDecimal(totalSparse) + ",\n";
  out += "  \"attention_speedup_bound\": " +
         toJsonNumber(totalSparse == 0 ? 0.0
                                       : static_cast<double>(totalDense) /
                                             static_cast<double>(totalSparse)) +
         "\n}\n";
  return out;
}

} // namespace

int lfc::cli::runExplain(int argc, char **argv) {
  bool helpRequested = false;
  std::optional<Options> options = parseOptions(argc, argv, helpRequested);
  if (helpRequested) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (!options)
    return 2;

  lfc::frontend::ParseResult parsed =
      lfc::frontend::parsePolicyFile(options->policyPath);
  if (!parsed.spec) {
    for (const auto &diag : parsed.diagnostics)
      std::fprintf(stderr, "%s\n",
                   lfc::frontend::formatDiagnostic(diag).c_str());
    return 1;
  }
  PolicySpec &spec = *parsed.spec;
  int64_t layers = options->layers.value_or(spec.geometry.layers.value);

  mlir::MLIRContext context;
  context.disableMultithreading();
  context.printOpOnDiagnostic(false);
  context.getOrLoadDialect<mlir::lf::LfDialect>();
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &diag) {
    lfc::frontend::printMlirDiagnostic(diag, spec.file);
    return mlir::success();
  });

  mlir::OwningOpRef<mlir::ModuleOp> module =
      lfc::frontend::emitLf(spec, context);
  if (mlir::failed(mlir::verify(*module)))
    return 1;
  if (options->emitLf) {
    std::string text;
    llvm::raw_string_ostream os(text);
    module->print(os, mlir::OpPrintingFlags().enableDebugInfo(
                          /*enable=*/true, /*prettyForm=*/false));
    std::fputs(os.str().c_str(), stdout);
    return 0;
  }
  if (mlir::failed(lfc::runLfPipeline(*module)))
    return 1;

  // The static mask lf-lower-to-kernels would give each chunk. A policy it
  // cannot lower (a mass threshold, say) is still explained, with budgets
  // only: its errors are not explain's.
  std::optional<mlir::lf::MaskForm> form;
  module->walk([&](mlir::lf::PolicyOp policy) {
    mlir::ScopedDiagnosticHandler quiet(
        &context, [](mlir::Diagnostic &) { return mlir::success(); });
    mlir::FailureOr<mlir::lf::MaskForm> analyzed =
        mlir::lf::analyzeMaskForm(policy);
    if (mlir::succeeded(analyzed))
      form = std::move(*analyzed);
    return mlir::WalkResult::interrupt();
  });
  KeptCounter counter(spec);

  std::vector<ChunkRow> rows;
  Flops totalDense = 0, totalSparse = 0;
  Flops repeats = static_cast<Flops>(spec.geometry.passesPerChunk.value) *
                  static_cast<Flops>(layers);
  bool overflow = false;
  module->walk([&](mlir::lf::ChunkOp chunk) {
    ChunkRow row;
    row.index = chunk.getIndex();
    row.sparsity = chunk.getSparsity().convertToDouble();
    row.visibleFrames = chunk.getVisibleFrames();
    row.queryTokens = chunk.getQueryTokens();
    row.kvTokens = chunk.getKvTokens();
    row.queryBlocks = chunk.getQueryBlocks();
    row.keyBlocks = chunk.getKeyBlocks();
    row.keptKeyBlocks = chunk.getKeptKeyBlocks();
    row.framesKept = chunk.getFramesKept();
    row.dense = chunk.getDense();
    if (row.dense)
      row.keptKeyBlocks = row.keyBlocks;
    if (form)
      row.staticMask = mlir::lf::chunkStaticMask(*form, chunk).text();
    row.meanKept = static_cast<double>(row.keptKeyBlocks);
    counter.count(row);
    row.density =
        row.dense ? 1.0 : row.meanKept / static_cast<double>(row.keyBlocks);
    Flops denseAll = 0, sparseAll = 0;
    overflow |= !computeFlops(spec, row) ||
                !mulFlops(row.denseFlops, repeats, denseAll) ||
                !mulFlops(row.sparseFlops, repeats, sparseAll) ||
                __builtin_add_overflow(totalDense, denseAll, &totalDense) ||
                __builtin_add_overflow(totalSparse, sparseAll, &totalSparse);
    rows.push_back(row);
  });
  if (overflow) {
    std::fprintf(
        stderr,
        "%s: error: the attention FLOP count of this policy does not fit "
        "in 128 bits; reduce chunks, passes, layers or tokens\n",
        spec.file.c_str());
    return 1;
  }
  if (rows.size() != static_cast<size_t>(spec.geometry.chunks.value)) {
    std::fprintf(stderr,
                 "%s: error: internal: the lf pipeline produced %zu lf.chunk "
                 "ops for %lld "
                 "chunks\n",
                 spec.file.c_str(), rows.size(),
                 (long long)spec.geometry.chunks.value);
    return 1;
  }
  std::string text =
      options->json
          ? renderJson(spec, rows, layers, totalDense, totalSparse)
          : renderTable(spec, rows, form ? form->staticMask.text() : "", layers,
                        totalDense, totalSparse);
  std::fputs(text.c_str(), stdout);
  return 0;
}
