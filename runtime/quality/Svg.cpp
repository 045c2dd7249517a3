// The report's pictures as SVG text, written by hand (no library): per-chunk
// density, per-chunk quality (three panels with their own axes), the carried
// error, and the mask heatmap of one (layer, head, chunk). Element classes and
// layout: docs/QUALITY.md. Deterministic: every number goes through
// detail::fixed / detail::general (locale-free).
#include "Format.h"

#include "lfc/quality.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace lfc::quality {
namespace {

using detail::fixed;
using detail::xmlEscape;

std::string px(double v) { return fixed(v, 2); }

// Axis ticks at 1, 2 or 5 times a power of ten.
struct Ticks {
  double lo = 0, hi = 1, step = 0.2;
  int decimals = 1;
  std::vector<double> values;

  std::string label(double v) const {
    if (decimals > 6)
      return detail::scientific(v, 1);
    return fixed(v, decimals);
  }
};

Ticks niceTicks(double lo, double hi, int target, bool integer = false) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) {
    lo = 0;
    hi = 1;
  }
  if (lo > hi)
    std::swap(lo, hi);
  if (hi - lo <= 1e-12 * std::max(1.0, std::fabs(hi))) {
    if (hi == 0) {
      hi = 1;
    } else {
      double pad = 0.1 * std::fabs(hi);
      lo -= pad;
      hi += pad;
    }
  }
  double raw = (hi - lo) / std::max(1, target);
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double f = raw / mag;
  const double slack = 1e-9; // f is a rounded quotient
  double step = (f <= 1 + slack   ? 1
                 : f <= 2 + slack ? 2
                 : f <= 5 + slack ? 5
                                  : 10) *
                mag;
  if (integer)
    step = std::max(1.0, std::round(step));
  Ticks t;
  t.step = step;
  int64_t first = int64_t(std::floor(lo / step + 1e-9));
  int64_t last = int64_t(std::ceil(hi / step - 1e-9));
  if (last <= first)
    last = first + 1;
  t.lo = double(first) * step;
  t.hi = double(last) * step;
  for (int64_t i = first; i <= last; ++i) {
    double v = double(i) * step;
    t.values.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);
  }
  t.decimals =
      integer ? 0 : std::max(0, -int(std::floor(std::log10(step) + 1e-9)));
  return t;
}

class Svg {
public:
  Svg(double width, double height, const std::string &title) {
    out_ = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
           "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
           px(width) + "\" height=\"" + px(height) + "\" viewBox=\"0 0 " +
           px(width) + " " + px(height) +
           "\" font-family=\"sans-serif\" font-size=\"12\">\n"
           "<title>" +
           xmlEscape(title) +
           "</title>\n"
           "<rect class=\"background\" x=\"0\" y=\"0\" width=\"" +
           px(width) + "\" height=\"" + px(height) + "\" fill=\"white\"/>\n";
  }
  void raw(const std::string &s) { out_ += s; }
  void line(double x1, double y1, double x2, double y2,
            const std::string &stroke, double width,
            const std::string &attrs = "") {
    out_ += "<line x1=\"" + px(x1) + "\" y1=\"" + px(y1) + "\" x2=\"" + px(x2) +
            "\" y2=\"" + px(y2) + "\" stroke=\"" + stroke +
            "\" stroke-width=\"" + px(width) + "\"" + attrs + "/>\n";
  }
  void rect(double x, double y, double w, double h, const std::string &fill,
            const std::string &attrs = "", const std::string &tooltip = "") {
    out_ += "<rect" + attrs + " x=\"" + px(x) + "\" y=\"" + px(y) +
            "\" width=\"" + px(w) + "\" height=\"" + px(h) + "\" fill=\"" +
            fill + "\"";
    if (tooltip.empty())
      out_ += "/>\n";
    else
      out_ += "><title>" + xmlEscape(tooltip) + "</title></rect>\n";
  }
  void text(double x, double y, const std::string &s,
            const std::string &anchor = "start", double size = 12,
            const std::string &attrs = "") {
    out_ += "<text x=\"" + px(x) + "\" y=\"" + px(y) + "\" text-anchor=\"" +
            anchor + "\" font-size=\"" + px(size) + "\"" + attrs + ">" +
            xmlEscape(s) + "</text>\n";
  }
  std::string finish() { return out_ + "</svg>\n"; }

private:
  std::string out_;
};

