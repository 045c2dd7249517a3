// lfc_ar_video: a whole AR rollout of the synthetic video model
// (docs/ar_video.md), every chunk, pass and layer, dense and under a compiled
// plan side by side, with quality against dense (docs/QUALITY.md) and a report.
//
//   lfc_ar_video --plan DIR [--backend auto|cpu|cuda] [--report DIR] [--rows R]
//                [--sample-rows N] [--seed S] [--mask-layer L] [--mask-head H]
//                [--mask-chunk C] [--dump-trace DIR]
//
// Both rollouts run through lfc::Session (lfc/session.h), which owns the KV
// cache (global or rolling window with sink frames): the plan's session, and
// a dense session over the same geometry. On the CUDA backend the model runs
// on the GPU too (DeviceVideoModel) and quality is measured there.
#include "examples/ar_video/DeviceModel.h"
#include "examples/ar_video/Workload.h"
#include "lfc/executor.h"
#include "lfc/io.h"
#include "lfc/quality.h"
#include "lfc/runtime.h"
#include "lfc/session.h"
#include "lfc/static_mask.h"

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace lfc;

namespace {

[[noreturn]] void usage(const std::string &why) {
  std::fprintf(
      stderr,
      "lfc_ar_video: %s\n"
      "usage: lfc_ar_video --plan DIR [--backend auto|cpu|cuda (default "
      "auto:\n"
      "          the GPU when there is one)] [--report DIR (default "
      "ar_video_report)]\n"
      "         [--rows R (frame height in tokens; default: the divisor of\n"
      "          tokens_per_frame closest to its square root)]\n"
      "         [--sample-rows N (query rows per head evaluated against "
      "dense;\n"
      "          default 64)] [--seed S]\n"
      "         [--mask-layer L] [--mask-head H] [--mask-chunk C (heatmap; "
      "default: last chunk, layer 0, head 0)]\n"
      "         [--dump-trace DIR (write the plan rollout's q/k/v/o as a "
      "trace,\n"
      "          docs/traces.md, for lfc replay)]\n",
      why.c_str());
  std::exit(2);
}

struct Options {
  std::string plan, report = "ar_video_report", dumpTrace, backend = "auto";
  int rows = 0, sampleRows = 64, maskLayer = 0, maskHead = 0, maskChunk = 0;
  uint64_t seed = 1;
};

Options parse(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        usage(a + " wants a value");
      return argv[++i];
    };
    auto number = [&]() {
      const std::string v = value();
      char *end = nullptr;
      const long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end || n < 0 || n > 1000000)
        usage(a + " wants a non-negative integer, got '" + v + "'");
      return int(n);
    };
    if (a == "--plan")
      o.plan = value();
    else if (a == "--backend")
      o.backend = value();
    else if (a == "--report")
      o.report = value();
    else if (a == "--dump-trace")
      o.dumpTrace = value();
    else if (a == "--rows")
      o.rows = number();
    else if (a == "--sample-rows")
      o.sampleRows = number();
    else if (a == "--seed")
      o.seed = uint64_t(number());
    else if (a == "--mask-layer")
      o.maskLayer = number();
    else if (a == "--mask-head")
      o.maskHead = number();
    else if (a == "--mask-chunk")
      o.maskChunk = number();
    else if (a == "-h" || a == "--help")
      usage("help");
    else
      usage("unknown argument '" + a + "'");
  }
  if (o.plan.empty())
    usage("no plan given (--plan DIR, written by lfc compile)");
  return o;
}

double msSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - t0)
      .count();
}

/// A [1, S, H, D] (BSHD) tensor of the plan's dtype in the backend's memory.
struct Buffer {
  std::shared_ptr<void> mem;
  Tensor4 view;
  Buffer(Backend &backend, DType t, int64_t s, int64_t h, int64_t d) {
    mem = backend.allocate(size_t(s * h * d) * size_t(dtypeSize(t)));
    view = Tensor4::bshd(mem.get(), t, backend.device(), 1, s, h, d);
  }
};

