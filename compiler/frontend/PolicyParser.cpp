// Reads TOML policies (docs/policy-format.md) into PolicySpec, reporting every
// problem at the line and column that caused it.
#include "compiler/frontend/PolicyParser.h"

#include "compiler/frontend/DidYouMean.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

namespace lfc::frontend {

namespace {

constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

/// Policy text quoted for a message: printable ASCII as is, anything else as
/// \xNN, so a key made of binary garbage cannot corrupt the terminal or the
/// diagnostic line.
std::string printable(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

std::string formatNumber(double value) {
  if (std::isnan(value))
    return "nan";
  if (std::isinf(value))
    return value > 0 ? "inf" : "-inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", value);
  return buf;
}

const char *typeName(toml::node_type type) {
  switch (type) {
  case toml::node_type::table:
    return "table";
  case toml::node_type::array:
    return "array";
  case toml::node_type::string:
    return "string";
  case toml::node_type::integer:
    return "integer";
  case toml::node_type::floating_point:
    return "float";
  case toml::node_type::boolean:
    return "boolean";
  case toml::node_type::date:
    return "date";
  case toml::node_type::time:
    return "time";
  case toml::node_type::date_time:
    return "date-time";
  case toml::node_type::none:
    break;
  }
  return "nothing";
}

std::string joinChoices(const std::vector<std::string> &choices) {
  std::string out;
  for (size_t i = 0; i < choices.size(); ++i) {
    if (i)
      out += i + 1 == choices.size() ? " or " : ", ";
    out += "\"" + choices[i] + "\"";
  }
  return out;
}

/// Names a table for messages: "[geometry]", "[select.frames]",
/// "[[select.mask]] #2".
struct Where {
  std::string label;
  /// Where "missing key" errors point: the table's header or opening brace.
  SourceLoc loc;
};

struct IntRange {
  int64_t lo;
  int64_t hi;
};

/// Bounds of a fraction; `loOpen`/`hiOpen` exclude the end points.
struct FloatRange {
  double lo;
  bool loOpen;
  double hi;
  bool hiOpen;
};

std::string describe(const FloatRange &range) {
  return std::string(range.loOpen ? "(" : "[") + formatNumber(range.lo) + ", " +
         formatNumber(range.hi) + (range.hiOpen ? ")" : "]");
}

bool contains(const FloatRange &range, double value) {
  bool aboveLo = range.loOpen ? value > range.lo : value >= range.lo;
  bool belowHi = range.hiOpen ? value < range.hi : value <= range.hi;
  return aboveLo && belowHi;
}

struct MaskOpInfo {
  MaskOpKind kind;
  const char *name;
};

const MaskOpInfo kMaskOps[] = {
    {MaskOpKind::SinkFrames, "sink_frames"},
    {MaskOpKind::NearFrames, "near_frames"},
    {MaskOpKind::CurrentChunk, "current_chunk"},
    {MaskOpKind::SlidingWindow, "sliding_window"},
    {MaskOpKind::Radial, "radial"},
    {MaskOpKind::FrameTopK, "frame_topk"},
    {MaskOpKind::BlockTopK, "block_topk"},
    {MaskOpKind::MassThreshold, "mass_threshold"},
    {MaskOpKind::Union, "union"},
    {MaskOpKind::Restrict, "restrict"},
};

const std::vector<std::string> kScores = {"mean_dot"};

/// How messages name the file's top level; tables missing there are reported at
/// 1:1.
const char kRootLabel[] = "the policy (top level)";

const std::vector<std::string> kGeometryKeys = {"heads",
                                                "head_dim",
                                                "dtype",
                                                "tokens_per_frame",
                                                "frames_per_chunk",
                                                "chunks",
                                                "passes_per_chunk",
                                                "kv_window_frames",
                                                "sink_frames",
                                                "layers"};
const std::vector<std::string> kGrowthKeys = {"kind", "target", "base",
                                              "sparsity"};
const std::vector<std::string> kSelectKeys = {
    "block_q", "block_k", "refresh", "frames", "blocks", "mask", "output"};

/// The table a key belongs to, or null when no table has it.
const char *homeTableOf(std::string_view key) {
  auto has = [&](const std::vector<std::string> &keys) {
    return std::find(keys.begin(), keys.end(), key) != keys.end();
  };
  if (has(kGeometryKeys))
    return "[geometry]";
  if (has(kGrowthKeys))
    return "[growth]";
  if (has(kSelectKeys))
    return "[select]";
  return nullptr;
}

class Parser {
public:
  Parser(std::string file, std::vector<Diagnostic> &diags)
      : file(std::move(file)), diags(diags) {}

  std::optional<PolicySpec> run(std::string_view text);

private:
  std::string file;
  std::vector<Diagnostic> &diags;

  SourceLoc at(const toml::source_region &region) const {
    // Nodes toml++ creates implicitly (the `select` of `[[select.mask]]`) may
    // carry no position; 1:1 is still a place an editor can jump to.
    if (region.begin.line == 0)
      return fileStart();
    return {file, region.begin.line, region.begin.column};
  }
  SourceLoc fileStart() const { return {file, 1, 1}; }
  void error(const SourceLoc &loc, std::string message) {
    diags.push_back({loc, std::move(message)});
  }
  /// A required key is absent: say where, and what line would fix it.
  /// "table\nkey" of required keys an unknown key was taken for (`haeds` ->
  /// `heads`): their absence is the same mistake, reported once.
  std::set<std::string> misspelled;