// A plot area over chunks 1..n (one band per chunk) and a value axis.
struct Panel {
  double x = 0, y = 0, w = 0, h = 0;
  int chunks = 1;
  Ticks yTicks;

  double band() const { return w / chunks; }
  double cx(int chunk) const { return x + (chunk - 0.5) * band(); }
  double vy(double v) const {
    return y + h - (v - yTicks.lo) / (yTicks.hi - yTicks.lo) * h;
  }
};

void drawAxes(Svg &svg, const Panel &p, const std::string &title,
              const std::string &yLabel) {
  svg.text(p.x, p.y - 28, title, "start", 13, " font-weight=\"bold\"");
  for (double v : p.yTicks.values) {
    double y = p.vy(v);
    svg.line(p.x, y, p.x + p.w, y, "#dddddd", 1, " class=\"grid\"");
    svg.line(p.x - 4, y, p.x, y, "#444444", 1);
    svg.text(p.x - 6, y + 4, p.yTicks.label(v), "end", 11, " class=\"ytick\"");
  }
  svg.raw("<rect class=\"frame\" x=\"" + px(p.x) + "\" y=\"" + px(p.y) +
          "\" width=\"" + px(p.w) + "\" height=\"" + px(p.h) +
          "\" fill=\"none\" stroke=\"#444444\"/>\n");
  const int every = std::max(1, (p.chunks + 23) / 24);
  for (int c = 1; c <= p.chunks; ++c) {
    double x = p.cx(c);
    svg.line(x, p.y + p.h, x, p.y + p.h + 4, "#444444", 1);
    if ((c - 1) % every == 0)
      svg.text(x, p.y + p.h + 16, std::to_string(c), "middle", 11,
               " class=\"xtick\"");
  }
  svg.text(p.x + p.w / 2, p.y + p.h + 32, "chunk", "middle", 12);
  double ly = p.y + p.h / 2;
  svg.text(p.x - 52, ly, yLabel, "middle", 12,
           " transform=\"rotate(-90 " + px(p.x - 52) + " " + px(ly) + ")\"");
}

struct Series {
  std::string name, color, cls;
  std::vector<std::pair<int, double>> points; ///< (chunk, value)
  bool dashed = false;
};

// A line through the finite points, broken at missing chunks and non-finite
// values, with a marker per point.
void drawSeries(Svg &svg, const Panel &p, const Series &s) {
  std::string dash = s.dashed ? " stroke-dasharray=\"5 3\"" : "";
  std::string poly;
  int prev = -1;
  auto flush = [&] {
    if (!poly.empty() && poly.find(' ') != std::string::npos)
      svg.raw("<polyline class=\"" + s.cls + "\" fill=\"none\" stroke=\"" +
              s.color + "\" stroke-width=\"2\"" + dash + " points=\"" + poly +
              "\"/>\n");
    poly.clear();
  };
  for (const auto &[chunk, v] : s.points) {
    if (!std::isfinite(v) || chunk != prev + 1)
      flush();
    prev = std::isfinite(v) ? chunk : -1;
    if (!std::isfinite(v))
      continue;
    poly += (poly.empty() ? "" : " ") + px(p.cx(chunk)) + "," + px(p.vy(v));
  }
  flush();
  for (const auto &[chunk, v] : s.points)
    if (std::isfinite(v))
      svg.raw("<circle class=\"point " + s.cls + "\" cx=\"" + px(p.cx(chunk)) +
              "\" cy=\"" + px(p.vy(v)) + "\" r=\"3\" fill=\"" + s.color +
              "\"><title>" +
              xmlEscape(s.name + ", chunk " + std::to_string(chunk) + ": " +
                        detail::general(v, 6)) +
              "</title></circle>\n");
}