/// The model's side of the two rollouts (0: the plan's, 1: dense): hidden
/// states, projections into the sessions' cache slots, residual updates.
class ModelSide {
public:
  virtual ~ModelSide() = default;
  /// Both rollouts' hidden states for (chunk, pass): the same noisy content.
  virtual void initChunk(int chunk, int pass) = 0;
  virtual void project(int which, int layer, int chunk, const Tensor4 &q,
                       const Tensor4 &k, const Tensor4 &v) = 0;
  virtual void residual(int which, int layer, const Tensor4 &o) = 0;
  /// The hidden state of rollout `which` on the host.
  virtual const std::vector<float> &hidden(int which) = 0;
};

class HostSide final : public ModelSide {
public:
  explicit HostSide(const ar::SyntheticVideoModel &m) : m_(m) {}
  void initChunk(int chunk, int pass) override {
    m_.initChunk(chunk, pass, h_[0]);
    h_[1] = h_[0];
  }
  void project(int which, int layer, int chunk, const Tensor4 &q,
               const Tensor4 &k, const Tensor4 &v) override {
    m_.project(layer, chunk, h_[which], q, k, v);
  }
  void residual(int which, int layer, const Tensor4 &o) override {
    m_.residual(layer, h_[which], o);
  }
  const std::vector<float> &hidden(int which) override { return h_[which]; }

private:
  const ar::SyntheticVideoModel &m_;
  std::vector<float> h_[2];
};

class DeviceSide final : public ModelSide {
public:
  explicit DeviceSide(const ar::SyntheticVideoModel &m)
      : d_(m), h_{d_.newHidden(), d_.newHidden()} {}
  void initChunk(int chunk, int pass) override {
    d_.initChunk(chunk, pass, h_[0]);
    d_.copy(h_[1], h_[0]);
  }
  void project(int which, int layer, int chunk, const Tensor4 &q,
               const Tensor4 &k, const Tensor4 &v) override {
    d_.project(layer, chunk, h_[which], q, k, v);
  }
  void residual(int which, int layer, const Tensor4 &o) override {
    d_.residual(layer, h_[which], o);
  }
  const std::vector<float> &hidden(int which) override {
    d_.download(h_[which], host_[which]);
    return host_[which];
  }
  void prepare(int layers) {
    for (int l = 0; l < layers; ++l)
      d_.prepareLayer(l);
  }

private:
  ar::DeviceVideoModel d_;
  ar::DeviceHidden h_[2];
  std::vector<float> host_[2];
};

/// The plan's geometry with every chunk dense: the baseline rollout.
Plan densePlan(const Plan &plan) {
  Plan d = plan;
  d.name = plan.name + " (dense)";
  d.kernels.clear();
  for (PlanChunk &c : d.chunks) {
    ChunkSelection &s = c.selection;
    s.dense = true;
    s.framesTopK = 0;
    s.sinkFrames = 0;
    s.nearFrames = 0;
    s.keptKeyBlocks = int(s.keyBlocks());
    s.staticMask = std::make_shared<StaticMask>();
    c.sparsity = 0;
  }
  return d;
}

/// The kept list of `sel` on the host: downloaded from the backend, or the
/// static mask's eligible blocks (static-only chunks on the GPU keep no list).
struct HostKeptList {
  std::vector<int32_t> idx, cnt;
  KeptBlocks view;
};
bool hostKept(Backend &backend, const ChunkSelection &sel,
              const KeptBlocks *kept, int64_t heads, HostKeptList &out) {
  if (sel.dense)
    return false;
  if (kept) {
    const int64_t rows = kept->batch * kept->heads * kept->queryBlocks;
    out.idx.resize(size_t(rows * kept->maxKept));
    out.cnt.resize(size_t(rows));
    backend.toHost(out.idx.data(), kept->idx, out.idx.size() * 4);
    backend.toHost(out.cnt.data(), kept->cnt, out.cnt.size() * 4);
    out.view = *kept;
  } else {
    // The same list for every head: the mask does not depend on the data.
    const int64_t nqb = sel.queryBlocks(), nkb = sel.keyBlocks();
    const StaticMask all;
    const StaticMask &mask = sel.staticMask ? *sel.staticMask : all;
    out.idx.assign(size_t(heads * nqb * nkb), 0);
    out.cnt.assign(size_t(heads * nqb), 0);
    for (int64_t i = 0; i < nqb; ++i) {
      const std::vector<int32_t> blocks = mask.eligibleBlocks(sel, i);
      for (int64_t h = 0; h < heads; ++h) {
        std::copy(blocks.begin(), blocks.end(),
                  out.idx.begin() + (h * nqb + i) * nkb);
        out.cnt[size_t(h * nqb + i)] = int32_t(blocks.size());
      }
    }
    out.view = {nullptr, nullptr, 1, heads, nqb, nkb};
  }
  out.view.idx = out.idx.data();
  out.view.cnt = out.cnt.data();
  return true;
}

