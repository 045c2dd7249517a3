// lfc_rollout_bench: the attention of a whole AR rollout (every chunk, pass and
// layer of a compiled plan) through lfc::Session on the GPU, timed with CUDA
// events per pass, eagerly and with each denoising pass of all layers replayed
// as a CUDA Graph. Attention only (no model): each chunk's keys, values and
// queries are random bf16, written into the session's cache slots before the
// chunk; what is timed is exactly the session's work (selection, attention,
// cache copies). docs/PERFORMANCE.md, "The AR loop at full size".
//
//   lfc_rollout_bench --plan DIR [--mode eager|graph|both] [--json FILE]
//
// Graph mode: per chunk, pass 0 runs eagerly (it allocates whatever scratch
// the chunk's geometry needs and warms up), pass 1 is captured on the
// session's stream into a graph of all layers' calls and launched, passes
// 2 .. P-2 relaunch that graph, and the cache-refresh pass runs eagerly (it
// commits the chunk). A plan whose refresh is per_chunk selects only in pass
// 0, so passes 1 .. P-2 do identical work in both modes. No host
// synchronization inside a chunk in either mode.
#include "lfc/runtime.h"
#include "lfc/session.h"
#include "runtime/cuda/Driver.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

using namespace lfc;

namespace {

[[noreturn]] void usage(const std::string &why) {
  std::fprintf(stderr,
               "lfc_rollout_bench: %s\n"
               "usage: lfc_rollout_bench --plan DIR [--mode eager|graph|both "
               "(default both)]\n"
               "                         [--json FILE (per-chunk times)]\n",
               why.c_str());
  std::exit(2);
}

struct Stream {
  CUstream s = nullptr;
  Stream() {
    cuda::check(cuda::driver().cuStreamCreate(&s, CU_STREAM_NON_BLOCKING),
                "cuStreamCreate");
  }
  ~Stream() { cuda::driver().cuStreamDestroy_v2(s); }
};

struct Event {
  CUevent e = nullptr;
  Event() {
    cuda::check(cuda::driver().cuEventCreate(&e, CU_EVENT_DEFAULT),
                "cuEventCreate");
  }
  ~Event() { cuda::driver().cuEventDestroy_v2(e); }
  Event(const Event &) = delete;
  Event &operator=(const Event &) = delete;
};

/// Random bf16 bits of N(0, 1)-ish values from a 32-bit LCG.
void fillRandom(std::vector<uint16_t> &v, uint32_t seed) {
  uint32_t s = seed * 2654435761u + 1u;
  for (uint16_t &x : v) {
    s = s * 1664525u + 1013904223u;
    // Sum of two uniforms, centered: a cheap bell shape in [-1, 1).
    const float u =
        (float(s >> 8) + float((s * 747796405u) >> 8)) / float(1u << 24) - 1.0f;
    uint32_t bits;
    std::memcpy(&bits, &u, 4);
    x = uint16_t(bits >> 16);
  }
}

struct ChunkTimes {
  int chunk = 0;
  int64_t keys = 0;
  std::vector<double> passMs; ///< per pass, CUDA events
  double hostMs = 0;          ///< host time to enqueue the chunk's passes
};

std::vector<ChunkTimes> rollout(Backend &gpu, const Plan &plan, bool graph) {
  const PlanGeometry &g = plan.geometry;
  Stream stream;
  SessionOptions opts;
  opts.stream = stream.s;
  Session s(gpu, plan, opts);
  const auto &api = cuda::driver();
  const int64_t lq = s.chunkTokens(), H = g.heads, D = g.headDim;
  const size_t elems = size_t(lq * H * D);
  auto q = gpu.allocate(elems * 2), out = gpu.allocate(elems * 2);
  const Tensor4 qv = Tensor4::bshd(q.get(), g.dtype, Device::Cuda, 1, lq, H, D);
  const Tensor4 ov =
      Tensor4::bshd(out.get(), g.dtype, Device::Cuda, 1, lq, H, D);
  std::vector<uint16_t> host(elems);
  std::vector<ChunkTimes> times;
  std::vector<Event> marks(size_t(g.passesPerChunk) + 1);
  while (!s.finished()) {
    const int chunk = s.chunk();
    // The chunk's inputs (outside the timed region; fromHost orders them
    // before the chunk's work on the session's stream).
    gpu.setStream(stream.s);
    fillRandom(host, uint32_t(chunk * 7919));
    gpu.fromHost(q.get(), host.data(), elems * 2);
    for (int l = 0; l < g.layers; ++l) {
      fillRandom(host, uint32_t(chunk * 131 + l * 2 + 1));
      gpu.fromHost(s.chunkKeys(l).data, host.data(), elems * 2);
      fillRandom(host, uint32_t(chunk * 131 + l * 2 + 2));
      gpu.fromHost(s.chunkValues(l).data, host.data(), elems * 2);
    }
    ChunkTimes t;
    t.chunk = chunk;
    t.keys = s.selection().keyTokens();
    const auto h0 = std::chrono::steady_clock::now();
    CUgraphExec exec = nullptr;
    for (int pass = 0; pass < s.passes(); ++pass) {
      s.beginPass(pass);
      cuda::check(api.cuEventRecord(marks[size_t(pass)].e, stream.s),
                  "cuEventRecord");
      const bool replay =
          graph && pass >= 1 && pass < s.passes() - 1 && s.passes() > 2;
      if (replay && !exec) {
        CUgraph captured = nullptr;
        cuda::check(api.cuStreamBeginCapture_v2(stream.s,
                                                CU_STREAM_CAPTURE_MODE_RELAXED),
                    "cuStreamBeginCapture");
        for (int l = 0; l < g.layers; ++l)
          s.attention(l, qv, s.chunkKeys(l), s.chunkValues(l), ov);
        cuda::check(api.cuStreamEndCapture(stream.s, &captured),
                    "cuStreamEndCapture",
                    "capturing pass " + std::to_string(pass) + " of chunk " +
                        std::to_string(chunk));
        cuda::check(api.cuGraphInstantiateWithFlags(&exec, captured, 0),
                    "cuGraphInstantiateWithFlags");
        api.cuGraphDestroy(captured);
      }
      if (replay) {
        cuda::check(api.cuGraphLaunch(exec, stream.s), "cuGraphLaunch");
      } else {
        for (int l = 0; l < g.layers; ++l)
          s.attention(l, qv, s.chunkKeys(l), s.chunkValues(l), ov);
      }
    }
    cuda::check(api.cuEventRecord(marks.back().e, stream.s), "cuEventRecord");
    t.hostMs = std::chrono::duration<double, std::milli>(
                   std::chrono::steady_clock::now() - h0)
                   .count();
    cuda::check(api.cuEventSynchronize(marks.back().e), "cuEventSynchronize");
    for (int pass = 0; pass < s.passes(); ++pass) {
      float ms = 0;
      cuda::check(api.cuEventElapsedTime_v2(&ms, marks[size_t(pass)].e,
                                            marks[size_t(pass) + 1].e),
                  "cuEventElapsedTime");
      t.passMs.push_back(ms);
    }
    if (exec)
      api.cuGraphExecDestroy(exec);
    times.push_back(t);
    s.advance();
  }
  gpu.setStream(nullptr);
  return times;
}

double sum(const std::vector<double> &v) {
  double s = 0;
  for (double x : v)
    s += x;
  return s;
}

} // namespace

