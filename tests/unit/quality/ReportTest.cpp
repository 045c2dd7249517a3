// The quality report (docs/QUALITY.md): report.json read back with a small
// JSON parser and checked field by field against a hand-made accumulator; the
// SVG pictures checked for well-formedness and for the expected bars, points,
// panels and heatmap cells; the report directory; the terminal summary.
#include "QualityTestUtil.h"

#include "lfc/quality.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace {

using lfc::ChunkSelection;
using lfc::qtest::HostKept;
using lfc::qtest::Json;
using lfc::qtest::parseJson;
using lfc::qtest::parseXml;
using lfc::qtest::withClass;
using lfc::qtest::XmlElement;
namespace q = lfc::quality;

ChunkSelection grid(int T, int F, int visible, int blockQ, int blockK) {
  ChunkSelection s;
  s.tokensPerFrame = T;
  s.framesPerChunk = F;
  s.visibleFrames = visible;
  s.blockQ = blockQ;
  s.blockK = blockK;
  s.keptKeyBlocks = 1;
  return s;
}

q::ErrorSums sums(double errSq, double refSq, double testSq, double dot) {
  q::ErrorSums e;
  e.errSq = errSq;
  e.refSq = refSq;
  e.testSq = testSq;
  e.dot = dot;
  e.elements = 4;
  return e;
}

q::ReportInfo info() {
  q::ReportInfo i;
  i.policy = "policies/p \"1\".toml";
  i.plan = "plan-x";
  i.backend = "cpu (reference, 2 threads)";
  i.geometry.layers = 2;
  i.geometry.heads = 4;
  i.geometry.headDim = 64;
  i.geometry.dtype = lfc::DType::BF16;
  i.geometry.tokensPerFrame = 10;
  i.geometry.framesPerChunk = 2;
  i.geometry.chunks = 3;
  i.geometry.passesPerChunk = 2;
  i.geometry.softmaxScale = 0.125f;
  i.batch = 1;
  i.sample = q::Sample::everyKth(4, 1).withHeads({0, 3});
  i.plannedDensity = {1.0, 0.3};
  return i;
}

// Chunk 1 dense (one record), chunk 2 two records; carried error at chunk 2;
// one mask snapshot.
q::QualityAccumulator accumulator() {
  q::QualityAccumulator acc;
  q::Record r1;
  r1.chunk = 1;
  r1.density = r1.tokenDensity = 1.0;
  r1.mass = {1, 1};
  r1.error = sums(0, 4, 4, 4);
  r1.attentionMs = 2;
  r1.denseAttentionMs = 2;
  acc.add(r1);
  q::Record r2;
  r2.chunk = 2;
  r2.density = r2.tokenDensity = 0.5;
  r2.mass = {0.5, 0.75};
  r2.error = sums(1, 4, 4, 3.5); // rel L2 0.5, cosine 0.875
  r2.measured = sums(0.25, 4, 4, 3.875);
  r2.selectionMs = 0.25;
  r2.attentionMs = 0.5;
  r2.denseAttentionMs = 2;
  acc.add(r2);
  q::Record r3;
  r3.chunk = 2;
  r3.pass = 1;
  r3.layer = 1;
  r3.density = r3.tokenDensity = 0.25;
  r3.mass = {0.25, 1};
  r3.error = sums(0, 4, 4, 4);
  r3.attentionMs = 0.5;
  r3.denseAttentionMs = 2;
  acc.add(r3);
  acc.setCarried(2, sums(0.04, 1, 1, 0.98));

  HostKept kept(1, 1, 5, 7);
  kept.setRow(0, 0, 2, {1, 4});
  acc.addMask(q::MaskSnapshot::capture(grid(10, 2, 5, 4, 8), &kept.view, 0, 0,
                                       2, 0, 1));
  return acc;
}

std::vector<double> numbers(const Json &array) {
  std::vector<double> out;
  for (const Json &v : array.array)
    out.push_back(v.isNull() ? -999.0 : v.number);
  return out;
}