/// A progress line: a bar on a terminal, nothing in between otherwise.
class Progress {
public:
  Progress(int64_t total, bool tty) : total_(total), tty_(tty) {}
  void step(const std::string &what, double elapsedS) {
    ++done_;
    if (!tty_)
      return;
    const int width = 30;
    const int filled = int(double(width) * double(done_) / double(total_));
    std::fprintf(stderr, "\r[%s%s] %3d%% %s (%.1f s)   ",
                 std::string(size_t(filled), '#').c_str(),
                 std::string(size_t(width - filled), '.').c_str(),
                 int(100.0 * double(done_) / double(total_)), what.c_str(),
                 elapsedS);
  }
  /// A line that stays (per chunk).
  void line(const std::string &text) {
    std::fprintf(stderr, "%s%s\n", tty_ ? "\r\033[K" : "", text.c_str());
  }

private:
  int64_t total_, done_ = 0;
  bool tty_;
};

} // namespace

int main(int argc, char **argv) try {
  const Options o = parse(argc, argv);
  const Plan plan = loadPlan(o.plan);
  const PlanGeometry &g = plan.geometry;
  auto backend = createBackend(parseBackendKind(o.backend));
  const bool onGpu = backend->device() == Device::Cuda;
  if (onGpu && !o.dumpTrace.empty())
    usage("--dump-trace writes host copies of every call's q/k/v/o and runs "
          "on the CPU backend only (add --backend cpu)");

  ar::Geometry wg;
  wg.layers = g.layers;
  wg.heads = g.heads;
  wg.headDim = g.headDim;
  wg.rows = o.rows;
  if (!wg.rows) {
    for (int r = 1; r * r <= g.tokensPerFrame; ++r)
      if (g.tokensPerFrame % r == 0)
        wg.rows = r;
  }
  if (wg.rows <= 0 || g.tokensPerFrame % wg.rows)
    usage("--rows " + std::to_string(wg.rows) + " does not divide " +
          std::to_string(g.tokensPerFrame) + " tokens per frame");
  wg.cols = g.tokensPerFrame / wg.rows;
  wg.framesPerChunk = g.framesPerChunk;
  wg.chunks = g.chunks;
  wg.passesPerChunk = g.passesPerChunk;
  wg.sinkFrames = std::max(1, g.sinkFrames);
  wg.dtype = g.dtype;
  const ar::SyntheticVideoModel model(wg, o.seed);
  std::unique_ptr<ModelSide> side;
  if (onGpu) {
    auto dev = std::make_unique<DeviceSide>(model);
    dev->prepare(g.layers);
    side = std::move(dev);
  } else {
    side = std::make_unique<HostSide>(model);
  }

  const int64_t H = g.heads, D = g.headDim;
  const int64_t lq = int64_t(g.framesPerChunk) * g.tokensPerFrame;
  const float scale = g.softmaxScale;

  // Two rollouts from the same content: the plan's, and dense attention over
  // the same KV cache geometry. Each session owns its cache.
  Session sparse(*backend, plan);
  const Plan dense = densePlan(plan);
  SessionOptions denseOptions;
  denseOptions.builtinKernels = true;
  Session base(*backend, dense, denseOptions);
  sparse.setTiming(true);
  base.setTiming(true);
  Buffer qS(*backend, g.dtype, lq, H, D), oS(*backend, g.dtype, lq, H, D);
  Buffer qD(*backend, g.dtype, lq, H, D), oD(*backend, g.dtype, lq, H, D);
  if (!o.dumpTrace.empty() && ::mkdir(o.dumpTrace.c_str(), 0777) != 0 &&
      errno != EEXIST)
    throw Error("--dump-trace: cannot create directory " + o.dumpTrace);

  quality::QualityAccumulator acc;
  const quality::Sample sample =
      quality::Sample::random(std::min<int64_t>(o.sampleRows, lq), o.seed);
  const int maskChunk = o.maskChunk ? o.maskChunk : g.chunks;
  const bool tty = isatty(fileno(stderr));
  std::fprintf(stderr,
               "lfc_ar_video: plan %s on %s, %d chunks x %d passes x %d "
               "layers, %lld tokens/frame (%d x %d), quality on %s\n"
               "lfc_ar_video: %s; the model runs on the %s\n",
               plan.name.c_str(), backend->name().c_str(), g.chunks,
               g.passesPerChunk, g.layers, (long long)g.tokensPerFrame, wg.rows,
               wg.cols, quality::describe(sample, 1, H, lq).c_str(),
               sparse.memory().describe(g.layers).c_str(),
               onGpu ? "GPU" : "CPU");
  // The dense session's built-in kernel is JIT-compiled on its first call
  // (the plan's kernels were at bind time): warm it up outside the timed loop.
  backend->attention(dense.chunks[0].selection, qD.view, base.keys(0),
                     base.values(0), nullptr, oD.view, scale);
  backend->synchronize();
  const auto start = std::chrono::steady_clock::now();
  Progress progress(int64_t(g.chunks) * g.passesPerChunk * g.layers, tty);
  struct Pending {
    int chunk, pass, layer;
    quality::CallMetrics m;
  };
  while (!sparse.finished()) {
    const int chunk = sparse.chunk();
    const ChunkSelection &sel = sparse.selection();
    const int64_t lk = sel.keyTokens();
    std::vector<Pending> calls;
    for (int pass = 0; pass < g.passesPerChunk; ++pass) {
      sparse.beginPass(pass);
      base.beginPass(pass);
      side->initChunk(chunk, pass);
      for (int l = 0; l < g.layers; ++l) {
        // The model writes k/v straight into each session's cache slot.
        const Tensor4 kS = sparse.chunkKeys(l), vS = sparse.chunkValues(l);
        const Tensor4 kD = base.chunkKeys(l), vD = base.chunkValues(l);
        side->project(0, l, chunk, qS.view, kS, vS);
        side->project(1, l, chunk, qD.view, kD, vD);
        sparse.attention(l, qS.view, kS, vS, oS.view);
        base.attention(l, qD.view, kD, vD, oD.view);
        const Tensor4 K = sparse.keys(l), V = sparse.values(l);
        const KeptBlocks *kept = sparse.kept(l);
        // Quality of this call: the kept blocks against dense attention on
        // the same (sparse-rollout) inputs.
        // (On the GPU the sampled rows run there: quality::evaluate with a
        // backend.)
        calls.push_back({chunk, pass, l,
                         quality::evaluate(*backend, sel, qS.view, K, V, kept,
                                           scale, sample)});
        if (!o.dumpTrace.empty()) {
          const TraceCall call{chunk, pass, l};
          const std::pair<char, Tensor4> parts[] = {
              {'q', qS.view}, {'k', K}, {'v', V}, {'o', oS.view}};
          for (const auto &[role, view] : parts)
            writeNpy(o.dumpTrace + "/" + traceTensorName(call, role) + ".npy",
                     toHostArray(view));
        }
        if (chunk == maskChunk && pass == 0 && l == o.maskLayer &&
            o.maskHead < H) {
          HostKeptList mk;
          const bool have = hostKept(*backend, sel, kept, H, mk);
          acc.addMask(quality::MaskSnapshot::capture(
              sel, have ? &mk.view : nullptr, 0, o.maskHead, chunk, pass, l));
        }
        side->residual(0, l, oS.view);
        side->residual(1, l, oD.view);
        progress.step(
            "chunk " + std::to_string(chunk) + "/" + std::to_string(g.chunks) +
                " pass " + std::to_string(pass + 1) + "/" +
                std::to_string(g.passesPerChunk) + " layer " +
                std::to_string(l + 1) + "/" + std::to_string(g.layers),
            msSince(start) / 1e3);
      }
    }
    // Times of this chunk's calls (CUDA events on the GPU; one wait per
    // chunk), then the records.
    const std::vector<CallTime> ts = sparse.takeCallTimes();
    const std::vector<CallTime> td = base.takeCallTimes();
    for (size_t i = 0; i < calls.size(); ++i) {
      const double sel_ = i < ts.size() ? ts[i].selectMs : quality::kNaN;
      const double att = i < ts.size() ? ts[i].attentionMs : quality::kNaN;
      const double den = i < td.size() ? td[i].attentionMs : quality::kNaN;
      acc.add(calls[i].chunk, calls[i].pass, calls[i].layer, calls[i].m, sel_,
              att, den);
    }
    // The error carried to the end of the chunk: the last layer's output
    // hidden state of the refresh pass, sparse vs dense.
    const std::vector<float> &hS = side->hidden(0);
    const std::vector<float> &hD = side->hidden(1);
    acc.carry(chunk, hS.data(), hD.data(), int64_t(hS.size()));
    const quality::Summary s = acc.chunks().back();
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "chunk %d/%d: %lld keys, density %.3f, mass %.4f, rel L2 "
                  "%.2e, carried %.2e; select %.1f ms + attention %.1f ms "
                  "vs dense %.1f ms (%.1f s)",
                  chunk, g.chunks, (long long)lk, s.density, s.mass.mean,
                  s.error.relL2(), s.carried.relL2(), s.selectionMs,
                  s.attentionMs, s.denseAttentionMs, msSince(start) / 1e3);
    progress.line(buf);
    sparse.advance();
    base.advance();
  }

  if (!o.dumpTrace.empty()) {
    std::ofstream json(o.dumpTrace + "/trace.json");
    json << "{\n  \"format\": \"lfc-trace\", \"version\": 1, \"dtype\": \""
         << (g.dtype == DType::BF16 ? "bf16" : "f16")
         << "\",\n  \"batch\": 1, \"heads\": " << g.heads
         << ", \"head_dim\": " << g.headDim
         << ",\n  \"tokens_per_frame\": " << g.tokensPerFrame
         << ", \"frames_per_chunk\": " << g.framesPerChunk
         << ", \"chunks\": " << g.chunks
         << ",\n  \"passes_per_chunk\": " << g.passesPerChunk
         << ", \"layers\": " << g.layers
         << ", \"kv_window_frames\": " << g.kvWindowFrames
         << ", \"sink_frames\": " << g.sinkFrames
         << ",\n  \"recorded\": {\"outputs\": true},\n  \"model\": "
            "\"lfc_ar_video synthetic model, seed "
         << o.seed << ", plan " << plan.name << "\"\n}\n";
    if (!json)
      throw Error("--dump-trace: cannot write " + o.dumpTrace + "/trace.json");
  }
  const quality::ReportInfo info =
      quality::reportInfo(plan, backend->name(), sample);
  const std::vector<std::string> files =
      quality::writeReport(o.report, info, acc);
  quality::printSummary(std::cout, info, acc);
  std::printf("times: %s\n",
              onGpu ? "CUDA events around each call's selection and attention"
                    : "host wall clock around each call");
  std::printf("report: %s/report.json (+ %zu pictures)\n", o.report.c_str(),
              files.size() - 1);
  return 0;
} catch (const std::exception &e) {
  std::fprintf(stderr, "lfc_ar_video: %s\n", e.what());
  return 1;
}
