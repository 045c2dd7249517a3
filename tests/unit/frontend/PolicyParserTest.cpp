// Units for the TOML policy parser: values, defaults, source positions and
// every error class.
#include "compiler/frontend/PolicyParser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace lfc::frontend;

namespace {

// A valid policy. Line numbers matter: tests below point at them.
const char kValid[] = R"(# line 1
[geometry]
heads = 12
head_dim = 128
dtype = "bf16"
tokens_per_frame = 1560
frames_per_chunk = 3
chunks = 7
passes_per_chunk = 5

[growth]
kind = "chunk_aware"
target = 0.88
base = 0.98

[select]
block_q = 128
block_k = 128
frames = { top_k = 6, sink = 1, near = 2 }
blocks = { budget = "growth" }
)";

ParseResult parse(const std::string &text) {
  return parsePolicy(text, "p.toml");
}

std::string replace(std::string text, const std::string &from,
                    const std::string &to) {
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos)
      << "test bug: '" << from << "' not in the policy";
  if (at != std::string::npos)
    text.replace(at, from.size(), to);
  return text;
}

/// Parses `text`, expects it to fail, and returns the first diagnostic
/// formatted.
std::string firstError(const std::string &text) {
  ParseResult result = parse(text);
  EXPECT_FALSE(result.spec.has_value());
  if (result.diagnostics.empty())
    return "<no diagnostic>";
  return formatDiagnostic(result.diagnostics.front());
}

std::vector<std::string> allErrors(const std::string &text) {
  ParseResult result = parse(text);
  EXPECT_FALSE(result.spec.has_value());
  std::vector<std::string> out;
  for (const auto &d : result.diagnostics)
    out.push_back(formatDiagnostic(d));
  return out;
}

} // namespace

TEST(PolicyParser, ReadsValuesAndPositions) {
  ParseResult result = parse(kValid);
  ASSERT_TRUE(result.spec) << formatDiagnostic(result.diagnostics.front());
  const PolicySpec &spec = *result.spec;
  EXPECT_EQ(spec.name, "p");
  EXPECT_EQ(spec.geometry.heads.value, 12);
  EXPECT_EQ(spec.geometry.heads.loc.line, 3u);
  EXPECT_EQ(spec.geometry.heads.loc.column, 9u); // `heads = ` is 8 characters
  EXPECT_EQ(spec.geometry.dtype.value, "bf16");
  EXPECT_EQ(spec.geometry.loc.line, 2u); // the [geometry] header
  EXPECT_EQ(spec.geometry.tokensPerFrame.value, 1560);
  ASSERT_TRUE(spec.hasGrowth);
  EXPECT_EQ(spec.growth.kind.value, GrowthKind::ChunkAware);
  EXPECT_DOUBLE_EQ(spec.growth.target.value, 0.88);
  EXPECT_DOUBLE_EQ(spec.growth.base.value, 0.98);
  EXPECT_EQ(spec.growth.base.loc.line, 14u);
  EXPECT_EQ(spec.select.blockQ.value, 128);
  EXPECT_EQ(spec.select.refresh.value, "every_pass");
}

TEST(PolicyParser, DefaultsPointAtTheirTable) {
  ParseResult result = parse(kValid);
  ASSERT_TRUE(result.spec);
  const GeometrySpec &g = result.spec->geometry;
  EXPECT_EQ(g.layers.value, 30);
  EXPECT_EQ(g.kvWindowFrames.value, 0);
  EXPECT_EQ(g.sinkFrames.value, 0);
  EXPECT_EQ(g.layers.loc.line, 2u);
  EXPECT_EQ(result.spec->select.refresh.loc.line, 16u);
}

