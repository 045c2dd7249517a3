// CudaBackend: argument checks, JIT + module cache, and kernel launches on the
// backend's stream (setStream; the default stream unless set).
#include "runtime/cuda/CudaBackend.h"

#include "kernels_templates/lfc/abi.h"
#include "kernels_templates/lfc/tma_abi.h"
#include "lfc/cuda_backend.h"
#include "lfc/jit.h"
#include "lfc/runtime.h"
#include "lfc/static_mask.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace lfc::cuda {

namespace {

constexpr int kSelectThreads = SelectVariant::kThreads;

class CudaPooledKeys final : public PooledKeyCache {
public:
  CudaPooledKeys(int64_t batch, int64_t heads, int64_t dim, int64_t maxTokens,
                 int blockK, int tokensPerFrame)
      : batch(batch), heads(heads), dim(dim), maxTokens(maxTokens),
        blockK(blockK), tokensPerFrame(tokensPerFrame),
        maxBlocks((maxTokens + blockK - 1) / blockK),
        maxFrames((maxTokens + tokensPerFrame - 1) / tokensPerFrame),
        blockSums(blockBytes()), frameSums(frameBytes()),
        blockMeansT(blockBytes()), frameMeans(frameBytes()) {
    // Sums start at +0.0f, exactly as the sequential definition's `s = 0.0f`.
    blockSums.fill(0);
    frameSums.fill(0);
  }
  int64_t committedTokens() const override { return committed; }
  int64_t bytes() const override {
    return 2 * int64_t(blockBytes() + frameBytes());
  }
  size_t blockBytes() const {
    return size_t(batch * heads * maxBlocks * dim) * sizeof(float);
  }
  size_t frameBytes() const {
    return size_t(batch * heads * maxFrames * dim) * sizeof(float);
  }

