// Times a compiled plan's kernels on one chunk at full size (needs a GPU):
// the plan's selection and attention, and, for chunks whose attention walks a
// static mask itself, the same mask given as an explicit kept-block list to the
// list kernel of the same family. Prints one Markdown table row per plan.
//
//   lfc_plan_bench PLAN_DIR... [--chunk N] [--reps N]
#include "bench/BenchUtil.h"
#include "lfc/cuda_backend.h"
#include "lfc/executor.h"
#include "lfc/half.h"
#include "lfc/runtime.h"
#include "runtime/cuda/CudaBackend.h"
#include "runtime/cuda/Driver.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

using namespace lfc;
using lfc::bench::medianMs;

namespace {

[[noreturn]] void usage(const std::string &why) {
  std::fprintf(stderr,
               "lfc_plan_bench: %s\nusage: lfc_plan_bench PLAN_DIR... "
               "[--chunk N (default: the last)] [--reps N (>= 20, default "
               "30)] [--no-split (no tail split of the TMA kernel)]\n",
               why.c_str());
  std::exit(2);
}

/// A device tensor [1, S, H, D] (BSHD) of noise with a louder first frame.
struct DeviceTensor {
  cuda::DeviceBuffer buf;
  Tensor4 view;
  DeviceTensor(DType t, int64_t S, int64_t H, int64_t D, int T, uint32_t seed)
      : buf(size_t(S * H * D) * 2) {
    std::vector<uint16_t> host(size_t(S * H * D));
    std::mt19937 rng(seed);
    std::normal_distribution<float> n(0.f, 1.f);
    for (int64_t s = 0; s < S; ++s)
      for (int64_t i = 0; i < H * D; ++i) {
        const float x = (s < T ? 3.f : 1.f) * n(rng);
        host[size_t(s * H * D + i)] =
            t == DType::BF16 ? floatToBf16(x) : floatToHalf(x);
      }
    buf.upload(host.data(), host.size() * 2);
    view = Tensor4{buf.get(), t, Device::Cuda, 1, S, H, D, S * H * D, H * D, D};
  }
  std::vector<float> download() const {
    std::vector<uint16_t> h(
        size_t(view.batch * view.tokens * view.heads * view.dim));
    buf.download(h.data(), h.size() * 2);
    std::vector<float> f(h.size());
    for (size_t i = 0; i < h.size(); ++i)
      f[i] = view.dtype == DType::BF16 ? bf16ToFloat(h[i]) : halfToFloat(h[i]);
    return f;
  }
};

double relL2(const std::vector<float> &a, const std::vector<float> &b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    num += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    den += double(b[i]) * b[i];
  }
  return std::sqrt(num / std::max(den, 1e-30));
}

} // namespace