TEST(PolicyParser, ShorthandExpandsToTheHsaComposition) {
  ParseResult result = parse(kValid);
  ASSERT_TRUE(result.spec);
  const SelectSpec &select = result.spec->select;
  // sink, near, current, frame_topk(sink, near), union(sink, near, current,
  // middle), block_topk(union): the composition of docs/dialect-contract.md.
  ASSERT_EQ(select.masks.size(), 6u);
  EXPECT_EQ(select.masks[0].kind.value, MaskOpKind::SinkFrames);
  EXPECT_EQ(select.masks[0].findAttr("count")->intValue, 1);
  EXPECT_EQ(select.masks[1].kind.value, MaskOpKind::NearFrames);
  EXPECT_EQ(select.masks[1].findAttr("count")->intValue, 2);
  EXPECT_EQ(select.masks[2].kind.value, MaskOpKind::CurrentChunk);
  EXPECT_EQ(select.masks[3].kind.value, MaskOpKind::FrameTopK);
  EXPECT_EQ(select.masks[3].findAttr("k")->intValue, 6);
  EXPECT_EQ(select.masks[3].operands, (std::vector<size_t>{0, 1}));
  EXPECT_EQ(select.masks[4].kind.value, MaskOpKind::Union);
  EXPECT_EQ(select.masks[4].operands, (std::vector<size_t>{0, 1, 2, 3}));
  EXPECT_EQ(select.masks[5].kind.value, MaskOpKind::BlockTopK);
  EXPECT_EQ(select.masks[5].operands, (std::vector<size_t>{4}));
  EXPECT_EQ(select.masks[5].findAttr("budget")->stringValue, "growth");
  EXPECT_EQ(select.output, 5u);
  // The frame_topk op is located at its `top_k` value (line 19, column 20).
  EXPECT_EQ(select.masks[3].loc.line, 19u);
  EXPECT_EQ(select.masks[3].loc.column, 20u);
}

TEST(PolicyParser, ShorthandWithoutSinkOrNearOmitsThem) {
  ParseResult result = parse(
      replace(kValid, "{ top_k = 6, sink = 1, near = 2 }", "{ top_k = 4 }"));
  ASSERT_TRUE(result.spec);
  const SelectSpec &select = result.spec->select;
  ASSERT_EQ(select.masks.size(), 4u); // current, frame_topk, union, block_topk
  EXPECT_EQ(select.masks[0].kind.value, MaskOpKind::CurrentChunk);
  EXPECT_TRUE(select.masks[1].operands.empty());
}

TEST(PolicyParser, MaskListResolvesNamesAndOutput) {
  std::string text =
      replace(kValid,
              "frames = { top_k = 6, sink = 1, near = 2 }\n"
              "blocks = { budget = \"growth\" }\n",
              "output = \"recent\"\n"
              "[[select.mask]]\nname = \"recent\"\nop = \"sliding_window\"\n"
              "frames = 4\n"
              "[[select.mask]]\nname = \"kept\"\nop = \"block_topk\"\n"
              "input = \"recent\"\nbudget = \"density\"\ndensity = 0.25\n");
  ParseResult result = parse(text);
  ASSERT_TRUE(result.spec) << formatDiagnostic(result.diagnostics.front());
  const SelectSpec &select = result.spec->select;
  ASSERT_EQ(select.masks.size(), 2u);
  EXPECT_EQ(select.masks[0].findAttr("frames")->intValue, 4);
  EXPECT_EQ(select.masks[0].findAttr("tokens"), nullptr);
  EXPECT_EQ(select.masks[1].operands, (std::vector<size_t>{0}));
  EXPECT_DOUBLE_EQ(select.masks[1].findAttr("density")->floatValue, 0.25);
  EXPECT_EQ(select.output, 0u); // named explicitly, not the last entry
  EXPECT_EQ(select.masks[1].loc.line, 24u); // the second [[select.mask]] header
}

TEST(PolicyParser, VisibleFramesWithWindowAndSink) {
  std::string text = replace(kValid, "chunks = 7",
                             "chunks = 21\nkv_window_frames = 12\n"
                             "sink_frames = 1");
  text = replace(text, "top_k = 6, sink = 1, near = 2",
                 "top_k = 3, sink = 1, near = 1");
  ParseResult result = parse(text);
  ASSERT_TRUE(result.spec) << formatDiagnostic(result.diagnostics.front());
  const GeometrySpec &g = result.spec->geometry;
  EXPECT_EQ(g.visibleFrames(1), 3);
  EXPECT_EQ(g.visibleFrames(4), 12);
  EXPECT_EQ(g.visibleFrames(5), 13); // 15 seen, 12 in the window + 1 sink
  EXPECT_EQ(g.visibleFrames(21), 13);
  EXPECT_EQ(maxPastFrames(g), 10);
}

TEST(PolicyParserErrors, UnknownKeySuggestsTheNearestKey) {
  EXPECT_EQ(firstError(replace(kValid, "heads = 12", "haeds = 12")),
            "p.toml:3:1: error: unknown key 'haeds' in [geometry]; did you "
            "mean 'heads'?");
}