void drawBaseline(Svg &svg, const Panel &p, double v) {
  double y = p.vy(v);
  svg.line(p.x, y, p.x + p.w, y, "#555555", 1.5,
           " class=\"baseline\" stroke-dasharray=\"6 4\"");
}

struct LegendItem {
  std::string name, color;
  bool dashed = false;
  bool swatch = false; ///< a filled square instead of a line sample
};

// A legend right-aligned at (right, y): one line sample and label per item.
void drawLegend(Svg &svg, double right, double y,
                const std::vector<LegendItem> &items) {
  double width = 0;
  for (const LegendItem &it : items)
    width += 34 + 6.5 * double(it.name.size()) + 12;
  double x = right - width;
  svg.raw("<g class=\"legend\">\n");
  for (const LegendItem &it : items) {
    if (it.swatch)
      svg.rect(x + 8, y - 10, 12, 12, it.color,
               " stroke=\"#444444\" stroke-width=\"0.50\"");
    else
      svg.line(x, y - 4, x + 28, y - 4, it.color, 2,
               it.dashed ? " stroke-dasharray=\"6 4\"" : "");
    svg.text(x + 34, y, it.name, "start", 11);
    x += 34 + 6.5 * double(it.name.size()) + 12;
  }
  svg.raw("</g>\n");
}

// Chunks on the x axis: the plan's count, or more if records say so.
int chunkCount(const ReportInfo &info, const std::vector<Summary> &chunks) {
  int n = std::max(1, info.geometry.chunks);
  for (const Summary &s : chunks)
    n = std::max(n, s.key);
  return n;
}

// Low and high of the finite values plus `include`.
std::pair<double, double> range(const std::vector<Series> &series,
                                std::vector<double> include) {
  double lo = INFINITY, hi = -INFINITY;
  for (const Series &s : series)
    for (const auto &pt : s.points)
      if (std::isfinite(pt.second)) {
        lo = std::min(lo, pt.second);
        hi = std::max(hi, pt.second);
      }
  for (double v : include) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  return {lo, hi};
}

std::string subtitle(const ReportInfo &info) {
  std::string s = "policy " + (info.policy.empty() ? "-" : info.policy) +
                  ", plan " + (info.plan.empty() ? "-" : info.plan);
  if (!info.backend.empty())
    s += ", backend " + info.backend;
  return s;
}

const char *kBlue = "#1f77b4", *kOrange = "#ff7f0e", *kGreen = "#2ca02c",
           *kRed = "#d62728", *kPurple = "#9467bd", *kGray = "#555555",
           *kNotKept = "#dddddd";

} // namespace

std::string densitySvg(const ReportInfo &info, const QualityAccumulator &acc) {
  const std::vector<Summary> chunks = acc.chunks();
  const double W = 760, H = 380;
  Svg svg(W, H, "kept density per chunk");
  svg.text(20, 24, "Kept density per chunk", "start", 15,
           " font-weight=\"bold\"");
  svg.text(20, 42, subtitle(info), "start", 11, " fill=\"#555555\"");
  Panel p;
  p.x = 80;
  p.y = 100;
  p.w = W - 110;
  p.h = H - 170;
  p.chunks = chunkCount(info, chunks);
  p.yTicks = niceTicks(0, 1, 5);
  drawAxes(svg, p, "mean over calls and rows", "kept key blocks / key blocks");
  const double barW = 0.6 * p.band();
  for (const Summary &s : chunks) {
    if (!std::isfinite(s.density))
      continue;
    double top = p.vy(s.density), x = p.cx(s.key) - barW / 2;
    svg.rect(x, top, barW, p.y + p.h - top, kBlue, " class=\"bar\"",
             "chunk " + std::to_string(s.key) + ": density " +
                 fixed(s.density, 4) + ", token density " +
                 fixed(s.tokenDensity, 4) + " (" + std::to_string(s.records) +
                 " calls)");
    if (p.chunks <= 24) { // above the bar, or inside it near the top
      bool inside = top - p.y < 16;
      svg.text(p.cx(s.key), inside ? top + 13 : top - 4, fixed(s.density, 2),
               "middle", 10,
               inside ? " class=\"value\" fill=\"white\"" : " class=\"value\"");
    }
  }
  bool planned = false;
  for (size_t i = 0; i < info.plannedDensity.size(); ++i) {
    double v = info.plannedDensity[i];
    if (!std::isfinite(v) || int(i) + 1 > p.chunks)
      continue;
    planned = true;
    double x = p.cx(int(i) + 1), y = p.vy(v);
    svg.line(x - barW / 2 - 3, y, x + barW / 2 + 3, y, kOrange, 2.5,
             " class=\"budget\"");
  }
  drawBaseline(svg, p, 1.0);
  std::vector<LegendItem> legend = {{"measured", kBlue}};
  if (planned)
    legend.push_back({"budget (plan)", kOrange});
  legend.push_back({"dense", kGray, true});
  drawLegend(svg, p.x + p.w, p.y - 10, legend);
  return svg.finish();
}

