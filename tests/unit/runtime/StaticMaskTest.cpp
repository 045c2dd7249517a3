// lfc::StaticMask (docs/static-masks.md): canonical text round trips, one error
// per class with its column, the C++ type names, and per-block eligibility
// against the token-level oracle of StaticMaskOracle.h over many geometries.
#include "StaticMaskOracle.h"

#include "lfc/runtime.h"
#include "lfc/static_mask.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace {

using lfc::ChunkSelection;
using lfc::StaticMask;
using Kind = lfc::StaticMask::Kind;

// ---------------------------------------------------------------------------
// Parsing and canonical text

TEST(StaticMaskParse, DefaultIsAll) {
  StaticMask m;
  EXPECT_TRUE(m.isAll());
  EXPECT_EQ(m.text(), "all");
  EXPECT_EQ(StaticMask::parse("all"), m);
}

TEST(StaticMaskParse, RoundTripsEveryTermAndComposition) {
  const char *texts[] = {
      "all",
      "current",
      "sink(0)",
      "sink(1)",
      "near(2)",
      "window_frames(4)",
      "window_tokens(4680)",
      "radial(3,156)",
      "radial(1,1)",
      "frames(0)",
      "frames(0,3,17)",
      "frames(2147483647)",
      "union(sink(1),current)",
      "union(sink(1),current,radial(3,156))",
      "restrict(window_frames(6),union(sink(2),near(1)))",
      "union(restrict(frames(1,2),radial(2,39)),restrict(window_tokens(100),"
      "current),all)",
      "restrict(union(sink(1),union(near(1),current)),restrict(all,frames(5)))",
  };
  for (const char *text : texts) {
    SCOPED_TRACE(text);
    StaticMask m = StaticMask::parse(text);
    EXPECT_EQ(m.text(), text);
    EXPECT_EQ(StaticMask::parse(m.text()), m);
  }
}

TEST(StaticMaskParse, BuildsTheTree) {
  StaticMask r = StaticMask::parse("radial(3,156)");
  EXPECT_EQ(r.kind(), Kind::Radial);
  EXPECT_EQ(r.args(), (std::vector<int64_t>{3, 156}));
  EXPECT_TRUE(r.operands().empty());

  StaticMask u = StaticMask::parse(
      "union(sink(1),restrict(window_tokens(7),frames(0,4)),current)");
  EXPECT_EQ(u.kind(), Kind::Union);
  EXPECT_TRUE(u.args().empty());
  ASSERT_EQ(u.operands().size(), 3u);
  EXPECT_EQ(u.operands()[0].kind(), Kind::Sink);
  EXPECT_EQ(u.operands()[0].args(), (std::vector<int64_t>{1}));
  const StaticMask &rs = u.operands()[1];
  EXPECT_EQ(rs.kind(), Kind::Restrict);
  ASSERT_EQ(rs.operands().size(), 2u);
  EXPECT_EQ(rs.operands()[0].kind(), Kind::WindowTokens);
  EXPECT_EQ(rs.operands()[0].args(), (std::vector<int64_t>{7}));
  EXPECT_EQ(rs.operands()[1].kind(), Kind::Frames);
  EXPECT_EQ(rs.operands()[1].args(), (std::vector<int64_t>{0, 4}));
  EXPECT_EQ(u.operands()[2].kind(), Kind::Current);
  EXPECT_TRUE(u.operands()[2].args().empty());

  EXPECT_EQ(StaticMask::parse("near(3)").kind(), Kind::Near);
  EXPECT_EQ(StaticMask::parse("window_frames(3)").kind(), Kind::WindowFrames);
  EXPECT_NE(StaticMask::parse("near(3)"), StaticMask::parse("near(4)"));
  EXPECT_NE(StaticMask::parse("near(3)"), StaticMask::parse("sink(3)"));
  EXPECT_FALSE(StaticMask::parse("current").isAll());
}

struct BadText {
  std::string text;
  int column;
  const char *expected; ///< what follows "expected "
};

void PrintTo(const BadText &c, std::ostream *os) {
  *os << "'" << c.text << "'";
}

class StaticMaskErrors : public ::testing::TestWithParam<BadText> {};

