// Traces of Q/K/V tensors (docs/traces.md, normative): trace.json, the tensor
// naming scheme, and TraceReader, which validates a whole trace when it opens
// it (geometry, names present against the recorded sets, dtypes and shapes)
// and reads one call's tensors on demand.
#include "runtime/io/Bytes.h"
#include "runtime/io/Json.h"

#include <algorithm>
#include <filesystem>
#include <limits>
#include <optional>

namespace fs = std::filesystem;

namespace lfc {

using namespace io_detail;

namespace {

constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
/// Most calls (recorded chunks x passes x layers) a trace may declare.
constexpr int64_t kMaxCalls = int64_t(1) << 20;
/// Names listed in one error message, per list.
constexpr size_t kMaxListed = 10;
/// The __metadata__ key of a single-file trace that holds trace.json's text.
const char kMetadataKey[] = "lfc_trace";

const char *const kTopKeys[] = {"format",
                                "version",
                                "dtype",
                                "batch",
                                "heads",
                                "head_dim",
                                "tokens_per_frame",
                                "frames_per_chunk",
                                "chunks",
                                "passes_per_chunk",
                                "layers",
                                "kv_window_frames",
                                "sink_frames",
                                "recorded",
                                "model",
                                "extra"};

std::string allowedTopKeys() {
  std::string s;
  for (const char *k : kTopKeys)
    s += std::string(s.empty() ? "" : ", ") + k;
  return s;
}

std::string intList(const std::vector<int> &v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i == 16) {
      s += ", ... (" + std::to_string(v.size()) + " in all)";
      break;
    }
    s += (i ? ", " : "") + std::to_string(v[i]);
  }
  return s + "]";
}

// Reads trace.json's fields with errors "<what>: <key>: ... (line, column)".
class JsonFields {
public:
  JsonFields(const JsonValue &obj, const std::string &text,
             const std::string &what)
      : obj_(obj), text_(text), what_(what) {}

  [[noreturn]] void fail(const std::string &key, const JsonValue *v,
                         const std::string &msg) const {
    throw Error(what_ + ": " + key + ": " + msg +
                (v ? " (at " + jsonLocation(text_, v->offset) + ")" : ""));
  }
  const JsonValue &require(const std::string &key) const {
    const JsonValue *v = obj_.find(key);
    if (!v)
      throw Error(what_ + ": missing required key \"" + key +
                  "\" (docs/traces.md lists the schema)");
    return *v;
  }
  static std::string shown(const JsonValue &v) {
    if (v.kind == JsonValue::Kind::Number)
      return v.text;
    if (v.kind == JsonValue::Kind::String)
      return jsonQuote(v.text);
    return JsonValue::kindName(v.kind);
  }
  int64_t integer(const std::string &key, const JsonValue &v, int64_t lo,
                  int64_t hi) const {
    uint64_t u = 0;
    if (!v.asUint(u) || u > uint64_t(hi) || int64_t(u) < lo)
      fail(key, &v,
           "must be an integer in [" + std::to_string(lo) + ", " +
               std::to_string(hi) + "], got " + shown(v));
    return int64_t(u);
  }
  int64_t integer(const std::string &key, int64_t lo, int64_t hi) const {
    return integer(key, require(key), lo, hi);
  }

private:
  const JsonValue &obj_;
  const std::string &text_;
  const std::string &what_;
};

struct Recorded {
  std::vector<int> chunks, passes, layers;
  bool outputs = false;
};