  void missingKey(const Where &where, std::string_view key,
                  const std::string &example, const std::string &note = "") {
    if (misspelled.count(where.label + "\n" + std::string(key)))
      return;
    error(where.loc, "missing required key '" + std::string(key) + "' in " +
                         where.label + "; add '" + std::string(key) + " = " +
                         example + "'" + note);
  }

  /// Reports keys of `table` not in `allowed`. `suggestHome`: also name the
  /// table an unknown key belongs to, for the top level and the three policy
  /// tables.
  bool checkKeys(const toml::table &table, const Where &where,
                 const std::vector<std::string> &allowed,
                 bool suggestHome = false);
  const toml::node *find(const toml::table &table, std::string_view key) const {
    return table.get(key);
  }
  const toml::table *readTable(const toml::table &parent, std::string_view key,
                               const Where &where, bool required,
                               Where &childWhere);
  std::optional<Located<int64_t>>
  readInt(const toml::table &table, std::string_view key, const Where &where,
          std::optional<int64_t> fallback, IntRange range);
  std::optional<Located<double>>
  readFloat(const toml::table &table, std::string_view key, const Where &where,
            std::optional<double> fallback, FloatRange range);
  std::optional<Located<double>> checkFloatNode(const toml::node &node,
                                                std::string_view what,
                                                FloatRange range);
  std::optional<Located<std::string>>
  readChoice(const toml::table &table, std::string_view key, const Where &where,
             const std::vector<std::string> &choices,
             std::optional<std::string> fallback);
  std::optional<Located<std::string>> readString(const toml::table &table,
                                                 std::string_view key,
                                                 const Where &where);
  std::optional<std::vector<Located<std::string>>>
  readStringList(const toml::table &table, std::string_view key,
                 const Where &where, bool required);

  bool parseGeometry(const toml::table &root, GeometrySpec &geometry);
  bool checkGeometry(GeometrySpec &geometry);
  bool parseGrowth(const toml::table &table, const Where &where, int64_t chunks,
                   bool chunksKnown, GrowthSpec &growth);
  bool parseSelect(const toml::table &table, const Where &where,
                   SelectSpec &select);
  bool expandShorthand(const toml::table &table, const Where &where,
                       SelectSpec &select);
  bool parseMaskEntry(const toml::table &entry, const Where &where,
                      SelectSpec &select);
  bool resolveMasks(SelectSpec &select, const Located<std::string> *output);
  bool checkMasks(const PolicySpec &spec);