TEST(QualityReport, JsonSchemaAndValues) {
  const q::ReportInfo ri = info();
  const q::QualityAccumulator acc = accumulator();
  const std::string text = q::reportJson(ri, acc);
  EXPECT_EQ(text, q::reportJson(ri, acc)); // deterministic
  Json j = parseJson(text);

  EXPECT_EQ(j["format"].string, "lfc-quality-report");
  EXPECT_EQ(j["version"].number, 1);
  EXPECT_EQ(j["policy"].string, ri.policy); // quotes escaped and read back
  EXPECT_EQ(j["plan"].string, "plan-x");
  EXPECT_EQ(j["backend"].string, ri.backend);

  const Json &g = j["geometry"];
  EXPECT_EQ(g["layers"].number, 2);
  EXPECT_EQ(g["heads"].number, 4);
  EXPECT_EQ(g["head_dim"].number, 64);
  EXPECT_EQ(g["dtype"].string, "bf16");
  EXPECT_EQ(g["tokens_per_frame"].number, 10);
  EXPECT_EQ(g["frames_per_chunk"].number, 2);
  EXPECT_EQ(g["query_tokens"].number, 20);
  EXPECT_EQ(g["chunks"].number, 3);
  EXPECT_EQ(g["passes_per_chunk"].number, 2);
  EXPECT_EQ(g["kv_window_frames"].number, 0);
  EXPECT_EQ(g["sink_frames"].number, 0);
  EXPECT_EQ(g["softmax_scale"].number, 0.125);
  EXPECT_EQ(g["batch"].number, 1);

  const Json &s = j["sample"];
  EXPECT_EQ(s["description"].string,
            "rows: every 4th from row 1 (5 of 20 per head); heads: 2 of 4 (0, "
            "3); batches: all 1");
  EXPECT_EQ(s["rows"].string, "stride");
  EXPECT_EQ(s["stride"].number, 4);
  EXPECT_EQ(s["offset"].number, 1);
  EXPECT_EQ(s["query_rows"].number, 20);
  EXPECT_EQ(s["rows_per_head"].number, 5);
  EXPECT_EQ(numbers(s["heads"]), (std::vector<double>{0, 3}));
  EXPECT_EQ(s["batches"].number, 1);
  EXPECT_EQ(s["rows_per_call"].number, 10);

  const Json &r = j["records"];
  EXPECT_EQ(r["count"].number, 3);
  using V = std::vector<double>;
  EXPECT_EQ(numbers(r["chunk"]), (V{1, 2, 2}));
  EXPECT_EQ(numbers(r["pass"]), (V{0, 0, 1}));
  EXPECT_EQ(numbers(r["layer"]), (V{0, 0, 1}));
  EXPECT_EQ(numbers(r["rows"]), (V{2, 2, 2}));
  EXPECT_EQ(numbers(r["density"]), (V{1, 0.5, 0.25}));
  EXPECT_EQ(numbers(r["token_density"]), (V{1, 0.5, 0.25}));
  EXPECT_EQ(numbers(r["mass_mean"]), (V{1, 0.625, 0.625}));
  EXPECT_EQ(numbers(r["mass_min"]), (V{1, 0.5, 0.25}));
  EXPECT_EQ(numbers(r["mass_p10"]), (V{1, 0.5, 0.25}));
  EXPECT_EQ(numbers(r["rel_l2"]), (V{0, 0.5, 0}));
  EXPECT_EQ(numbers(r["cosine"]), (V{1, 0.875, 1}));
  EXPECT_EQ(numbers(r["output_rel_l2"]), (V{-999, 0.25, -999}));
  EXPECT_EQ(numbers(r["output_cosine"]), (V{-999, 0.96875, -999}));
  EXPECT_EQ(numbers(r["selection_ms"]), (V{-999, 0.25, -999}));
  EXPECT_EQ(numbers(r["attention_ms"]), (V{2, 0.5, 0.5}));
  EXPECT_EQ(numbers(r["dense_attention_ms"]), (V{2, 2, 2}));

  const Json &chunks = j["chunks"];
  ASSERT_EQ(chunks.array.size(), 2u);
  const Json &c1 = chunks[0], &c2 = chunks[1];
  EXPECT_EQ(c1["chunk"].number, 1);
  EXPECT_EQ(c1["records"].number, 1);
  EXPECT_EQ(c1["planned_density"].number, 1);
  EXPECT_TRUE(c1["carried_rel_l2"].isNull());
  EXPECT_TRUE(c1["selection_ms"].isNull());
  EXPECT_EQ(c2["chunk"].number, 2);
  EXPECT_EQ(c2["records"].number, 2);
  EXPECT_EQ(c2["rows"].number, 4);
  EXPECT_EQ(c2["density"].number, 0.375);
  EXPECT_EQ(c2["token_density"].number, 0.375);
  EXPECT_EQ(c2["mass_mean"].number, 0.625);
  EXPECT_EQ(c2["mass_min"].number, 0.25);
  EXPECT_EQ(c2["mass_p10"].number, 0.25);
  EXPECT_NEAR(c2["rel_l2"].number, std::sqrt(1.0 / 8.0), 1e-9);
  EXPECT_NEAR(c2["cosine"].number, 7.5 / 8.0, 1e-9);
  EXPECT_EQ(c2["output_rel_l2"].number, 0.25);
  EXPECT_EQ(c2["output_cosine"].number, 0.96875);
  EXPECT_EQ(c2["selection_ms"].number, 0.25);
  EXPECT_EQ(c2["attention_ms"].number, 1);
  EXPECT_EQ(c2["dense_attention_ms"].number, 4);
  EXPECT_EQ(c2["planned_density"].number, 0.3);
  EXPECT_EQ(c2["carried_rel_l2"].number, 0.2);
  EXPECT_EQ(c2["carried_cosine"].number, 0.98);

  const Json &layers = j["layers"];
  ASSERT_EQ(layers.array.size(), 2u);
  EXPECT_EQ(layers[0]["layer"].number, 0);
  EXPECT_EQ(layers[0]["records"].number, 2);
  EXPECT_EQ(layers[0]["density"].number, 0.75);
  EXPECT_EQ(layers[1]["layer"].number, 1);
  EXPECT_FALSE(layers[1].has("carried_rel_l2"));

  const Json &t = j["totals"];
  EXPECT_EQ(t["records"].number, 3);
  EXPECT_EQ(t["rows"].number, 6);
  EXPECT_NEAR(t["density"].number, 1.75 / 3, 1e-9);
  EXPECT_EQ(t["mass_min"].number, 0.25);
  EXPECT_NEAR(t["rel_l2"].number, std::sqrt(1.0 / 12.0), 1e-9);
  EXPECT_EQ(t["selection_ms"].number, 0.25);
  EXPECT_EQ(t["attention_ms"].number, 3);
  EXPECT_EQ(t["dense_attention_ms"].number, 6);
  EXPECT_NEAR(t["attention_speedup"].number, 6 / 3.25, 1e-9);
  EXPECT_EQ(t["carried_chunk"].number, 2);
  EXPECT_EQ(t["carried_rel_l2"].number, 0.2);

  const Json &p = j["pictures"];
  EXPECT_EQ(p["density"].string, "density.svg");
  EXPECT_EQ(p["quality"].string, "quality.svg");
  EXPECT_EQ(p["carried"].string, "carried.svg");
  ASSERT_EQ(p["masks"].array.size(), 1u);
  EXPECT_EQ(p["masks"][0]["file"].string, "mask_c2_p0_l1_b0_h0.svg");
  EXPECT_EQ(p["masks"][0]["query_blocks"].number, 5);
  EXPECT_EQ(p["masks"][0]["key_blocks"].number, 7);
  EXPECT_NEAR(p["masks"][0]["cell_density"].number, 2.0 / 35.0, 1e-9);
}