// Parses trace.json's text; `what` names it in errors.
void parseTraceJson(const std::string &text, const std::string &what,
                    TraceGeometry &g, Recorded &rec) {
  const JsonValue root = parseJson(text, what);
  if (root.kind != JsonValue::Kind::Object)
    throw Error(what + ": expected a JSON object, got " +
                JsonValue::kindName(root.kind));
  JsonFields f(root, text, what);
  for (const auto &m : root.members) {
    bool known = false;
    for (const char *k : kTopKeys)
      known = known || m.first == k;
    if (!known)
      f.fail(jsonQuote(m.first), &m.second,
             "unknown key (expected one of: " + allowedTopKeys() + ")");
  }
  const JsonValue &format = f.require("format");
  if (format.kind != JsonValue::Kind::String || format.text != "lfc-trace")
    f.fail("format", &format,
           "must be \"lfc-trace\", got " + JsonFields::shown(format));
  f.integer("version", 1, 1);
  const JsonValue &dt = f.require("dtype");
  if (dt.kind == JsonValue::Kind::String && dt.text == "bf16")
    g.dtype = DType::BF16;
  else if (dt.kind == JsonValue::Kind::String && dt.text == "f16")
    g.dtype = DType::F16;
  else if (dt.kind == JsonValue::Kind::String && dt.text == "f32")
    g.dtype = DType::F32;
  else
    f.fail("dtype", &dt,
           "must be \"bf16\", \"f16\" or \"f32\", got " +
               JsonFields::shown(dt));
  g.batch = f.integer("batch", 1, kInt32Max);
  g.heads = f.integer("heads", 1, kInt32Max);
  g.headDim = f.integer("head_dim", 1, kInt32Max);
  g.tokensPerFrame = f.integer("tokens_per_frame", 1, kInt32Max);
  g.framesPerChunk = f.integer("frames_per_chunk", 1, kInt32Max);
  g.chunks = f.integer("chunks", 1, kInt32Max);
  g.passesPerChunk = f.integer("passes_per_chunk", 1, kInt32Max);
  g.layers = f.integer("layers", 1, kInt32Max);
  const JsonValue &win = f.require("kv_window_frames");
  g.kvWindowFrames = f.integer("kv_window_frames", win, 0, kInt32Max);
  if (g.kvWindowFrames != 0 && g.kvWindowFrames < g.framesPerChunk)
    f.fail("kv_window_frames", &win,
           "must be 0 (global KV cache) or >= frames_per_chunk (" +
               std::to_string(g.framesPerChunk) + "), got " +
               std::to_string(g.kvWindowFrames));
  const JsonValue &sink = f.require("sink_frames");
  g.sinkFrames = f.integer("sink_frames", sink, 0, kInt32Max);
  if (g.kvWindowFrames != 0 && g.sinkFrames > g.kvWindowFrames)
    f.fail("sink_frames", &sink,
           "must be at most kv_window_frames (" +
               std::to_string(g.kvWindowFrames) + "), got " +
               std::to_string(g.sinkFrames));
  if (g.kvWindowFrames == 0 && g.sinkFrames > (g.chunks - 1) * g.framesPerChunk)
    f.fail("sink_frames", &sink,
           "with a global cache, must be at most the past frames of the last "
           "chunk ((chunks - 1) * frames_per_chunk = " +
               std::to_string((g.chunks - 1) * g.framesPerChunk) + "), got " +
               std::to_string(g.sinkFrames));
  if (g.chunks * g.framesPerChunk > kInt32Max)
    f.fail("chunks", nullptr,
           "chunks * frames_per_chunk must fit in int32, got " +
               std::to_string(g.chunks * g.framesPerChunk));
  if (g.visibleFrames(int(g.chunks)) * g.tokensPerFrame > kInt32Max)
    f.fail("tokens_per_frame", nullptr,
           "the longest KV sequence (" +
               std::to_string(g.visibleFrames(int(g.chunks))) +
               " frames * tokens_per_frame) must fit in int32");
  if (g.heads * g.headDim > kInt32Max)
    f.fail("head_dim", nullptr, "heads * head_dim must fit in int32");
  if (const JsonValue *m = root.find("model");
      m && m->kind != JsonValue::Kind::String)
    f.fail("model", m, "must be a string, got " + JsonFields::shown(*m));

  // recorded: {chunks, passes, layers, outputs}, each optional.
  const JsonValue *r = root.find("recorded");
  if (r && r->kind != JsonValue::Kind::Object)
    f.fail("recorded", r,
           "must be an object with optional keys chunks, passes, layers, "
           "outputs, got " +
               JsonFields::shown(*r));
  JsonValue empty;
  empty.kind = JsonValue::Kind::Object;
  const JsonValue &ro = r ? *r : empty;
  for (const auto &m : ro.members)
    if (m.first != "chunks" && m.first != "passes" && m.first != "layers" &&
        m.first != "outputs")
      f.fail("recorded." + m.first, &m.second,
             "unknown key (expected chunks, passes, layers, outputs)");
  auto list = [&](const char *key, int64_t lo, int64_t hi) {
    std::vector<int> out;
    const JsonValue *v = ro.find(key);
    const std::string k = std::string("recorded.") + key;
    if (!v) {
      if (hi - lo + 1 > kMaxCalls)
        f.fail(k, nullptr,
               "absent (all " + std::to_string(hi - lo + 1) +
                   " recorded), which exceeds the limit of " +
                   std::to_string(kMaxCalls) + " calls");
      for (int64_t i = lo; i <= hi; ++i)
        out.push_back(int(i));
      return out;
    }
    if (v->kind != JsonValue::Kind::Array || v->items.empty())
      f.fail(k, v,
             "must be a non-empty array of integers in [" + std::to_string(lo) +
                 ", " + std::to_string(hi) + "], got " + JsonFields::shown(*v));
    for (const JsonValue &e : v->items) {
      int64_t x = f.integer(k, e, lo, hi);
      if (!out.empty() && x <= out.back())
        f.fail(k, &e,
               "must be strictly ascending, got " + std::to_string(x) +
                   " after " + std::to_string(out.back()));
      out.push_back(int(x));
    }
    return out;
  };
  rec.chunks = list("chunks", 1, g.chunks);
  rec.passes = list("passes", 0, g.passesPerChunk - 1);
  rec.layers = list("layers", 0, g.layers - 1);
  int64_t calls = int64_t(rec.chunks.size());
  if (!mulOk(calls, int64_t(rec.passes.size()), calls) ||
      !mulOk(calls, int64_t(rec.layers.size()), calls) || calls > kMaxCalls)
    f.fail("recorded", r,
           "recorded chunks x passes x layers exceeds the limit of " +
               std::to_string(kMaxCalls) + " calls");
  if (const JsonValue *o = ro.find("outputs")) {
    if (o->kind != JsonValue::Kind::Bool)
      f.fail("recorded.outputs", o,
             "must be true or false, got " + JsonFields::shown(*o));
    rec.outputs = o->boolean;
  }
}

