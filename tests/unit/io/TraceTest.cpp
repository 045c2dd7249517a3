// TraceReader on small generated traces in every layout (.npy directory,
// .safetensors shards, one .safetensors file): exactly the bits written come
// back as BSHD host views; geometry, recorded subsets, and every error
// (missing and unexpected tensors, shapes, dtypes, trace.json) with its
// message.
#include "IoTestUtil.h"

#include <algorithm>
#include <utility>

namespace lfc {
namespace {

using iotest::expectError;
namespace fs = std::filesystem;

// The test's own geometry and trace.json writer (independent of the reader).
struct Geo {
  int64_t batch = 1, heads = 2, dim = 8, tpf = 4, fpc = 2, chunks = 3,
          passes = 2, layers = 3, window = 0, sink = 0;
  DType dtype = DType::BF16;
  std::string dtypeName = "bf16";
  // Visible frames of chunk c (docs/policy-format.md), written out again.
  int64_t visible(int c) const {
    int64_t f = c * fpc;
    return window > 0 ? std::min(f, sink + window) : f;
  }
  std::vector<int64_t> shape(int c, char role) const {
    int64_t tokens =
        (role == 'k' || role == 'v') ? visible(c) * tpf : fpc * tpf;
    return {batch, tokens, heads, dim};
  }
};

using Fields = std::vector<std::pair<std::string, std::string>>;

Fields traceFields(const Geo &g) {
  return {{"format", "\"lfc-trace\""},
          {"version", "1"},
          {"dtype", "\"" + g.dtypeName + "\""},
          {"batch", std::to_string(g.batch)},
          {"heads", std::to_string(g.heads)},
          {"head_dim", std::to_string(g.dim)},
          {"tokens_per_frame", std::to_string(g.tpf)},
          {"frames_per_chunk", std::to_string(g.fpc)},
          {"chunks", std::to_string(g.chunks)},
          {"passes_per_chunk", std::to_string(g.passes)},
          {"layers", std::to_string(g.layers)},
          {"kv_window_frames", std::to_string(g.window)},
          {"sink_frames", std::to_string(g.sink)}};
}

std::string jsonText(const Fields &fields) {
  std::string s = "{\n";
  for (size_t i = 0; i < fields.size(); ++i)
    s += "  \"" + fields[i].first + "\": " + fields[i].second +
         (i + 1 < fields.size() ? ",\n" : "\n");
  return s + "}\n";
}

Fields with(Fields f, const std::string &key, const std::string &value) {
  for (auto &kv : f)
    if (kv.first == key) {
      kv.second = value;
      return f;
    }
  f.emplace_back(key, value);
  return f;
}

Fields without(Fields f, const std::string &key) {
  f.erase(std::remove_if(f.begin(), f.end(),
                         [&](const auto &kv) { return kv.first == key; }),
          f.end());
  return f;
}

std::string name(int c, int p, int l, char role) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "c%03d_p%02d_l%03d_%c", c, p, l, role);
  return buf;
}

// Deterministic contents: random bits seeded by (chunk, pass, layer, role).
HostArray content(const Geo &g, int c, int p, int l, char role) {
  return iotest::randomArray(g.dtype, g.shape(c, role),
                             uint32_t(((c * 100 + p) * 1000 + l) * 256 + role));
}

struct Selection {
  std::vector<int> chunks, passes, layers;
  bool outputs = false;
};

Selection all(const Geo &g, bool outputs = false) {
  Selection s;
  for (int c = 1; c <= g.chunks; ++c)
    s.chunks.push_back(c);
  for (int p = 0; p < g.passes; ++p)
    s.passes.push_back(p);
  for (int l = 0; l < g.layers; ++l)
    s.layers.push_back(l);
  s.outputs = outputs;
  return s;
}

std::vector<char> roles(const Selection &s) {
  std::vector<char> r = {'q', 'k', 'v'};
  if (s.outputs)
    r.push_back('o');
  return r;
}

void writeNpyTrace(const fs::path &dir, const Geo &g, const Selection &s,
                   const std::string &json) {
  fs::create_directories(dir);
  iotest::writeBytes((dir / "trace.json").string(), json);
  for (int c : s.chunks)
    for (int p : s.passes)
      for (int l : s.layers)
        for (char r : roles(s))
          writeNpy((dir / (name(c, p, l, r) + ".npy")).string(),
                   content(g, c, p, l, r));
}