std::string qualitySvg(const ReportInfo &info, const QualityAccumulator &acc) {
  const std::vector<Summary> chunks = acc.chunks();
  const double W = 760, panelH = 170, gap = 90, top = 112;
  const double H = top + 3 * panelH + 2 * gap + 60;
  Svg svg(W, H, "attention quality per chunk");
  svg.text(20, 24, "Attention quality per chunk (kept blocks vs dense)",
           "start", 15, " font-weight=\"bold\"");
  svg.text(20, 42, subtitle(info), "start", 11, " fill=\"#555555\"");
  std::string sample;
  try {
    sample =
        describe(info.sample, info.batch, std::max(1, info.geometry.heads),
                 std::max<int64_t>(1, int64_t(info.geometry.framesPerChunk) *
                                          info.geometry.tokensPerFrame));
  } catch (const Error &) {
    sample = "sample: see report.json";
  }
  svg.text(20, 58, "sample: " + sample, "start", 11, " fill=\"#555555\"");

  auto series = [&](const std::string &name, const char *color,
                    const std::string &cls, auto value) {
    Series s{name, color, cls, {}, false};
    for (const Summary &c : chunks)
      if (c.records > 0)
        s.points.push_back({c.key, value(c)});
    return s;
  };
  bool measured = false;
  for (const Summary &c : chunks)
    measured = measured || c.measured.elements > 0;

  struct PanelSpec {
    std::string title, yLabel;
    std::vector<Series> series;
    double baseline;
  };
  std::vector<PanelSpec> specs;
  specs.push_back({"captured softmax mass",
                   "mass",
                   {series("mean", kBlue, "mass-mean",
                           [](const Summary &c) { return c.mass.mean; }),
                    series("p10", kGreen, "mass-p10",
                           [](const Summary &c) { return c.mass.p10; }),
                    series("min", kRed, "mass-min",
                           [](const Summary &c) { return c.mass.min; })},
                   1.0});
  PanelSpec cosine{"cosine similarity of the output vs dense",
                   "cosine",
                   {series("kept blocks (exact)", kBlue, "cosine",
                           [](const Summary &c) { return c.error.cosine(); })},
                   1.0};
  PanelSpec rel{"relative L2 error of the output vs dense",
                "rel. L2",
                {series("kept blocks (exact)", kBlue, "rel-l2",
                        [](const Summary &c) { return c.error.relL2(); })},
                0.0};
  if (measured) {
    cosine.series.push_back(
        series("backend output", kPurple, "cosine-measured",
               [](const Summary &c) { return c.measured.cosine(); }));
    rel.series.push_back(
        series("backend output", kPurple, "rel-l2-measured",
               [](const Summary &c) { return c.measured.relL2(); }));
  }
  specs.push_back(cosine);
  specs.push_back(rel);

  for (size_t i = 0; i < specs.size(); ++i) {
    const PanelSpec &spec = specs[i];
    Panel p;
    p.x = 80;
    p.y = top + double(i) * (panelH + gap);
    p.w = W - 110;
    p.h = panelH;
    p.chunks = chunkCount(info, chunks);
    auto [lo, hi] = range(spec.series, {spec.baseline});
    p.yTicks = niceTicks(lo, hi, 5);
    svg.raw("<g class=\"panel\">\n");
    drawAxes(svg, p, spec.title, spec.yLabel);
    drawBaseline(svg, p, spec.baseline);
    std::vector<LegendItem> legend;
    for (const Series &s : spec.series) {
      drawSeries(svg, p, s);
      legend.push_back({s.name, s.color});
    }
    legend.push_back({"dense", kGray, true});
    drawLegend(svg, p.x + p.w, p.y - 10, legend);
    svg.raw("</g>\n");
  }
  return svg.finish();
}

