// Kernel benchmark at the reference shape: HSA selection and block-sparse
// attention timed with CUDA events, plus cold/warm plan-load times; exports
// tensors and kept lists so bench/peers.py can run cuDNN SDPA and FlexAttention
// on the identical problem.
#include "bench/BenchUtil.h"
#include "kernels_templates/lfc/abi.h"
#include "lfc/half.h"
#include "lfc/jit.h"
#include "runtime/cuda/CudaBackend.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace lfc;
using lfc::bench::medianMs;
using lfc::cuda::DeviceBuffer;

struct Options {
  int tokensPerFrame = 1560, framesPerChunk = 3, visibleFrames = 21;
  int heads = 12, dim = 128, block = 128, reps = 30;
  /// Stop after the selection timings (no attention).
  bool selectOnly = false;
  std::vector<int> selectGroups;
  std::vector<double> densities = {1.0, 0.5, 0.2, 0.1};
  std::string exportDir; ///< empty: no export
  /// Extra attention kernels (tileQ, tileK, warps, wgmma) to time besides the
  /// default.
  std::vector<std::array<int, 4>> tiles;
};

[[noreturn]] void usage(const char *msg) {
  std::fprintf(
      stderr,
      "lfc_kernel_bench: %s\nusage: lfc_kernel_bench [--export DIR] [--reps "
      "N>=20] "
      "[--densities 1,0.5,0.2,0.1] [--tokens-per-frame N] [--frames N] "
      "[--visible-frames N] [--heads N] [--head-dim 64|128] [--block 64|128] "
      "[--tiles "
      "tq,tk,warps,wgmma;...] [--select-only] [--select-groups 1,2,4]\n",
      msg);
  std::exit(2);
}

Options parse(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        usage(("missing value after " + a).c_str());
      return argv[++i];
    };
    if (a == "--export")
      o.exportDir = value();
    else if (a == "--reps")
      o.reps = std::stoi(value());
    else if (a == "--tokens-per-frame")
      o.tokensPerFrame = std::stoi(value());
    else if (a == "--frames")
      o.framesPerChunk = std::stoi(value());
    else if (a == "--visible-frames")
      o.visibleFrames = std::stoi(value());
    else if (a == "--heads")
      o.heads = std::stoi(value());
    else if (a == "--head-dim")
      o.dim = std::stoi(value());
    else if (a == "--block")
      o.block = std::stoi(value());
    else if (a == "--select-only")
      o.selectOnly = true;
    else if (a == "--select-groups") {
      std::stringstream ss(value());
      for (std::string tok; std::getline(ss, tok, ',');) {
        const int g = std::stoi(tok);
        if (g < 1 || g > LFC_SELECT_GROUP)
          usage(("--select-groups wants values in 1.." +
                 std::to_string(LFC_SELECT_GROUP) + ", got " + tok)
                    .c_str());
        o.selectGroups.push_back(g);
      }
    } else if (a == "--tiles") {
      std::stringstream ss(value());
      for (std::string cfg; std::getline(ss, cfg, ';');) {
        std::array<int, 4> t{};
        if (std::sscanf(cfg.c_str(), "%d,%d,%d,%d", &t[0], &t[1], &t[2],
                        &t[3]) != 4)
          usage(("--tiles wants tq,tk,warps,kernel(0 mma.sync|1 wgmma|2 "
                 "wgmma+mbarrier|3 wgmma+TMA, 2 stages|4 wgmma+TMA, 3 "
                 "stages; + 10: no tail split, + 20: not persistent)[;...], "
                 "got " +
                 cfg)
                    .c_str());
        o.tiles.push_back(t);
      }
    } else if (a == "--densities") {
      o.densities.clear();
      std::stringstream ss(value());
      for (std::string tok; std::getline(ss, tok, ',');)
        o.densities.push_back(std::stod(tok));
    } else
      usage(("unknown argument " + a).c_str());
  }
  if (o.reps < 20)
    usage("--reps must be at least 20 (the median needs them)");
  if (o.dim != 64 && o.dim != 128)
    usage("--head-dim must be 64 or 128 (the kernels' head dims)");
  return o;
}