  MaskAttr intAttr(std::string name, const Located<int64_t> &value) {
    MaskAttr attr;
    attr.name = std::move(name);
    attr.type = MaskAttr::Type::Int;
    attr.intValue = value.value;
    attr.loc = value.loc;
    return attr;
  }
  MaskAttr floatAttr(std::string name, const Located<double> &value) {
    MaskAttr attr;
    attr.name = std::move(name);
    attr.type = MaskAttr::Type::Float;
    attr.floatValue = value.value;
    attr.loc = value.loc;
    return attr;
  }
  MaskAttr stringAttr(std::string name, const Located<std::string> &value) {
    MaskAttr attr;
    attr.name = std::move(name);
    attr.type = MaskAttr::Type::String;
    attr.stringValue = value.value;
    attr.loc = value.loc;
    return attr;
  }
};

bool Parser::checkKeys(const toml::table &table, const Where &where,
                       const std::vector<std::string> &allowed,
                       bool suggestHome) {
  bool ok = true;
  for (auto &&[key, node] : table) {
    (void)node;
    if (std::find(allowed.begin(), allowed.end(), key.str()) != allowed.end())
      continue;
    std::string message =
        "unknown key '" + printable(key.str()) + "' in " + where.label;
    std::string hint = didYouMeanSuffix(key.str(), allowed);
    if (auto match = closestMatch(key.str(), allowed))
      misspelled.insert(where.label + "\n" + *match);
    if (hint.empty()) {
      // A key written under the wrong header is the other common slip; naming
      // its table helps more than a list of this table's keys.
      const char *home = suggestHome ? homeTableOf(key.str()) : nullptr;
      if (home && where.label != home) {
        hint = "; '" + std::string(key.str()) + "' belongs in " + home;
      } else {
        hint = "; expected one of:";
        for (const std::string &name : allowed)
          hint += " " + name;
      }
    }
    error(at(key.source()), message + hint);
    ok = false;
  }
  return ok;
}

const toml::table *Parser::readTable(const toml::table &parent,
                                     std::string_view key, const Where &where,
                                     bool required, Where &childWhere) {
  const toml::node *node = find(parent, key);
  if (!node) {
    if (required) {
      if (where.label == kRootLabel)
        error(fileStart(), "missing required table [" + std::string(key) + "]");
      else
        error(where.loc, "missing required key '" + std::string(key) + "' in " +
                             where.label);
    }
    return nullptr;
  }
  const toml::table *table = node->as_table();
  if (!table) {
    error(at(node->source()), "'" + std::string(key) +
                                  "' must be a table, got " +
                                  typeName(node->type()));
    return nullptr;
  }
  childWhere.loc = at(table->source());
  return table;
}

std::optional<Located<int64_t>> Parser::readInt(const toml::table &table,
                                                std::string_view key,
                                                const Where &where,
                                                std::optional<int64_t> fallback,
                                                IntRange range) {
  const toml::node *node = find(table, key);
  if (!node) {
    if (fallback)
      return Located<int64_t>{*fallback, where.loc};
    missingKey(where, key,
               range.lo == 1 && range.hi >= kInt32Max
                   ? "<positive integer>"
                   : "<integer in " + std::to_string(range.lo) + ".." +
                         std::to_string(range.hi) + ">");
    return std::nullopt;
  }
  SourceLoc loc = at(node->source());
  const auto *value = node->as_integer();
  if (!value) {
    error(loc, "'" + std::string(key) + "' must be an integer, got " +
                   typeName(node->type()));
    return std::nullopt;
  }
  int64_t v = value->get();
  if (v < range.lo || v > range.hi) {
    std::string expected;
    if (range.lo == 1 && v < 1)
      expected = "a positive integer";
    else if (range.lo == 0 && v < 0)
      expected = "a non-negative integer";
    else if (v > range.hi && range.hi == kInt32Max)
      expected = "at most 2147483647 (it must fit in int32)";
    else
      expected =
          "in " + std::to_string(range.lo) + ".." + std::to_string(range.hi);
    error(loc, "'" + std::string(key) + "' must be " + expected + ", got " +
                   std::to_string(v));
    return std::nullopt;
  }
  return Located<int64_t>{v, loc};
}

std::optional<Located<double>> Parser::checkFloatNode(const toml::node &node,
                                                      std::string_view what,
                                                      FloatRange range) {
  SourceLoc loc = at(node.source());
  double v;
  // Integers are accepted where a fraction is expected: `sparsity = [0, 0.8]`
  // reads naturally and loses nothing.
  if (const auto *f = node.as_floating_point()) {
    v = f->get();
  } else if (const auto *i = node.as_integer()) {
    v = static_cast<double>(i->get());
  } else {
    error(loc, std::string(what) + " must be a number, got " +
                   typeName(node.type()));
    return std::nullopt;
  }
  if (!std::isfinite(v)) {
    error(loc, std::string(what) + " must be a finite number in " +
                   describe(range) + ", got " + formatNumber(v));
    return std::nullopt;
  }
  if (!contains(range, v)) {
    error(loc, std::string(what) + " must be in " + describe(range) + ", got " +
                   formatNumber(v));
    return std::nullopt;
  }
  return Located<double>{v, loc};
}

std::optional<Located<double>> Parser::readFloat(const toml::table &table,
                                                 std::string_view key,
                                                 const Where &where,
                                                 std::optional<double> fallback,
                                                 FloatRange range) {
  const toml::node *node = find(table, key);
  if (!node) {
    if (fallback)
      return Located<double>{*fallback, where.loc};
    missingKey(where, key, "<number in " + describe(range) + ">");
    return std::nullopt;
  }
  return checkFloatNode(*node, "'" + std::string(key) + "'", range);
}

std::optional<Located<std::string>> Parser::readString(const toml::table &table,
                                                       std::string_view key,
                                                       const Where &where) {
  const toml::node *node = find(table, key);
  if (!node) {
    missingKey(where, key, "\"...\"");
    return std::nullopt;
  }
  const auto *value = node->as_string();
  if (!value) {
    error(at(node->source()), "'" + std::string(key) +
                                  "' must be a string, got " +
                                  typeName(node->type()));
    return std::nullopt;
  }
  return Located<std::string>{value->get(), at(node->source())};
}

std::optional<Located<std::string>>
Parser::readChoice(const toml::table &table, std::string_view key,
                   const Where &where, const std::vector<std::string> &choices,
                   std::optional<std::string> fallback) {
  if (!find(table, key)) {
    if (fallback)
      return Located<std::string>{*fallback, where.loc};
    missingKey(where, key, "\"" + choices.front() + "\"",
               " (one of " + joinChoices(choices) + ")");
    return std::nullopt;
  }
  auto value = readString(table, key, where);
  if (!value)
    return std::nullopt;
  if (std::find(choices.begin(), choices.end(), value->value) ==
      choices.end()) {
    error(value->loc, "'" + std::string(key) + "' must be " +
                          joinChoices(choices) + ", got \"" +
                          printable(value->value) + "\"" +
                          didYouMeanSuffix(value->value, choices));
    return std::nullopt;
  }
  return value;
}

std::optional<std::vector<Located<std::string>>>
Parser::readStringList(const toml::table &table, std::string_view key,
                       const Where &where, bool required) {
  const toml::node *node = find(table, key);
  std::vector<Located<std::string>> out;
  if (!node) {
    if (!required)
      return out;
    missingKey(where, key, "[\"...\", ...]");
    return std::nullopt;
  }
  const auto *array = node->as_array();
  if (!array) {
    error(at(node->source()), "'" + std::string(key) +
                                  "' must be an array of mask names, got " +
                                  typeName(node->type()));
    return std::nullopt;
  }
  bool ok = true;
  for (const toml::node &element : *array) {
    const auto *name = element.as_string();
    if (!name) {
      error(at(element.source()), "'" + std::string(key) +
                                      "' must list mask names (strings), got " +
                                      typeName(element.type()));
      ok = false;
      continue;
    }
    out.push_back({name->get(), at(element.source())});
  }
  if (!ok)
    return std::nullopt;
  return out;
}

bool Parser::parseGeometry(const toml::table &root, GeometrySpec &geometry) {
  Where where{"[geometry]", {}};
  const toml::table *table =
      readTable(root, "geometry", Where{kRootLabel, fileStart()}, true, where);
  if (!table)
    return false;
  geometry.loc = where.loc;
  bool ok = checkKeys(*table, where, kGeometryKeys, true);
  const IntRange positive32{1, kInt32Max};
  const IntRange nonNegative32{0, kInt32Max};
  auto assign = [&](auto &field, auto parsed) {
    if (parsed)
      field = *parsed;
    else
      ok = false;
  };
  assign(geometry.layers, readInt(*table, "layers", where, 30, positive32));
  assign(geometry.heads,
         readInt(*table, "heads", where, std::nullopt, positive32));
  assign(geometry.headDim,
         readInt(*table, "head_dim", where, std::nullopt, positive32));
  assign(geometry.dtype,
         readChoice(*table, "dtype", where, {"bf16", "f16"}, std::nullopt));
  assign(geometry.tokensPerFrame,
         readInt(*table, "tokens_per_frame", where, std::nullopt, positive32));
  assign(geometry.framesPerChunk,
         readInt(*table, "frames_per_chunk", where, std::nullopt, positive32));
  assign(geometry.chunks,
         readInt(*table, "chunks", where, std::nullopt, positive32));
  assign(geometry.passesPerChunk,
         readInt(*table, "passes_per_chunk", where, std::nullopt, positive32));
  assign(geometry.kvWindowFrames,
         readInt(*table, "kv_window_frames", where, 0, nonNegative32));
  assign(geometry.sinkFrames,
         readInt(*table, "sink_frames", where, 0, nonNegative32));
  if (ok)
    ok = checkGeometry(geometry);
  return ok;
}

bool Parser::checkGeometry(GeometrySpec &g) {
  bool ok = true;
  if (g.headDim.value != 64 && g.headDim.value != 128) {
    error(g.headDim.loc,
          "'head_dim' must be 64 or 128 (the head sizes the kernels support), "
          "got " +
              std::to_string(g.headDim.value));
    ok = false;
  }
  int64_t totalFrames = 0;
  if (__builtin_mul_overflow(g.chunks.value, g.framesPerChunk.value,
                             &totalFrames) ||
      totalFrames > kInt32Max) {
    error(g.chunks.loc, "chunks * frames_per_chunk (" +
                            std::to_string(g.chunks.value) + " * " +
                            std::to_string(g.framesPerChunk.value) +
                            ") must fit in int32");
    return false;
  }
  int64_t window = g.kvWindowFrames.value;
  int64_t sink = g.sinkFrames.value;
  if (window > 0) {
    if (window < g.framesPerChunk.value) {
      error(g.kvWindowFrames.loc,
            "'kv_window_frames' (" + std::to_string(window) +
                ") must hold at least one chunk (frames_per_chunk = " +
                std::to_string(g.framesPerChunk.value) +
                "), or be 0 for a global cache");
      ok = false;
    }
    if (sink > window) {
      error(g.sinkFrames.loc,
            "'sink_frames' (" + std::to_string(sink) +
                ") must not exceed the window (kv_window_frames = " +
                std::to_string(window) + ")");
      ok = false;
    }
  } else if (sink > totalFrames - g.framesPerChunk.value) {
    error(g.sinkFrames.loc,
          "'sink_frames' (" + std::to_string(sink) +
              ") exceeds the past frames of the last chunk (" +
              std::to_string(totalFrames - g.framesPerChunk.value) + ")");
    ok = false;
  }
  if (!ok)
    return false;
  // Every token count the compiler and the kernels use is an int32 index; check
  // the longest query and KV sequences once here.
  int64_t longestKv = g.visibleFrames(g.chunks.value);
  int64_t tokens = 0;
  if (__builtin_mul_overflow(longestKv, g.tokensPerFrame.value, &tokens) ||
      tokens > kInt32Max) {
    error(g.tokensPerFrame.loc,
          "the longest KV sequence (" + std::to_string(longestKv) +
              " frames * " + std::to_string(g.tokensPerFrame.value) +
              " tokens_per_frame) exceeds 2147483647 tokens (int32)");
    return false;
  }
  int64_t headElems = 0;
  if (__builtin_mul_overflow(g.heads.value, g.headDim.value, &headElems) ||
      headElems > kInt32Max) {
    error(g.heads.loc, "heads * head_dim must fit in int32");
    return false;
  }
  return true;
}

bool Parser::parseGrowth(const toml::table &table, const Where &where,
                         int64_t chunks, bool chunksKnown, GrowthSpec &growth) {
  growth.loc = where.loc;
  bool ok = checkKeys(table, where, kGrowthKeys, true);
  auto kind = readChoice(table, "kind", where,
                         {"chunk_aware", "constant", "explicit"}, std::nullopt);
  if (!kind)
    return false;
  const FloatRange sparsityRange{0.0, false, 1.0, true};
  auto rejectKey = [&](std::string_view key) {
    if (const toml::node *node = find(table, key)) {
      error(at(node->source()), "'" + std::string(key) +
                                    "' does not apply to kind = \"" +
                                    kind->value + "\"");
      ok = false;
    }
  };
  growth.kind.loc = kind->loc;
  if (kind->value == "chunk_aware") {
    growth.kind.value = GrowthKind::ChunkAware;
    rejectKey("sparsity");
    auto target =
        readFloat(table, "target", where, std::nullopt, sparsityRange);
    auto base = readFloat(table, "base", where, std::nullopt, sparsityRange);
    if (!target || !base)
      return false;
    if (target->value >= base->value) {
      error(target->loc,
            "'target' (" + formatNumber(target->value) +
                ") must be below 'base' (" + formatNumber(base->value) +
                "): chunk-aware growth lowers the sparsity of early chunks "
                "from 'base' so that the average meets 'target'");
      return false;
    }
    growth.target = *target;
    growth.base = *base;
    return ok;
  }
  rejectKey("target");
  rejectKey("base");
  if (kind->value == "constant") {
    growth.kind.value = GrowthKind::Constant;
    auto sparsity =
        readFloat(table, "sparsity", where, std::nullopt, sparsityRange);
    if (!sparsity)
      return false;
    growth.sparsity = *sparsity;
    return ok;
  }
  growth.kind.value = GrowthKind::Explicit;
  const toml::node *node = find(table, "sparsity");
  if (!node) {
    error(where.loc,
          "missing required key 'sparsity' in [growth] (kind = \"explicit\" "
          "takes one sparsity per chunk)");
    return false;
  }
  const auto *array = node->as_array();
  if (!array) {
    error(at(node->source()),
          "'sparsity' must be an array with one value per chunk for "
          "kind = \"explicit\", got " +
              std::string(typeName(node->type())));
    return false;
  }
  size_t index = 0;
  for (const toml::node &element : *array) {
    ++index;
    auto value = checkFloatNode(
        element, "sparsity of chunk " + std::to_string(index), sparsityRange);
    if (!value) {
      ok = false;
      continue;
    }
    growth.values.push_back(*value);
  }
  if (ok && chunksKnown && static_cast<int64_t>(array->size()) != chunks) {
    error(at(node->source()),
          "'sparsity' lists " + std::to_string(array->size()) +
              " values but the policy has " + std::to_string(chunks) +
              " chunks (one value per chunk)");
    ok = false;
  }
  return ok;
}

bool Parser::parseSelect(const toml::table &table, const Where &where,
                         SelectSpec &select) {
  select.loc = where.loc;
  bool ok = checkKeys(table, where, kSelectKeys, true);
  auto readBlock = [&](std::string_view key, Located<int64_t> &out) {
    auto value =
        readInt(table, key, where, std::nullopt, IntRange{1, kInt64Max});
    if (!value) {
      ok = false;
      return;
    }
    int64_t v = value->value;
    if (v < 16 || v > 256 || (v & (v - 1)) != 0) {
      error(value->loc, "'" + std::string(key) +
                            "' must be a power of two in 16..256, got " +
                            std::to_string(v));
      ok = false;
      return;
    }
    out = *value;
  };
  readBlock("block_q", select.blockQ);
  readBlock("block_k", select.blockK);
  if (auto refresh = readChoice(table, "refresh", where,
                                {"every_pass", "per_chunk"}, "every_pass"))
    select.refresh = *refresh;
  else
    ok = false;

  const toml::node *maskNode = find(table, "mask");
  const toml::node *framesNode = find(table, "frames");
  const toml::node *blocksNode = find(table, "blocks");
  if (maskNode && (framesNode || blocksNode)) {
    const toml::node *shorthand = framesNode ? framesNode : blocksNode;
    error(at(shorthand->source()), "[select] uses both the shorthand "
                                   "('frames'/'blocks') and [[select.mask]] "
                                   "entries; write the selection one way");
    return false;
  }
  if (!maskNode) {
    if (const toml::node *output = find(table, "output")) {
      error(at(output->source()),
            "'output' names a [[select.mask]] entry, and this [select] "
            "has none");
      return false;
    }
    return expandShorthand(table, where, select) && ok;
  }
  const auto *entries = maskNode->as_array();
  if (!entries) {
    error(at(maskNode->source()),
          "'mask' must be an array of tables ([[select.mask]]), got " +
              std::string(typeName(maskNode->type())));
    return false;
  }
  if (entries->empty()) {
    error(at(maskNode->source()), "'mask' lists no masks");
    return false;
  }
  size_t index = 0;
  for (const toml::node &element : *entries) {
    ++index;
    const auto *entry = element.as_table();
    if (!entry) {
      error(at(element.source()),
            "[[select.mask]] entry #" + std::to_string(index) +
                " must be a table, got " + typeName(element.type()));
      ok = false;
      continue;
    }
    Where entryWhere{"[[select.mask]] #" + std::to_string(index),
                     at(entry->source())};
    ok = parseMaskEntry(*entry, entryWhere, select) && ok;
  }
  if (!ok)
    return false;
  std::optional<Located<std::string>> output;
  if (find(table, "output")) {
    output = readString(table, "output", where);
    if (!output)
      return false;
  }
  return resolveMasks(select, output ? &*output : nullptr);
}

bool Parser::expandShorthand(const toml::table &table, const Where &where,
                             SelectSpec &select) {
  Where framesWhere{"[select.frames]", {}};
  Where blocksWhere{"[select.blocks]", {}};
  const toml::node *framesNode = find(table, "frames");
  const toml::node *blocksNode = find(table, "blocks");
  if (!framesNode || !blocksNode) {
    error(where.loc,
          std::string("missing required key '") +
              (framesNode ? "blocks" : "frames") +
              "' in [select] (write 'frames' and 'blocks', or a list of "
              "[[select.mask]] entries)");
    return false;
  }
  const toml::table *frames =
      readTable(table, "frames", where, true, framesWhere);
  const toml::table *blocks =
      readTable(table, "blocks", where, true, blocksWhere);
  if (!frames || !blocks)
    return false;
  bool ok = checkKeys(*frames, framesWhere, {"top_k", "sink", "near", "score"});
  ok = checkKeys(*blocks, blocksWhere, {"score", "budget", "density"}) && ok;
  auto topK = readInt(*frames, "top_k", framesWhere, std::nullopt,
                      IntRange{1, kInt32Max});
  auto sink = readInt(*frames, "sink", framesWhere, 0, IntRange{0, kInt32Max});
  auto near = readInt(*frames, "near", framesWhere, 0, IntRange{0, kInt32Max});
  auto frameScore =
      readChoice(*frames, "score", framesWhere, kScores, "mean_dot");
  auto blockScore =
      readChoice(*blocks, "score", blocksWhere, kScores, "mean_dot");
  auto budget = readChoice(*blocks, "budget", blocksWhere,
                           {"growth", "density"}, "growth");
  if (!topK || !sink || !near || !frameScore || !blockScore || !budget || !ok)
    return false;
  std::optional<Located<double>> density;
  if (budget->value == "density") {
    density = readFloat(*blocks, "density", blocksWhere, std::nullopt,
                        FloatRange{0.0, true, 1.0, false});
    if (!density)
      return false;
  } else if (const toml::node *node = find(*blocks, "density")) {
    error(at(node->source()), "'density' only applies to budget = \"density\"");
    return false;
  }

  auto add = [&](const char *name, MaskOpKind kind,
                 SourceLoc loc) -> MaskSpec & {
    MaskSpec mask;
    mask.loc = loc;
    mask.name = {name, loc};
    mask.kind = {kind, loc};
    select.masks.push_back(std::move(mask));
    return select.masks.back();
  };
  auto ref = [&](const char *name, SourceLoc loc) {
    return Located<std::string>{name, std::move(loc)};
  };
  std::vector<Located<std::string>> always;
  if (sink->value > 0) {
    add("sink", MaskOpKind::SinkFrames, sink->loc)
        .attrs.push_back(intAttr("count", *sink));
    always.push_back(ref("sink", sink->loc));
  }
  if (near->value > 0) {
    add("near", MaskOpKind::NearFrames, near->loc)
        .attrs.push_back(intAttr("count", *near));
    always.push_back(ref("near", near->loc));
  }
  add("current", MaskOpKind::CurrentChunk, framesWhere.loc);
  MaskSpec &middle = add("middle", MaskOpKind::FrameTopK, topK->loc);
  middle.operandNames = always;
  middle.attrs.push_back(intAttr("k", *topK));
  middle.attrs.push_back(stringAttr("score", *frameScore));
  MaskSpec &eligible = add("eligible", MaskOpKind::Union, framesWhere.loc);
  eligible.operandNames = always;
  eligible.operandNames.push_back(ref("current", framesWhere.loc));
  eligible.operandNames.push_back(ref("middle", topK->loc));
  MaskSpec &kept = add("kept", MaskOpKind::BlockTopK, blocksWhere.loc);
  kept.operandNames.push_back(ref("eligible", blocksWhere.loc));
  kept.attrs.push_back(stringAttr("budget", *budget));
  if (density)
    kept.attrs.push_back(floatAttr("density", *density));
  kept.attrs.push_back(stringAttr("score", *blockScore));
  return resolveMasks(select, nullptr);
}

bool Parser::parseMaskEntry(const toml::table &entry, const Where &where,
                            SelectSpec &select) {
  std::vector<std::string> opNames;
  for (const MaskOpInfo &info : kMaskOps)
    opNames.push_back(info.name);
  auto name = readString(entry, "name", where);
  auto op = readChoice(entry, "op", where, opNames, std::nullopt);
  if (!op) {
    // Without a known op the other keys cannot be judged; report only the
    // entry's keys that are wrong under every op.
    return false;
  }
  MaskSpec mask;
  mask.loc = where.loc;
  for (const MaskOpInfo &info : kMaskOps)
    if (op->value == info.name)
      mask.kind = {info.kind, op->loc};
  Where opWhere{where.label + " (op = \"" + op->value + "\")", where.loc};

  std::vector<std::string> keys = {"name", "op"};
  bool ok = true;
  auto need = [&](auto parsed, auto &&use) {
    if (parsed)
      use(*parsed);
    else
      ok = false;
  };
  auto intKey = [&](const char *key, int64_t lo) {
    need(readInt(entry, key, opWhere, std::nullopt, IntRange{lo, kInt32Max}),
         [&](const Located<int64_t> &v) {
           mask.attrs.push_back(intAttr(key, v));
         });
  };
  auto scoreKey = [&] {
    need(readChoice(entry, "score", opWhere, kScores, "mean_dot"),
         [&](const Located<std::string> &v) {
           mask.attrs.push_back(stringAttr("score", v));
         });
  };
  auto operandKey = [&](const char *key) {
    need(readString(entry, key, opWhere), [&](const Located<std::string> &v) {
      mask.operandNames.push_back(v);
    });
  };
  switch (mask.kind.value) {
  case MaskOpKind::SinkFrames:
  case MaskOpKind::NearFrames:
    keys.push_back("count");
    intKey("count", 1);
    break;
  case MaskOpKind::CurrentChunk:
    break;
  case MaskOpKind::SlidingWindow: {
    keys.insert(keys.end(), {"frames", "tokens"});
    bool hasFrames = find(entry, "frames") != nullptr;
    bool hasTokens = find(entry, "tokens") != nullptr;
    if (hasFrames == hasTokens) {
      error(where.loc,
            "a sliding_window mask takes exactly one of 'frames' or 'tokens'" +
                std::string(hasFrames ? ", not both" : ""));
      ok = false;
    } else {
      intKey(hasFrames ? "frames" : "tokens", 1);
    }
    break;
  }
  case MaskOpKind::Radial:
    keys.insert(keys.end(), {"decay_frames", "min_density"});
    intKey("decay_frames", 1);
    need(readFloat(entry, "min_density", opWhere, std::nullopt,
                   FloatRange{0.0, true, 1.0, false}),
         [&](const Located<double> &v) {
           mask.attrs.push_back(floatAttr("min_density", v));
         });
    break;
  case MaskOpKind::FrameTopK:
    keys.insert(keys.end(), {"k", "always", "score"});
    intKey("k", 1);
    need(readStringList(entry, "always", opWhere, false),
         [&](const std::vector<Located<std::string>> &v) {
           mask.operandNames = v;
         });
    scoreKey();
    break;
  case MaskOpKind::BlockTopK: {
    keys.insert(keys.end(), {"input", "budget", "density", "score"});
    operandKey("input");
    auto budget = readChoice(entry, "budget", opWhere, {"growth", "density"},
                             std::nullopt);
    if (!budget) {
      ok = false;
      break;
    }
    mask.attrs.push_back(stringAttr("budget", *budget));
    if (budget->value == "density") {
      need(readFloat(entry, "density", opWhere, std::nullopt,
                     FloatRange{0.0, true, 1.0, false}),
           [&](const Located<double> &v) {
             mask.attrs.push_back(floatAttr("density", v));
           });
    } else if (const toml::node *node = find(entry, "density")) {
      error(at(node->source()),
            "'density' only applies to budget = \"density\"");
      ok = false;
    }
    scoreKey();
    break;
  }
  case MaskOpKind::MassThreshold:
    keys.insert(keys.end(), {"input", "mass", "score"});
    operandKey("input");
    need(readFloat(entry, "mass", opWhere, std::nullopt,
                   FloatRange{0.0, true, 1.0, false}),
         [&](const Located<double> &v) {
           mask.attrs.push_back(floatAttr("mass", v));
         });
    scoreKey();
    break;
  case MaskOpKind::Union:
    keys.push_back("inputs");
    need(readStringList(entry, "inputs", opWhere, true),
         [&](const std::vector<Located<std::string>> &v) {
           if (v.size() < 2) {
             error(at(find(entry, "inputs")->source()),
                   "a union needs at least two masks in 'inputs', got " +
                       std::to_string(v.size()));
             ok = false;
           }
           mask.operandNames = v;
         });
    break;
  case MaskOpKind::Restrict:
    keys.insert(keys.end(), {"input", "to"});
    operandKey("input");
    operandKey("to");
    break;
  }
  ok = checkKeys(entry, opWhere, keys) && ok;
  if (!name || !ok)
    return false;
  mask.name = *name;
  select.masks.push_back(std::move(mask));
  return true;
}

bool Parser::resolveMasks(SelectSpec &select,
                          const Located<std::string> *output) {
  std::map<std::string, size_t> defined;
  std::vector<std::string> namesSoFar;
  bool ok = true;
  auto isIdentifier = [](const std::string &s) {
    if (s.empty() ||
        !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_'))
      return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    });
  };
  for (size_t i = 0; i < select.masks.size(); ++i) {
    MaskSpec &mask = select.masks[i];
    for (const Located<std::string> &operand : mask.operandNames) {
      auto it = defined.find(operand.value);
      if (it != defined.end()) {
        mask.operands.push_back(it->second);
        continue;
      }
      bool later = false;
      for (size_t j = i; j < select.masks.size(); ++j)
        later |= select.masks[j].name.value == operand.value;
      std::string message =
          "mask '" + printable(operand.value) + "' is not defined";
      if (later)
        message +=
            " before it is used (a mask may only use masks listed above it)";
      else
        message += didYouMeanSuffix(operand.value, namesSoFar);
      error(operand.loc, message);
      ok = false;
    }
    const std::string &name = mask.name.value;
    if (!isIdentifier(name)) {
      error(mask.name.loc,
            "mask name \"" + printable(name) +
                "\" must be an identifier (letters, digits, '_'; not "
                "starting with a digit)");
      ok = false;
    } else if (auto it = defined.find(name); it != defined.end()) {
      const SourceLoc &first = select.masks[it->second].name.loc;
      error(mask.name.loc, "mask '" + name + "' is already defined at " +
                               std::to_string(first.line) + ":" +
                               std::to_string(first.column));
      ok = false;
    } else {
      defined[name] = i;
      namesSoFar.push_back(name);
    }
  }
  if (!ok)
    return false;
  if (!output) {
    // The last mask is the natural result of a list written top to bottom.
    select.output = select.masks.size() - 1;
    return true;
  }
  auto it = defined.find(output->value);
  if (it == defined.end()) {
    error(output->loc, "'output' names mask '" + printable(output->value) +
                           "', which is not defined" +
                           didYouMeanSuffix(output->value, namesSoFar));
    return false;
  }
  select.output = it->second;
  return true;
}

bool Parser::checkMasks(const PolicySpec &spec) {
  const int64_t maxPast = maxPastFrames(spec.geometry);
  bool ok = true;
  for (const MaskSpec &mask : spec.select.masks) {
    switch (mask.kind.value) {
    case MaskOpKind::SinkFrames:
    case MaskOpKind::NearFrames: {
      const MaskAttr *count = mask.findAttr("count");
      if (count->intValue > maxPast) {
        error(count->loc,
              std::string(mask.kind.value == MaskOpKind::SinkFrames ? "sink"
                                                                    : "near") +
                  " frame count (" + std::to_string(count->intValue) +
                  ") exceeds the past frames visible to any chunk (at most " +
                  std::to_string(maxPast) + ")");
        ok = false;
      }
      break;
    }
    case MaskOpKind::FrameTopK: {
      const MaskAttr *k = mask.findAttr("k");
      if (k->intValue > maxPast) {
        error(k->loc,
              "frames top_k (" + std::to_string(k->intValue) +
                  ") exceeds the past frames visible to any chunk (at most " +
                  std::to_string(maxPast) + ", chunk " +
                  std::to_string(spec.geometry.chunks.value) + ")");
        ok = false;
        break;
      }
      // `k` counts the always-kept frames too (docs/dialect-contract.md), so it
      // can be no smaller than they are.
      int64_t always = 0;
      for (size_t operand : mask.operands) {
        const MaskSpec &op = spec.select.masks[operand];
        if (op.kind.value == MaskOpKind::SinkFrames ||
            op.kind.value == MaskOpKind::NearFrames)
          always += op.findAttr("count")->intValue;
      }
      if (always > k->intValue) {
        error(
            k->loc,
            "frames top_k (" + std::to_string(k->intValue) +
                ") is smaller than the sink and near frames it always keeps (" +
                std::to_string(always) +
                "); top_k counts every kept past frame");
        ok = false;
      }
      break;
    }
    case MaskOpKind::SlidingWindow:
      if (const MaskAttr *tokens = mask.findAttr("tokens");
          tokens && tokens->intValue > spec.geometry.visibleFrames(
                                           spec.geometry.chunks.value) *
                                           spec.geometry.tokensPerFrame.value) {
        error(tokens->loc,
              "sliding window of " + std::to_string(tokens->intValue) +
                  " tokens is longer than the longest KV sequence (" +
                  std::to_string(
                      spec.geometry.visibleFrames(spec.geometry.chunks.value) *
                      spec.geometry.tokensPerFrame.value) +
                  " tokens)");
        ok = false;
      }
      break;
    case MaskOpKind::BlockTopK: {
      const MaskAttr *budget = mask.findAttr("budget");
      if (budget->stringValue == "growth" && !spec.hasGrowth) {
        error(budget->loc,
              "budget = \"growth\" needs a [growth] table (or use budget = "
              "\"density\" with a 'density')");
        ok = false;
      }
      break;
    }
    default:
      break;
    }
  }
  return ok;
}

std::optional<PolicySpec> Parser::run(std::string_view text) {
  toml::parse_result parsed = toml::parse(text, file);
  if (!parsed) {
    const toml::parse_error &err = parsed.error();
    SourceLoc loc = at(err.source());
    error(loc, "invalid TOML: " + printable(err.description()));
    return std::nullopt;
  }
  const toml::table &root = parsed.table();
  PolicySpec spec;
  spec.file = file;
  bool ok = checkKeys(root, Where{kRootLabel, fileStart()},
                      {"geometry", "growth", "select"}, true);
  bool geometryOk = parseGeometry(root, spec.geometry);
  ok = geometryOk && ok;

  Where growthWhere{"[growth]", {}};
  if (const toml::table *growth = readTable(
          root, "growth", Where{kRootLabel, fileStart()}, false, growthWhere)) {
    spec.hasGrowth = true;
    ok = parseGrowth(*growth, growthWhere, spec.geometry.chunks.value,
                     geometryOk, spec.growth) &&
         ok;
  } else if (find(root, "growth")) {
    ok = false;
  }

  Where selectWhere{"[select]", {}};
  const toml::table *select = readTable(
      root, "select", Where{kRootLabel, fileStart()}, true, selectWhere);
  bool selectOk = select && parseSelect(*select, selectWhere, spec.select);
  ok = selectOk && ok;
  if (geometryOk && selectOk)
    ok = checkMasks(spec) && ok;
  if (!ok)
    return std::nullopt;

  // The symbol name of the policy: the file's stem, kept to identifier
  // characters so the IR prints without quoting.
  std::string stem = file.substr(file.find_last_of('/') + 1);
  stem = stem.substr(0, stem.find('.'));
  for (char &c : stem)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_')
      c = '_';
  if (stem.empty() || std::isdigit(static_cast<unsigned char>(stem[0])))
    stem = "policy_" + stem;
  spec.name = stem;
  return spec;
}

} // namespace