// One shard per chunk.
void writeShardTrace(const fs::path &dir, const Geo &g, const Selection &s,
                     const std::string &json) {
  fs::create_directories(dir);
  iotest::writeBytes((dir / "trace.json").string(), json);
  for (int c : s.chunks) {
    std::map<std::string, HostArray> ts;
    for (int p : s.passes)
      for (int l : s.layers)
        for (char r : roles(s))
          ts[name(c, p, l, r)] = content(g, c, p, l, r);
    char file[64];
    std::snprintf(file, sizeof file, "trace-%05d.safetensors", c);
    writeSafetensors((dir / file).string(), ts);
  }
}

void writeSingleFileTrace(const std::string &path, const Geo &g,
                          const Selection &s, const std::string &json) {
  std::map<std::string, HostArray> ts;
  for (int c : s.chunks)
    for (int p : s.passes)
      for (int l : s.layers)
        for (char r : roles(s))
          ts[name(c, p, l, r)] = content(g, c, p, l, r);
  writeSafetensors(path, ts, {{"lfc_trace", json}, {"format", "pt"}});
}

std::string recordedJson(const Selection &s) {
  auto list = [](const std::vector<int> &v) {
    std::string t = "[";
    for (size_t i = 0; i < v.size(); ++i)
      t += (i ? ", " : "") + std::to_string(v[i]);
    return t + "]";
  };
  return "{\"chunks\": " + list(s.chunks) + ", \"passes\": " + list(s.passes) +
         ", \"layers\": " + list(s.layers) +
         ", \"outputs\": " + (s.outputs ? "true" : "false") + "}";
}

// Every call of `s` comes back with exactly the bits written, as BSHD views.
void expectTraceHolds(const TraceReader &r, const Geo &g, const Selection &s) {
  std::vector<TraceCall> want;
  for (int c : s.chunks)
    for (int p : s.passes)
      for (int l : s.layers)
        want.push_back({c, p, l});
  ASSERT_EQ(r.calls(), want);
  EXPECT_EQ(r.chunks(), s.chunks);
  EXPECT_EQ(r.passes(), s.passes);
  EXPECT_EQ(r.layers(), s.layers);
  EXPECT_EQ(r.hasOutputs(), s.outputs);
  for (const TraceCall &call : want) {
    SCOPED_TRACE(name(call.chunk, call.pass, call.layer, '*'));
    EXPECT_TRUE(r.contains(call));
    TraceTensors t = r.load(call);
    EXPECT_EQ(t.call, call);
    EXPECT_EQ(t.q.bytes,
              content(g, call.chunk, call.pass, call.layer, 'q').bytes);
    EXPECT_EQ(t.k.bytes,
              content(g, call.chunk, call.pass, call.layer, 'k').bytes);
    EXPECT_EQ(t.v.bytes,
              content(g, call.chunk, call.pass, call.layer, 'v').bytes);
    EXPECT_EQ(t.hasOutput, s.outputs);
    if (s.outputs) {
      EXPECT_EQ(t.o.bytes,
                content(g, call.chunk, call.pass, call.layer, 'o').bytes);
    }
    Tensor4 q = t.qView(), k = t.kView(), v = t.vView();
    EXPECT_EQ(q.data, t.q.bytes.data());
    EXPECT_EQ(q.dtype, g.dtype);
    EXPECT_EQ(q.tokens, g.fpc * g.tpf);
    EXPECT_EQ(k.tokens, g.visible(call.chunk) * g.tpf);
    EXPECT_EQ(v.tokens, k.tokens);
    EXPECT_EQ(k.heads, g.heads);
    EXPECT_EQ(k.dim, g.dim);
    EXPECT_EQ(k.strideS, g.heads * g.dim);
    EXPECT_EQ(k.strideH, g.dim);
    EXPECT_EQ(k.strideB, k.tokens * g.heads * g.dim);
    if (s.outputs) {
      EXPECT_EQ(t.oView().data, t.o.bytes.data());
    } else {
      expectError([&] { t.oView(); }, {"records no outputs"});
    }
  }
}