int main(int argc, char **argv) try {
  std::string planDir, mode = "both", json;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        usage(a + " wants a value");
      return argv[++i];
    };
    if (a == "--plan")
      planDir = value();
    else if (a == "--mode")
      mode = value();
    else if (a == "--json")
      json = value();
    else if (a == "-h" || a == "--help")
      usage("help");
    else
      usage("unknown argument '" + a + "'");
  }
  if (planDir.empty())
    usage("no plan given (--plan DIR, written by lfc compile)");
  if (mode != "eager" && mode != "graph" && mode != "both")
    usage("--mode must be eager, graph or both, got '" + mode + "'");
  const Plan plan = loadPlan(planDir);
  auto gpu = createBackend(BackendKind::Cuda);
  const PlanGeometry &g = plan.geometry;
  std::printf("lfc_rollout_bench: plan %s on %s: %d chunks x %d passes x %d "
              "layers, %d heads x %d, %d tokens/frame\n",
              plan.name.c_str(), gpu->name().c_str(), g.chunks,
              g.passesPerChunk, g.layers, g.heads, g.headDim, g.tokensPerFrame);
  std::vector<std::pair<std::string, std::vector<ChunkTimes>>> runs;
  // A first eager rollout warms every kernel and allocation up; the timed
  // runs follow.
  rollout(*gpu, plan, false);
  if (mode != "graph")
    runs.emplace_back("eager", rollout(*gpu, plan, false));
  if (mode != "eager")
    runs.emplace_back("graph", rollout(*gpu, plan, true));

  std::printf("\n| chunk | keys |");
  for (const auto &r : runs)
    std::printf(" %s ms (all passes) | %s ms / denoising pass | %s host ms |",
                r.first.c_str(), r.first.c_str(), r.first.c_str());
  std::printf("\n| ---: | ---: |");
  for (size_t i = 0; i < runs.size(); ++i)
    std::printf(" ---: | ---: | ---: |");
  std::printf("\n");
  const size_t n = runs.front().second.size();
  for (size_t c = 0; c < n; ++c) {
    std::printf("| %d | %lld |", runs.front().second[c].chunk,
                (long long)runs.front().second[c].keys);
    for (const auto &r : runs) {
      const ChunkTimes &t = r.second[c];
      // Passes 1 .. P-2: the ones graph mode replays.
      double mid = 0;
      int nmid = 0;
      for (size_t p = 1; p + 1 < t.passMs.size(); ++p, ++nmid)
        mid += t.passMs[p];
      std::printf(" %.2f | %.3f | %.2f |", sum(t.passMs),
                  nmid ? mid / nmid : 0.0, t.hostMs);
    }
    std::printf("\n");
  }
  std::printf("| total | |");
  for (const auto &r : runs) {
    double all = 0, host = 0;
    for (const ChunkTimes &t : r.second) {
      all += sum(t.passMs);
      host += t.hostMs;
    }
    std::printf(" %.2f | | %.2f |", all, host);
  }
  std::printf("\n");
  for (const auto &r : runs) {
    double all = 0;
    for (const ChunkTimes &t : r.second)
      all += sum(t.passMs);
    std::printf("%s: rollout attention %.1f ms (%d calls)\n", r.first.c_str(),
                all, g.chunks * g.passesPerChunk * g.layers);
  }
  if (!json.empty()) {
    std::ofstream f(json);
    f << "{\"plan\": \"" << plan.name << "\", \"runs\": {";
    for (size_t i = 0; i < runs.size(); ++i) {
      f << (i ? ", " : "") << "\"" << runs[i].first << "\": [";
      for (size_t c = 0; c < runs[i].second.size(); ++c) {
        const ChunkTimes &t = runs[i].second[c];
        f << (c ? ", " : "") << "{\"chunk\": " << t.chunk
          << ", \"keys\": " << t.keys << ", \"host_ms\": " << t.hostMs
          << ", \"pass_ms\": [";
        for (size_t p = 0; p < t.passMs.size(); ++p)
          f << (p ? ", " : "") << t.passMs[p];
        f << "]}";
      }
      f << "]";
    }
    f << "}}\n";
    if (!f)
      throw Error("--json: cannot write " + json);
  }
  return 0;
} catch (const std::exception &e) {
  std::fprintf(stderr, "lfc_rollout_bench: %s\n", e.what());
  return 1;
}