std::string formatDiagnostic(const Diagnostic &diag) {
  std::string out = diag.loc.file;
  if (diag.loc.line > 0)
    out += ":" + std::to_string(diag.loc.line) + ":" +
           std::to_string(diag.loc.column);
  return out + ": error: " + diag.message;
}

const char *maskOpName(MaskOpKind kind) {
  for (const MaskOpInfo &info : kMaskOps)
    if (info.kind == kind)
      return info.name;
  return "unknown";
}

const MaskAttr *MaskSpec::findAttr(const std::string &attrName) const {
  for (const MaskAttr &attr : attrs)
    if (attr.name == attrName)
      return &attr;
  return nullptr;
}

int64_t GeometrySpec::visibleFrames(int64_t index) const {
  int64_t seen = index * framesPerChunk.value;
  if (kvWindowFrames.value == 0)
    return seen;
  return std::min(seen, sinkFrames.value + kvWindowFrames.value);
}

int64_t maxPastFrames(const GeometrySpec &geometry) {
  return geometry.visibleFrames(geometry.chunks.value) -
         geometry.framesPerChunk.value;
}

ParseResult parsePolicy(std::string_view text, const std::string &file) {
  ParseResult result;
  Parser parser(file, result.diagnostics);
  std::optional<PolicySpec> spec = parser.run(text);
  if (result.diagnostics.empty())
    result.spec = std::move(spec);
  return result;
}

ParseResult parsePolicyFile(const std::string &path) {
  ParseResult result;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    result.diagnostics.push_back(
        {{path, 0, 0}, "is a directory, not a policy file"});
    return result;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    result.diagnostics.push_back(
        {{path, 0, 0},
         std::string("cannot open policy file: ") + std::strerror(errno)});
    return result;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    result.diagnostics.push_back({{path, 0, 0}, "cannot read policy file"});
    return result;
  }
  return parsePolicy(text.str(), path);
}

} // namespace lfc::frontend