TEST(QualityReport, EmptyAccumulatorIsValid) {
  q::ReportInfo ri; // no geometry at all
  q::QualityAccumulator acc;
  Json j = parseJson(q::reportJson(ri, acc));
  EXPECT_EQ(j["records"]["count"].number, 0);
  EXPECT_TRUE(j["chunks"].array.empty());
  EXPECT_TRUE(j["totals"]["mass_mean"].isNull());
  EXPECT_TRUE(j["totals"]["carried_chunk"].isNull());
  EXPECT_EQ(j["sample"]["description"].string,
            "unknown (the report has no geometry)");
  for (const std::string &svg :
       {q::densitySvg(ri, acc), q::qualitySvg(ri, acc), q::carriedSvg(ri, acc)})
    EXPECT_NO_THROW(parseXml(svg));
  auto carried = parseXml(q::carriedSvg(ri, acc));
  EXPECT_EQ(withClass(carried, "text", "empty").size(), 1u);
}

std::set<std::string> texts(const std::vector<XmlElement> &els,
                            const std::string &cls) {
  std::set<std::string> out;
  for (const XmlElement &e : withClass(els, "text", cls))
    out.insert(e.text);
  return out;
}

TEST(QualityReport, DensitySvgHasOneBarPerChunk) {
  const std::string svg = q::densitySvg(info(), accumulator());
  EXPECT_EQ(svg, q::densitySvg(info(), accumulator()));
  std::vector<XmlElement> els = parseXml(svg);
  EXPECT_EQ(els.front().name, "svg");
  std::vector<XmlElement> bars = withClass(els, "rect", "bar");
  ASSERT_EQ(bars.size(), 2u); // chunks 1 and 2 have records; chunk 3 has none
  // Bar heights follow the densities 1 and 0.375 on a common axis.
  double h1 = std::stod(bars[0].attr("height")),
         h2 = std::stod(bars[1].attr("height"));
  EXPECT_NEAR(h2 / h1, 0.375, 1e-3);
  EXPECT_EQ(withClass(els, "line", "budget").size(), 2u);
  EXPECT_EQ(withClass(els, "line", "baseline").size(), 1u);
  EXPECT_EQ(texts(els, "ytick"),
            (std::set<std::string>{"0.0", "0.2", "0.4", "0.6", "0.8", "1.0"}));
  EXPECT_EQ(texts(els, "xtick"), (std::set<std::string>{"1", "2", "3"}));
}