void expectGeometry(const TraceGeometry &tg, const Geo &g) {
  EXPECT_EQ(tg.dtype, g.dtype);
  EXPECT_EQ(tg.batch, g.batch);
  EXPECT_EQ(tg.heads, g.heads);
  EXPECT_EQ(tg.headDim, g.dim);
  EXPECT_EQ(tg.tokensPerFrame, g.tpf);
  EXPECT_EQ(tg.framesPerChunk, g.fpc);
  EXPECT_EQ(tg.chunks, g.chunks);
  EXPECT_EQ(tg.passesPerChunk, g.passes);
  EXPECT_EQ(tg.layers, g.layers);
  EXPECT_EQ(tg.kvWindowFrames, g.window);
  EXPECT_EQ(tg.sinkFrames, g.sink);
  for (int c = 1; c <= g.chunks; ++c)
    EXPECT_EQ(tg.visibleFrames(c), g.visible(c));
}

TEST(TraceNames, CanonicalForm) {
  EXPECT_EQ(traceTensorName({1, 0, 0}, 'q'), "c001_p00_l000_q");
  EXPECT_EQ(traceTensorName({12, 3, 29}, 'o'), "c012_p03_l029_o");
  EXPECT_EQ(traceTensorName({1234, 100, 1000}, 'k'), "c1234_p100_l1000_k");
  TraceCall c;
  char r = 0;
  ASSERT_TRUE(parseTraceTensorName("c007_p04_l029_v", c, r));
  EXPECT_EQ(c, (TraceCall{7, 4, 29}));
  EXPECT_EQ(r, 'v');
  ASSERT_TRUE(parseTraceTensorName("c1234_p100_l1000_k", c, r));
  EXPECT_EQ(c, (TraceCall{1234, 100, 1000}));
  for (const char *bad : {"c1_p0_l0_q", "c0001_p00_l000_q", "c001_p000_l000_q",
                          "c001_p00_l000_x", "c001_p00_l000_qq",
                          "c001_p00_l000", "C001_p00_l000_q", "c001-p00-l000-q",
                          "c99999999999_p00_l000_q", "c001_p00_l000_q.npy", ""})
    EXPECT_FALSE(parseTraceTensorName(bad, c, r)) << bad;
}

TEST(Trace, NpyDirectoryReturnsExactBits) {
  iotest::TempDir tmp;
  Geo g;
  Selection s = all(g);
  writeNpyTrace(tmp.path(), g, s, jsonText(traceFields(g)));
  TraceReader r(tmp.path().string());
  EXPECT_EQ(r.layout(), "npy");
  EXPECT_EQ(r.path(), tmp.path().string());
  expectGeometry(r.geometry(), g);
  expectTraceHolds(r, g, s);
  // The reader moves.
  TraceReader moved = std::move(r);
  EXPECT_EQ(moved.calls().size(), size_t(3 * 2 * 3));
}

TEST(Trace, SafetensorsShardsWithOutputs) {
  iotest::TempDir tmp;
  Geo g;
  g.dtype = DType::F16;
  g.dtypeName = "f16";
  g.batch = 2;
  Selection s = all(g, /*outputs=*/true);
  writeShardTrace(
      tmp.path(), g, s,
      jsonText(with(traceFields(g), "recorded", "{\"outputs\": true}")));
  TraceReader r(tmp.path().string());
  EXPECT_EQ(r.layout(), "safetensors");
  expectGeometry(r.geometry(), g);
  expectTraceHolds(r, g, s);
}

TEST(Trace, SingleSafetensorsFileWithASubset) {
  iotest::TempDir tmp;
  Geo g;
  g.dtype = DType::F32;
  g.dtypeName = "f32";
  g.layers = 30;
  g.passes = 5;
  Selection s;
  s.chunks = {1, 3};
  s.passes = {4};
  s.layers = {0, 10, 20};
  const std::string path = tmp.file("t.safetensors");
  writeSingleFileTrace(
      path, g, s,
      jsonText(with(with(traceFields(g), "recorded", recordedJson(s)), "model",
                    "\"toy\"")));
  TraceReader r(path);
  EXPECT_EQ(r.layout(), "safetensors-file");
  expectTraceHolds(r, g, s);
  EXPECT_FALSE(r.contains({2, 4, 0}));
  EXPECT_FALSE(r.contains({1, 4, 5}));
  expectError(
      [&] {
        r.load({1, 3, 10});
      },
      {path + ": (chunk 1, pass 3, layer 10) is not in the trace, "
              "which records chunks [1, 3], passes [4], layers [0, "
              "10, 20]"});
}