std::string listNames(const std::vector<std::string> &names) {
  std::string s;
  for (size_t i = 0; i < names.size() && i < kMaxListed; ++i)
    s += (i ? ", " : "") + names[i];
  if (names.size() > kMaxListed)
    s += ", ... and " + std::to_string(names.size() - kMaxListed) + " more";
  return s;
}

bool endsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Parses `width`+ digits at s[pos..]: canonical (no extra leading zeros),
// <= int32 max.
bool parseField(const std::string &s, size_t &pos, size_t width, int &out) {
  size_t start = pos;
  while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9')
    ++pos;
  size_t n = pos - start;
  if (n < width || n > 10)
    return false;
  if (n > width && s[start] == '0')
    return false;
  int64_t v = 0;
  for (size_t i = start; i < pos; ++i)
    v = v * 10 + (s[i] - '0');
  if (v > kInt32Max)
    return false;
  out = int(v);
  return true;
}

} // namespace

int64_t TraceGeometry::visibleFrames(int chunk) const {
  int64_t f = int64_t(chunk) * framesPerChunk;
  if (kvWindowFrames > 0)
    f = std::min(f, sinkFrames + kvWindowFrames);
  return f;
}

bool TraceCall::operator<(const TraceCall &o) const {
  if (chunk != o.chunk)
    return chunk < o.chunk;
  if (pass != o.pass)
    return pass < o.pass;
  return layer < o.layer;
}

std::string traceTensorName(const TraceCall &call, char role) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "c%03d_p%02d_l%03d_%c", call.chunk, call.pass,
                call.layer, role);
  return buf;
}

