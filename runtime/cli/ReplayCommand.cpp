// `lfc replay TRACE --plan PLAN`: replays the Q/K/V a real model recorded
// (docs/traces.md) through a compiled plan and reports the quality of its kept
// blocks against dense attention on the same inputs (docs/QUALITY.md).
#include "runtime/cli/Commands.h"

#include "lfc/executor.h"
#include "lfc/io.h"
#include "lfc/plan.h"
#include "lfc/quality.h"
#include "lfc/runtime.h"

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

namespace {

const char *const kUsage =
    "usage: lfc replay TRACE --plan PLAN_DIR [--report DIR] [--sample-rows N] "
    "[--seed S]\n"
    "  Replays every call a trace recorded (docs/traces.md) through the "
    "plan's\n"
    "  selection on the CPU reference backend and reports, per call, the\n"
    "  captured softmax mass, relative L2 and cosine of the kept blocks'\n"
    "  attention against dense attention on the same inputs "
    "(docs/QUALITY.md);\n"
    "  where the trace holds the model's outputs, also the model's output\n"
    "  against that dense reference. Writes report.json and pictures to DIR\n"
    "  (default: replay_report). Selection runs in every recorded call.\n";

struct Options {
  std::string trace, plan, report = "replay_report";
  int sampleRows = 64;
  uint64_t seed = 1;
};

bool parse(int argc, char **argv, Options &o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](std::string &out) {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "lfc replay: error: %s wants a value\n%s",
                     a.c_str(), kUsage);
        return false;
      }
      out = argv[++i];
      return true;
    };
    std::string v;
    if (a == "-h" || a == "--help") {
      std::printf("%s", kUsage);
      std::exit(0);
    } else if (a == "--plan") {
      if (!value(o.plan))
        return false;
    } else if (a == "--report") {
      if (!value(o.report))
        return false;
    } else if (a == "--sample-rows" || a == "--seed") {
      if (!value(v))
        return false;
      char *end = nullptr;
      const long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end || n < 1 || n > 100000000) {
        std::fprintf(stderr,
                     "lfc replay: error: %s wants a positive integer, got "
                     "'%s'\n",
                     a.c_str(), v.c_str());
        return false;
      }
      (a == "--seed" ? (void)(o.seed = uint64_t(n))
                     : (void)(o.sampleRows = int(n)));
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "lfc replay: error: unknown option '%s'\n%s",
                   a.c_str(), kUsage);
      return false;
    } else if (o.trace.empty()) {
      o.trace = a;
    } else {
      std::fprintf(stderr, "lfc replay: error: more than one trace given\n%s",
                   kUsage);
      return false;
    }
  }
  if (o.trace.empty() || o.plan.empty()) {
    std::fprintf(stderr, "lfc replay: error: %s\n%s",
                 o.trace.empty() ? "no trace given" : "no plan given (--plan)",
                 kUsage);
    return false;
  }
  return true;
}

/// Throws naming every geometry field where the trace and the plan differ.
void checkSameGeometry(const lfc::TraceGeometry &t, const lfc::Plan &p,
                       const std::string &tracePath) {
  std::string diff;
  auto same = [&](const char *field, int64_t trace, int64_t plan) {
    if (trace != plan)
      diff += std::string("\n  ") + field + ": trace " + std::to_string(trace) +
              ", plan " + std::to_string(plan);
  };
  const lfc::PlanGeometry &g = p.geometry;
  same("heads", t.heads, g.heads);
  same("head_dim", t.headDim, g.headDim);
  same("tokens_per_frame", t.tokensPerFrame, g.tokensPerFrame);
  same("frames_per_chunk", t.framesPerChunk, g.framesPerChunk);
  same("kv_window_frames", t.kvWindowFrames, g.kvWindowFrames);
  // Sink frames shape the KV sequence only once a rolling window drops frames;
  // with a global cache (both windows 0) they do not matter.
  if (t.kvWindowFrames > 0 || g.kvWindowFrames > 0)
    same("sink_frames", t.sinkFrames, g.sinkFrames);
  if (t.chunks > g.chunks)
    diff += "\n  chunks: the trace has " + std::to_string(t.chunks) +
            ", the plan only " + std::to_string(g.chunks);
  if (t.dtype != g.dtype)
    diff += "\n  dtype: trace and plan differ";
  if (!diff.empty())
    throw lfc::Error(tracePath +
                     ": the trace's geometry does not match plan '" + p.name +
                     "' (" + p.dir + "):" + diff +
                     "\n  compile a policy with the model's geometry");
}

} // namespace