TEST(PolicyParserErrors, UnknownKeyWithoutNearMatchListsTheKeys) {
  std::string error =
      firstError(replace(kValid, "block_q = 128", "zebra = 1\nblock_q = 128"));
  EXPECT_EQ(
      error.rfind(
          "p.toml:17:1: error: unknown key 'zebra' in [select]; expected one "
          "of: block_q block_k",
          0),
      0u)
      << error;
}

TEST(PolicyParserErrors, KeyUnderTheWrongTableNamesItsTable) {
  EXPECT_EQ(
      firstError(replace(kValid, "heads = 12\n", "heads = 12\nblock_q = 64\n")),
      "p.toml:4:1: error: unknown key 'block_q' in [geometry]; 'block_q' "
      "belongs "
      "in [select]");
  EXPECT_EQ(firstError(replace(kValid, "# line 1", "target = 0.5")),
            "p.toml:1:1: error: unknown key 'target' in the policy (top "
            "level); 'target' "
            "belongs in [growth]");
}

TEST(PolicyParserErrors, WrongType) {
  EXPECT_EQ(firstError(replace(kValid, "heads = 12", "heads = \"12\"")),
            "p.toml:3:9: error: 'heads' must be an integer, got string");
  EXPECT_EQ(firstError(replace(kValid, "target = 0.88", "target = \"high\"")),
            "p.toml:13:10: error: 'target' must be a number, got string");
  EXPECT_EQ(firstError(replace(kValid, "[growth]", "[growth]\n[growth.kind]")),
            "p.toml:12:1: error: 'kind' must be a string, got table");
}

TEST(PolicyParserErrors, MissingTableAndKey) {
  EXPECT_EQ(firstError(""),
            "p.toml:1:1: error: missing required table [geometry]");
  EXPECT_EQ(firstError(replace(kValid, "chunks = 7\n", "")),
            "p.toml:2:1: error: missing required key 'chunks' in [geometry]; "
            "add 'chunks = <positive integer>'");
  EXPECT_EQ(firstError(replace(kValid, "block_k = 128\n", "")),
            "p.toml:16:1: error: missing required key 'block_k' in [select]; "
            "add 'block_k = <positive integer>'");
  EXPECT_EQ(firstError(replace(kValid, "dtype = \"bf16\"\n", "")),
            "p.toml:2:1: error: missing required key 'dtype' in [geometry]; "
            "add 'dtype = \"bf16\"' (one of \"bf16\" or \"f16\")");
}