bool parseTraceTensorName(const std::string &name, TraceCall &call,
                          char &role) {
  size_t pos = 0;
  TraceCall c;
  auto lit = [&](const char *s) {
    size_t n = std::char_traits<char>::length(s);
    if (name.compare(pos, n, s) != 0)
      return false;
    pos += n;
    return true;
  };
  if (!lit("c") || !parseField(name, pos, 3, c.chunk) || !lit("_p") ||
      !parseField(name, pos, 2, c.pass) || !lit("_l") ||
      !parseField(name, pos, 3, c.layer) || !lit("_"))
    return false;
  if (pos + 1 != name.size())
    return false;
  char r = name[pos];
  if (r != 'q' && r != 'k' && r != 'v' && r != 'o')
    return false;
  call = c;
  role = r;
  return true;
}

Tensor4 TraceTensors::oView() const {
  if (!hasOutput)
    throw Error("trace call " + traceTensorName(call, 'o') +
                ": the trace records no outputs (trace.json "
                "recorded.outputs is false)");
  return bshdView(o, "o");
}

struct TraceReader::Impl {
  struct Loc {
    int shard = -1;   ///< index into shards, or -1: an .npy file
    std::string file; ///< the .npy path or the shard's name
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    std::string where(const std::string &name) const {
      return shard < 0 ? file : file + ": tensor \"" + name + "\"";
    }
  };
  std::string path, layout;
  TraceGeometry geom;
  Recorded rec;
  std::vector<TraceCall> calls;
  std::vector<SafetensorsFile> shards;
  std::map<std::string, Loc> tensors;

  void open();
  void addShard(SafetensorsFile f);
  void validateNames();
  void validateTensors() const;
  std::vector<int64_t> expectedShape(int chunk, char role) const;
  HostArray read(const std::string &name) const;
};

void TraceReader::Impl::addShard(SafetensorsFile f) {
  const int idx = int(shards.size());
  for (const std::string &n : f.names()) {
    const SafetensorsEntry &e = f.entry(n);
    auto [it, fresh] = tensors.emplace(n, Loc{idx, f.name(), e.dtype, e.shape});
    if (!fresh)
      throw Error(path + ": tensor \"" + n + "\" appears in both " +
                  it->second.file + " and " + f.name() +
                  " (each tensor must be stored once)");
  }
  shards.push_back(std::move(f));
}

void TraceReader::Impl::open() {
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st))
    throw Error(path + ": no such trace (expected a directory holding "
                       "trace.json, or a .safetensors file; docs/traces.md)");
  if (fs::is_regular_file(st)) {
    if (!endsWith(path, ".safetensors"))
      throw Error(path + ": not a trace: expected a directory holding "
                         "trace.json, or a .safetensors file");
    layout = "safetensors-file";
    SafetensorsFile f = SafetensorsFile::open(path);
    auto it = f.metadata().find(kMetadataKey);
    if (it == f.metadata().end())
      throw Error(path +
                  ": a single-file trace must hold trace.json's text "
                  "in __metadata__ \"" +
                  std::string(kMetadataKey) +
                  "\" (docs/traces.md); this file has none");
    parseTraceJson(it->second, path + ": __metadata__ \"" + kMetadataKey + "\"",
                   geom, rec);
    addShard(std::move(f));
  } else if (fs::is_directory(st)) {
    const fs::path json = fs::path(path) / "trace.json";
    std::string text;
    {
      auto src = fileSource(json.string());
      if (src->size() > (64u << 20))
        throw Error(json.string() + ": larger than 64 MiB; not a trace.json");
      text = src->readString(0, src->size());
    }
    parseTraceJson(text, json.string(), geom, rec);
    std::vector<std::string> npys, sts;
    for (const auto &de : fs::directory_iterator(path)) {
      if (!de.is_regular_file())
        continue;
      const std::string fn = de.path().filename().string();
      if (endsWith(fn, ".npy"))
        npys.push_back(de.path().string());
      else if (endsWith(fn, ".safetensors"))
        sts.push_back(de.path().string());
    }
    std::sort(npys.begin(), npys.end());
    std::sort(sts.begin(), sts.end());
    if (!npys.empty() && !sts.empty())
      throw Error(path + ": holds both .npy files (" +
                  std::to_string(npys.size()) + ") and .safetensors shards (" +
                  std::to_string(sts.size()) +
                  "); a trace directory uses one layout (docs/traces.md)");
    layout = sts.empty() ? "npy" : "safetensors";
    for (const std::string &s : sts)
      addShard(SafetensorsFile::open(s));
    for (const std::string &p : npys) {
      NpyHeader h = readNpyHeader(p);
      std::string stem = fs::path(p).filename().string();
      stem.resize(stem.size() - 4);
      tensors.emplace(stem, Loc{-1, p, h.dtype, h.shape});
    }
  } else {
    throw Error(path + ": not a trace: expected a directory holding "
                       "trace.json, or a .safetensors file");
  }
  for (int c : rec.chunks)
    for (int p : rec.passes)
      for (int l : rec.layers)
        calls.push_back({c, p, l});
  validateNames();
  validateTensors();
}

