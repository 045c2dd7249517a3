// lfc::Session: the AR loop's KV cache around a PlanRunner. Layout and
// invariants: docs/session.md.
//
// Frames have positions: frame f of the video sits at position f. Chunk i
// (1-based) sees `visible` frames ending at position seen = i * C; its logical
// KV sequence is positions [a, seen) with a = seen - visible. While the window
// has not rolled, a = 0 and position x holds frame x. Once it rolls, positions
// [a, a + S) hold a copy of the S sink frames (written when the chunk starts;
// the frames that were there dropped out of the window) and [a + S, seen) the
// window's frames. A global cache stores position x in slot x. A rolling
// window stores position x in slots x mod R and x mod R + R of a 2R-slot
// buffer, R = S + W (a mirrored ring): both copies of every committed frame
// are written, so [a, seen) is one contiguous run of slots, starting at
// a mod R, and every chunk's logical KV sequence is a plain strided view that
// the kernels read without any gather. Nothing is ever moved: a chunk costs
// one extra copy of its own frames (the twin) and, once the window rolls, one
// copy of the sink frames.
#include "lfc/session.h"

#include "lfc/runtime.h"

#include <algorithm>
#include <cstdio>
#include <string>

namespace lfc {

namespace {

std::string str(int64_t v) { return std::to_string(v); }

std::string bytesText(int64_t b) {
  char buf[64];
  if (b >= (int64_t(1) << 30))
    std::snprintf(buf, sizeof buf, "%.2f GiB", double(b) / double(1 << 30));
  else if (b >= (int64_t(1) << 20))
    std::snprintf(buf, sizeof buf, "%.1f MiB", double(b) / double(1 << 20));
  else
    std::snprintf(buf, sizeof buf, "%.1f KiB", double(b) / 1024.0);
  return buf;
}

} // namespace

std::string CacheMemory::describe(int layers) const {
  std::string s = "KV cache " + bytesText(keyValueBytes) + " (" +
                  str(frameSlots) + " frame slots x " + str(layers) +
                  " layers, K and V, " +
                  (ring ? "mirrored ring + sink frames" : "linear") + ")";
  if (pooledKeyBytes)
    s += " + pooled keys " + bytesText(pooledKeyBytes);
  if (keptBlockBytes)
    s += " + kept lists " + bytesText(keptBlockBytes);
  return s;
}

struct Session::Cache {
  int64_t B = 0, H = 0, D = 0, T = 0, C = 0;
  int S = 0, W = 0; ///< sink frames; window frames (0: global)
  DType dtype = DType::BF16;
  Device device = Device::Host;
  bool ring = false;
  int64_t R = 0;     ///< ring period in frames (ring only)
  int64_t slots = 0; ///< frame slots of each K/V buffer
  struct Layer {
    std::shared_ptr<void> k, v;         ///< [B, slots * T, H, D]
    std::shared_ptr<void> sinkK, sinkV; ///< [B, S * T, H, D] (ring only)
  };
  std::vector<Layer> layers;
  // The current chunk's view.
  int64_t seen = 0;    ///< positions [0, seen) exist (seen = chunk * C)
  int64_t visible = 0; ///< frames in the logical KV sequence
  int64_t first = 0;   ///< slot of position seen - visible

  int64_t frameElems() const { return T * H * D; }
  /// `count` frames from slot `slot` of a buffer with `bufferSlots` slots.
  Tensor4 frames(void *base, int64_t bufferSlots, int64_t slot,
                 int64_t count) const {
    Tensor4 t;
    t.data = static_cast<char *>(base) +
             size_t(slot * frameElems()) * size_t(dtypeSize(dtype));
    t.dtype = dtype;
    t.device = device;
    t.batch = B;
    t.tokens = count * T;
    t.heads = H;
    t.dim = D;
    t.strideB = bufferSlots * frameElems();
    t.strideS = H * D;
    t.strideH = D;
    return t;
  }
  Tensor4 at(void *base, int64_t slot, int64_t count) const {
    return frames(base, slots, slot, count);
  }
  /// Slot of position x inside the current view.
  int64_t slotOf(int64_t x) const { return first + (x - (seen - visible)); }
  /// The other copy of a ring slot.
  int64_t twin(int64_t slot) const { return slot >= R ? slot - R : slot + R; }