TEST(QualityReport, QualitySvgHasThreePanels) {
  const std::string svg = q::qualitySvg(info(), accumulator());
  std::vector<XmlElement> els = parseXml(svg);
  EXPECT_EQ(withClass(els, "g", "panel").size(), 3u);
  EXPECT_EQ(withClass(els, "g", "legend").size(), 3u);
  EXPECT_EQ(withClass(els, "line", "baseline").size(), 3u);
  EXPECT_EQ(withClass(els, "circle", "mass-mean").size(), 2u);
  EXPECT_EQ(withClass(els, "circle", "mass-p10").size(), 2u);
  EXPECT_EQ(withClass(els, "circle", "mass-min").size(), 2u);
  EXPECT_EQ(withClass(els, "circle", "cosine").size(), 2u);
  EXPECT_EQ(withClass(els, "circle", "rel-l2").size(), 2u);
  // Only chunk 2 measured the backend's output: its own series.
  EXPECT_EQ(withClass(els, "circle", "rel-l2-measured").size(), 1u);
  EXPECT_EQ(withClass(els, "circle", "cosine-measured").size(), 1u);
  EXPECT_EQ(withClass(els, "polyline", "mass-mean").size(), 1u);
  // Every panel labels its value axis.
  EXPECT_GE(withClass(els, "text", "ytick").size(), 9u);
}

TEST(QualityReport, CarriedSvgPlotsEachCarriedChunk) {
  std::vector<XmlElement> els = parseXml(q::carriedSvg(info(), accumulator()));
  std::vector<XmlElement> pts = withClass(els, "circle", "carried");
  ASSERT_EQ(pts.size(), 1u);
  EXPECT_EQ(withClass(els, "text", "empty").size(), 0u);
  EXPECT_EQ(withClass(els, "line", "baseline").size(), 1u);
}

