// report.json (schema: docs/QUALITY.md), writing the report directory, and the
// terminal summary. Deterministic: fixed key order, locale-free numbers.
#include "Format.h"

#include "lfc/quality.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <utility>

namespace lfc::quality {
namespace {

using detail::fixed;
using detail::jsonNumber;
using detail::jsonString;

// An ordered JSON object whose values are already rendered.
class JsonObject {
public:
  JsonObject &num(const std::string &key, double v) {
    return raw(key, jsonNumber(v));
  }
  JsonObject &integer(const std::string &key, int64_t v) {
    return raw(key, std::to_string(v));
  }
  JsonObject &str(const std::string &key, const std::string &v) {
    return raw(key, jsonString(v));
  }
  JsonObject &raw(const std::string &key, std::string rendered) {
    items_.emplace_back(key, std::move(rendered));
    return *this;
  }
  /// One line: {"a": 1, "b": 2}.
  std::string inlineText() const {
    std::string out = "{";
    for (size_t i = 0; i < items_.size(); ++i)
      out += (i ? ", " : "") + jsonString(items_[i].first) + ": " +
             items_[i].second;
    return out + "}";
  }
  /// One member per line, indented by `indent` spaces (the closing brace at
  /// indent - 2).
  std::string blockText(int indent) const {
    std::string pad(size_t(indent), ' ');
    std::string out = "{\n";
    for (size_t i = 0; i < items_.size(); ++i)
      out += pad + jsonString(items_[i].first) + ": " + items_[i].second +
             (i + 1 < items_.size() ? ",\n" : "\n");
    return out + std::string(size_t(std::max(0, indent - 2)), ' ') + "}";
  }

private:
  std::vector<std::pair<std::string, std::string>> items_;
};

template <class T, class Fn>
std::string jsonArray(const std::vector<T> &v, Fn render) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i)
    out += (i ? ", " : "") + render(v[i]);
  return out + "]";
}

// One line per element, indented.
std::string jsonLines(const std::vector<std::string> &elements, int indent) {
  if (elements.empty())
    return "[]";
  std::string pad(size_t(indent), ' ');
  std::string out = "[\n";
  for (size_t i = 0; i < elements.size(); ++i)
    out += pad + elements[i] + (i + 1 < elements.size() ? ",\n" : "\n");
  return out + std::string(size_t(std::max(0, indent - 2)), ' ') + "]";
}

int64_t queryRows(const ReportInfo &info) {
  return int64_t(info.geometry.framesPerChunk) * info.geometry.tokensPerFrame;
}

JsonObject sampleJson(const ReportInfo &info) {
  const Sample &s = info.sample;
  JsonObject o;
  const int64_t Lq = queryRows(info), H = info.geometry.heads;
  const bool known = Lq > 0 && H > 0 && info.batch > 0;
  std::string description;
  std::vector<int64_t> rows, heads;
  if (known) {
    try {
      description = describe(s, info.batch, H, Lq);
      rows = sampleRows(s, Lq);
      heads = sampleHeads(s, H);
    } catch (const Error &e) {
      description = std::string("invalid sample: ") + e.what();
    }
  } else {
    description = "unknown (the report has no geometry)";
  }
  o.str("description", description);
  switch (s.rows) {
  case Sample::Rows::All:
    o.str("rows", "all");
    break;
  case Sample::Rows::Stride:
    o.str("rows", "stride")
        .integer("stride", s.stride)
        .integer("offset", s.offset);
    break;
  case Sample::Rows::Random:
    o.str("rows", "random")
        .integer("count", s.count)
        .raw("seed", std::to_string(s.seed));
    break;
  case Sample::Rows::List:
    o.str("rows", "list").raw("list", jsonArray(s.list, [](int64_t v) {
                                return std::to_string(v);
                              }));
    break;
  }
  auto intArray = [](const std::vector<int64_t> &v) {
    return jsonArray(v, [](int64_t x) { return std::to_string(x); });
  };
  o.integer("query_rows", Lq);
  if (!rows.empty()) {
    o.integer("rows_per_head", int64_t(rows.size()));
    o.raw("heads", intArray(heads));
    o.integer("batches", info.batch);
    o.integer("rows_per_call",
              info.batch * int64_t(heads.size()) * int64_t(rows.size()));
  } else {
    o.raw("rows_per_head", "null").raw("heads", "null");
    o.integer("batches", info.batch).raw("rows_per_call", "null");
  }
  return o;
}

void summaryFields(JsonObject &o, const Summary &s) {
  o.integer("records", s.records)
      .integer("rows", s.mass.rows)
      .num("density", s.density)
      .num("token_density", s.tokenDensity)
      .num("mass_mean", s.mass.mean)
      .num("mass_min", s.mass.min)
      .num("mass_p10", s.mass.p10)
      .num("rel_l2", s.error.relL2())
      .num("cosine", s.error.cosine())
      .num("output_rel_l2", s.measured.relL2())
      .num("output_cosine", s.measured.cosine())
      .num("selection_ms", s.selectionMs)
      .num("attention_ms", s.attentionMs)
      .num("dense_attention_ms", s.denseAttentionMs);
}