TEST_P(StaticMaskErrors, NamesTheColumn) {
  const BadText &c = GetParam();
  std::string error = "(no error)";
  try {
    StaticMask::parse(c.text);
  } catch (const lfc::Error &e) {
    error = e.what();
  }
  const std::string prefix = "static mask '" + c.text + "': column " +
                             std::to_string(c.column) + ": expected " +
                             c.expected;
  EXPECT_EQ(error.compare(0, prefix.size(), prefix), 0)
      << "got:  " << error << "\nwant: " << prefix << "...";
}

std::string nested(int depth) {
  std::string s;
  for (int d = 0; d < depth; ++d)
    s += "union(current,";
  s += "current";
  for (int d = 0; d < depth; ++d)
    s += ")";
  return s;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, StaticMaskErrors,
    ::testing::Values(
        // Unknown or missing terms.
        BadText{"", 1, "a term (all, sink(N)"}, BadText{"any", 1, "a term"},
        BadText{"Sink(1)", 1, "a term"}, BadText{" all", 1, "a term"},
        BadText{"union()", 7, "a term"},
        BadText{"union(sink(1), current)", 15, "a term"},
        // Arity.
        BadText{"sink", 5, "'(' after sink"},
        BadText{"sink(1,2)", 7, "')' (sink takes one argument)"},
        BadText{"window_tokens(1,2)", 16,
                "')' (window_tokens takes one argument)"},
        BadText{"radial(3)", 9, "',' (radial takes two arguments, D and W)"},
        BadText{"radial(3,156,1)", 13,
                "')' (radial takes two arguments, D and W)"},
        BadText{"frames()", 8, "a frame as a decimal integer"},
        BadText{"frames(1,)", 10, "a frame as a decimal integer"},
        BadText{"union(current)", 14, "',' (union takes two or more operands)"},
        BadText{"restrict(current)", 17,
                "',' (restrict takes exactly two operands)"},
        BadText{"restrict(current,all,sink(1))", 21,
                "')' (restrict takes exactly two operands)"},
        BadText{"union(sink(1),current", 22, "',' or ')'"},
        // Numbers.
        BadText{"sink()", 6, "N as a decimal integer"},
        BadText{"sink(-1)", 6, "N as a non-negative decimal integer"},
        BadText{"near(+1)", 6, "N as a decimal integer"},
        BadText{"sink(01)", 6,
                "N as a canonical decimal integer (no leading zeros)"},
        BadText{"near( 1)", 6, "N as a decimal integer"},
        BadText{"sink(2147483648)", 6, "N <= 2147483647"},
        BadText{"frames(1,99999999999999999999)", 10, "a frame <= 2147483647"},
        BadText{"radial(0,156)", 8, "D >= 1"},
        BadText{"radial(3,0)", 10, "W >= 1"},
        BadText{"radial(-3,156)", 8, "D as a non-negative decimal integer"},
        // Frames ascending and distinct.
        BadText{"frames(3,2)", 10,
                "a frame > 3 (frames are ascending and distinct)"},
        BadText{"frames(0,1,1)", 12, "a frame > 1"},
        // Trailing text.
        BadText{"all ", 4, "end of text"},
        BadText{"current(1)", 8, "end of text"},
        BadText{"union(sink(1),current))", 23, "end of text"},
        BadText{"window_frames(1)x", 17, "end of text"},
        // Nesting bound: the first operand of the 64th nested union (at
        // 0-based offset 14 * 64 + 6) is the 65th level.
        BadText{nested(70), 14 * 64 + 7, "at most 64 levels"}));

// ---------------------------------------------------------------------------
// C++ types (docs/static-masks.md's table, operands separated by ", ")

TEST(StaticMaskCppType, MatchesTheDocsTable) {
  struct {
    const char *text, *type;
  } cases[] = {
      {"all", "lfc::mask::All"},
      {"current", "lfc::mask::Current"},
      {"sink(1)", "lfc::mask::Sink<1>"},
      {"near(2)", "lfc::mask::Near<2>"},
      {"window_frames(6)", "lfc::mask::WindowFrames<6>"},
      {"window_tokens(4680)", "lfc::mask::WindowTokens<4680>"},
      {"radial(3,156)", "lfc::mask::Radial<3, 156>"},
      {"frames(0,4,9)", "lfc::mask::Frames<0, 4, 9>"},
      {"union(sink(1),current,radial(3,156))",
       "lfc::mask::Union<lfc::mask::Sink<1>, lfc::mask::Current, "
       "lfc::mask::Radial<3, 156>>"},
      {"restrict(window_frames(6),union(frames(0),near(1)))",
       "lfc::mask::Restrict<lfc::mask::WindowFrames<6>, "
       "lfc::mask::Union<lfc::mask::Frames<0>, lfc::mask::Near<1>>>"},
  };
  for (const auto &c : cases)
    EXPECT_EQ(StaticMask::parse(c.text).cppType(), c.type) << c.text;
}