void writeFile(const std::string &path, const void *data, size_t bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(static_cast<const char *>(data), std::streamsize(bytes));
  if (!f)
    throw Error("cannot write " + path);
}

/// Video-like bf16 tensor [1, S, H, D] (BSHD): a moving scene plus noise, sink
/// frame louder.
std::vector<uint16_t> videoLike(int64_t S, int64_t H, int64_t D, int T,
                                uint32_t seed, float sinkGain,
                                int64_t frameOffset) {
  std::vector<uint16_t> out(size_t(S * H * D));
  std::mt19937 sceneRng(1234);
  std::normal_distribution<float> n(0.f, 1.f);
  std::vector<float> scene(size_t(4 * T * D));
  for (float &x : scene)
    x = n(sceneRng);
  const unsigned threads =
      std::max(1u, std::min(16u, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      std::mt19937 rng(seed * 977u + t);
      std::normal_distribution<float> noise(0.f, 0.3f);
      for (int64_t s = t; s < S; s += threads) {
        const int64_t frame = s / T + frameOffset, pos = s % T;
        const int64_t scenePos = (pos + frame * 7) % (4 * int64_t(T));
        const float gain = frame == 0 ? sinkGain : 1.f;
        for (int64_t h = 0; h < H; ++h)
          for (int64_t d = 0; d < D; ++d)
            out[size_t((s * H + h) * D + d)] =
                floatToBf16(gain * ((h % 2 ? -0.6f : 0.6f) *
                                        scene[size_t(scenePos * D + d)] +
                                    noise(rng)));
      }
    });
  for (auto &th : pool)
    th.join();
  return out;
}

/// GPU time per call, in microseconds, of `call` issued kCalls times back to
/// back behind a spin kernel, so that host work between launches never leaves
/// the GPU idle: the median over `reps`.
double queuedUs(cuda::CudaBackend &gpu, CUfunction spin, int reps,
                const std::function<void()> &call) {
  constexpr int kCalls = 20;
  std::vector<double> us;
  for (int r = 0; r < reps; ++r) {
    long long cycles = 10'000'000; // ~5 ms: longer than enqueuing the calls
    void *args[] = {&cycles};
    cuda::check(cuda::driver().cuLaunchKernel(
                    spin, 1, 1, 1, 1, 1, 1, 0,
                    static_cast<CUstream>(gpu.stream()), args, nullptr),
                "cuLaunchKernel", "lfc_bench_spin");
    const auto a = gpu.mark();
    for (int i = 0; i < kCalls; ++i)
      call();
    const auto b = gpu.mark();
    us.push_back(gpu.elapsedMs(*a, *b) * 1000.0 / kCalls);
  }
  std::sort(us.begin(), us.end());
  return us[us.size() / 2];
}

/// The pool and select kernels alone (GPU time, no host gaps): both, each
/// with the other replaced by an empty kernel, and two empty kernels (the
/// launch floor the per-kernel estimates subtract half of).
void selectionKernels(cuda::CudaBackend &gpu, const ChunkSelection &sel,
                      const Tensor4 &q, const Tensor4 &k,
                      const PooledKeyCache *cache, KeptBlocks &kept, int reps,
                      const char *what) {
  cuda::SelectVariant sv{gpu.arch(), q.dtype, int(q.dim)};
  const std::string name = cuda::kernelName(sv);
  const cuda::LoadedKernel &m = gpu.load(
      name, [&] { return cuda::entrySource(sv); },
      {name + "_commit", name + "_pool", name + "_select"},
      gpu.selectSharedLimit());
  const cuda::LoadedKernel &helpers = gpu.load(
      "lfc_bench_select_helpers",
      [] {
        return std::string(
            "#include \"lfc/abi.h\"\n"
            "extern \"C\" __global__ void lfc_bench_spin(long long cycles) {\n"
            "  const long long t0 = clock64();\n"
            "  while (clock64() - t0 < cycles) {\n  }\n}\n"
            "extern \"C\" __global__ void lfc_bench_no_pool(const "
            "LfcPoolKeysParams p) {\n  (void)p;\n}\n"
            "extern \"C\" __global__ void lfc_bench_no_select(const "
            "LfcSelectParams p) {\n  (void)p;\n}\n");
      },
      {"lfc_bench_spin", "lfc_bench_no_pool", "lfc_bench_no_select"},
      gpu.selectSharedLimit());
  CUfunction pool = m.functions.at(name + "_pool"),
             select = m.functions.at(name + "_select"),
             noPool = helpers.functions.at("lfc_bench_no_pool"),
             noSelect = helpers.functions.at("lfc_bench_no_select"),
             spin = helpers.functions.at("lfc_bench_spin");
  auto run = [&](CUfunction pf, CUfunction sf) {
    return queuedUs(gpu, spin, reps, [&] {
      gpu.launchSelect(name, pf, sf, sel, q, k, cache, kept);
    });
  };
  // The select kernel alone reads the means a full call left.
  gpu.launchSelect(name, pool, select, sel, q, k, cache, kept);
  const double both = run(pool, select), poolOnly = run(pool, noSelect),
               selectOnly = run(noPool, select), empty = run(noPool, noSelect);
  std::printf("selection kernels (%s): pool + select %.1f us per call "
              "(GPU, back to back); pool ~%.1f us, select ~%.1f us "
              "(pool + empty %.1f, empty + select %.1f, 2 empty %.1f)\n",
              what, both, poolOnly - empty / 2, selectOnly - empty / 2,
              poolOnly, selectOnly, empty);
}

} // namespace