double speedup(const Summary &s) {
  double sparse = (std::isnan(s.selectionMs) ? 0.0 : s.selectionMs) +
                  (std::isnan(s.attentionMs) ? 0.0 : s.attentionMs);
  if (std::isnan(s.denseAttentionMs) || std::isnan(s.attentionMs) ||
      !(sparse > 0))
    return kNaN;
  return s.denseAttentionMs / sparse;
}

double planned(const ReportInfo &info, int chunk) {
  if (chunk < 1 || size_t(chunk) > info.plannedDensity.size())
    return kNaN;
  return info.plannedDensity[size_t(chunk - 1)];
}

void writeFile(const std::filesystem::path &path, const std::string &text) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out)
      throw Error("quality report: cannot write " + tmp.string());
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec)
    throw Error("quality report: cannot rename " + tmp.string() + " to " +
                path.string() + ": " + ec.message());
}

} // namespace

std::string reportJson(const ReportInfo &info, const QualityAccumulator &acc) {
  const PlanGeometry &g = info.geometry;
  JsonObject geometry;
  geometry.integer("layers", g.layers)
      .integer("heads", g.heads)
      .integer("head_dim", g.headDim)
      .str("dtype", dtypeName(g.dtype))
      .integer("tokens_per_frame", g.tokensPerFrame)
      .integer("frames_per_chunk", g.framesPerChunk)
      .integer("query_tokens", queryRows(info))
      .integer("chunks", g.chunks)
      .integer("passes_per_chunk", g.passesPerChunk)
      .integer("kv_window_frames", g.kvWindowFrames)
      .integer("sink_frames", g.sinkFrames)
      .num("softmax_scale", double(g.softmaxScale))
      .integer("batch", info.batch);

  const std::vector<Record> &rs = acc.records();
  auto column = [&](auto value) {
    return jsonArray(rs, [&](const Record &r) { return value(r); });
  };
  auto intColumn = [&](auto value) {
    return column([&](const Record &r) { return std::to_string(value(r)); });
  };
  auto numColumn = [&](auto value) {
    return column([&](const Record &r) { return jsonNumber(value(r)); });
  };
  JsonObject records;
  records.integer("count", int64_t(rs.size()))
      .raw("chunk", intColumn([](const Record &r) { return r.chunk; }))
      .raw("pass", intColumn([](const Record &r) { return r.pass; }))
      .raw("layer", intColumn([](const Record &r) { return r.layer; }))
      .raw("rows", intColumn([](const Record &r) { return r.mass.size(); }))
      .raw("density", numColumn([](const Record &r) { return r.density; }))
      .raw("token_density",
           numColumn([](const Record &r) { return r.tokenDensity; }))
      .raw("mass_mean",
           numColumn([](const Record &r) { return r.massStats().mean; }))
      .raw("mass_min",
           numColumn([](const Record &r) { return r.massStats().min; }))
      .raw("mass_p10",
           numColumn([](const Record &r) { return r.massStats().p10; }))
      .raw("rel_l2", numColumn([](const Record &r) { return r.error.relL2(); }))
      .raw("cosine",
           numColumn([](const Record &r) { return r.error.cosine(); }))
      .raw("output_rel_l2",
           numColumn([](const Record &r) { return r.measured.relL2(); }))
      .raw("output_cosine",
           numColumn([](const Record &r) { return r.measured.cosine(); }))
      .raw("selection_ms",
           numColumn([](const Record &r) { return r.selectionMs; }))
      .raw("attention_ms",
           numColumn([](const Record &r) { return r.attentionMs; }))
      .raw("dense_attention_ms",
           numColumn([](const Record &r) { return r.denseAttentionMs; }));

  std::vector<std::string> chunkLines;
  for (const Summary &s : acc.chunks()) {
    JsonObject o;
    o.integer("chunk", s.key);
    summaryFields(o, s);
    o.num("planned_density", planned(info, s.key))
        .num("carried_rel_l2", s.carried.relL2())
        .num("carried_cosine", s.carried.cosine());
    chunkLines.push_back(o.inlineText());
  }
  std::vector<std::string> layerLines;
  for (const Summary &s : acc.layers()) {
    JsonObject o;
    o.integer("layer", s.key);
    summaryFields(o, s);
    layerLines.push_back(o.inlineText());
  }
  const Summary t = acc.totals();
  JsonObject totals;
  summaryFields(totals, t);
  totals.num("attention_speedup", speedup(t))
      .raw("carried_chunk", acc.carried().empty()
                                ? std::string("null")
                                : std::to_string(acc.carried().rbegin()->first))
      .num("carried_rel_l2", t.carried.relL2())
      .num("carried_cosine", t.carried.cosine());

  std::vector<std::string> maskLines;
  for (const MaskSnapshot &m : acc.masks()) {
    JsonObject o;
    o.str("file", maskFileName(m))
        .integer("chunk", m.chunk)
        .integer("pass", m.pass)
        .integer("layer", m.layer)
        .integer("batch", m.batch)
        .integer("head", m.head)
        .integer("query_blocks", m.queryBlocks)
        .integer("key_blocks", m.keyBlocks)
        .num("cell_density", m.cellDensity());
    maskLines.push_back(o.inlineText());
  }
  JsonObject pictures;
  pictures.str("density", "density.svg")
      .str("quality", "quality.svg")
      .str("carried", "carried.svg")
      .raw("masks", jsonLines(maskLines, 6));

  JsonObject root;
  root.str("format", "lfc-quality-report")
      .integer("version", 1)
      .str("policy", info.policy)
      .str("plan", info.plan)
      .str("backend", info.backend)
      .raw("geometry", geometry.blockText(4))
      .raw("sample", sampleJson(info).blockText(4))
      .raw("records", records.blockText(4))
      .raw("chunks", jsonLines(chunkLines, 4))
      .raw("layers", jsonLines(layerLines, 4))
      .raw("totals", totals.blockText(4))
      .raw("pictures", pictures.blockText(4));
  return root.blockText(2) + "\n";
}