  int64_t batch, heads, dim, maxTokens;
  int blockK, tokensPerFrame;
  int64_t maxBlocks, maxFrames;
  /// Running sums, and the means of complete units (blocks transposed:
  /// LfcCommitParams).
  DeviceBuffer blockSums, frameSums, blockMeansT, frameMeans;
  int64_t committed = 0;
};

LfcTensorArg tensorArg(const Tensor4 &t) {
  return {t.data, (long long)t.strideB, (long long)t.strideS,
          (long long)t.strideH};
}

void checkOnDevice(const Tensor4 &t, const std::string &kernel,
                   const char *what) {
  checkDevicePointer(t.data, kernel + ": " + what);
}

/// The kernels index with 32-bit token and block counts.
void checkFitsInt(int64_t v, const std::string &kernel, const char *what) {
  if (v < 0 || v > (int64_t(1) << 30))
    throw Error(kernel + ": " + what + " (" + std::to_string(v) +
                ") is outside [0, 2^30], the range the kernels index");
}

void launch(CUstream stream, CUfunction f, const std::string &name, unsigned gx,
            unsigned gy, unsigned gz, unsigned threads, unsigned shared,
            void *params, void *params2 = nullptr) {
  if (gx == 0 || gy == 0 || gz == 0)
    return;
  void *args[] = {params, params2};
  check(driver().cuLaunchKernel(f, gx, gy, gz, threads, 1, 1, shared, stream,
                                args, nullptr),
        "cuLaunchKernel",
        name + " grid (" + std::to_string(gx) + ", " + std::to_string(gy) +
            ", " + std::to_string(gz) + ") block " + std::to_string(threads) +
            " shared " + std::to_string(shared));
}

static_assert(sizeof(LfcTmaMap) == sizeof(CUtensorMap) &&
                  alignof(LfcTmaMap) == alignof(CUtensorMap),
              "LfcTmaMap must mirror CUtensorMap");

/// The tensor map the TMA attention kernel reads `t` through: dims (innermost
/// first) head_dim, tokens, heads, batch; boxes of 64 head-dim columns (one
/// 128-byte swizzle row) by `boxRows` tokens. Tokens past the end arrive as
/// zeros.
LfcTmaMap encodeTmaMap(const Tensor4 &t, int boxRows, const std::string &kernel,
                       const char *what) {
  const cuuint64_t elem = dtypeSize(t.dtype);
  const cuuint64_t dims[4] = {cuuint64_t(t.dim), cuuint64_t(t.tokens),
                              cuuint64_t(t.heads), cuuint64_t(t.batch)};
  // A dimension of extent 1 is only ever read at coordinate 0, so its stride
  // is irrelevant; a packed stride stands in for whatever the caller passed
  // (possibly 0, which the encoder rejects).
  const cuuint64_t packedS = dims[0] * elem, packedH = packedS * dims[1],
                   packedB = packedH * dims[2];
  auto stride = [&](int64_t extent, int64_t s, cuuint64_t packed) {
    return extent == 1 ? packed : cuuint64_t(s) * elem;
  };
  const cuuint64_t strides[3] = {stride(t.tokens, t.strideS, packedS),
                                 stride(t.heads, t.strideH, packedH),
                                 stride(t.batch, t.strideB, packedB)};
  const cuuint32_t box[4] = {64, cuuint32_t(boxRows), 1, 1};
  const cuuint32_t elementStrides[4] = {1, 1, 1, 1};
  CUtensorMap map;
  const CUresult r = driver().cuTensorMapEncodeTiled(
      &map,
      t.dtype == DType::BF16 ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16
                             : CU_TENSOR_MAP_DATA_TYPE_FLOAT16,
      4, const_cast<void *>(t.data), dims, strides, box, elementStrides,
      CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
      CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  // The context string is built only on failure (this runs on every call).
  if (r != CUDA_SUCCESS)
    check(r, "cuTensorMapEncodeTiled",
          kernel + ": " + what + " [batch " + std::to_string(t.batch) +
              ", tokens " + std::to_string(t.tokens) + ", heads " +
              std::to_string(t.heads) + ", head_dim " + std::to_string(t.dim) +
              "], element strides (B, S, H) = (" + std::to_string(t.strideB) +
              ", " + std::to_string(t.strideS) + ", " +
              std::to_string(t.strideH) + "), box " + std::to_string(boxRows) +
              " rows");
  LfcTmaMap out;
  std::memcpy(&out, &map, sizeof out);
  return out;
}

void checkKept(const KeptBlocks &kept, const std::string &kernel, int64_t batch,
               int64_t heads, int64_t queryBlocks, int64_t minKept) {
  if (kept.batch != batch || kept.heads != heads ||
      kept.queryBlocks != queryBlocks)
    throw Error(kernel +
                ": kept blocks are for [batch, heads, query_blocks] = [" +
                std::to_string(kept.batch) + ", " + std::to_string(kept.heads) +
                ", " + std::to_string(kept.queryBlocks) + "], expected [" +
                std::to_string(batch) + ", " + std::to_string(heads) + ", " +
                std::to_string(queryBlocks) + "]");
  if (kept.maxKept < minKept)
    throw Error(kernel + ": kept.maxKept (" + std::to_string(kept.maxKept) +
                ") must be at least " + std::to_string(minKept));
  checkDevicePointer(kept.idx, kernel + ": kept.idx");
  checkDevicePointer(kept.cnt, kernel + ": kept.cnt");
}

} // namespace

CudaBackend::CudaBackend()
    : device_(currentDevice()),
      arch_(archForDevice(device_.major, device_.minor)) {}

CudaBackend::~CudaBackend() {
  for (auto &[name, m] : modules_)
    if (m.module)
      driver().cuModuleUnload(m.module);
}

std::string CudaBackend::name() const {
  return "cuda (" + device_.name + ", " + arch_ + ")";
}

void CudaBackend::synchronize() {
  currentDevice();
  check(driver().cuCtxSynchronize(), "cuCtxSynchronize",
        "waiting for lfc kernels");
}

void CudaBackend::setStream(void *stream) {
  stream_ = static_cast<CUstream>(stream);
}

void CudaBackend::copy(const Tensor4 &dst, const Tensor4 &src) {
  checkTensor(src, "copy: src", src.batch, src.tokens, src.heads, src.dim,
              src.dtype, Device::Cuda);
  checkTensor(dst, "copy: dst", src.batch, src.tokens, src.heads, src.dim,
              src.dtype, Device::Cuda);
  checkDevicePointer(src.data, "copy: src");
  checkDevicePointer(dst.data, "copy: dst");
  if (src.tokens == 0 || src.batch == 0 || src.heads == 0)
    return;
  const size_t es = size_t(dtypeSize(src.dtype));
  // Token rows of all heads are one contiguous run when both sides are
  // head-interleaved (BSHD-like): one 2-D copy per batch; otherwise one per
  // (batch, head).
  const bool merged =
      (src.heads == 1) || (src.strideH == src.dim && dst.strideH == dst.dim);
  const int64_t heads = merged ? 1 : src.heads;
  const size_t width = size_t(merged ? src.heads * src.dim : src.dim) * es;
  for (int64_t b = 0; b < src.batch; ++b)
    for (int64_t h = 0; h < heads; ++h) {
      CUDA_MEMCPY2D m{};
      m.srcMemoryType = CU_MEMORYTYPE_DEVICE;
      m.srcDevice = CUdeviceptr(static_cast<const char *>(src.data) +
                                size_t(src.offset(b, 0, h)) * es);
      m.srcPitch = size_t(src.tokens > 1 ? src.strideS : 0) * es;
      m.dstMemoryType = CU_MEMORYTYPE_DEVICE;
      m.dstDevice = CUdeviceptr(static_cast<char *>(dst.data) +
                                size_t(dst.offset(b, 0, h)) * es);
      m.dstPitch = size_t(src.tokens > 1 ? dst.strideS : 0) * es;
      m.WidthInBytes = width;
      m.Height = size_t(src.tokens);
      if (m.Height == 1)
        m.srcPitch = m.dstPitch = width;
      check(driver().cuMemcpy2DAsync_v2(&m, stream_), "cuMemcpy2DAsync",
            "copy [" + std::to_string(src.batch) + ", " +
                std::to_string(src.tokens) + ", " + std::to_string(src.heads) +
                ", " + std::to_string(src.dim) + "] (strideS " +
                std::to_string(src.strideS) + " -> " +
                std::to_string(dst.strideS) + ")");
    }
}

void CudaBackend::toHost(void *host, const void *src, size_t bytes) {
  checkDevicePointer(src, "toHost: src");
  if (stream_)
    check(driver().cuStreamSynchronize(stream_), "cuStreamSynchronize",
          "toHost");
  check(driver().cuMemcpyDtoH_v2(host, CUdeviceptr(src), bytes), "cuMemcpyDtoH",
        "toHost " + std::to_string(bytes) + " bytes");
}

void CudaBackend::fromHost(void *dst, const void *host, size_t bytes) {
  checkDevicePointer(dst, "fromHost: dst");
  // Ordered before later work on a non-blocking stream too.
  if (stream_)
    check(driver().cuStreamSynchronize(stream_), "cuStreamSynchronize",
          "fromHost");
  check(driver().cuMemcpyHtoD_v2(CUdeviceptr(dst), host, bytes), "cuMemcpyHtoD",
        "fromHost " + std::to_string(bytes) + " bytes");
  if (stream_)
    check(driver().cuCtxSynchronize(), "cuCtxSynchronize", "fromHost");
}

namespace {
struct EventMark final : Backend::TimeMark {
  CUevent event = nullptr;
  ~EventMark() override {
    if (event)
      driver().cuEventDestroy_v2(event);
  }
};
} // namespace

std::unique_ptr<Backend::TimeMark> CudaBackend::mark() {
  auto m = std::make_unique<EventMark>();
  check(driver().cuEventCreate(&m->event, CU_EVENT_DEFAULT), "cuEventCreate");
  check(driver().cuEventRecord(m->event, stream_), "cuEventRecord");
  return m;
}

double CudaBackend::elapsedMs(const TimeMark &a, const TimeMark &b) {
  const auto *ea = dynamic_cast<const EventMark *>(&a);
  const auto *eb = dynamic_cast<const EventMark *>(&b);
  if (!ea || !eb)
    throw Error(name() + ": elapsedMs: marks from another backend");
  check(driver().cuEventSynchronize(eb->event), "cuEventSynchronize");
  float ms = 0;
  check(driver().cuEventElapsedTime_v2(&ms, ea->event, eb->event),
        "cuEventElapsedTime");
  return double(ms);
}

void CudaBackend::forgetLoadedModules() {
  synchronize();
  for (auto &[name, m] : modules_)
    if (m.module)
      driver().cuModuleUnload(m.module);
  modules_.clear();
}

const LoadedKernel &
CudaBackend::load(const std::string &name,
                  const std::function<std::string()> &source,
                  const std::vector<std::string> &entries, int sharedBytes) {
  if (auto it = modules_.find(name); it != modules_.end())
    return it->second;
  currentDevice();
  JitRequest req;
  req.kernelName = name;
  req.source = source();
  req.arch = arch_;
  req.includeDirs = {defaultKernelIncludeDir()};
  JitResult jit = jitCompile(req);
  LoadedKernel k;
  k.cacheHit = jit.cacheHit;
  k.compileMs = jit.compileMs;
  check(driver().cuModuleLoadData(&k.module, jit.cubin.data()),
        "cuModuleLoadData", name);
  for (const std::string &entry : entries) {
    CUfunction f = nullptr;
    check(driver().cuModuleGetFunction(&f, k.module, entry.c_str()),
          "cuModuleGetFunction", entry);
    if (sharedBytes > 48 * 1024)
      check(
          driver().cuFuncSetAttribute(
              f, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, sharedBytes),
          "cuFuncSetAttribute",
          entry + " dynamic shared memory " + std::to_string(sharedBytes));
    k.functions[entry] = f;
  }
  return modules_.emplace(name, std::move(k)).first->second;
}

int CudaBackend::selectSharedLimit() const {
  return device_.maxSharedOptin - LFC_SELECT_STATIC_BYTES;
}

AttnVariant CudaBackend::attnVariant(DType dtype, int headDim, int blockQ,
                                     int blockK, bool dense) const {
  AttnVariant v = chooseAttnVariant(arch_, dtype, headDim, blockQ, blockK,
                                    dense, device_.maxSharedOptin);
  if (tiles_.tileQ) {
    v.tileQ = tiles_.tileQ;
    v.tileK = tiles_.tileK;
    v.warps = tiles_.warps;
    v.wgmma = tiles_.kernel >= 1;
    v.decoupled = tiles_.kernel == 2;
    v.tma = tiles_.kernel >= 3;
    v.stages = tiles_.kernel == 4 ? 3 : 2;
    if (v.wgmma && arch_ != "sm_90a")
      throw Error("setAttnTiles: kernel " + std::to_string(tiles_.kernel) +
                  " uses wgmma, which needs sm_90a; this device is " + arch_ +
                  " (kernel 0, mma.sync, runs everywhere)");
    if (v.sharedBytes() > device_.maxSharedOptin)
      throw Error("setAttnTiles: " + kernelName(v) + " needs " +
                  std::to_string(v.sharedBytes()) +
                  " bytes of shared memory; the device allows " +
                  std::to_string(device_.maxSharedOptin));
  }
  return v;
}

std::unique_ptr<PooledKeyCache>
CudaBackend::createPooledKeys(int64_t batch, int64_t heads, int64_t headDim,
                              int64_t maxTokens, int blockK,
                              int tokensPerFrame) {
  if (batch <= 0 || heads <= 0 || maxTokens <= 0 || blockK <= 0 ||
      tokensPerFrame <= 0)
    throw Error("createPooledKeys: batch, heads, maxTokens, blockK and "
                "tokensPerFrame must be "
                "> 0, got " +
                std::to_string(batch) + ", " + std::to_string(heads) + ", " +
                std::to_string(maxTokens) + ", " + std::to_string(blockK) +
                ", " + std::to_string(tokensPerFrame));
  if (headDim != 64 && headDim != 128)
    throw Error("createPooledKeys: head_dim " + std::to_string(headDim) +
                " has no CUDA kernel; supported: 64, 128");
  checkFitsInt(maxTokens, "createPooledKeys", "maxTokens");
  currentDevice();
  return std::make_unique<CudaPooledKeys>(batch, heads, headDim, maxTokens,
                                          blockK, tokensPerFrame);
}

void CudaBackend::commitKeys(PooledKeyCache &cache, const Tensor4 &k,
                             int64_t endToken) {
  auto *c = dynamic_cast<CudaPooledKeys *>(&cache);
  SelectVariant sv{arch_, k.dtype, int(k.dim)};
  const std::string name = kernelName(sv), entry = name + "_commit";
  if (!c)
    throw Error(entry +
                ": the pooled-key cache was created by another backend");
  checkTensor(k, (entry + ": k").c_str(), c->batch, k.tokens, c->heads, c->dim,
              k.dtype, Device::Cuda);
  checkOnDevice(k, entry, "k");
  if (endToken < c->committed || endToken > k.tokens || endToken > c->maxTokens)
    throw Error(entry + ": endToken (" + std::to_string(endToken) +
                ") must be in [committed (" + std::to_string(c->committed) +
                "), min(k.tokens (" + std::to_string(k.tokens) +
                "), maxTokens (" + std::to_string(c->maxTokens) + "))]");
  if (endToken == c->committed)
    return;
  const LoadedKernel &m = load(
      name, [&] { return entrySource(sv); },
      {name + "_commit", name + "_pool", name + "_select"},
      selectSharedLimit());
  LfcCommitParams p{};
  p.k = tensorArg(k);
  p.blockSums = static_cast<float *>(c->blockSums.get());
  p.frameSums = static_cast<float *>(c->frameSums.get());
  p.blockMeansT = static_cast<float *>(c->blockMeansT.get());
  p.frameMeans = static_cast<float *>(c->frameMeans.get());
  p.heads = int(c->heads);
  p.dim = int(c->dim);
  p.maxBlocks = int(c->maxBlocks);
  p.maxFrames = int(c->maxFrames);
  p.blockK = c->blockK;
  p.tokensPerFrame = c->tokensPerFrame;
  p.begin = int(c->committed);
  p.end = int(endToken);
  // One CTA per touched block and frame, staging its rows in shared memory.
  const int64_t units =
      ((endToken - 1) / c->blockK - c->committed / c->blockK + 1) +
      ((endToken - 1) / c->tokensPerFrame - c->committed / c->tokensPerFrame +
       1);
  launch(stream_, m.functions.at(entry), entry, unsigned(units),
         unsigned(c->heads), unsigned(c->batch), kSelectThreads,
         unsigned(LFC_POOL_SHARED_BYTES(int(c->dim))), &p);
  c->committed = endToken;
}

void CudaBackend::select(const ChunkSelection &sel, const Tensor4 &q,
                         const Tensor4 &k, const PooledKeyCache *pooled,
                         KeptBlocks &kept) {
  SelectVariant sv{arch_, q.dtype, int(q.dim)};
  // A static mask is compiled into its own select kernel (ANDed into the frame
  // stage's eligibility).
  if (sel.staticMask && !sel.staticMask->isAll())
    sv.staticMask = sel.staticMask->text();
  const std::string name = kernelName(sv), symbol = entrySymbol(name);
  const LoadedKernel &m = load(
      name, [&] { return entrySource(sv); },
      {symbol + "_commit", symbol + "_pool", symbol + "_select"},
      selectSharedLimit());
  launchSelect(name, m.functions.at(symbol + "_pool"),
               m.functions.at(symbol + "_select"), sel, q, k, pooled, kept);
}

void CudaBackend::launchSelect(const std::string &name, CUfunction poolFn,
                               CUfunction selectFn, const ChunkSelection &sel,
                               const Tensor4 &q, const Tensor4 &k,
                               const PooledKeyCache *pooled, KeptBlocks &kept) {
  checkSelection(sel);
  const int64_t batch = q.batch, heads = q.heads, dim = q.dim;
  const int64_t lq = sel.queryTokens(), lk = sel.keyTokens();
  checkTensor(q, (name + "_select: q").c_str(), batch, lq, heads, dim, q.dtype,
              Device::Cuda);
  checkTensor(k, (name + "_pool: k").c_str(), batch, lk, heads, dim, q.dtype,
              Device::Cuda);
  checkOnDevice(q, name + "_select", "q");
  checkOnDevice(k, name + "_pool", "k");
  checkFitsInt(lk, name, "key tokens");
  const int64_t nqb = sel.queryBlocks(), nkb = sel.keyBlocks(),
                nf = sel.visibleFrames;
  const int64_t budget = sel.dense ? nkb : sel.keptKeyBlocks;
  checkKept(kept, name + "_select", batch, heads, nqb,
            std::min<int64_t>(budget, nkb));

  const CudaPooledKeys *cache = nullptr;
  if (pooled) {
    cache = dynamic_cast<const CudaPooledKeys *>(pooled);
    if (!cache)
      throw Error(name +
                  "_pool: the pooled-key cache was created by another backend");
    if (cache->batch != batch || cache->heads != heads || cache->dim != dim ||
        cache->blockK != sel.blockK ||
        cache->tokensPerFrame != sel.tokensPerFrame)
      throw Error(name + "_pool: the pooled-key cache is for batch " +
                  std::to_string(cache->batch) + ", heads " +
                  std::to_string(cache->heads) + ", head_dim " +
                  std::to_string(cache->dim) + ", block_k " +
                  std::to_string(cache->blockK) + ", tokens_per_frame " +
                  std::to_string(cache->tokensPerFrame) + "; this call has " +
                  std::to_string(batch) + ", " + std::to_string(heads) + ", " +
                  std::to_string(dim) + ", " + std::to_string(sel.blockK) +
                  ", " + std::to_string(sel.tokensPerFrame));
    if (cache->committed > lk)
      throw Error(name + "_pool: the pooled-key cache holds " +
                  std::to_string(cache->committed) +
                  " committed tokens, more than this call's " +
                  std::to_string(lk) + " keys");
  }

  // Frame classes (docs/selection-semantics.md), resolved once per call.
  const int past = sel.visibleFrames - sel.framesPerChunk;
  const int sinkEnd = std::min(sel.sinkFrames, past);
  const int nearBegin = std::max(sinkEnd, past - sel.nearFrames);
  const bool frameStage =
      !sel.dense && sel.framesTopK > 0 && past > sel.framesTopK;
  const int middleKeep =
      frameStage ? std::max(0, sel.framesTopK - sinkEnd - (past - nearBegin))
                 : -1;

  // One CTA ranks all key blocks of up to LFC_SELECT_GROUP query blocks in
  // shared memory (the more, the fewer reads of the pooled keys): the largest
  // group that fits the opt-in limit. Eligible blocks are listed as 16-bit
  // indices (far more than any CTA's shared memory ranks).
  const int64_t stride = LFC_SELECT_SHARED_STRIDE(nkb, int64_t(nf));
  const int selectLimit = selectSharedLimit();
  const int most = selectGroup_ > 0 ? std::min(selectGroup_, LFC_SELECT_GROUP)
                                    : LFC_SELECT_GROUP;
  const int group = int(std::min<int64_t>(most, selectLimit / stride));
  const int64_t selectShared =
      LFC_SELECT_SHARED_BYTES(int64_t(group), nkb, int64_t(nf));
  if (group < 1 || nkb > 65535)
    throw Error(name + "_select: " + std::to_string(nkb) + " key blocks and " +
                std::to_string(nf) + " frames need " + std::to_string(stride) +
                " bytes of shared memory in one CTA; this device allows " +
                std::to_string(selectLimit) +
                " (use a larger block_k or fewer visible frames)");

  // Per-call means: query blocks, and the key blocks and frames past the
  // committed prefix (the cache holds the others').
  const size_t queryBytes = size_t(batch * heads * nqb * dim) * sizeof(float);
  const size_t meansBytes = size_t(batch * heads * nkb * dim) * sizeof(float);
  const size_t framesBytes = size_t(batch * heads * nf * dim) * sizeof(float);
  if (queryMeans_.size() < queryBytes)
    queryMeans_ = DeviceBuffer(queryBytes);
  if (blockMeans_.size() < meansBytes)
    blockMeans_ = DeviceBuffer(meansBytes);
  if (frameMeans_.size() < framesBytes)
    frameMeans_ = DeviceBuffer(framesBytes);

  const int committed = cache ? int(cache->committed) : 0;
  const int frameBegin = frameStage ? sinkEnd : 0;
  const int frameEnd = frameStage ? nearBegin : 0;
  LfcPoolKeysParams pp{};
  pp.q = tensorArg(q);
  pp.k = tensorArg(k);
  pp.blockSums =
      cache ? static_cast<const float *>(cache->blockSums.get()) : nullptr;
  pp.frameSums =
      cache ? static_cast<const float *>(cache->frameSums.get()) : nullptr;
  pp.cacheBlocks = cache ? int(cache->maxBlocks) : 0;
  pp.cacheFrames = cache ? int(cache->maxFrames) : 0;
  pp.committed = committed;
  pp.queryMeans = static_cast<float *>(queryMeans_.get());
  pp.blockMeansT = static_cast<float *>(blockMeans_.get());
  pp.frameMeans = static_cast<float *>(frameMeans_.get());
  pp.heads = int(heads);
  pp.dim = int(dim);
  pp.lq = int(lq);
  pp.blockQ = sel.blockQ;
  pp.queryBlocks = int(nqb);
  pp.lk = int(lk);
  pp.blockK = sel.blockK;
  pp.tokensPerFrame = sel.tokensPerFrame;
  pp.keyBlocks = int(nkb);
  pp.frames = int(nf);
  // Units that end inside the committed prefix are complete: their means are
  // in the cache.
  pp.activeBlock = int(std::min<int64_t>(committed / sel.blockK, nkb));
  pp.activeFrame =
      std::clamp(committed / sel.tokensPerFrame, frameBegin, frameEnd);
  pp.frameEnd = frameEnd;
  const int64_t poolCtas =
      (frameEnd - pp.activeFrame) + nqb + (nkb - pp.activeBlock);
  launch(stream_, poolFn, name + "_pool", unsigned(poolCtas), unsigned(heads),
         unsigned(batch), kSelectThreads,
         unsigned(LFC_POOL_SHARED_BYTES(int(dim))), &pp);

  LfcSelectParams sp{};
  sp.queryMeans = pp.queryMeans;
  sp.blockMeansT = pp.blockMeansT;
  sp.frameMeans = pp.frameMeans;
  sp.cachedBlockMeansT =
      cache ? static_cast<const float *>(cache->blockMeansT.get()) : nullptr;
  sp.cachedFrameMeans =
      cache ? static_cast<const float *>(cache->frameMeans.get()) : nullptr;
  sp.cacheBlocks = pp.cacheBlocks;
  sp.cacheFrames = pp.cacheFrames;
  sp.activeBlock = pp.activeBlock;
  sp.activeFrame = pp.activeFrame;
  sp.group = group;
  sp.heads = int(heads);
  sp.dim = int(dim);
  sp.lq = int(lq);
  sp.blockQ = sel.blockQ;
  sp.queryBlocks = int(nqb);
  sp.keyBlocks = int(nkb);
  sp.lk = int(lk);
  sp.blockK = sel.blockK;
  sp.tokensPerFrame = sel.tokensPerFrame;
  sp.frames = int(nf);
  sp.past = past;
  sp.sinkEnd = sinkEnd;
  sp.nearBegin = nearBegin;
  sp.middleKeep = middleKeep;
  sp.keptBudget = int(budget);
  sp.keptIdx = kept.idx;
  sp.keptCnt = kept.cnt;
  sp.maxKept = int(kept.maxKept);
  const int64_t groups = (nqb + group - 1) / group;
  launch(stream_, selectFn, name + "_select", unsigned(groups), unsigned(heads),
         unsigned(batch), kSelectThreads, unsigned(selectShared), &sp);
}

void CudaBackend::attention(const ChunkSelection &sel, const Tensor4 &q,
                            const Tensor4 &k, const Tensor4 &v,
                            const KeptBlocks *kept, const Tensor4 &o,
                            float scale) {
  // Without a kept list, a chunk with a static mask (and not dense) runs the
  // kernel that walks the mask's eligible blocks itself.
  const bool isStatic =
      !kept && !sel.dense && sel.staticMask && !sel.staticMask->isAll();
  AttnVariant var = attnVariant(q.dtype, int(q.dim), sel.blockQ, sel.blockK,
                                !kept && !isStatic);
  if (isStatic) {
    var.staticMask = sel.staticMask->text();
    var.tokensPerFrame = sel.tokensPerFrame;
  }
  const std::string name = kernelName(var), symbol = entrySymbol(name);
  const LoadedKernel &m = load(
      name, [&] { return entrySource(var); }, {symbol}, var.sharedBytes());
  launchAttention(var, m.functions.at(symbol), name, sel, q, k, v, kept, o,
                  scale);
}

void CudaBackend::launchAttention(const AttnVariant &var, CUfunction fn,
                                  const std::string &name,
                                  const ChunkSelection &sel, const Tensor4 &q,
                                  const Tensor4 &k, const Tensor4 &v,
                                  const KeptBlocks *kept, const Tensor4 &o,
                                  float scale) {
  checkSelection(sel);
  const int64_t batch = q.batch, heads = q.heads, dim = q.dim;
  const int64_t lq = sel.queryTokens(), lk = sel.keyTokens();
  checkTensor(q, (name + ": q").c_str(), batch, lq, heads, dim, q.dtype,
              Device::Cuda);
  checkTensor(k, (name + ": k").c_str(), batch, lk, heads, dim, q.dtype,
              Device::Cuda);
  checkTensor(v, (name + ": v").c_str(), batch, lk, heads, dim, q.dtype,
              Device::Cuda);
  checkTensor(o, (name + ": o").c_str(), batch, lq, heads, dim, q.dtype,
              Device::Cuda);
  for (auto [t, what] : {std::pair{&q, "q"}, {&k, "k"}, {&v, "v"}, {&o, "o"}})
    checkOnDevice(*t, name, what);
  checkFitsInt(lk, name, "key tokens");
  checkFitsInt(lq, name, "query tokens");
  if (!(scale > 0.f) || !std::isfinite(scale))
    throw Error(name + ": softmax scale must be finite and > 0, got " +
                std::to_string(scale));
  if (kept)
    checkKept(*kept, name, batch, heads, sel.queryBlocks(), 0);

  LfcAttnParams p{};
  p.q = tensorArg(q);
  p.k = tensorArg(k);
  p.v = tensorArg(v);
  p.o = o.data;
  p.oStrideB = o.strideB;
  p.oStrideS = o.strideS;
  p.oStrideH = o.strideH;
  p.batch = int(batch);
  p.heads = int(heads);
  p.lq = int(lq);
  p.lk = int(lk);
  p.scaleLog2 = float(double(scale) * 1.4426950408889634);
  p.keptIdx = kept ? kept->idx : nullptr;
  p.keptCnt = kept ? kept->cnt : nullptr;
  p.queryBlocks = int(sel.queryBlocks());
  p.maxKept = kept ? int(kept->maxKept) : 0;
  const int64_t queryTiles = (lq + var.tileQ - 1) / var.tileQ;
  if (!var.tma) {
    launch(stream_, fn, name, unsigned(queryTiles), unsigned(heads),
           unsigned(batch), unsigned(var.threads()),
           unsigned(var.sharedBytes()), &p);
    return;
  }
  LfcAttnTmaParams tp{};
  tp.q = encodeTmaMap(q, var.tileQ, name, "q");
  tp.k = encodeTmaMap(k, var.tileK, name, "k");
  tp.v = encodeTmaMap(v, var.tileK, name, "v");
  // One CTA per SM: with `items` equal items the last wave holds items % SMs
  // of them and leaves the other SMs idle. Where that remainder fits twice,
  // its items are split in two key halves on twice the SMs: 4 waves become
  // 3.5 at the reference shape (444 items, 132 SMs).
  const int64_t items = queryTiles * heads * batch;
  checkFitsInt(items, name, "query tiles x heads x batch");
  const int64_t sms = splitSms_ > 0 ? splitSms_ : device_.multiprocessors;
  const int64_t rem = items % sms;
  const int64_t split =
      splitSms_ >= 0 && items > sms && 2 * rem <= sms ? rem : 0;
  tp.queryTiles = int(queryTiles);
  tp.wholeItems = int(items - split);
  tp.splitItems = int(split);
  if (split > 0) {
    // Per (split item, consumer warpgroup): two halves of partial rows.
    const size_t partialBytes = size_t(split) * 2 * 2 *
                                LFC_TMA_PARTIAL_FLOATS(size_t(dim)) * 128 *
                                sizeof(float);
    if (tmaPartial_.size() < partialBytes)
      tmaPartial_ = DeviceBuffer(partialBytes);
    const size_t counterBytes = size_t(split) * 2 * sizeof(int);
    if (tmaCounters_.size() < counterBytes) {
      tmaCounters_ = DeviceBuffer(counterBytes);
      tmaCounters_.fill(0);
    }
    tp.partial = static_cast<float *>(tmaPartial_.get());
    tp.counters = static_cast<int *>(tmaCounters_.get());
  }
  // Persistent: one CTA per SM (the kernel fits one) walks its units, loading
  // the next unit's first tiles during the current one's epilogue.
  const int64_t units = items + split;
  const int64_t grid = persistentTma_ ? std::min<int64_t>(units, sms) : units;
  launch(stream_, fn, name, unsigned(grid), 1, 1, unsigned(var.threads()),
         unsigned(var.sharedBytes()), &p, &tp);
}

} // namespace lfc::cuda

namespace lfc {

bool cudaBackendAvailable(std::string *whyNot) {
  if (!cuda::driverAvailable(whyNot))
    return false;
  std::string nvrtcWhy;
  if (!nvrtcAvailable(&nvrtcWhy)) {
    if (whyNot)
      *whyNot = "the CUDA driver loads but NVRTC does not: " + nvrtcWhy;
    return false;
  }
  return true;
}

std::unique_ptr<Backend> createCudaBackend() {
  std::string why;
  if (!cudaBackendAvailable(&why))
    throw Error("CUDA backend unavailable: " + why);
  return std::make_unique<cuda::CudaBackend>();
}

} // namespace lfc