std::string carriedSvg(const ReportInfo &info, const QualityAccumulator &acc) {
  const std::vector<Summary> chunks = acc.chunks();
  const double W = 760, H = 380;
  Svg svg(W, H, "carried error over chunks");
  svg.text(20, 24, "Carried error over the rollout", "start", 15,
           " font-weight=\"bold\"");
  svg.text(20, 42, subtitle(info), "start", 11, " fill=\"#555555\"");
  Panel p;
  p.x = 80;
  p.y = 100;
  p.w = W - 110;
  p.h = H - 170;
  p.chunks = chunkCount(info, chunks);
  Series s{"sparse vs dense rollout", kBlue, "carried", {}, false};
  for (const Summary &c : chunks)
    if (c.carried.elements > 0)
      s.points.push_back({c.key, c.carried.relL2()});
  auto [lo, hi] = range({s}, {0.0});
  p.yTicks = niceTicks(lo, hi, 5);
  drawAxes(svg, p,
           "final hidden state, sparse vs dense rollout, at each chunk's end",
           "rel. L2");
  drawBaseline(svg, p, 0.0);
  if (s.points.empty())
    svg.text(p.x + p.w / 2, p.y + p.h / 2, "no carried error recorded",
             "middle", 13, " class=\"empty\" fill=\"#888888\"");
  drawSeries(svg, p, s);
  drawLegend(svg, p.x + p.w, p.y - 10,
             {{s.name, kBlue}, {"dense", kGray, true}});
  return svg.finish();
}

std::string maskFileName(const MaskSnapshot &m) {
  return "mask_c" + std::to_string(m.chunk) + "_p" + std::to_string(m.pass) +
         "_l" + std::to_string(m.layer) + "_b" + std::to_string(m.batch) +
         "_h" + std::to_string(m.head) + ".svg";
}