// ---------------------------------------------------------------------------
// Eligibility

ChunkSelection geometry(int T, int F, int past, int Bq, int Bk) {
  ChunkSelection s;
  s.tokensPerFrame = T;
  s.framesPerChunk = F;
  s.visibleFrames = past + F;
  s.blockQ = Bq;
  s.blockK = Bk;
  s.keptKeyBlocks = 1;
  return s;
}

std::vector<int64_t> eligibleBlocks(const StaticMask &m,
                                    const ChunkSelection &sel, int64_t i) {
  std::vector<int64_t> out;
  for (int64_t j = 0; j < sel.keyBlocks(); ++j)
    if (m.eligible(sel, i, j))
      out.push_back(j);
  return out;
}

TEST(StaticMaskEligible, HandDerivedCases) {
  // T = 100, one frame per chunk, 3 past frames: frames are tokens [0, 100),
  // [100, 200), [200, 300), current [300, 400); key blocks of 64.
  ChunkSelection sel = geometry(100, 1, 3, 64, 64);
  ASSERT_EQ(sel.keyBlocks(), 7);
  // current: [300, 400) touches blocks 4 [256, 320), 5, 6 [384, 400).
  EXPECT_EQ(eligibleBlocks(StaticMask::parse("current"), sel, 0),
            (std::vector<int64_t>{4, 5, 6}));
  // sink(1): [0, 100) -> blocks 0 and 1 [64, 128).
  EXPECT_EQ(eligibleBlocks(StaticMask::parse("sink(1)"), sel, 1),
            (std::vector<int64_t>{0, 1}));
  // near(1): frame 2 = [200, 300) -> blocks 3 [192, 256) and 4 [256, 320).
  EXPECT_EQ(eligibleBlocks(StaticMask::parse("near(1)"), sel, 0),
            (std::vector<int64_t>{3, 4}));
  // window_tokens(50), query block 1 (first token at 300 + 64 = 364): tokens
  // [314, 400) -> blocks 4, 5, 6.
  EXPECT_EQ(eligibleBlocks(StaticMask::parse("window_tokens(50)"), sel, 1),
            (std::vector<int64_t>{4, 5, 6}));
  // restrict: block-level intersection of sink(1) {0, 1} and
  // frames(1) {1, 2, 3} is {1}, although the two share no token.
  EXPECT_EQ(
      eligibleBlocks(StaticMask::parse("restrict(sink(1),frames(1))"), sel, 0),
      (std::vector<int64_t>{1}));

  // radial(1,10), query block 0 of 64 tokens: centre 32. Frame 2 (d 1):
  // w = max(10, 50) = 50, s = 7: [207, 257); frame 1 (d 2): w = 25, s = 20:
  // [120, 145); frame 0 (d 3): w = 12, s = 26: [26, 38). Blocks of 16.
  ChunkSelection fine = geometry(100, 1, 3, 64, 16);
  EXPECT_EQ(eligibleBlocks(StaticMask::parse("radial(1,10)"), fine, 0),
            (std::vector<int64_t>{1, 2, 7, 8, 9, 12, 13, 14, 15, 16}));
  // Query block 1 is [64, 100): centre 82. Frame 2: w 50, s = min(57, 50) =
  // 50 (slid to stay in the frame): [250, 300) -> blocks 15..18. Frame 1:
  // w 25, s 70: [170, 195) -> blocks 10, 11, 12 [192, 208). near(1) is frame
  // 2 = [200, 300): blocks 12..18. Block 12 is in both, through different
  // tokens (radial's 192..194, near's 200..207): restrict is per block.
  EXPECT_EQ(eligibleBlocks(StaticMask::parse("restrict(radial(1,10),near(1))"),
                           fine, 1),
            (std::vector<int64_t>{12, 15, 16, 17, 18}));
}