void TraceReader::Impl::validateNames() {
  std::vector<std::string> unexpected;
  size_t valid = 0;
  auto in = [](const std::vector<int> &v, int x) {
    return std::binary_search(v.begin(), v.end(), x);
  };
  for (const auto &kv : tensors) {
    TraceCall c;
    char role;
    std::string why;
    if (!parseTraceTensorName(kv.first, c, role))
      why = "not a trace tensor name c{chunk:03d}_p{pass:02d}_l{layer:03d}_"
            "{q|k|v|o}";
    else if (c.chunk < 1 || c.chunk > geom.chunks)
      why = "chunk " + std::to_string(c.chunk) + " outside 1.." +
            std::to_string(geom.chunks);
    else if (c.pass >= geom.passesPerChunk)
      why = "pass " + std::to_string(c.pass) + " outside 0.." +
            std::to_string(geom.passesPerChunk - 1);
    else if (c.layer >= geom.layers)
      why = "layer " + std::to_string(c.layer) + " outside 0.." +
            std::to_string(geom.layers - 1);
    else if (!in(rec.chunks, c.chunk) || !in(rec.passes, c.pass) ||
             !in(rec.layers, c.layer))
      why = "not in trace.json's recorded chunks/passes/layers";
    else if (role == 'o' && !rec.outputs)
      why = "an output, but recorded.outputs is false";
    if (why.empty())
      ++valid;
    else
      unexpected.push_back(kv.first + " (" + why + ")");
  }
  const size_t perCall = rec.outputs ? 4 : 3;
  const size_t expected = calls.size() * perCall;
  std::vector<std::string> missing;
  if (valid < expected) {
    const char roles[] = {'q', 'k', 'v', 'o'};
    for (const TraceCall &c : calls) {
      for (size_t r = 0; r < perCall && missing.size() < kMaxListed; ++r) {
        std::string n = traceTensorName(c, roles[r]);
        if (!tensors.count(n))
          missing.push_back(n);
      }
      if (missing.size() == kMaxListed)
        break;
    }
  }
  if (missing.empty() && unexpected.empty())
    return;
  std::string msg = path + " (" + layout + " trace):";
  if (valid < expected) {
    const size_t n = expected - valid;
    msg += " " + std::to_string(n) + " tensor" + (n == 1 ? "" : "s") +
           " missing: ";
    for (size_t i = 0; i < missing.size(); ++i)
      msg += (i ? ", " : "") + missing[i];
    if (n > missing.size())
      msg += ", ... and " + std::to_string(n - missing.size()) + " more";
    msg += ";";
  }
  if (!unexpected.empty())
    msg += " " + std::to_string(unexpected.size()) + " unexpected tensor" +
           (unexpected.size() == 1 ? "" : "s") + ": " + listNames(unexpected) +
           ";";
  msg += " trace.json records chunks " + intList(rec.chunks) + ", passes " +
         intList(rec.passes) + ", layers " + intList(rec.layers) +
         (rec.outputs ? ", with outputs" : ", without outputs") +
         " (docs/traces.md)";
  throw Error(msg);
}