std::string maskHeatmapSvg(const MaskSnapshot &m) {
  const int64_t nqb = std::max<int64_t>(1, m.queryBlocks),
                nkb = std::max<int64_t>(1, m.keyBlocks);
  const double cw = std::clamp(900.0 / double(nkb), 1.0, 24.0);
  const double ch = std::clamp(480.0 / double(nqb), 1.0, 24.0);
  const double left = 80, top = 100, gw = cw * double(nkb),
               gh = ch * double(nqb);
  const double W = std::max(left + gw + 40, 640.0), H = top + gh + 70;
  std::string title =
      "kept blocks: chunk " + std::to_string(m.chunk) + ", pass " +
      std::to_string(m.pass) + ", layer " + std::to_string(m.layer) +
      ", batch " + std::to_string(m.batch) + ", head " + std::to_string(m.head);
  Svg svg(W, H, title);
  svg.text(20, 24, title, "start", 15, " font-weight=\"bold\"");
  svg.text(20, 42,
           std::to_string(m.queryBlocks) + " query blocks (" +
               std::to_string(m.blockQ) + " tokens) x " +
               std::to_string(m.keyBlocks) + " key blocks (" +
               std::to_string(m.blockK) + " tokens), " +
               std::to_string(m.visibleFrames) + " frames of " +
               std::to_string(m.tokensPerFrame) + " tokens; cell density " +
               fixed(m.cellDensity(), 4),
           "start", 11, " fill=\"#555555\"");

  svg.rect(left, top, gw, gh, kNotKept, " class=\"grid-bg\"");
  for (int64_t i = 0; i < int64_t(m.kept.size()); ++i)
    for (int32_t j : m.kept[size_t(i)])
      svg.rect(left + double(j) * cw, top + double(i) * ch, cw, ch, kBlue,
               " class=\"kept\" data-q=\"" + std::to_string(i) +
                   "\" data-k=\"" + std::to_string(j) + "\"");

  // Frame boundaries: key frames on the x axis (the flat block grid does not
  // restart at frames, so lines may cross cells), the chunk's own frames on
  // the y axis.
  const int64_t T = m.tokensPerFrame;
  const double keyTokens = double(m.visibleFrames) * double(T);
  if (T > 0) {
    for (int f = 1; f < m.visibleFrames; ++f) {
      double x = left + double(f) * double(T) / double(m.blockK) * cw;
      svg.line(x, top, x, top + gh, "#888888", 1,
               " class=\"frame\" stroke-dasharray=\"3 2\"");
    }
    for (int f = 1; f < m.framesPerChunk; ++f) {
      double y = top + double(f) * double(T) / double(m.blockQ) * ch;
      svg.line(left, y, left + gw, y, "#888888", 1,
               " class=\"frame\" stroke-dasharray=\"3 2\"");
    }
    // Frame numbers above the grid where there is room.
    double frameW = double(T) / double(m.blockK) * cw;
    if (frameW >= 18)
      for (int f = 0; f < m.visibleFrames; ++f) {
        double x0 = left + double(f) * frameW,
               x1 = std::min(left + gw, left + double(f + 1) * double(T) /
                                                   double(m.blockK) * cw);
        svg.text((x0 + x1) / 2, top - 6, "f" + std::to_string(f), "middle", 9,
                 " fill=\"#666666\"");
      }
  }
  const int past = m.visibleFrames - m.framesPerChunk;
  if (T > 0 && past > 0) {
    double x = left + double(past) * double(T) / double(m.blockK) * cw;
    svg.line(x, top - 18, x, top + gh, kRed, 2, " class=\"chunk-boundary\"");
    svg.text(x + 4, top - 22, "current chunk", "start", 11,
             " fill=\"#d62728\"");
  }
  svg.raw("<rect class=\"frame\" x=\"" + px(left) + "\" y=\"" + px(top) +
          "\" width=\"" + px(gw) + "\" height=\"" + px(gh) +
          "\" fill=\"none\" stroke=\"#444444\"/>\n");

  Ticks kt = niceTicks(0, double(nkb), 8, true);
  for (double v : kt.values) {
    if (v > double(nkb))
      break;
    double x = left + v * cw;
    svg.line(x, top + gh, x, top + gh + 4, "#444444", 1);
    svg.text(x, top + gh + 16, kt.label(v), "middle", 11, " class=\"xtick\"");
  }
  Ticks qt = niceTicks(0, double(nqb), 6, true);
  for (double v : qt.values) {
    if (v > double(nqb))
      break;
    double y = top + v * ch;
    svg.line(left - 4, y, left, y, "#444444", 1);
    svg.text(left - 6, y + 4, qt.label(v), "end", 11, " class=\"ytick\"");
  }
  svg.text(left + gw / 2, top + gh + 34,
           "key block (logical KV sequence, " + fixed(keyTokens, 0) +
               " tokens)",
           "middle", 12);
  double ly = top + gh / 2;
  svg.text(left - 44, ly, "query block", "middle", 12,
           " transform=\"rotate(-90 " + px(left - 44) + " " + px(ly) + ")\"");
  drawLegend(svg, W - 20, top + gh + 56,
             {{"kept", kBlue, false, true},
              {"not kept", kNotKept, false, true},
              {"frame boundary", "#888888", true},
              {"chunk boundary", kRed}});
  return svg.finish();
}

} // namespace lfc::quality