// Random nested expressions whose terms fit a frame of `T` tokens.
class MaskGenerator {
public:
  MaskGenerator(int T, unsigned seed) : T_(T), rng_(seed) {}

  std::string term() {
    switch (pick(8)) {
    case 0:
      return "all";
    case 1:
      return "sink(" + std::to_string(pick(4)) + ")";
    case 2:
      return "near(" + std::to_string(pick(4)) + ")";
    case 3:
      return "current";
    case 4:
      return "window_frames(" + std::to_string(pick(5)) + ")";
    case 5:
      return "window_tokens(" + std::to_string(pick(3 * T_ + 40)) + ")";
    case 6:
      return "radial(" + std::to_string(1 + pick(3)) + "," +
             std::to_string(1 + pick(T_)) + ")";
    default: {
      std::string s = "frames(";
      int f = pick(3);
      for (int n = 0, count = 1 + pick(3); n < count; ++n, f += 1 + pick(4))
        s += (n ? "," : "") + std::to_string(f);
      return s + ")";
    }
    }
  }

  std::string expr(int depth) {
    if (depth == 0 || pick(3) == 0)
      return term();
    if (pick(2) == 0)
      return "restrict(" + expr(depth - 1) + "," + expr(depth - 1) + ")";
    std::string s = "union(" + expr(depth - 1);
    for (int n = 0, count = 1 + pick(3); n < count; ++n)
      s += "," + expr(depth - 1);
    return s + ")";
  }

private:
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  int T_;
  std::mt19937 rng_;
};

// Every term kind (with parameters at and around the edges) and the presets'
// compositions, for frames of `T` tokens.
std::vector<std::string> fixedMasks(int T) {
  const std::string t = std::to_string(T), half = std::to_string(T / 2 + 1);
  return {
      "all",
      "current",
      "sink(0)",
      "sink(1)",
      "sink(3)",
      "near(1)",
      "near(2)",
      "near(9)",
      "window_frames(0)",
      "window_frames(2)",
      "window_tokens(0)",
      "window_tokens(1)",
      "window_tokens(" + half + ")",
      "window_tokens(" + std::to_string(2 * T + 17) + ")",
      "radial(1,1)",
      "radial(1," + t + ")",
      "radial(2," + half + ")",
      "radial(3," + std::to_string((T + 9) / 10) + ")",
      "frames(0)",
      "frames(1,4,5)",
      "frames(2,40)",
      "union(sink(1),current,radial(3," + std::to_string((T + 9) / 10) + "))",
      "union(sink(1),near(2),current)",
      "restrict(window_frames(3),union(sink(1),radial(1," + half + ")))",
      "restrict(window_tokens(" + t + "),union(frames(0,2),current))",
      "union(restrict(near(3),radial(2,1)),restrict(all,frames(1)),sink(2))",
  };
}

struct Geometry {
  int T, F, Bq, Bk;
};

void expectAgreesWithOracle(const std::string &text, const ChunkSelection &sel,
                            int64_t &checked) {
  StaticMask m = StaticMask::parse(text);
  auto table = lfc::test::oracleEligibility(m, sel);
  for (int64_t i = 0; i < sel.queryBlocks(); ++i)
    for (int64_t j = 0; j < sel.keyBlocks(); ++j) {
      ++checked;
      if (m.eligible(sel, i, j) != bool(table[size_t(i)][size_t(j)])) {
        ADD_FAILURE() << "mask " << text << ", T " << sel.tokensPerFrame
                      << ", F " << sel.framesPerChunk << ", P "
                      << sel.visibleFrames - sel.framesPerChunk << ", Bq "
                      << sel.blockQ << ", Bk " << sel.blockK << ": query block "
                      << i << ", key block " << j << ": oracle says "
                      << int(table[size_t(i)][size_t(j)]);
        return;
      }
    }
}

TEST(StaticMaskEligible, AgreesWithTokenOracleOnRaggedGeometries) {
  // Frames of 37 and 100 tokens: every block size pair, every chunk position.
  std::vector<Geometry> small;
  for (int T : {37, 100})
    for (int F : {1, 2})
      for (int Bq : {16, 32, 64, 128, 256})
        for (int Bk : {16, 32, 64, 128, 256})
          small.push_back({T, F, Bq, Bk});
  int64_t checked = 0;
  for (const Geometry &g : small) {
    const std::vector<std::string> masks = fixedMasks(g.T);
    for (int past = 0; past <= 7; ++past) {
      ChunkSelection sel = geometry(g.T, g.F, past, g.Bq, g.Bk);
      for (const std::string &m : masks)
        expectAgreesWithOracle(m, sel, checked);
      if (HasFailure())
        return;
    }
  }
  EXPECT_GT(checked, 500000);
}