TEST(Trace, RollingWindowShapes) {
  iotest::TempDir tmp;
  Geo g;
  g.chunks = 4;
  g.window = 4;
  g.sink = 1;
  g.layers = 1;
  g.passes = 1;
  // Visible frames: min(c * 2, 1 + 4) = 2, 4, 5, 5.
  EXPECT_EQ(g.visible(3), 5);
  Selection s = all(g);
  writeNpyTrace(tmp.path(), g, s, jsonText(traceFields(g)));
  TraceReader r(tmp.path().string());
  EXPECT_EQ(r.geometry().visibleFrames(1), 2);
  EXPECT_EQ(r.geometry().visibleFrames(2), 4);
  EXPECT_EQ(r.geometry().visibleFrames(3), 5);
  EXPECT_EQ(r.geometry().visibleFrames(4), 5);
  EXPECT_EQ(r.geometry().keyTokens(4), 20);
  EXPECT_EQ(r.geometry().queryTokens(), 8);
  expectTraceHolds(r, g, s);
}

TEST(TraceErrors, MissingTensorsListedExactly) {
  iotest::TempDir tmp;
  Geo g;
  writeNpyTrace(tmp.path(), g, all(g), jsonText(traceFields(g)));
  fs::remove(tmp.path() / "c001_p00_l001_k.npy");
  fs::remove(tmp.path() / "c002_p01_l002_v.npy");
  expectError([&] { TraceReader r(tmp.path().string()); },
              {tmp.path().string() +
               " (npy trace): 2 tensors missing: c001_p00_l001_k, "
               "c002_p01_l002_v; trace.json records chunks [1, 2, 3], "
               "passes [0, 1], layers [0, 1, 2], without outputs "
               "(docs/traces.md)"});
  // Every v: 18 missing, the first 10 in AR order listed.
  for (int c = 1; c <= 3; ++c)
    for (int p = 0; p < 2; ++p)
      for (int l = 0; l < 3; ++l)
        fs::remove(tmp.path() / (name(c, p, l, 'v') + ".npy"));
  expectError([&] { TraceReader r(tmp.path().string()); },
              {"19 tensors missing: c001_p00_l000_v, c001_p00_l001_k, "
               "c001_p00_l001_v, c001_p00_l002_v, c001_p01_l000_v, "
               "c001_p01_l001_v, c001_p01_l002_v, c002_p00_l000_v, "
               "c002_p00_l001_v, c002_p00_l002_v, ... and 9 more;"});
}

TEST(TraceErrors, MissingOutputsAndSubsetLayers) {
  iotest::TempDir tmp;
  Geo g;
  Selection s = all(g);
  s.layers = {0, 2};
  // trace.json says every layer and outputs; files hold layers 0 and 2, no o.
  writeShardTrace(
      tmp.path(), g, s,
      jsonText(with(traceFields(g), "recorded", "{\"outputs\": true}")));
  expectError([&] { TraceReader r(tmp.path().string()); },
              {"(safetensors trace): 36 tensors missing: c001_p00_l000_o, "
               "c001_p00_l001_q, c001_p00_l001_k, c001_p00_l001_v, "
               "c001_p00_l001_o, c001_p00_l002_o,",
               "c001_p01_l000_o, c001_p01_l001_q, c001_p01_l001_k, "
               "c001_p01_l001_v, ... and 26 more;",
               "with outputs"});
}

TEST(TraceErrors, UnexpectedTensors) {
  iotest::TempDir tmp;
  Geo g;
  Selection s = all(g);
  s.layers = {1};
  writeNpyTrace(
      tmp.path(), g, s,
      jsonText(with(traceFields(g), "recorded", "{\"layers\": [1]}")));
  const HostArray q = content(g, 1, 0, 0, 'q');
  writeNpy((tmp.path() / "c004_p00_l001_q.npy").string(), q);
  writeNpy((tmp.path() / "c1_p0_l1_q.npy").string(), q);
  writeNpy((tmp.path() / "c001_p00_l000_q.npy").string(), q);
  writeNpy((tmp.path() / "c001_p02_l001_q.npy").string(), q);
  writeNpy((tmp.path() / "c001_p00_l003_q.npy").string(), q);
  writeNpy((tmp.path() / "c001_p00_l001_o.npy").string(), q);
  iotest::writeBytes((tmp.path() / "README.txt").string(), "ignored");
  expectError([&] { TraceReader r(tmp.path().string()); },
              {"6 unexpected tensors: c001_p00_l000_q (not in trace.json's "
               "recorded chunks/passes/layers), c001_p00_l001_o (an output, "
               "but recorded.outputs is false), c001_p00_l003_q (layer 3 "
               "outside 0..2), c001_p02_l001_q (pass 2 outside 0..1), "
               "c004_p00_l001_q (chunk 4 outside 1..3), c1_p0_l1_q (not a "
               "trace tensor name c{chunk:03d}_p{pass:02d}_l{layer:03d}_"
               "{q|k|v|o});"});
}