int main(int argc, char **argv) try {
  std::vector<std::string> plans;
  int chunkArg = 0, reps = 30;
  bool noSplit = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&] {
      if (i + 1 >= argc)
        usage(a + " wants a value");
      return std::atoi(argv[++i]);
    };
    if (a == "--chunk")
      chunkArg = value();
    else if (a == "--reps")
      reps = value();
    else if (a == "--no-split")
      noSplit = true;
    else if (a == "-h" || a == "--help")
      usage("help");
    else if (!a.empty() && a[0] == '-')
      usage("unknown option " + a);
    else
      plans.push_back(a);
  }
  if (plans.empty())
    usage("no plan directory given");
  if (reps < 20)
    usage("--reps must be at least 20 (the median needs them)");
  std::string why;
  if (!cudaBackendAvailable(&why))
    throw Error("no CUDA backend: " + why);
  auto backend = createCudaBackend();
  auto &gpu = static_cast<cuda::CudaBackend &>(*backend);
  if (noSplit)
    gpu.setTailSplitSms(-1);

  std::printf("| plan | chunk | keys | kept blocks / query block | plan "
              "kernels | selection ms | attention ms | same mask as a kept "
              "list: ms | static vs list | rel. L2 (static vs list) |\n");
  std::printf("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- "
              "|\n");
  for (const std::string &dir : plans) {
    const Plan plan = loadPlan(dir);
    const PlanGeometry &g = plan.geometry;
    const int chunk = chunkArg ? chunkArg : int(plan.chunks.size());
    if (chunk < 1 || chunk > int(plan.chunks.size()))
      usage("--chunk " + std::to_string(chunk) + " is outside plan " +
            plan.name);
    const PlanChunk &c = plan.chunks[size_t(chunk - 1)];
    const ChunkSelection &sel = c.selection;
    const int64_t lq = sel.queryTokens(), lk = sel.keyTokens();
    DeviceTensor q(g.dtype, lq, g.heads, g.headDim, g.tokensPerFrame, 1);
    DeviceTensor k(g.dtype, lk, g.heads, g.headDim, g.tokensPerFrame, 2);
    DeviceTensor v(g.dtype, lk, g.heads, g.headDim, g.tokensPerFrame, 3);
    DeviceTensor oPlan(g.dtype, lq, g.heads, g.headDim, g.tokensPerFrame, 4);
    DeviceTensor oList(g.dtype, lq, g.heads, g.headDim, g.tokensPerFrame, 5);
    std::unique_ptr<BoundPlan> bound = gpu.bind(plan);

    const int64_t nqb = sel.queryBlocks(), nkb = sel.keyBlocks();
    const int64_t rows = g.heads * nqb;
    auto idx = gpu.allocate(size_t(rows * nkb) * 4);
    auto cnt = gpu.allocate(size_t(rows) * 4);
    KeptBlocks kept{static_cast<int32_t *>(idx.get()),
                    static_cast<int32_t *>(cnt.get()),
                    1,
                    g.heads,
                    nqb,
                    sel.dense ? nkb : sel.keptKeyBlocks};
    double selectMs = 0, keptSum = 0;
    if (bound->selects(chunk))
      selectMs = medianMs(
          reps, [&] { bound->select(chunk, q.view, k.view, nullptr, kept); });
    const KeptBlocks *planKept = bound->selects(chunk) ? &kept : nullptr;
    const double attnMs = medianMs(reps, [&] {
      bound->attention(chunk, q.view, k.view, v.view, planKept, oPlan.view);
    });
    // The same mask as an explicit list: the selection of the plan's chunk
    // (static mask, every eligible block kept) through the backend's own
    // kernels, then its list attention kernel.
    std::string listMs = "—", ratio = "—", err = "—";
    if (!sel.dense) {
      KeptBlocks all = kept;
      all.maxKept = sel.dense ? nkb : sel.keptKeyBlocks;
      gpu.select(sel, q.view, k.view, nullptr, all);
      gpu.synchronize();
      std::vector<int32_t> counts(static_cast<size_t>(rows));
      cuda::check(cuda::driver().cuMemcpyDtoH_v2(
                      counts.data(), reinterpret_cast<CUdeviceptr>(all.cnt),
                      counts.size() * 4),
                  "cuMemcpyDtoH", "kept counts");
      for (int32_t n : counts)
        keptSum += n;
      if (!bound->selects(chunk)) {
        const double ms = medianMs(reps, [&] {
          gpu.attention(sel, q.view, k.view, v.view, &all, oList.view,
                        g.softmaxScale);
        });
        char b[64];
        std::snprintf(b, sizeof b, "%.3f", ms);
        listMs = b;
        std::snprintf(b, sizeof b, "%.2fx", ms / attnMs);
        ratio = b;
        std::snprintf(b, sizeof b, "%.1e",
                      relL2(oPlan.download(), oList.download()));
        err = b;
      }
    } else {
      keptSum = double(rows * nkb);
    }
    std::printf("| %s | %d | %lld | %.1f of %lld | %s | %.3f | %.3f | %s | %s "
                "| %s |\n",
                plan.name.c_str(), chunk, (long long)lk, keptSum / rows,
                (long long)nkb, bound->kernelsFor(chunk).c_str(), selectMs,
                attnMs, listMs.c_str(), ratio.c_str(), err.c_str());
    std::fflush(stdout);
  }
  return 0;
} catch (const std::exception &e) {
  std::fprintf(stderr, "lfc_plan_bench: %s\n", e.what());
  return 1;
}