// Lq = 20 in 5 query blocks of 4, Lk = 50 in 7 key blocks of 8 (the last has
// 2 tokens), frames of 10 tokens: 5 visible, the last 2 the current chunk.
TEST(QualityReport, HeatmapMarksExactlyTheKeptCells) {
  const ChunkSelection sel = grid(10, 2, 5, 4, 8);
  HostKept kept(1, 2, 5, 7);
  for (int i = 0; i < 5; ++i)
    kept.setRow(0, 0, i, {0, 1, 2, 3, 4, 5, 6}); // head 0: everything
  kept.setRow(0, 1, 0, {0, 6});
  kept.setRow(0, 1, 1, {});
  kept.setRow(0, 1, 2, {1, 2, 3});
  kept.setRow(0, 1, 3, {6});
  kept.setRow(0, 1, 4, {0, 1, 2, 3, 4, 5, 6});
  std::set<std::pair<int, int>> expected;
  for (int i = 0; i < 5; ++i)
    for (int32_t jj : kept.row(0, 1, i))
      expected.insert({i, jj});

  q::MaskSnapshot m = q::MaskSnapshot::capture(sel, &kept.view, 0, 1, 4, 1, 7);
  EXPECT_EQ(m.queryBlocks, 5);
  EXPECT_EQ(m.keyBlocks, 7);
  EXPECT_DOUBLE_EQ(m.cellDensity(), 13.0 / 35.0);
  EXPECT_EQ(q::maskFileName(m), "mask_c4_p1_l7_b0_h1.svg");
  const std::string svg = q::maskHeatmapSvg(m);
  std::vector<XmlElement> els = parseXml(svg);

  std::vector<XmlElement> bg = withClass(els, "rect", "grid-bg");
  ASSERT_EQ(bg.size(), 1u);
  const double gx = std::stod(bg[0].attr("x")), gy = std::stod(bg[0].attr("y"));
  const double cw = std::stod(bg[0].attr("width")) / 7,
               ch = std::stod(bg[0].attr("height")) / 5;
  std::set<std::pair<int, int>> cells;
  for (const XmlElement &c : withClass(els, "rect", "kept")) {
    int i = std::stoi(c.attr("data-q")), jj = std::stoi(c.attr("data-k"));
    EXPECT_TRUE(cells.insert({i, jj}).second) << "cell drawn twice";
    // The cell sits at its grid position.
    EXPECT_NEAR((std::stod(c.attr("x")) - gx) / cw, jj, 1e-2);
    EXPECT_NEAR((std::stod(c.attr("y")) - gy) / ch, i, 1e-2);
    EXPECT_NEAR(std::stod(c.attr("width")), cw, 1e-2);
  }
  EXPECT_EQ(cells, expected);

  // Frame boundaries: 4 on the key axis (5 frames), 1 on the query axis (2
  // frames); the chunk boundary after the 3 past frames: key token 30, i.e.
  // 3.75 key blocks.
  std::vector<XmlElement> frames = withClass(els, "line", "frame");
  EXPECT_EQ(frames.size(), 5u);
  std::vector<XmlElement> boundary = withClass(els, "line", "chunk-boundary");
  ASSERT_EQ(boundary.size(), 1u);
  EXPECT_NEAR((std::stod(boundary[0].attr("x1")) - gx) / cw, 3.75, 1e-2);

  // Dense: every cell.
  q::MaskSnapshot dense = q::MaskSnapshot::capture(sel, nullptr, 0, 0, 1, 0, 0);
  EXPECT_EQ(
      withClass(parseXml(q::maskHeatmapSvg(dense)), "rect", "kept").size(),
      35u);
  EXPECT_THROW(q::MaskSnapshot::capture(sel, &kept.view, 0, 2, 1, 0, 0),
               lfc::Error);
}

TEST(QualityReport, XmlCheckerRejectsMalformedText) {
  EXPECT_NO_THROW(parseXml("<a x=\"1\"><b/>t &amp; u</a>"));
  EXPECT_THROW(parseXml("<a><b></a></b>"), std::runtime_error);
  EXPECT_THROW(parseXml("<a x=1/>"), std::runtime_error);
  EXPECT_THROW(parseXml("<a>x & y</a>"), std::runtime_error);
  EXPECT_THROW(parseXml("<a/><b/>"), std::runtime_error);
  EXPECT_THROW(parseXml("<a x=\"1\" x=\"2\"/>"), std::runtime_error);
  EXPECT_THROW(parseJson("{\"a\": 1,}"), std::runtime_error);
  EXPECT_THROW(parseJson("{\"a\": nan}"), std::runtime_error);
}