int main(int argc, char **argv) try {
  const Options o = parse(argc, argv);
  // Cold and warm plan loads need a JIT cache of their own: point it at a fresh
  // directory unless the caller chose one.
  std::string cacheDir;
  if (const char *env = std::getenv("LFC_CACHE_DIR"); env && *env)
    cacheDir = env;
  else {
    cacheDir =
        (std::filesystem::temp_directory_path() / "lfc_bench_cache").string();
    setenv("LFC_CACHE_DIR", cacheDir.c_str(), 1);
  }
  std::filesystem::remove_all(cacheDir);

  cuda::CudaBackend gpu;
  const cuda::DeviceInfo &dev = cuda::currentDevice();
  ChunkSelection sel;
  sel.tokensPerFrame = o.tokensPerFrame;
  sel.framesPerChunk = o.framesPerChunk;
  sel.visibleFrames = o.visibleFrames;
  sel.sinkFrames = 1;
  sel.nearFrames = 2;
  sel.blockQ = sel.blockK = o.block;
  const int64_t B = 1, H = o.heads, D = o.dim;
  const int64_t lq = sel.queryTokens(), lk = sel.keyTokens();
  const int64_t nqb = sel.queryBlocks(), nkb = sel.keyBlocks();
  std::printf("lfc kernel bench: %s (%s), %d SMs\n", dev.name.c_str(),
              gpu.arch().c_str(), dev.multiprocessors);
  std::printf("shape: B=%lld Lq=%lld Lk=%lld H=%lld D=%lld bf16 BSHD, block %d "
              "(q blocks %lld, "
              "k blocks %lld)\n",
              (long long)B, (long long)lq, (long long)lk, (long long)H,
              (long long)D, o.block, (long long)nqb, (long long)nkb);

  // Plan load: JIT the selection module and the attention kernels; cold =
  // NVRTC, warm = disk-cache hit. Both include cuModuleLoadData.
  auto loadAll = [&] {
    cuda::SelectVariant sv{gpu.arch(), DType::BF16, int(D)};
    const std::string sname = cuda::kernelName(sv);
    gpu.load(
        sname, [&] { return cuda::entrySource(sv); },
        {sname + "_commit", sname + "_pool", sname + "_select"},
        gpu.selectSharedLimit());
    for (bool dense : {false, true}) {
      cuda::AttnVariant v =
          gpu.attnVariant(DType::BF16, int(D), o.block, o.block, dense);
      gpu.load(
          cuda::kernelName(v), [&] { return cuda::entrySource(v); },
          {cuda::kernelName(v)}, v.sharedBytes());
    }
  };
  auto wallMs = [](const std::function<void()> &fn) {
    auto t0 = std::chrono::steady_clock::now();
    fn();
    return std::chrono::duration<double, std::milli>(
               std::chrono::steady_clock::now() - t0)
        .count();
  };
  const double coldMs = wallMs(loadAll);
  gpu.forgetLoadedModules();
  const double warmMs = wallMs(loadAll);
  std::printf("plan load (3 modules: select, attention list, attention dense): "
              "cold %.1f ms "
              "(NVRTC), warm %.1f ms (cache hit)\n",
              coldMs, warmMs);

  std::printf("generating inputs...\n");
  std::vector<uint16_t> hq = videoLike(lq, H, D, o.tokensPerFrame, 1, 1.f,
                                       o.visibleFrames - o.framesPerChunk);
  std::vector<uint16_t> hk = videoLike(lk, H, D, o.tokensPerFrame, 2, 4.f, 0);
  std::vector<uint16_t> hv(size_t(lk * H * D));
  {
    std::mt19937 rng(3);
    std::normal_distribution<float> n(0.f, 1.f);
    for (auto &x : hv)
      x = floatToBf16(n(rng));
  }
  DeviceBuffer q(hq.size() * 2), k(hk.size() * 2), v(hv.size() * 2),
      out(hq.size() * 2);
  q.upload(hq.data(), hq.size() * 2);
  k.upload(hk.data(), hk.size() * 2);
  v.upload(hv.data(), hv.size() * 2);
  const Tensor4 tq =
      Tensor4::bshd(q.get(), DType::BF16, Device::Cuda, B, lq, H, D);
  const Tensor4 tk =
      Tensor4::bshd(k.get(), DType::BF16, Device::Cuda, B, lk, H, D);
  const Tensor4 tv =
      Tensor4::bshd(v.get(), DType::BF16, Device::Cuda, B, lk, H, D);
  const Tensor4 to =
      Tensor4::bshd(out.get(), DType::BF16, Device::Cuda, B, lq, H, D);
  const float scale = 1.f / std::sqrt(float(D));

  if (!o.exportDir.empty()) {
    std::filesystem::create_directories(o.exportDir);
    writeFile(o.exportDir + "/q.bin", hq.data(), hq.size() * 2);
    writeFile(o.exportDir + "/k.bin", hk.data(), hk.size() * 2);
    writeFile(o.exportDir + "/v.bin", hv.data(), hv.size() * 2);
    std::ofstream meta(o.exportDir + "/meta.txt");
    meta << "B " << B << "\nLq " << lq << "\nLk " << lk << "\nH " << H << "\nD "
         << D << "\nblock " << o.block << "\nqblocks " << nqb << "\nkblocks "
         << nkb << "\n";
  }

  // Selection cost with the reference policy (frame top-k 6, sink 1, near 2),
  // the committed past pooled once in the cache, at the reference chunk-7
  // budget (sparsity 0.898).
  {
    ChunkSelection ref = sel;
    ref.framesTopK = 6;
    ref.keptKeyBlocks = int(std::floor((1 - 0.898) * double(nkb)));
    DeviceBuffer idx(size_t(B * H * nqb * nkb) * 4),
        cnt(size_t(B * H * nqb) * 4);
    KeptBlocks kept{static_cast<int32_t *>(idx.get()),
                    static_cast<int32_t *>(cnt.get()),
                    B,
                    H,
                    nqb,
                    nkb};
    auto cache = gpu.createPooledKeys(B, H, D, lk, o.block, o.tokensPerFrame);
    const double commitMs = medianMs(o.reps, [&] {
      auto c = gpu.createPooledKeys(B, H, D, lk, o.block, o.tokensPerFrame);
      gpu.commitKeys(*c, tk, lk - lq);
    });
    gpu.commitKeys(*cache, tk, lk - lq);
    const double selCached =
        medianMs(o.reps, [&] { gpu.select(ref, tq, tk, cache.get(), kept); });
    const double selScratch =
        medianMs(o.reps, [&] { gpu.select(ref, tq, tk, nullptr, kept); });
    std::printf("selection (HSA, frame top-k 6, budget %d blocks): %.3f ms "
                "with pooled-key cache, "
                "%.3f ms pooling from scratch; commit of %lld past tokens %.3f "
                "ms (once per chunk; "
                "includes cache allocation)\n",
                ref.keptKeyBlocks, selCached, selScratch, (long long)(lk - lq),
                commitMs);
    selectionKernels(gpu, ref, tq, tk, cache.get(), kept, o.reps,
                     "AR loop: committed past in the cache");
    for (int g : o.selectGroups) {
      gpu.setSelectGroup(g);
      const std::string what =
          "AR loop, " + std::to_string(g) + " query blocks per select CTA";
      selectionKernels(gpu, ref, tq, tk, cache.get(), kept, o.reps,
                       what.c_str());
      gpu.setSelectGroup(0);
    }
    selectionKernels(gpu, ref, tq, tk, nullptr, kept, o.reps,
                     "pooling from scratch");
    {
      // The commit kernel alone: one chunk's rows into a cache holding the
      // rest of the past.
      auto c = gpu.createPooledKeys(B, H, D, lk, o.block, o.tokensPerFrame);
      gpu.commitKeys(*c, tk, lk - 2 * lq);
      gpu.synchronize();
      const auto a = gpu.mark();
      gpu.commitKeys(*c, tk, lk - lq);
      const auto b = gpu.mark();
      std::printf("commit of one chunk (%lld tokens): %.1f us (GPU, one call, "
                  "includes host launch time)\n",
                  (long long)lq, gpu.elapsedMs(*a, *b) * 1000.0);
    }
    if (o.selectOnly)
      return 0;
  }

  std::printf("\n%-8s %-6s %-10s %-10s %-10s %s\n", "density", "kept",
              "attn ms", "TFLOP/s", "select ms", "kernel");
  for (double density : o.densities) {
    // Kept lists from the block top-k (no frame stage, so the budget is exact).
    ChunkSelection s = sel;
    s.framesTopK = 0;
    s.keptKeyBlocks = std::max<int>(1, int(std::floor(density * double(nkb))));
    DeviceBuffer idx(size_t(B * H * nqb * s.keptKeyBlocks) * 4),
        cnt(size_t(B * H * nqb) * 4);
    KeptBlocks kept{static_cast<int32_t *>(idx.get()),
                    static_cast<int32_t *>(cnt.get()),
                    B,
                    H,
                    nqb,
                    s.keptKeyBlocks};
    const double selMs =
        medianMs(o.reps, [&] { gpu.select(s, tq, tk, nullptr, kept); });
    std::vector<int32_t> hIdx(size_t(B * H * nqb * s.keptKeyBlocks)),
        hCnt(size_t(B * H * nqb));
    idx.download(hIdx.data(), hIdx.size() * 4);
    cnt.download(hCnt.data(), hCnt.size() * 4);
    // Kept work only: every (query row, kept key) pair costs 4*D flops (QK^T
    // and PV).
    double pairs = 0;
    for (int64_t r = 0; r < B * H * nqb; ++r) {
      const int64_t i = r % nqb;
      const int64_t rows =
          std::min<int64_t>(lq, (i + 1) * o.block) - i * o.block;
      for (int n = 0; n < hCnt[size_t(r)]; ++n) {
        const int64_t j = hIdx[size_t(r * s.keptKeyBlocks + n)];
        pairs += double(rows) *
                 double(std::min<int64_t>(lk, (j + 1) * o.block) - j * o.block);
      }
    }
    const double flops = 4.0 * double(D) * pairs;
    const bool full = s.keptKeyBlocks == nkb;
    const double ms = medianMs(
        o.reps, [&] { gpu.attention(s, tq, tk, tv, &kept, to, scale); });
    cuda::AttnVariant var =
        gpu.attnVariant(DType::BF16, int(D), o.block, o.block, false);
    std::printf("%-8.2f %-6d %-10.3f %-10.1f %-10.3f %s\n", density,
                s.keptKeyBlocks, ms, flops / ms / 1e9, selMs,
                cuda::kernelName(var).c_str());
    {
      // Host time of one attention() call (checks, tensor maps, launch),
      // enqueued while the GPU is busy: every 'attn ms' above includes it,
      // since each timed call starts on an idle GPU.
      constexpr int kCalls = 20;
      const auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < kCalls; ++i)
        gpu.attention(s, tq, tk, tv, &kept, to, scale);
      const double us = std::chrono::duration<double, std::micro>(
                            std::chrono::steady_clock::now() - t0)
                            .count() /
                        kCalls;
      gpu.synchronize();
      std::printf("host     %.1f us per attention() call\n", us);
    }
    if (!o.exportDir.empty()) {
      gpu.synchronize();
      std::vector<uint16_t> hOut(hq.size());
      out.download(hOut.data(), hOut.size() * 2);
      char tag[32];
      std::snprintf(tag, sizeof tag, "%.2f", density);
      writeFile(o.exportDir + "/kept_idx_" + tag + ".bin", hIdx.data(),
                hIdx.size() * 4);
      writeFile(o.exportDir + "/kept_cnt_" + tag + ".bin", hCnt.data(),
                hCnt.size() * 4);
      writeFile(o.exportDir + "/out_" + tag + ".bin", hOut.data(),
                hOut.size() * 2);
      std::ofstream(o.exportDir + "/meta.txt", std::ios::app)
          << "density " << tag << " " << s.keptKeyBlocks << " " << ms << " "
          << flops << "\n";
    }
    if (full) {
      const double dms = medianMs(
          o.reps, [&] { gpu.attention(s, tq, tk, tv, nullptr, to, scale); });
      cuda::AttnVariant dv =
          gpu.attnVariant(DType::BF16, int(D), o.block, o.block, true);
      std::printf("%-8s %-6lld %-10.3f %-10.1f %-10s %s\n", "dense",
                  (long long)nkb, dms, flops / dms / 1e9, "-",
                  cuda::kernelName(dv).c_str());
      if (!o.exportDir.empty()) {
        gpu.synchronize();
        std::vector<uint16_t> hOut(hq.size());
        out.download(hOut.data(), hOut.size() * 2);
        writeFile(o.exportDir + "/out_dense.bin", hOut.data(), hOut.size() * 2);
        std::ofstream(o.exportDir + "/meta.txt", std::ios::app)
            << "dense " << dms << " " << flops << "\n";
      }
    }
  }
  // Tile sweep (kernel tuning): same kept lists as above, re-selected per
  // density.
  for (const auto &t : o.tiles) {
    // TMA kernel codes + 10: without the tail split; + 20: one CTA per unit
    // instead of a persistent grid.
    gpu.setAttnTiles(t[0], t[1], t[2], t[3] % 10);
    gpu.setTailSplitSms(t[3] / 10 & 1 ? -1 : 0);
    gpu.setPersistentTma(!(t[3] / 10 & 2));
    for (double density : o.densities) {
      ChunkSelection s = sel;
      s.framesTopK = 0;
      s.keptKeyBlocks =
          std::max<int>(1, int(std::floor(density * double(nkb))));
      DeviceBuffer idx(size_t(B * H * nqb * s.keptKeyBlocks) * 4),
          cnt(size_t(B * H * nqb) * 4);
      KeptBlocks kept{static_cast<int32_t *>(idx.get()),
                      static_cast<int32_t *>(cnt.get()),
                      B,
                      H,
                      nqb,
                      s.keptKeyBlocks};
      gpu.select(s, tq, tk, nullptr, kept);
      const double ms = medianMs(
          o.reps, [&] { gpu.attention(s, tq, tk, tv, &kept, to, scale); });
      const double approxFlops = 4.0 * double(D) * double(lq) * double(H * B) *
                                 double(s.keptKeyBlocks) * o.block;
      std::printf("tiles %-8.2f %-6d %-10.3f ~%-9.1f %-10s %s\n", density,
                  s.keptKeyBlocks, ms, approxFlops / ms / 1e9, "-",
                  cuda::kernelName(gpu.attnVariant(DType::BF16, int(D), o.block,
                                                   o.block, false))
                      .c_str());
    }
  }
  gpu.setAttnTiles(0, 0, 0, 0);
  gpu.setTailSplitSms(0);
  gpu.setPersistentTma(true);
  return 0;
} catch (const std::exception &e) {
  std::fprintf(stderr, "lfc_kernel_bench: error: %s\n", e.what());
  return 1;
}