TEST(PolicyParserErrors, MisspelledRequiredKeyIsReportedOnce) {
  // `chunk = 7` is the typo of the required `chunks`: one error with the
  // suggestion, not a second one saying `chunks` is missing.
  std::vector<std::string> errors =
      allErrors(replace(kValid, "chunks = 7", "chunk = 7"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "p.toml:8:1: error: unknown key 'chunk' in "
                       "[geometry]; did you mean 'chunks'?");
}

TEST(PolicyParserErrors, OutOfRange) {
  EXPECT_EQ(firstError(replace(kValid, "heads = 12", "heads = 0")),
            "p.toml:3:9: error: 'heads' must be a positive integer, got 0");
  EXPECT_EQ(firstError(replace(kValid, "head_dim = 128", "head_dim = 96")),
            "p.toml:4:12: error: 'head_dim' must be 64 or 128 (the head sizes "
            "the kernels "
            "support), got 96");
  EXPECT_EQ(firstError(replace(kValid, "block_q = 128", "block_q = 96")),
            "p.toml:17:11: error: 'block_q' must be a power of two in 16..256, "
            "got 96");
  EXPECT_EQ(firstError(replace(kValid, "block_k = 128", "block_k = 512")),
            "p.toml:18:11: error: 'block_k' must be a power of two in 16..256, "
            "got 512");
  EXPECT_EQ(firstError(replace(kValid, "base = 0.98", "base = 1.0")),
            "p.toml:14:8: error: 'base' must be in [0, 1), got 1");
  EXPECT_EQ(firstError(replace(kValid, "dtype = \"bf16\"", "dtype = \"fp16\"")),
            "p.toml:5:9: error: 'dtype' must be \"bf16\" or \"f16\", got "
            "\"fp16\"; did you "
            "mean 'f16'?");
}

TEST(PolicyParserErrors, TopKBeyondVisibleFrames) {
  // 7 chunks of 3 frames: the last chunk sees 18 past frames.
  EXPECT_EQ(firstError(replace(kValid, "top_k = 6", "top_k = 19")),
            "p.toml:19:20: error: frames top_k (19) exceeds the past frames "
            "visible to any "
            "chunk (at most 18, chunk 7)");
  EXPECT_TRUE(
      parse(replace(kValid, "top_k = 6", "top_k = 18")).spec.has_value());
}

TEST(PolicyParserErrors, TopKSmallerThanItsAlwaysFrames) {
  EXPECT_EQ(firstError(replace(kValid, "top_k = 6", "top_k = 2")),
            "p.toml:19:20: error: frames top_k (2) is smaller than the sink "
            "and near frames "
            "it always keeps (3); top_k counts every kept past frame");
}

TEST(PolicyParserErrors, CountsThatOverflow) {
  // 2^31 / 21 frames: the longest KV sequence is 21 * 102261127 = 2147483667 >
  // 2^31 - 1.
  EXPECT_EQ(
      firstError(replace(kValid, "tokens_per_frame = 1560",
                         "tokens_per_frame = 102261127")),
      "p.toml:6:20: error: the longest KV sequence (21 frames * 102261127 "
      "tokens_per_frame) exceeds 2147483647 tokens (int32)");
  EXPECT_TRUE(parse(replace(kValid, "tokens_per_frame = 1560",
                            "tokens_per_frame = 102261126"))
                  .spec);
  EXPECT_EQ(firstError(replace(kValid, "chunks = 7", "chunks = 3000000000")),
            "p.toml:8:10: error: 'chunks' must be at most 2147483647 (it must "
            "fit in int32), "
            "got 3000000000");
  EXPECT_EQ(firstError(replace(kValid, "chunks = 7", "chunks = 2000000000")),
            "p.toml:8:10: error: chunks * frames_per_chunk (2000000000 * 3) "
            "must fit in int32");
}

TEST(PolicyParserErrors, HugeNumbersAreErrorsNotCrashes) {
  std::string error =
      firstError(replace(kValid, "heads = 12", "heads = 99999999999999999999"));
  EXPECT_EQ(error.rfind("p.toml:3:", 0), 0u) << error;
  error = firstError(replace(kValid, "target = 0.88", "target = 1e400"));
  EXPECT_EQ(error.rfind("p.toml:13:", 0), 0u) << error;
  EXPECT_EQ(firstError(replace(kValid, "target = 0.88", "target = nan")),
            "p.toml:13:10: error: 'target' must be a finite number in [0, 1), "
            "got nan");
}

TEST(PolicyParserErrors, InconsistentWindow) {
  EXPECT_EQ(firstError(replace(kValid, "chunks = 7",
                               "chunks = 7\nkv_window_frames = 4\n"
                               "sink_frames = 5")),
            "p.toml:10:15: error: 'sink_frames' (5) must not exceed the window "
            "(kv_window_frames = 4)");
  EXPECT_EQ(
      firstError(
          replace(kValid, "chunks = 7", "chunks = 7\nkv_window_frames = 2")),
      "p.toml:9:20: error: 'kv_window_frames' (2) must hold at least one chunk "
      "(frames_per_chunk = 3), or be 0 for a global cache");
}

TEST(PolicyParserErrors, GrowthKinds) {
  EXPECT_EQ(firstError(replace(kValid, "target = 0.88", "target = 0.99")),
            "p.toml:13:10: error: 'target' (0.99) must be below 'base' (0.98): "
            "chunk-aware "
            "growth lowers the sparsity of early chunks from 'base' so that "
            "the average "
            "meets 'target'");
  std::string constant =
      replace(kValid, "kind = \"chunk_aware\"\ntarget = 0.88\nbase = 0.98",
              "kind = \"constant\"\nsparsity = 0.5\nbase = 0.9");
  EXPECT_EQ(firstError(constant),
            "p.toml:14:8: error: 'base' does not apply to kind = \"constant\"");
  std::string explicitKind =
      replace(kValid, "kind = \"chunk_aware\"\ntarget = 0.88\nbase = 0.98",
              "kind = \"explicit\"\nsparsity = [0, 0.5, 0.6]");
  EXPECT_EQ(firstError(explicitKind), "p.toml:13:12: error: 'sparsity' lists 3 "
                                      "values but the policy has 7 chunks (one "
                                      "value per chunk)");
  std::string good = replace(
      kValid, "kind = \"chunk_aware\"\ntarget = 0.88\nbase = 0.98",
      "kind = \"explicit\"\nsparsity = [0, 0.5, 0.6, 0.7, 0.7, 0.8, 0.8]");
  ParseResult result = parse(good);
  ASSERT_TRUE(result.spec);
  ASSERT_EQ(result.spec->growth.values.size(), 7u);
  EXPECT_DOUBLE_EQ(result.spec->growth.values[6].value, 0.8);
  EXPECT_EQ(result.spec->growth.values[6].loc.column, 41u);
}

TEST(PolicyParserErrors, MaskNames) {
  std::string base =
      replace(kValid,
              "frames = { top_k = 6, sink = 1, near = 2 }\n"
              "blocks = { budget = \"growth\" }\n",
              "[[select.mask]]\nname = \"recent\"\nop = \"sliding_window\"\n"
              "frames = 4\n"
              "[[select.mask]]\nname = \"kept\"\nop = \"block_topk\"\n"
              "input = \"recnet\"\nbudget = \"growth\"\n");
  EXPECT_EQ(firstError(base), "p.toml:26:9: error: mask 'recnet' is not "
                              "defined; did you mean 'recent'?");
  EXPECT_EQ(firstError(replace(base, "name = \"kept\"", "name = \"recent\"")),
            "p.toml:26:9: error: mask 'recnet' is not defined; did you mean "
            "'recent'?");
  std::string duplicate = replace(replace(base, "recnet", "recent"),
                                  "name = \"kept\"", "name = \"recent\"");
  EXPECT_EQ(firstError(duplicate),
            "p.toml:24:8: error: mask 'recent' is already defined at 20:8");
  std::string unknownOp =
      replace(base, "op = \"sliding_window\"", "op = \"sliding_windw\"");
  EXPECT_EQ(firstError(unknownOp).rfind(
                "p.toml:21:6: error: 'op' must be \"sink_frames\", ", 0),
            0u);
  EXPECT_NE(firstError(unknownOp).find("did you mean 'sliding_window'?"),
            std::string::npos);
}

TEST(PolicyParserErrors, ShorthandAndMaskListAreExclusive) {
  std::string both = kValid + std::string("[[select.mask]]\nname = \"c\"\nop = "
                                          "\"current_chunk\"\n");
  EXPECT_EQ(firstError(both),
            "p.toml:19:10: error: [select] uses both the shorthand "
            "('frames'/'blocks') and "
            "[[select.mask]] entries; write the selection one way");
}

TEST(PolicyParserErrors, MalformedInputNeverCrashes) {
  // Each is a diagnostic at a real position, never an exception or a crash.
  const std::string inputs[] = {
      std::string("\x00\x01\xff\xfe garbage", 12),
      "\xc3\x28 = 1\n",         // invalid UTF-8
      "[geometry\nheads = 1\n", // unterminated header
      std::string(5000, '[') + std::string(5000, ']'),
      "a = " + std::string(3000, '[') + std::string(3000, ']') + "\n",
      "[geometry]\nheads = 1\nheads = 2\n", // duplicate key
  };
  for (const std::string &input : inputs) {
    ParseResult result = parse(input);
    EXPECT_FALSE(result.spec.has_value());
    ASSERT_FALSE(result.diagnostics.empty());
    EXPECT_GE(result.diagnostics.front().loc.line, 1u);
    EXPECT_EQ(formatDiagnostic(result.diagnostics.front()).rfind("p.toml:", 0),
              0u);
  }
}

TEST(PolicyParserErrors, UnreadableFile) {
  ParseResult result = parsePolicyFile("/nonexistent/policy.toml");
  ASSERT_EQ(result.diagnostics.size(), 1u);
  EXPECT_EQ(formatDiagnostic(result.diagnostics[0]),
            "/nonexistent/policy.toml: error: cannot open policy file: No such "
            "file or "
            "directory");
}

TEST(PolicyPresets, AllPresetsParse) {
  for (const char *name : {"self_forcing_short", "self_forcing_long", "radial",
                           "sliding_window_topk"}) {
    ParseResult result =
        parsePolicyFile(std::string(LFC_POLICIES_DIR) + "/" + name + ".toml");
    EXPECT_TRUE(result.spec.has_value())
        << name << ": "
        << (result.diagnostics.empty()
                ? ""
                : formatDiagnostic(result.diagnostics[0]));
  }
}
