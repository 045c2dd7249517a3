// lfc_ar_video: a whole AR rollout of the synthetic video model
// (docs/ar_video.md), every chunk, pass and layer, dense and under a compiled
// plan side by side, with quality against dense (docs/QUALITY.md) and a report.
//
//   lfc_ar_video --plan DIR [--report DIR] [--rows R] [--sample-rows N]
//                [--seed S] [--mask-layer L] [--mask-head H] [--mask-chunk C]
//                [--dump-trace DIR]
//
// This first version runs on the CPU backend with a global KV cache; the GPU
// path and rolling windows come with the session API (issue 5).
#include "examples/ar_video/Workload.h"
#include "lfc/executor.h"
#include "lfc/io.h"
#include "lfc/quality.h"
#include "lfc/runtime.h"

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
      "usage: lfc_ar_video --plan DIR [--report DIR (default "
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
  std::string plan, report = "ar_video_report", dumpTrace;
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

/// A host tensor [1, S, H, D] (BSHD) of the plan's dtype.
struct HostTensor {
  std::vector<uint16_t> data;
  Tensor4 view;
  HostTensor(DType t, int64_t s, int64_t h, int64_t d)
      : data(size_t(s * h * d)) {
    view = Tensor4::bshd(data.data(), t, Device::Host, 1, s, h, d);
  }
  Tensor4 rows(int64_t begin, int64_t count) const {
    Tensor4 v = view;
    v.data = static_cast<uint16_t *>(v.data) + begin * v.strideS;
    v.tokens = count;
    return v;
  }
};

double msSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - t0)
      .count();
}

} // namespace

int main(int argc, char **argv) try {
  const Options o = parse(argc, argv);
  const Plan plan = loadPlan(o.plan);
  const PlanGeometry &g = plan.geometry;
  if (g.kvWindowFrames > 0)
    throw Error(o.plan + ": a rolling KV window (kv_window_frames " +
                std::to_string(g.kvWindowFrames) +
                ") needs the session's KV cache, which lfc_ar_video does not "
                "have yet; use a plan with a global cache");
  auto backend = createCpuBackend();

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

  const int64_t H = g.heads, D = g.headDim;
  const int64_t lq = int64_t(g.framesPerChunk) * g.tokensPerFrame;
  const int64_t maxLk = plan.chunks.back().selection.keyTokens();
  const float scale = g.softmaxScale;

  // Two rollouts from the same content: dense attention, and the plan's.
  PlanRunner run(*backend, plan, 1);
  std::vector<HostTensor> kS, vS, kD, vD;
  for (int l = 0; l < g.layers; ++l) {
    kS.emplace_back(g.dtype, maxLk, H, D);
    vS.emplace_back(g.dtype, maxLk, H, D);
    kD.emplace_back(g.dtype, maxLk, H, D);
    vD.emplace_back(g.dtype, maxLk, H, D);
  }
  HostTensor qS(g.dtype, lq, H, D), oS(g.dtype, lq, H, D);
  HostTensor qD(g.dtype, lq, H, D), oD(g.dtype, lq, H, D);
  std::vector<float> hS, hD;
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
               "layers, %lld tokens/frame (%d x %d), quality on %s\n",
               plan.name.c_str(), backend->name().c_str(), g.chunks,
               g.passesPerChunk, g.layers, (long long)g.tokensPerFrame, wg.rows,
               wg.cols, quality::describe(sample, 1, H, lq).c_str());
  const auto start = std::chrono::steady_clock::now();
  for (const PlanChunk &c : plan.chunks) {
    const ChunkSelection &sel = c.selection;
    ChunkSelection dense = sel;
    dense.dense = true;
    dense.staticMask = nullptr;
    dense.keptKeyBlocks = int(sel.keyBlocks());
    const int64_t lk = sel.keyTokens(), first = lk - lq;
    for (int pass = 0; pass < g.passesPerChunk; ++pass) {
      model.initChunk(c.index, pass, hS);
      hD = hS;
      for (int l = 0; l < g.layers; ++l) {
        const size_t L = size_t(l);
        model.project(l, c.index, hS, qS.view, kS[L].rows(first, lq),
                      vS[L].rows(first, lq));
        model.project(l, c.index, hD, qD.view, kD[L].rows(first, lq),
                      vD[L].rows(first, lq));
        const Tensor4 ks = kS[L].rows(0, lk), vs = vS[L].rows(0, lk);
        auto t0 = std::chrono::steady_clock::now();
        run.attention(c.index, pass, l, qS.view, ks, vs, oS.view);
        const double sparseMs = msSince(t0);
        t0 = std::chrono::steady_clock::now();
        backend->attention(dense, qD.view, kD[L].rows(0, lk), vD[L].rows(0, lk),
                           nullptr, oD.view, scale);
        const double denseMs = msSince(t0);
        const KeptBlocks *kept =
            run.bound().selects(c.index) ? run.kept(l) : nullptr;
        // Quality of this call: the kept blocks against dense attention on
        // the same (sparse-rollout) inputs.
        const quality::CallMetrics m =
            quality::evaluate(sel, qS.view, ks, vs, kept, scale, sample);
        acc.add(c.index, pass, l, m, quality::kNaN, sparseMs, denseMs);
        if (!o.dumpTrace.empty()) {
          const TraceCall call{c.index, pass, l};
          const std::pair<char, Tensor4> parts[] = {
              {'q', qS.view}, {'k', ks}, {'v', vs}, {'o', oS.view}};
          for (const auto &[role, view] : parts)
            writeNpy(o.dumpTrace + "/" + traceTensorName(call, role) + ".npy",
                     toHostArray(view));
        }
        if (c.index == maskChunk && pass == 0 && l == o.maskLayer &&
            o.maskHead < H)
          acc.addMask(quality::MaskSnapshot::capture(sel, kept, 0, o.maskHead,
                                                     c.index, pass, l));
        model.residual(l, hS, oS.view);
        model.residual(l, hD, oD.view);
      }
    }
    // The refresh pass left the chunk's clean keys in the cache.
    for (int l = 0; l < g.layers; ++l)
      run.commit(l, kS[size_t(l)].rows(0, lk), lk);
    // The error carried to the end of the chunk: the last layer's output
    // hidden state of the refresh pass, sparse vs dense.
    acc.carry(c.index, hS.data(), hD.data(), int64_t(hS.size()));
    const quality::Summary s = acc.chunks().back();
    std::fprintf(stderr,
                 "%schunk %d/%d: density %.3f, mass %.4f, rel L2 %.2e, "
                 "carried %.2e (%.1f s)%s",
                 tty ? "\r" : "", c.index, g.chunks, s.density, s.mass.mean,
                 s.error.relL2(), s.carried.relL2(), msSince(start) / 1e3,
                 tty && c.index < g.chunks ? "   " : "\n");
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
  std::printf("report: %s/report.json (+ %zu pictures)\n", o.report.c_str(),
              files.size() - 1);
  return 0;
} catch (const std::exception &e) {
  std::fprintf(stderr, "lfc_ar_video: %s\n", e.what());
  return 1;
}