TEST(TraceErrors, ShapeAndDtype) {
  iotest::TempDir tmp;
  Geo g;
  writeNpyTrace(tmp.path(), g, all(g), jsonText(traceFields(g)));
  const std::string k = (tmp.path() / "c002_p00_l000_k.npy").string();
  writeNpy(k, HostArray::zeros(DType::BF16, {1, 12, 2, 8}));
  expectError([&] { TraceReader r(tmp.path().string()); },
              {k + ": shape [1, 12, 2, 8], expected [1, 16, 2, 8] = [batch, "
                   "visible frames 4 * tokens_per_frame 4, heads, head_dim] "
                   "for chunk 2"});
  writeNpy(k, content(g, 2, 0, 0, 'k'));
  const std::string q = (tmp.path() / "c003_p01_l002_q.npy").string();
  writeNpy(q, HostArray::zeros(DType::BF16, {1, 8, 2, 4}));
  expectError([&] { TraceReader r(tmp.path().string()); },
              {q + ": shape [1, 8, 2, 4], expected [1, 8, 2, 8] = [batch, "
                   "frames_per_chunk 2 * tokens_per_frame 4, heads, "
                   "head_dim] for chunk 3"});
  writeNpy(q, HostArray::zeros(DType::F16, {1, 8, 2, 8}));
  expectError([&] { TraceReader r(tmp.path().string()); },
              {q + ": dtype fp16, expected bf16 (trace.json dtype; in .npy "
                   "files bf16 is stored as '<u2' bit patterns)"});
  // A malformed .npy file is reported as such when the trace opens.
  iotest::writeBytes(q, "garbage!garbage!");
  expectError([&] { TraceReader r(tmp.path().string()); }, {q + ": bad magic"});
}

TEST(TraceErrors, SafetensorsShapeDuplicateAndMixedLayouts) {
  iotest::TempDir tmp;
  Geo g;
  g.chunks = 1;
  g.layers = 1;
  g.passes = 1;
  writeShardTrace(tmp.path(), g, all(g), jsonText(traceFields(g)));
  const std::string shard = (tmp.path() / "trace-00001.safetensors").string();
  std::map<std::string, HostArray> bad;
  bad["c001_p00_l000_q"] = HostArray::zeros(DType::BF16, {1, 8, 2, 8});
  writeSafetensors(tmp.file("z.safetensors"), bad);
  expectError([&] { TraceReader r(tmp.path().string()); },
              {"tensor \"c001_p00_l000_q\" appears in both " + shard + " and " +
               tmp.file("z.safetensors") +
               " (each tensor must be stored once)"});
  fs::remove(tmp.file("z.safetensors"));
  bad["c001_p00_l000_q"] = HostArray::zeros(DType::BF16, {1, 8, 2, 8});
  bad["c001_p00_l000_k"] = HostArray::zeros(DType::BF16, {1, 4, 2, 8});
  bad["c001_p00_l000_v"] = HostArray::zeros(DType::BF16, {1, 8, 2, 8});
  writeSafetensors(shard, bad);
  expectError([&] { TraceReader r(tmp.path().string()); },
              {shard + ": tensor \"c001_p00_l000_k\": shape [1, 4, 2, 8], "
                       "expected [1, 8, 2, 8]"});
  writeNpy(tmp.file("c001_p00_l000_o.npy"), bad["c001_p00_l000_q"]);
  expectError([&] { TraceReader r(tmp.path().string()); },
              {"holds both .npy files (1) and .safetensors shards (1); a "
               "trace directory uses one layout"});
}