  void setView(int chunk, int64_t visibleFrames) {
    seen = int64_t(chunk) * C;
    visible = visibleFrames;
    const int64_t a = seen - visible;
    first = ring ? a % R : a;
  }
};

struct Session::Timer {
  bool on = false;
  struct Call {
    int chunk = 0, pass = 0, layer = 0;
    std::unique_ptr<Backend::TimeMark> start, copied, selected, done;
  };
  std::vector<Call> pending;
  std::vector<CallTime> resolved;
  SessionTiming total;
  std::vector<std::unique_ptr<Backend::TimeMark>> cacheStart, cacheEnd;
};

Session::Session(Backend &backend, const Plan &plan, SessionOptions options)
    : backend_(backend), plan_(plan), options_(options),
      cache_(std::make_unique<Cache>()), timer_(std::make_unique<Timer>()) {
  const PlanGeometry &g = plan.geometry;
  if (options.batch < 1)
    throw Error("Session: batch must be >= 1, got " + str(options.batch));
  if (plan.chunks.empty() || int(plan.chunks.size()) != g.chunks)
    throw Error("Session: plan '" + plan.name + "' lists " +
                str(int64_t(plan.chunks.size())) + " chunks, its geometry " +
                str(g.chunks));
  if (g.passesPerChunk < 1 || g.layers < 1)
    throw Error("Session: plan '" + plan.name +
                "' needs at least one pass and one layer");
  backend.setStream(options.stream);
  Cache &c = *cache_;
  c.B = options.batch;
  c.H = g.heads;
  c.D = g.headDim;
  c.T = g.tokensPerFrame;
  c.C = g.framesPerChunk;
  c.S = g.sinkFrames;
  c.W = g.kvWindowFrames;
  c.dtype = g.dtype;
  c.device = backend.device();
  // Every chunk's visible frames must be what this cache holds.
  int64_t maxVisible = 0;
  for (const PlanChunk &pc : plan.chunks) {
    const int64_t seen = int64_t(pc.index) * c.C;
    const int64_t want =
        c.W > 0 ? std::min<int64_t>(seen, int64_t(c.S) + c.W) : seen;
    const ChunkSelection &sel = pc.selection;
    if (sel.visibleFrames != want || sel.framesPerChunk != c.C ||
        sel.tokensPerFrame != c.T)
      throw Error("Session: plan '" + plan.name + "' chunk " + str(pc.index) +
                  " sees " + str(sel.visibleFrames) + " frames of " +
                  str(sel.tokensPerFrame) + " tokens (" +
                  str(sel.framesPerChunk) +
                  " per chunk), but its geometry (kv_window_frames " +
                  str(c.W) + ", sink_frames " + str(c.S) + ") gives " +
                  str(want) + " frames of " + str(c.T) + " tokens (" +
                  str(c.C) + " per chunk); recompile the plan");
    maxVisible = std::max(maxVisible, want);
  }
  const int64_t lastSeen = int64_t(g.chunks) * c.C;
  c.ring = c.W > 0 && lastSeen > int64_t(c.S) + c.W;
  if (c.ring && c.W < c.C)
    throw Error("Session: plan '" + plan.name + "': kv_window_frames (" +
                str(c.W) + ") must hold at least one chunk (" + str(c.C) +
                " frames)");
  c.R = int64_t(c.S) + c.W;
  c.slots = c.ring ? 2 * c.R : maxVisible;
  const size_t es = size_t(dtypeSize(c.dtype));
  const size_t bufferBytes = size_t(c.B * c.slots * c.frameElems()) * es;
  const size_t sinkBytes = size_t(c.B * c.S * c.frameElems()) * es;
  c.layers.resize(size_t(g.layers));
  for (Cache::Layer &l : c.layers) {
    l.k = backend.allocate(bufferBytes);
    l.v = backend.allocate(bufferBytes);
    if (c.ring && c.S > 0) {
      l.sinkK = backend.allocate(sinkBytes);
      l.sinkV = backend.allocate(sinkBytes);
    }
  }
  runner_ = std::make_unique<PlanRunner>(backend, plan, options.batch,
                                         options.builtinKernels);
  layerPass_.assign(size_t(g.layers), -1);
  c.setView(1, plan.chunks[0].selection.visibleFrames);
}

Session::~Session() = default;

int64_t Session::chunkTokens() const {
  return int64_t(plan_.geometry.framesPerChunk) * plan_.geometry.tokensPerFrame;
}

const ChunkSelection &Session::selection() const {
  if (finished())
    throw Error("Session::selection: the session has run all " + str(chunks()) +
                " chunks");
  return plan_.chunks[size_t(chunk_ - 1)].selection;
}

void Session::beginPass(int pass) {
  if (finished())
    throw Error("Session::beginPass: the session has run all " + str(chunks()) +
                " chunks");
  if (pass != pass_ + 1 || pass >= passes())
    throw Error("Session::beginPass: pass " + str(pass) + " of chunk " +
                str(chunk_) + " is out of order; the next pass is " +
                (pass_ + 1 < passes() ? str(pass_ + 1)
                                      : std::string("none (call advance())")) +
                " of 0.." + str(passes() - 1));
  pass_ = pass;
}

void Session::checkCall(int layer, const Tensor4 &q, const Tensor4 &k,
                        const Tensor4 &v, const Tensor4 &out) const {
  // Built only for an error: this runs on every call of the loop.
  auto where = [&] {
    return "Session::attention (chunk " + str(chunk_) + ", pass " + str(pass_) +
           ", layer " + str(layer) + ")";
  };
  if (finished())
    throw Error("Session::attention: the session has run all " + str(chunks()) +
                " chunks");
  if (pass_ < 0)
    throw Error(where() + ": no pass begun; call beginPass(0) first");
  if (layer < 0 || layer >= layers())
    throw Error(where() + ": layer is outside 0.." + str(layers() - 1));
  if (layerPass_[size_t(layer)] >= pass_)
    throw Error(where() + ": this layer already ran in this pass");
  const Cache &c = *cache_;
  const int64_t lq = chunkTokens();
  const std::pair<const char *, const Tensor4 *> args[] = {
      {"q", &q}, {"k", &k}, {"v", &v}, {"out", &out}};
  for (const auto &[name, t] : args) {
    try {
      checkTensor(*t, name, c.B, lq, c.H, c.D, c.dtype, c.device);
    } catch (const Error &e) {
      throw Error(where() + ": " + e.what());
    }
  }
}

void Session::checkLayer(int layer, const char *what) const {
  if (layer < 0 || layer >= layers())
    throw Error(std::string(what) + ": layer " + str(layer) +
                " is outside 0.." + str(layers() - 1));
}

Tensor4 Session::chunkKeys(int layer) const {
  checkLayer(layer, "Session::chunkKeys");
  const Cache &c = *cache_;
  return c.at(c.layers[size_t(layer)].k.get(), c.slotOf(c.seen - c.C), c.C);
}

Tensor4 Session::chunkValues(int layer) const {
  checkLayer(layer, "Session::chunkValues");
  const Cache &c = *cache_;
  return c.at(c.layers[size_t(layer)].v.get(), c.slotOf(c.seen - c.C), c.C);
}

Tensor4 Session::keys(int layer) const {
  checkLayer(layer, "Session::keys");
  const Cache &c = *cache_;
  return c.at(c.layers[size_t(layer)].k.get(), c.first, c.visible);
}

Tensor4 Session::values(int layer) const {
  checkLayer(layer, "Session::values");
  const Cache &c = *cache_;
  return c.at(c.layers[size_t(layer)].v.get(), c.first, c.visible);
}

namespace {
bool sameView(const Tensor4 &a, const Tensor4 &b) {
  return a.data == b.data && a.strideB == b.strideB && a.strideS == b.strideS &&
         a.strideH == b.strideH;
}
} // namespace

void Session::attention(int layer, const Tensor4 &q, const Tensor4 &k,
                        const Tensor4 &v, const Tensor4 &out) {
  checkCall(layer, q, k, v, out);
  backend_.setStream(options_.stream);
  Timer &tm = *timer_;
  Timer::Call call{chunk_, pass_, layer, nullptr, nullptr, nullptr, nullptr};
  if (tm.on)
    call.start = backend_.mark();
  const Tensor4 slotK = chunkKeys(layer), slotV = chunkValues(layer);
  if (!sameView(k, slotK))
    backend_.copy(slotK, k);
  if (!sameView(v, slotV))
    backend_.copy(slotV, v);
  if (tm.on)
    call.copied = backend_.mark();
  const Tensor4 K = keys(layer), V = values(layer);
  runner_->select(chunk_, pass_, layer, q, K);
  if (tm.on)
    call.selected = backend_.mark();
  runner_->attend(chunk_, layer, q, K, V, out);
  if (tm.on) {
    call.done = backend_.mark();
    tm.pending.push_back(std::move(call));
  }
  layerPass_[size_t(layer)] = pass_;
  if (pass_ == passes() - 1)
    commitChunk(layer);
}

void Session::commitChunk(int layer) {
  Cache &c = *cache_;
  Cache::Layer &L = c.layers[size_t(layer)];
  Timer &tm = *timer_;
  if (tm.on)
    tm.cacheStart.push_back(backend_.mark());
  for (int64_t x = c.seen - c.C; x < c.seen; ++x) {
    const int64_t slot = c.slotOf(x);
    if (c.ring) {
      // Keep both copies of the mirrored ring current.
      backend_.copy(c.at(L.k.get(), c.twin(slot), 1), c.at(L.k.get(), slot, 1));
      backend_.copy(c.at(L.v.get(), c.twin(slot), 1), c.at(L.v.get(), slot, 1));
      // The sink frames' own copy, written in front of every later window.
      if (x < c.S) {
        backend_.copy(c.frames(L.sinkK.get(), c.S, x, 1),
                      c.at(L.k.get(), slot, 1));
        backend_.copy(c.frames(L.sinkV.get(), c.S, x, 1),
                      c.at(L.v.get(), slot, 1));
      }
    }
  }
  if (tm.on)
    tm.cacheEnd.push_back(backend_.mark());
  // Pooled keys of a global cache: the committed prefix grows by the chunk.
  runner_->commit(layer, keys(layer), c.visible * c.T);
}

void Session::advance() {
  if (finished())
    throw Error("Session::advance: the session has run all " + str(chunks()) +
                " chunks");
  for (int l = 0; l < layers(); ++l)
    if (layerPass_[size_t(l)] != passes() - 1)
      throw Error("Session::advance: layer " + str(l) + " of chunk " +
                  str(chunk_) + " has not run the cache-refresh pass (pass " +
                  str(passes() - 1) +
                  "), so its keys and values are not in "
                  "the cache yet");
  backend_.setStream(options_.stream);
  ++chunk_;
  pass_ = -1;
  std::fill(layerPass_.begin(), layerPass_.end(), -1);
  if (finished())
    return;
  Cache &c = *cache_;
  c.setView(chunk_, plan_.chunks[size_t(chunk_ - 1)].selection.visibleFrames);
  const bool rolled = c.visible < c.seen;
  if (!rolled || c.S == 0)
    return;
  // The window rolled: the sink frames go in front of it, over frames that
  // just left the window. Only the view's copy: every later chunk writes its
  // own sink copy again, so these positions never need their twins.
  Timer &tm = *timer_;
  if (tm.on)
    tm.cacheStart.push_back(backend_.mark());
  for (Cache::Layer &L : c.layers)
    for (int64_t j = 0; j < c.S; ++j) {
      const int64_t slot = c.first + j;
      backend_.copy(c.at(L.k.get(), slot, 1),
                    c.frames(L.sinkK.get(), c.S, j, 1));
      backend_.copy(c.at(L.v.get(), slot, 1),
                    c.frames(L.sinkV.get(), c.S, j, 1));
    }
  if (tm.on)
    tm.cacheEnd.push_back(backend_.mark());
}

const KeptBlocks *Session::kept(int layer) const {
  return selects() ? runner_->kept(layer) : nullptr;
}

bool Session::selects() const {
  return !finished() && runner_->bound().selects(chunk_);
}

CacheMemory Session::memory() const {
  const Cache &c = *cache_;
  CacheMemory m;
  m.frameSlots = c.slots;
  m.ring = c.ring;
  const int64_t es = dtypeSize(c.dtype);
  const int64_t perLayer =
      2 * c.B * (c.slots + (c.ring ? c.S : 0)) * c.frameElems() * es;
  m.keyValueBytes = perLayer * layers();
  m.pooledKeyBytes = runner_->pooledKeyBytes();
  m.keptBlockBytes = runner_->keptBlockBytes();
  return m;
}

void Session::setTiming(bool on) { timer_->on = on; }

SessionTiming Session::timing() {
  Timer &tm = *timer_;
  backend_.setStream(options_.stream);
  for (Timer::Call &c : tm.pending) {
    CallTime t{c.chunk,
               c.pass,
               c.layer,
               backend_.elapsedMs(*c.start, *c.copied),
               backend_.elapsedMs(*c.copied, *c.selected),
               backend_.elapsedMs(*c.selected, *c.done)};
    tm.total.cacheMs += t.cacheMs;
    tm.total.selectMs += t.selectMs;
    tm.total.attentionMs += t.attentionMs;
    ++tm.total.calls;
    tm.resolved.push_back(t);
  }
  tm.pending.clear();
  for (size_t i = 0; i < tm.cacheStart.size(); ++i)
    tm.total.cacheMs += backend_.elapsedMs(*tm.cacheStart[i], *tm.cacheEnd[i]);
  tm.cacheStart.clear();
  tm.cacheEnd.clear();
  return tm.total;
}

std::vector<CallTime> Session::takeCallTimes() {
  timing();
  std::vector<CallTime> out;
  out.swap(timer_->resolved);
  return out;
}

} // namespace lfc