std::vector<std::string> writeReport(const std::string &dir,
                                     const ReportInfo &info,
                                     const QualityAccumulator &acc) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw Error("quality report: cannot create " + dir + ": " + ec.message());
  std::vector<std::pair<std::string, std::string>> files = {
      {"report.json", reportJson(info, acc)},
      {"density.svg", densitySvg(info, acc)},
      {"quality.svg", qualitySvg(info, acc)},
      {"carried.svg", carriedSvg(info, acc)}};
  for (const MaskSnapshot &m : acc.masks())
    files.emplace_back(maskFileName(m), maskHeatmapSvg(m));
  std::vector<std::string> written;
  for (const auto &[name, text] : files) {
    fs::path path = fs::path(dir) / name;
    writeFile(path, text);
    written.push_back(path.string());
  }
  return written;
}

namespace {

std::string pad(const std::string &s, size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}

std::string sci(double v) {
  return std::isfinite(v) ? detail::scientific(v, 2) : std::string("-");
}

std::string row(const std::string &label, const Summary &s, double plan) {
  std::string out = pad(label, 6);
  out += pad(std::to_string(s.records), 7);
  out += pad(fixed(s.density, 4), 9);
  out += pad(fixed(plan, 4), 9);
  out += pad(fixed(s.mass.mean, 5), 10);
  out += pad(fixed(s.mass.p10, 5), 10);
  out += pad(fixed(s.mass.min, 5), 10);
  out += pad(sci(s.error.relL2()), 10);
  out += pad(fixed(s.error.cosine(), 6), 10);
  out += pad(sci(s.carried.relL2()), 10);
  out += pad(fixed(s.selectionMs, 2), 10);
  out += pad(fixed(s.attentionMs, 2), 10);
  out += pad(fixed(s.denseAttentionMs, 2), 10);
  return out + "\n";
}

} // namespace

void printSummary(std::ostream &os, const ReportInfo &info,
                  const QualityAccumulator &acc) {
  os << "quality: policy " << (info.policy.empty() ? "-" : info.policy)
     << ", plan " << (info.plan.empty() ? "-" : info.plan) << ", backend "
     << (info.backend.empty() ? "-" : info.backend) << "\n";
  std::string sample = sampleJson(info).inlineText();
  const int64_t Lq = queryRows(info);
  if (Lq > 0 && info.geometry.heads > 0 && info.batch > 0) {
    try {
      sample = describe(info.sample, info.batch, info.geometry.heads, Lq);
    } catch (const Error &e) {
      sample = std::string("invalid sample: ") + e.what();
    }
  }
  os << "sample: " << sample << " (mass and error over the sample; density "
     << "over all rows)\n";
  os << pad("chunk", 6) << pad("calls", 7) << pad("density", 9)
     << pad("budget", 9) << pad("mass", 10) << pad("mass_p10", 10)
     << pad("mass_min", 10) << pad("rel_l2", 10) << pad("cosine", 10)
     << pad("carried", 10) << pad("sel_ms", 10) << pad("attn_ms", 10)
     << pad("dense_ms", 10) << "\n";
  for (const Summary &s : acc.chunks())
    os << row(std::to_string(s.key), s, planned(info, s.key));
  const Summary t = acc.totals();
  os << row("total", t, kNaN);
  double sp = speedup(t);
  if (std::isfinite(sp))
    os << "attention: " << fixed(t.selectionMs, 2) << " ms selection + "
       << fixed(t.attentionMs, 2) << " ms sparse attention vs "
       << fixed(t.denseAttentionMs, 2) << " ms dense: " << fixed(sp, 2)
       << "x\n";
  if (!acc.carried().empty())
    os << "carried error at the end (chunk " << acc.carried().rbegin()->first
       << "): rel L2 " << sci(t.carried.relL2()) << ", cosine "
       << fixed(t.carried.cosine(), 6) << "\n";
}

} // namespace lfc::quality
