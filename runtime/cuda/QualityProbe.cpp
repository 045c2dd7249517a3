// quality::evaluate() on the CUDA backend (docs/QUALITY.md, "On the GPU"): the
// sampled rows run on the GPU in fp32 (kernels_templates/lfc/
// quality_probe.cuh); only their dense and kept-only output rows, their two
// softmax sums and the kept-list counts come back to the host, which forms the
// metrics (runtime/quality/Metrics.cpp).
#include "kernels_templates/lfc/quality_probe.cuh"
#include "lfc/runtime.h"
#include "lfc/static_mask.h"
#include "runtime/cuda/CudaBackend.h"
#include "runtime/quality/Probe.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <mutex>

namespace lfc::quality::detail {
namespace {

std::string str(int64_t v) { return std::to_string(v); }

/// "sm_90a" -> "sm90a", as the other kernel names spell the arch.
std::string archTag(const std::string &arch) {
  std::string out;
  for (char c : arch)
    if (c != '_')
      out += c;
  return out;
}

/// The kept blocks of a static mask for every query block of one geometry:
/// the same for every (batch, head).
struct StaticTable {
  std::string key; ///< mask text and geometry; empty: not built
  int64_t maxKept = 0;
  std::vector<int32_t> idx, cnt, tokens; ///< [nqb][maxKept], [nqb], [nqb]
};

void buildStaticTable(const ChunkSelection &sel, StaticTable &t) {
  const StaticMask &mask = *sel.staticMask;
  const std::string key = mask.text() + "|" + str(sel.tokensPerFrame) + "," +
                          str(sel.framesPerChunk) + "," +
                          str(sel.visibleFrames) + "," + str(sel.blockQ) + "," +
                          str(sel.blockK);
  if (t.key == key)
    return;
  const int64_t nqb = sel.queryBlocks(), Lk = sel.keyTokens();
  std::vector<std::vector<int32_t>> lists(static_cast<size_t>(nqb));
  t.maxKept = 1;
  t.cnt.assign(size_t(nqb), 0);
  t.tokens.assign(size_t(nqb), 0);
  for (int64_t i = 0; i < nqb; ++i) {
    lists[size_t(i)] = mask.eligibleBlocks(sel, i);
    for (const int64_t j : lists[size_t(i)])
      t.tokens[size_t(i)] +=
          int32_t(std::min(Lk, (j + 1) * sel.blockK) - j * sel.blockK);
    t.cnt[size_t(i)] = int32_t(lists[size_t(i)].size());
    t.maxKept = std::max<int64_t>(t.maxKept, t.cnt[size_t(i)]);
  }
  t.idx.assign(size_t(nqb * t.maxKept), -1);
  for (int64_t i = 0; i < nqb; ++i)
    std::copy(lists[size_t(i)].begin(), lists[size_t(i)].end(),
              t.idx.begin() + i * t.maxKept);
  t.key = key;
}

/// Process-wide scratch: device memory belongs to the context, not to a
/// backend object. Calls are serialized; each ends with a synchronous
/// download, so nothing of ours is in flight when the buffer is replaced.
struct ProbeState {
  std::mutex mutex;
  cuda::DeviceBuffer buffer;
  std::vector<int32_t> uploaded; ///< the buffer's first ints, as uploaded
  bool uploadedValid = false;
  StaticTable statics;
};

ProbeState &state() {
  // Never destroyed: freeing device memory during static destruction would
  // race the driver's own teardown.
  static ProbeState *s = new ProbeState();
  return *s;
}

size_t align16(size_t bytes) { return (bytes + 15) / 16 * 16; }

void launch(CUfunction f, const std::string &entry, int64_t gx, int64_t gy,
            int64_t gz, int threads, int shared, void *params) {
  void *args[] = {params};
  cuda::check(cuda::driver().cuLaunchKernel(f, unsigned(gx), unsigned(gy),
                                            unsigned(gz), unsigned(threads), 1,
                                            1, unsigned(shared), nullptr, args,
                                            nullptr),
              "cuLaunchKernel",
              entry + " grid (" + str(gx) + ", " + str(gy) + ", " + str(gz) +
                  ") block " + str(threads) + " shared " + str(shared));
}

LfcTensorArg tensorArg(const Tensor4 &t) {
  return {t.data, (long long)t.strideB, (long long)t.strideS,
          (long long)t.strideH};
}

/// Tiles per split that finish soonest: waves of one CTA per multiprocessor,
/// each as long as its tiles plus about two tiles of fixed work (Q rows,
/// bitmaps, the split's record); ties go to fewer splits.
int64_t tilesPerSplit(int64_t tiles, int64_t units, int64_t slots) {
  const int64_t most =
      std::min<int64_t>(tiles, LFC_QP_MAX_SPLIT_KEYS / LFC_QP_TILE_KEYS);
  int64_t best = most, bestCost = LLONG_MAX;
  for (int64_t per = most; per >= 1; --per) {
    const int64_t splits = (tiles + per - 1) / per;
    const int64_t waves = (units * splits + slots - 1) / slots;
    const int64_t cost = waves * (per + 2);
    if (cost < bestCost) {
      bestCost = cost;
      best = per;
    }
  }
  return best;
}

} // namespace

std::string probeKernelName(const std::string &arch, DType dtype, int headDim,
                            int warps) {
  if (dtype == DType::F32)
    throw Error("quality probe: no fp32 variant; bf16 and fp16 only");
  return "lfc_quality_probe_" + archTag(arch) + "_" +
         (dtype == DType::BF16 ? "bf16" : "fp16") + "_d" + str(headDim) + "_w" +
         str(warps);
}

std::string probeKernelSource(const std::string &arch, DType dtype, int headDim,
                              int warps) {
  const std::string name = probeKernelName(arch, dtype, headDim, warps);
  const std::string t = dtype == DType::BF16 ? "lfc::BF16" : "lfc::F16";
  return "// Quality probe " + name +
         " (docs/QUALITY.md, \"On the GPU\").\n"
         "#include \"lfc/quality_probe.cuh\"\n\n"
         "extern \"C\" __global__ void "
         "__launch_bounds__(LFC_QP_AUX_THREADS)\n" +
         name +
         "_check(const LfcQualityCheckParams p) { lfc::qualityCheckKept(p); "
         "}\n\n"
         "extern \"C\" __global__ void __launch_bounds__(" +
         str(32 * warps) + ", 1)\n" + name +
         "_probe(const LfcQualityProbeParams p) {\n  lfc::qualityProbe<" + t +
         ", " + str(headDim) + ", " + str(warps) +
         ">(p);\n}\n\n"
         "extern \"C\" __global__ void "
         "__launch_bounds__(LFC_QP_AUX_THREADS)\n" +
         name + "_combine(const LfcQualityCombineParams p) {\n" +
         "  lfc::qualityCombine<" + str(headDim) + ">(p);\n}\n";
}

int probeWarps(int headDim, int maxSharedBytes) {
  for (int warps : {8, 4})
    if (LFC_QP_SHARED_BYTES(headDim, warps) <= maxSharedBytes)
      return warps;
  return 0;
}

DeviceProbe probeOnCuda(Backend &backend, const ChunkSelection &sel,
                        const Tensor4 &q, const Tensor4 &k, const Tensor4 &v,
                        const KeptBlocks *kept, float scale,
                        const std::vector<int64_t> &rows,
                        const std::vector<int64_t> &heads) {
  auto *gpu = dynamic_cast<cuda::CudaBackend *>(&backend);
  if (!gpu)
    throw Error("evaluate: backend '" + backend.name() +
                "' reports CUDA memory but is not lfc's CUDA backend "
                "(createCudaBackend()); the quality probe needs its JIT");
  // The probe runs on the legacy default stream and reads its results back
  // synchronously; work the backend queued on a stream of its own (a
  // session's) must be done first. When this returns, the probe is done too.
  if (gpu->stream())
    cuda::check(cuda::driver().cuStreamSynchronize(
                    static_cast<CUstream>(gpu->stream())),
                "cuStreamSynchronize",
                "evaluate: waiting for the backend's stream");
  checkSelection(sel);
  const int64_t B = q.batch, H = q.heads, D = q.dim;
  const int64_t Lq = sel.queryTokens(), Lk = sel.keyTokens();
  const int64_t nqb = sel.queryBlocks(), nkb = sel.keyBlocks();
  checkTensor(q, "evaluate: q", B, Lq, H, D, q.dtype, Device::Cuda);
  checkTensor(k, "evaluate: k", B, Lk, H, D, q.dtype, Device::Cuda);
  checkTensor(v, "evaluate: v", B, Lk, H, D, q.dtype, Device::Cuda);
  if (q.dtype == DType::F32)
    throw Error("evaluate: q: the CUDA quality probe reads bf16 or fp16 "
                "tensors, got fp32");
  if (D != 64 && D != 128)
    throw Error("evaluate: q: head_dim " + str(D) +
                " has no CUDA quality probe; supported: 64, 128");
  cuda::checkDevicePointer(q.data, "evaluate: q");
  cuda::checkDevicePointer(k.data, "evaluate: k");
  cuda::checkDevicePointer(v.data, "evaluate: v");
  if (Lq > (int64_t(1) << 30) || Lk > (int64_t(1) << 30))
    throw Error("evaluate: " + str(Lq) + " query and " + str(Lk) +
                " key tokens; the CUDA quality probe indexes at most 2^30");
  if (!(scale > 0.f) || !std::isfinite(scale))
    throw Error("evaluate: scale must be a positive finite number, got " +
                std::to_string(scale));
  const bool isStatic =
      !kept && !sel.dense && sel.staticMask && !sel.staticMask->isAll();
  if (kept) {
    if (!kept->idx || !kept->cnt)
      throw Error("evaluate: kept: idx and cnt must be non-null device arrays "
                  "(as the CUDA backend's select writes them)");
    if (kept->batch != B || kept->heads != H || kept->queryBlocks != nqb)
      throw Error("evaluate: kept: expected [batch, heads, queryBlocks] = [" +
                  str(B) + ", " + str(H) + ", " + str(nqb) + "], got [" +
                  str(kept->batch) + ", " + str(kept->heads) + ", " +
                  str(kept->queryBlocks) + "]");
    if (kept->maxKept < 0 || kept->maxKept > INT_MAX)
      throw Error("evaluate: kept: maxKept must be in [0, 2^31), got " +
                  str(kept->maxKept));
    cuda::checkDevicePointer(kept->idx, "evaluate: kept.idx");
    cuda::checkDevicePointer(kept->cnt, "evaluate: kept.cnt");
  }

  const cuda::DeviceInfo &device = cuda::currentDevice();
  const int warps = probeWarps(int(D), device.maxSharedOptin);
  if (!warps)
    throw Error("evaluate: the CUDA quality probe needs " +
                str(LFC_QP_SHARED_BYTES(int(D), 4)) +
                " bytes of shared memory per CTA for head_dim " + str(D) +
                "; this device allows " + str(device.maxSharedOptin));
  const int shared = LFC_QP_SHARED_BYTES(int(D), warps);
  const int64_t rowsPerCta = 8 * warps;
  const int64_t nr = int64_t(rows.size()), nh = int64_t(heads.size());
  const int64_t units = B * nh, groups = (nr + rowsPerCta - 1) / rowsPerCta;
  const int64_t sampled = units * nr;
  if (units > 65535 || groups > 65535)
    throw Error("evaluate: " + str(units) +
                " (batch x sampled head) units and " + str(groups) +
                " groups of " + str(rowsPerCta) +
                " sampled rows exceed the probe grid's 65535");
  const int64_t tiles = (Lk + LFC_QP_TILE_KEYS - 1) / LFC_QP_TILE_KEYS;
  const int64_t perSplit =
      tilesPerSplit(tiles, units * groups, device.multiprocessors);
  const int64_t splitKeys = perSplit * LFC_QP_TILE_KEYS;
  const int64_t splits = (Lk + splitKeys - 1) / splitKeys;

  const std::string name = probeKernelName(gpu->arch(), q.dtype, int(D), warps);
  const cuda::LoadedKernel &module = gpu->load(
      name,
      [&] { return probeKernelSource(gpu->arch(), q.dtype, int(D), warps); },
      {name + "_check", name + "_probe", name + "_combine"}, shared);

  ProbeState &st = state();
  std::lock_guard<std::mutex> lock(st.mutex);
  if (isStatic)
    buildStaticTable(sel, st.statics);
  const StaticTable &table = st.statics;

  // Host-made inputs, uploaded only when they changed: the sampled rows and
  // heads, and a static mask's lists.
  std::vector<int32_t> meta;
  meta.reserve(size_t(nr + nh) +
               (isStatic ? table.cnt.size() + table.idx.size() : 0));
  for (int64_t r : rows)
    meta.push_back(int32_t(r));
  for (int64_t h : heads)
    meta.push_back(int32_t(h));
  if (isStatic) {
    meta.insert(meta.end(), table.cnt.begin(), table.cnt.end());
    meta.insert(meta.end(), table.idx.begin(), table.idx.end());
  }
  const int64_t lists = kept ? B * H * nqb : 0;
  const int64_t partialFloats = LFC_QP_PARTIAL_FLOATS(D),
                outFloats = LFC_QP_OUT_FLOATS(D);
  const size_t metaBytes = align16(meta.size() * 4);
  const size_t partialBytes =
      size_t(sampled * splits * partialFloats) * sizeof(float);
  const size_t checkBytes = size_t(lists) * 16;
  const size_t outBytes = size_t(sampled * outFloats) * sizeof(float);
  const size_t total = metaBytes + partialBytes + checkBytes + outBytes;
  if (st.buffer.size() < total) {
    st.buffer = cuda::DeviceBuffer();
    st.buffer = cuda::DeviceBuffer(total + total / 4);
    st.uploadedValid = false;
  }
  if (!st.uploadedValid || st.uploaded != meta) {
    if (!meta.empty())
      st.buffer.upload(meta.data(), meta.size() * 4);
    st.uploaded = meta;
    st.uploadedValid = true;
  }
  char *base = static_cast<char *>(st.buffer.get());
  const int *devRows = reinterpret_cast<const int *>(base);
  const int *devHeads = devRows + nr;
  float *devPartial = reinterpret_cast<float *>(base + metaBytes);
  int *devCheck = reinterpret_cast<int *>(base + metaBytes + partialBytes);
  float *devOut =
      reinterpret_cast<float *>(base + metaBytes + partialBytes + checkBytes);

  if (kept) {
    LfcQualityCheckParams cp{};
    cp.keptIdx = kept->idx;
    cp.keptCnt = kept->cnt;
    cp.lists = int(lists);
    cp.maxKept = int(kept->maxKept);
    cp.keyBlocks = int(nkb);
    cp.lk = int(Lk);
    cp.blockK = sel.blockK;
    cp.out = devCheck;
    launch(module.functions.at(name + "_check"), name + "_check",
           (lists + LFC_QP_AUX_THREADS - 1) / LFC_QP_AUX_THREADS, 1, 1,
           LFC_QP_AUX_THREADS, 0, &cp);
  }

  LfcQualityProbeParams pp{};
  pp.q = tensorArg(q);
  pp.k = tensorArg(k);
  pp.v = tensorArg(v);
  pp.rows = devRows;
  pp.heads = devHeads;
  pp.sampledRows = int(nr);
  pp.sampledHeads = int(nh);
  pp.lk = int(Lk);
  pp.blockQ = sel.blockQ;
  int log2 = 0;
  while ((1 << log2) < sel.blockK)
    ++log2;
  pp.blockKLog2 = log2;
  pp.scale = scale;
  if (kept) {
    pp.keptIdx = kept->idx;
    pp.keptCnt = kept->cnt;
    pp.listStrideB = H * nqb;
    pp.listStrideH = nqb;
    pp.maxKept = int(kept->maxKept);
  } else if (isStatic) {
    pp.keptCnt = devHeads + nh;
    pp.keptIdx = pp.keptCnt + nqb;
    pp.listStrideB = pp.listStrideH = 0; // one list per query block
    pp.maxKept = int(table.maxKept);
  }
  pp.splitKeys = int(splitKeys);
  pp.splits = int(splits);
  pp.partial = devPartial;
  launch(module.functions.at(name + "_probe"), name + "_probe", splits, groups,
         units, 32 * warps, shared, &pp);

  LfcQualityCombineParams mp{};
  mp.partial = devPartial;
  mp.out = devOut;
  mp.rows = int(sampled);
  mp.splits = int(splits);
  const int rowsPerCombine = LFC_QP_AUX_THREADS / 32;
  launch(module.functions.at(name + "_combine"), name + "_combine",
         (sampled + rowsPerCombine - 1) / rowsPerCombine, 1, 1,
         LFC_QP_AUX_THREADS, 0, &mp);

  // One synchronous download: the kept-list check, then the rows.
  std::vector<char> back(checkBytes + outBytes);
  st.buffer.download(back.data(), back.size(), metaBytes + partialBytes);

  DeviceProbe out;
  out.dim = D;
  out.rowFloats = outFloats;
  out.rows.resize(size_t(sampled * outFloats));
  std::memcpy(out.rows.data(), back.data() + checkBytes, outBytes);
  if (kept) {
    std::vector<int32_t> check(size_t(lists) * 4);
    std::memcpy(check.data(), back.data(), checkBytes);
    out.keptBlocks.resize(size_t(lists));
    out.keptTokens.resize(size_t(lists));
    // The first bad row, as the host's check reports it.
    for (int64_t r = 0; r < lists; ++r) {
      const int32_t *c = &check[size_t(r * 4)];
      if (c[2] == -2)
        throw Error("evaluate: kept: cnt[" + str(r) + "] = " + str(c[0]) +
                    " is outside [0, maxKept (" + str(kept->maxKept) + ")]");
      if (c[2] >= 0)
        throw Error("evaluate: kept: row " + str(r) +
                    " must hold strictly ascending key blocks in [0, " +
                    str(nkb) + "), got " + str(c[3]) + " at position " +
                    str(c[2]));
      out.keptBlocks[size_t(r)] = c[0];
      out.keptTokens[size_t(r)] = c[1];
    }
  } else if (isStatic) {
    out.keptBlocks.resize(size_t(B * H * nqb));
    out.keptTokens.resize(size_t(B * H * nqb));
    for (int64_t bh = 0; bh < B * H; ++bh) {
      std::copy(table.cnt.begin(), table.cnt.end(),
                out.keptBlocks.begin() + bh * nqb);
      std::copy(table.tokens.begin(), table.tokens.end(),
                out.keptTokens.begin() + bh * nqb);
    }
  } else {
    out.dense = true;
  }
  return out;
}

} // namespace lfc::quality::detail