bool havePython() {
  return std::system("python3 -c 'import json, xml.etree.ElementTree' "
                     ">/dev/null 2>&1") == 0;
}

TEST(QualityReport, WritesTheReportDirectory) {
  const q::ReportInfo ri = info();
  const q::QualityAccumulator acc = accumulator();
  const std::string dir = ::testing::TempDir() + "lfc_quality_report_test";
  std::filesystem::remove_all(dir);
  std::vector<std::string> files = q::writeReport(dir, ri, acc);
  ASSERT_EQ(files.size(), 5u);
  auto read = [](const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  EXPECT_EQ(read(dir + "/report.json"), q::reportJson(ri, acc));
  EXPECT_EQ(read(dir + "/density.svg"), q::densitySvg(ri, acc));
  EXPECT_EQ(read(dir + "/quality.svg"), q::qualitySvg(ri, acc));
  EXPECT_EQ(read(dir + "/carried.svg"), q::carriedSvg(ri, acc));
  EXPECT_EQ(read(dir + "/mask_c2_p0_l1_b0_h0.svg"),
            q::maskHeatmapSvg(acc.masks()[0]));
  for (const std::string &f : files)
    EXPECT_FALSE(std::filesystem::exists(f + ".tmp"));

  if (!havePython())
    GTEST_SKIP() << "python3 not available: the C++ XML/JSON checks ran";
  std::string cmd =
      "python3 -c 'import sys, json, xml.etree.ElementTree as E\n"
      "for f in sys.argv[1:]:\n"
      "    json.load(open(f)) if f.endswith(\".json\") else E.parse(f)' ";
  for (const std::string &f : files)
    cmd += " '" + f + "'";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

TEST(QualityReport, TerminalSummary) {
  std::ostringstream os;
  q::printSummary(os, info(), accumulator());
  const std::string out = os.str();
  std::vector<std::string> lines;
  std::istringstream in(out);
  for (std::string l; std::getline(in, l);)
    lines.push_back(l);
  ASSERT_GE(lines.size(), 7u);
  EXPECT_NE(lines[0].find("plan plan-x"), std::string::npos);
  EXPECT_NE(lines[1].find("every 4th from row 1"), std::string::npos);
  EXPECT_EQ(lines[2].substr(0, 6), " chunk");
  EXPECT_EQ(lines[3].substr(0, 6), "     1");
  EXPECT_EQ(lines[4].substr(0, 6), "     2");
  EXPECT_EQ(lines[5].substr(0, 6), " total");
  // chunk 2: density 0.375, budget 0.3, mass mean 0.625, rel L2 sqrt(1/8).
  EXPECT_NE(lines[4].find("0.3750"), std::string::npos);
  EXPECT_NE(lines[4].find("0.3000"), std::string::npos);
  EXPECT_NE(lines[4].find("0.62500"), std::string::npos);
  EXPECT_NE(lines[4].find("3.54e-01"), std::string::npos);
  EXPECT_NE(out.find("1.85x"), std::string::npos);
  EXPECT_NE(out.find("chunk 2): rel L2 2.00e-01"), std::string::npos);
}

TEST(QualityReport, BudgetDensityFromPlan) {
  lfc::Plan plan;
  lfc::PlanChunk c1, c2;
  c1.selection = grid(10, 1, 1, 4, 8);
  c1.selection.dense = true;
  c2.selection = grid(10, 1, 4, 4, 8); // 40 keys, 5 key blocks
  c2.selection.keptKeyBlocks = 2;
  plan.chunks = {c1, c2};
  EXPECT_EQ(q::budgetDensity(plan), (std::vector<double>{1.0, 0.4}));
}

} // namespace