std::vector<int64_t> TraceReader::Impl::expectedShape(int chunk,
                                                      char role) const {
  const int64_t tokens =
      (role == 'k' || role == 'v') ? geom.keyTokens(chunk) : geom.queryTokens();
  return {geom.batch, tokens, geom.heads, geom.headDim};
}

void TraceReader::Impl::validateTensors() const {
  for (const auto &[name, loc] : tensors) {
    TraceCall c;
    char role;
    parseTraceTensorName(name, c, role);
    if (loc.dtype != geom.dtype)
      throw Error(loc.where(name) + ": dtype " + dtypeName(loc.dtype) +
                  ", expected " + dtypeName(geom.dtype) +
                  " (trace.json dtype; in .npy files bf16 is stored as '<u2' "
                  "bit patterns)");
    const std::vector<int64_t> want = expectedShape(c.chunk, role);
    if (loc.shape != want) {
      const bool kv = role == 'k' || role == 'v';
      throw Error(
          loc.where(name) + ": shape " + shapeString(loc.shape) +
          ", expected " + shapeString(want) + " = [batch, " +
          (kv ? "visible frames " + std::to_string(geom.visibleFrames(c.chunk))
              : "frames_per_chunk " + std::to_string(geom.framesPerChunk)) +
          " * tokens_per_frame " + std::to_string(geom.tokensPerFrame) +
          ", heads, head_dim] for chunk " + std::to_string(c.chunk));
    }
  }
}

HostArray TraceReader::Impl::read(const std::string &name) const {
  const Loc &loc = tensors.at(name);
  HostArray a =
      loc.shard >= 0 ? shards[size_t(loc.shard)].get(name) : readNpy(loc.file);
  if (a.dtype != loc.dtype || a.shape != loc.shape)
    throw Error(loc.where(name) +
                ": changed after the trace was opened "
                "(now " +
                dtypeName(a.dtype) + " " + shapeString(a.shape) + ")");
  return a;
}

TraceReader::TraceReader(const std::string &path)
    : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  impl_->open();
}
TraceReader::TraceReader(TraceReader &&) noexcept = default;
TraceReader &TraceReader::operator=(TraceReader &&) noexcept = default;
TraceReader::~TraceReader() = default;

const std::string &TraceReader::path() const { return impl_->path; }
const std::string &TraceReader::layout() const { return impl_->layout; }
const TraceGeometry &TraceReader::geometry() const { return impl_->geom; }
const std::vector<int> &TraceReader::chunks() const {
  return impl_->rec.chunks;
}
const std::vector<int> &TraceReader::passes() const {
  return impl_->rec.passes;
}
const std::vector<int> &TraceReader::layers() const {
  return impl_->rec.layers;
}
const std::vector<TraceCall> &TraceReader::calls() const {
  return impl_->calls;
}
bool TraceReader::hasOutputs() const { return impl_->rec.outputs; }

bool TraceReader::contains(const TraceCall &call) const {
  return std::binary_search(impl_->calls.begin(), impl_->calls.end(), call);
}

TraceTensors TraceReader::load(const TraceCall &call) const {
  if (!contains(call))
    throw Error(
        impl_->path + ": (chunk " + std::to_string(call.chunk) + ", pass " +
        std::to_string(call.pass) + ", layer " + std::to_string(call.layer) +
        ") is not in the trace, which records chunks " +
        intList(impl_->rec.chunks) + ", passes " + intList(impl_->rec.passes) +
        ", layers " + intList(impl_->rec.layers));
  TraceTensors t;
  t.call = call;
  t.q = impl_->read(traceTensorName(call, 'q'));
  t.k = impl_->read(traceTensorName(call, 'k'));
  t.v = impl_->read(traceTensorName(call, 'v'));
  t.hasOutput = impl_->rec.outputs;
  if (t.hasOutput)
    t.o = impl_->read(traceTensorName(call, 'o'));
  return t;
}

} // namespace lfc