int lfc::cli::runReplay(int argc, char **argv) {
  Options o;
  if (!parse(argc, argv, o))
    return 2;
  try {
    const TraceReader trace(o.trace);
    const Plan plan = loadPlan(o.plan);
    checkSameGeometry(trace.geometry(), plan, o.trace);
    auto cpu = createCpuBackend();
    std::unique_ptr<BoundPlan> bound = cpu->bind(plan);
    const PlanGeometry &g = plan.geometry;
    const int64_t lq = trace.geometry().queryTokens();
    const quality::Sample sample =
        quality::Sample::random(std::min<int64_t>(o.sampleRows, lq), o.seed);
    quality::QualityAccumulator acc;
    std::fprintf(
        stderr, "lfc replay: %zu calls of %s (%s) through plan %s; %s\n",
        trace.calls().size(), o.trace.c_str(), trace.layout().c_str(),
        plan.name.c_str(),
        quality::describe(sample, trace.geometry().batch, g.heads, lq).c_str());
    std::vector<int32_t> idx, cnt;
    for (const TraceCall &call : trace.calls()) {
      const TraceTensors t = trace.load(call);
      const PlanChunk &c = plan.chunks[size_t(call.chunk - 1)];
      const ChunkSelection &sel = c.selection;
      KeptBlocks kept{};
      const KeptBlocks *keptPtr = nullptr;
      if (bound->selects(call.chunk)) {
        const int64_t rows =
            trace.geometry().batch * g.heads * sel.queryBlocks();
        idx.assign(size_t(rows * sel.keptKeyBlocks), -1);
        cnt.assign(size_t(rows), 0);
        kept = {idx.data(), cnt.data(),        trace.geometry().batch,
                g.heads,    sel.queryBlocks(), sel.keptKeyBlocks};
        bound->select(call.chunk, t.qView(), t.kView(), nullptr, kept);
        keptPtr = &kept;
      }
      const quality::CallMetrics m =
          quality::evaluate(sel, t.qView(), t.kView(), t.vView(), keptPtr,
                            g.softmaxScale, sample);
      quality::Record &r = acc.add(call.chunk, call.pass, call.layer, m);
      if (t.hasOutput) {
        // The model's own output against dense attention on its inputs: a
        // check that the trace holds what it claims (scale, layout).
        std::vector<uint16_t> dense(t.q.bytes.size() / 2);
        Tensor4 d = t.qView();
        d.data = dense.data();
        d.strideB = d.tokens * d.heads * d.dim;
        d.strideS = d.heads * d.dim;
        d.strideH = d.dim;
        ChunkSelection all = sel;
        all.dense = true;
        all.staticMask = nullptr;
        all.keptKeyBlocks = int(sel.keyBlocks());
        cpu->attention(all, t.qView(), t.kView(), t.vView(), nullptr, d,
                       g.softmaxScale);
        r.measured = quality::compareOutputs(t.oView(), d, sample).error;
      }
      std::fprintf(stderr,
                   "  chunk %d pass %d layer %d: density %.3f, mass %.4f, "
                   "rel L2 %.2e\n",
                   call.chunk, call.pass, call.layer, r.density,
                   r.massStats().mean, r.error.relL2());
    }
    const quality::ReportInfo info =
        quality::reportInfo(plan, cpu->name() + ", replaying " + o.trace,
                            sample, trace.geometry().batch);
    const std::vector<std::string> files =
        quality::writeReport(o.report, info, acc);
    quality::printSummary(std::cout, info, acc);
    std::printf("report: %s/report.json (+ %zu pictures)\n", o.report.c_str(),
                files.size() - 1);
    return 0;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "lfc replay: error: %s\n", e.what());
    return 1;
  }
}