TEST(TraceErrors, TraceJson) {
  iotest::TempDir tmp;
  Geo g;
  g.chunks = 1;
  g.layers = 1;
  g.passes = 1;
  const fs::path dir = tmp.path() / "t";
  writeNpyTrace(dir, g, all(g), jsonText(traceFields(g)));
  EXPECT_NO_THROW(TraceReader(dir.string()));
  const std::string json = (dir / "trace.json").string();
  auto check = [&](const std::string &text,
                   std::initializer_list<std::string> parts) {
    iotest::writeBytes(json, text);
    expectError([&] { TraceReader r(dir.string()); }, parts);
  };
  const Fields f = traceFields(g);
  check("{\"format\": \"lfc-trace\",}", {json + ": JSON error at line 1"});
  check("[]", {json + ": expected a JSON object, got array"});
  check(jsonText(with(f, "haeds", "2")),
        {json + ": \"haeds\": unknown key (expected one of: format, version, "
                "dtype, batch, heads,",
         "line 15, column 12"});
  check(jsonText(without(f, "tokens_per_frame")),
        {json + ": missing required key \"tokens_per_frame\""});
  check(jsonText(with(f, "format", "\"npy\"")),
        {"format: must be \"lfc-trace\", got \"npy\""});
  check(jsonText(with(f, "version", "2")),
        {"version: must be an integer in [1, 1], got 2"});
  check(jsonText(with(f, "dtype", "\"fp16\"")),
        {"dtype: must be \"bf16\", \"f16\" or \"f32\", got \"fp16\""});
  check(jsonText(with(f, "heads", "0")),
        {"heads: must be an integer in [1, 2147483647], got 0"});
  check(jsonText(with(f, "heads", "2.0")), {"heads: must be an integer"});
  check(jsonText(with(f, "kv_window_frames", "1")),
        {"kv_window_frames: must be 0 (global KV cache) or >= "
         "frames_per_chunk (2), got 1"});
  check(jsonText(with(with(f, "kv_window_frames", "4"), "sink_frames", "5")),
        {"sink_frames: must be at most kv_window_frames (4), got 5"});
  check(jsonText(with(f, "sink_frames", "1")),
        {"sink_frames: with a global cache, must be at most the past frames "
         "of the last chunk ((chunks - 1) * frames_per_chunk = 0), got 1"});
  check(jsonText(with(f, "model", "3")), {"model: must be a string"});
  check(jsonText(with(f, "recorded", "[]")),
        {"recorded: must be an object with optional keys chunks, passes, "
         "layers, outputs, got array"});
  check(jsonText(with(f, "recorded", "{\"layer\": [0]}")),
        {"recorded.layer: unknown key"});
  check(jsonText(with(f, "recorded", "{\"layers\": []}")),
        {"recorded.layers: must be a non-empty array of integers in [0, 0]"});
  check(jsonText(with(f, "recorded", "{\"layers\": [1]}")),
        {"recorded.layers: must be an integer in [0, 0], got 1"});
  check(jsonText(with(with(f, "chunks", "5"), "recorded",
                      "{\"chunks\": [1, 3, 3]}")),
        {"recorded.chunks: must be strictly ascending, got 3 after 3"});
  check(jsonText(with(f, "recorded", "{\"outputs\": 1}")),
        {"recorded.outputs: must be true or false, got 1"});
  check(jsonText(with(with(f, "chunks", "2000"), "passes_per_chunk", "1000")),
        {"recorded: recorded chunks x passes x layers exceeds the limit of "
         "1048576 calls"});
  check(jsonText(with(f, "tokens_per_frame", "2000000000")),
        {"tokens_per_frame: the longest KV sequence (2 frames * "
         "tokens_per_frame) must fit in int32"});
  fs::remove(json);
  expectError([&] { TraceReader r(dir.string()); }, {json + ": no such file"});
}

TEST(TraceErrors, PathsAndSingleFile) {
  iotest::TempDir tmp;
  expectError([&] { TraceReader r(tmp.file("none")); },
              {tmp.file("none") + ": no such trace (expected a directory "
                                  "holding trace.json, or a .safetensors "
                                  "file; docs/traces.md)"});
  iotest::writeBytes(tmp.file("x.npy"), "x");
  expectError([&] { TraceReader r(tmp.file("x.npy")); },
              {"not a trace: expected a directory holding trace.json, or a "
               ".safetensors file"});
  std::map<std::string, HostArray> ts;
  writeSafetensors(tmp.file("m.safetensors"), ts, {{"format", "pt"}});
  expectError([&] { TraceReader r(tmp.file("m.safetensors")); },
              {"m.safetensors: a single-file trace must hold trace.json's "
               "text in __metadata__ \"lfc_trace\""});
  writeSafetensors(tmp.file("m.safetensors"), ts, {{"lfc_trace", "{}"}});
  expectError([&] { TraceReader r(tmp.file("m.safetensors")); },
              {"m.safetensors: __metadata__ \"lfc_trace\": missing required "
               "key \"format\""});
}

} // namespace
} // namespace lfc