TEST(StaticMaskEligible, AgreesWithTokenOracleOnVideoGeometry) {
  // 1560 tokens per frame (480x832), 3 frames per chunk: blocks straddle
  // frames, the last query and key blocks are short.
  int64_t checked = 0;
  const std::vector<std::string> masks = fixedMasks(1560);
  for (auto [Bq, Bk] : {std::pair{128, 128}, std::pair{16, 256},
                        std::pair{256, 16}, std::pair{64, 32}})
    for (int past : {0, 2, 6}) {
      ChunkSelection sel = geometry(1560, 3, past, Bq, Bk);
      for (const std::string &m : masks)
        expectAgreesWithOracle(m, sel, checked);
      if (HasFailure())
        return;
    }
  EXPECT_GT(checked, 100000);
}

TEST(StaticMaskEligible, FarPastClampsTheHalvingAt30) {
  // 40 past frames, D = 1: distances past 30 halvings keep w = W; with T
  // large enough that the shift matters before the clamp.
  int64_t checked = 0;
  for (int T : {37, 1024})
    for (const char *m : {"radial(1,1)", "radial(1,3)", "radial(2,2)",
                          "union(radial(1,1),current)"}) {
      ChunkSelection sel = geometry(T, 1, 40, 64, 16);
      expectAgreesWithOracle(m, sel, checked);
    }
}

TEST(StaticMaskEligible, AgreesWithTokenOracleOnRandomNestedMasks) {
  int64_t checked = 0;
  unsigned seed = 1;
  for (Geometry g : {Geometry{37, 1, 16, 64}, Geometry{100, 2, 64, 16},
                     Geometry{100, 1, 256, 32}, Geometry{1560, 3, 128, 128}})
    for (int n = 0; n < (g.T == 1560 ? 12 : 40); ++n) {
      MaskGenerator gen(g.T, seed++);
      const std::string text = gen.expr(3);
      // Canonical text round-trips, so parse() accepts what the generator
      // writes.
      ASSERT_EQ(StaticMask::parse(text).text(), text);
      for (int past : {0, 2, 5}) {
        ChunkSelection sel = geometry(g.T, g.F, past, g.Bq, g.Bk);
        expectAgreesWithOracle(text, sel, checked);
      }
      if (HasFailure())
        return;
    }
  EXPECT_GT(checked, 10000);
}

TEST(StaticMaskEligible, CheckSelectionRejectsRadialWiderThanAFrame) {
  ChunkSelection sel = geometry(100, 1, 3, 64, 64);
  sel.staticMask = std::make_shared<const StaticMask>(
      StaticMask::parse("union(current,radial(3,100))"));
  EXPECT_NO_THROW(lfc::checkSelection(sel));
  sel.staticMask = std::make_shared<const StaticMask>(
      StaticMask::parse("union(current,radial(3,101))"));
  try {
    lfc::checkSelection(sel);
    ADD_FAILURE() << "no error";
  } catch (const lfc::Error &e) {
    EXPECT_NE(std::string(e.what()).find(
                  "staticMask 'union(current,radial(3,101))': radial(3,101) "
                  "needs W (101) <= tokensPerFrame (100)"),
              std::string::npos)
        << e.what();
  }
}

TEST(StaticMaskEligible, CheckSelectionRejectsADenseChunkWithAMask) {
  ChunkSelection sel = geometry(100, 1, 3, 64, 64);
  sel.dense = true;
  sel.staticMask = std::make_shared<const StaticMask>();
  EXPECT_NO_THROW(lfc::checkSelection(sel));
  sel.staticMask =
      std::make_shared<const StaticMask>(StaticMask::parse("current"));
  try {
    lfc::checkSelection(sel);
    ADD_FAILURE() << "no error";
  } catch (const lfc::Error &e) {
    EXPECT_NE(std::string(e.what()).find("contradicts staticMask 'current'"),
              std::string::npos)
        << e.what();
  }
}

} // namespace
