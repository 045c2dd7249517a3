// DeviceVideoModel: the synthetic AR video model's content, noise,
// projections and residual as CUDA kernels (device_model_kernels.cuh, compiled
// with lfc's NVRTC JIT), launched through the driver API on the legacy default
// stream.
#include "examples/ar_video/DeviceModel.h"

#include "examples/ar_video/device_model_kernels.cuh"
#include "lfc/backend.h"

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <utility>

namespace lfc::ar {
namespace {

using cuda::check;
using cuda::driver;

const char *const kModuleName = "lfc_ar_device_model";

enum Entry {
  kInit,
  kNorm,
  kGemmVec,
  kGemmScalar,
  kQkv,
  kGather,
  kCopy,
  kEntryCount
};
const char *const kEntryNames[kEntryCount] = {
    "lfc_ar_init_chunk",  "lfc_ar_prenorm", "lfc_ar_gemm_vec4",
    "lfc_ar_gemm_scalar", "lfc_ar_qkv",     "lfc_ar_gather",
    "lfc_ar_copy"};

constexpr unsigned kThreads = 256;   // every kernel's CTA size
constexpr int64_t kGemmTile = 128;   // the GEMM's CTA tile (m and n)
constexpr int64_t kMaxGridY = 65535; // the GEMM's m tiles run along grid y

std::string str(int64_t v) { return std::to_string(v); }

template <class T> T *devicePtr(CUdeviceptr p) {
  return reinterpret_cast<T *>(static_cast<uintptr_t>(p));
}

int dtypeCode(DType t) {
  switch (t) {
  case DType::BF16:
    return LFC_AR_BF16;
  case DType::F16:
    return LFC_AR_F16;
  case DType::F32:
    return LFC_AR_F32;
  }
  throw Error("DeviceVideoModel: unknown dtype");
}

LfcArTensor tensorArg(const Tensor4 &t) {
  return {t.data, (long long)t.strideS, (long long)t.strideH,
          dtypeCode(t.dtype)};
}

/// Throws lfc::Error naming `what` unless `t` is a [1, tokens, heads, dim]
/// device tensor the kernels can write or read.
void checkDeviceTensor(const Tensor4 &t, const std::string &what,
                       int64_t tokens, int64_t heads, int64_t dim) {
  const std::string shape =
      "[1, " + str(tokens) + ", " + str(heads) + ", " + str(dim) + "]";
  const std::string expected = "expected a CUDA device tensor (Device::Cuda) " +
                               shape + " of bf16, fp16 or fp32";
  if (t.device != Device::Cuda)
    throw Error(what + ": " + expected + ", got a host tensor (Device::Host)");
  if (!t.data)
    throw Error(what + ": data is null; " + expected);
  if (t.batch != 1 || t.tokens != tokens || t.heads != heads || t.dim != dim)
    throw Error(what + ": expected shape " + shape + ", got [" + str(t.batch) +
                ", " + str(t.tokens) + ", " + str(t.heads) + ", " + str(t.dim) +
                "]");
  if (t.dtype != DType::BF16 && t.dtype != DType::F16 && t.dtype != DType::F32)
    throw Error(what + ": " + expected + ", got an unknown dtype");
  if (t.strideS < 0 || t.strideH < 0 || t.strideB < 0)
    throw Error(what + ": negative stride");
  if ((tokens > 1 && t.strideS < dim) || (heads > 1 && t.strideH < dim))
    throw Error(what + ": strides (strideS " + str(t.strideS) + ", strideH " +
                str(t.strideH) + ") overlap rows of head_dim " + str(dim));
  if (reinterpret_cast<uintptr_t>(t.data) % uintptr_t(dtypeSize(t.dtype)))
    throw Error(what + ": data is not aligned to its " +
                std::string(dtypeName(t.dtype)) + " elements");
  cuda::checkDevicePointer(t.data, what);
}

/// One launch on the legacy default stream; errors name the kernel.
void launch(CUfunction f, const char *name, unsigned gx, unsigned gy,
            void *params) {
  if (gx == 0 || gy == 0)
    return;
  void *args[] = {params};
  const CUresult r = driver().cuLaunchKernel(f, gx, gy, 1, kThreads, 1, 1, 0,
                                             nullptr, args, nullptr);
  if (r != CUDA_SUCCESS)
    check(r, "cuLaunchKernel",
          std::string(name) + " grid (" + str(gx) + ", " + str(gy) +
              ") block " + str(kThreads));
}

cuda::DeviceBuffer uploadFloats(const std::vector<float> &v) {
  cuda::DeviceBuffer b(v.size() * sizeof(float));
  if (!v.empty())
    b.upload(v.data(), v.size() * sizeof(float));
  return b;
}

} // namespace

// ---------------------------------------------------------------------------
// DeviceHidden

DeviceHidden::DeviceHidden(int64_t tokens, int64_t width)
    : tokens_(tokens), width_(width) {
  if (tokens <= 0 || width <= 0)
    throw Error("DeviceHidden: tokens and width must be > 0, got " +
                str(tokens) + " x " + str(width));
  buffer_ = cuda::DeviceBuffer(bytes());
}

// ---------------------------------------------------------------------------
// Kernel source and module

JitRequest deviceModelJitRequest(const std::string &arch) {
  JitRequest req;
  req.kernelName = kModuleName;
  req.source = deviceModelKernelSource();
  req.sourceName = "device_model_kernels.cuh";
  req.arch = arch;
  return req;
}

const std::vector<std::string> &deviceModelKernelEntries() {
  static const std::vector<std::string> names(kEntryNames,
                                              kEntryNames + kEntryCount);
  return names;
}

// ---------------------------------------------------------------------------
// The model

struct DeviceVideoModel::Impl {
  const SyntheticVideoModel *host = nullptr;
  Geometry g;
  int channels = 0;
  int64_t Lq = 0, dm = 0, hd = 0;
  std::string arch;
  int sms = 1;
  CUmodule module = nullptr;
  CUfunction fn[kEntryCount] = {};

  cuda::DeviceBuffer features; // [chunks][Lq][channels]
  cuda::DeviceBuffer embed;    // [channels][dm]
  cuda::DeviceBuffer rope;     // the six tables of RopeTables, concatenated
  const float *ropeTable[6] = {};
  RopeSplit split;

  struct Layer {
    cuda::DeviceBuffer qkv, out, bias;
  };
  mutable std::vector<Layer> layers;
  std::unique_ptr<std::once_flag[]> layerOnce;

  // Scratch, reused by every call (stream order makes that safe).
  cuda::DeviceBuffer x; // [Lq][dm]: pre-normed hidden
  cuda::DeviceBuffer y; // [Lq][3 hd]: x W_qkv
  cuda::DeviceBuffer a; // [Lq][hd]: attention output as fp32

  Impl() = default;
  Impl(const Impl &) = delete;
  Impl &operator=(const Impl &) = delete;
  ~Impl() {
    if (!module)
      return;
    // Kernels may still run: wait, then unload (errors cannot be reported
    // from a destructor; the buffers free after this).
    try {
      cuda::currentDevice();
      driver().cuCtxSynchronize();
      driver().cuModuleUnload(module);
    } catch (...) {
    }
  }

  void checkLayer(int layer, const char *what) const {
    if (layer < 0 || layer >= g.layers)
      throw Error(std::string("DeviceVideoModel::") + what + ": layer " +
                  str(layer) + " is outside [0, " + str(g.layers) + ")");
  }
  void checkChunk(int chunk, const char *what) const {
    if (chunk < 1 || chunk > g.chunks)
      throw Error(std::string("DeviceVideoModel::") + what + ": chunk " +
                  str(chunk) + " is outside [1, " + str(g.chunks) +
                  "] (1-based)");
  }
  void checkHidden(const DeviceHidden &h, const char *what,
                   const char *name = "hidden") const {
    if (h.tokens() != Lq || h.width() != dm || !h.data())
      throw Error(std::string("DeviceVideoModel::") + what + ": " + name +
                  " is [" + str(h.tokens()) + ", " + str(h.width()) +
                  "], expected [" + str(Lq) + ", " + str(dm) +
                  "] (chunkTokens x modelWidth; see newHidden())");
  }

  const Layer &layer(int l) const {
    std::call_once(layerOnce[size_t(l)], [&] {
      SyntheticVideoModel::LayerMatrices w;
      host->layerMatrices(l, w);
      Layer dst;
      dst.qkv = uploadFloats(w.qkv);
      dst.out = uploadFloats(w.out);
      dst.bias = uploadFloats(w.bias);
      layers[size_t(l)] = std::move(dst);
    });
    return layers[size_t(l)];
  }

  /// Blocks for a grid-stride kernel over `work` items.
  unsigned blocksFor(int64_t work) const {
    return unsigned(std::clamp<int64_t>((work + kThreads - 1) / kThreads, 1,
                                        int64_t(sms) * 32));
  }

  /// c[M x N] (+)= a[M x K] * b[K x N], row-major with leading dimensions.
  void gemm(const float *A, int64_t lda, const float *B, int64_t ldb, float *C,
            int64_t ldc, int64_t M, int64_t N, int64_t K,
            bool accumulate) const {
    LfcArGemmParams p{};
    p.a = A;
    p.b = B;
    p.c = C;
    p.lda = lda;
    p.ldb = ldb;
    p.ldc = ldc;
    p.m = int(M);
    p.n = int(N);
    p.k = int(K);
    p.accumulate = accumulate ? 1 : 0;
    auto aligned = [](const void *ptr) {
      return reinterpret_cast<uintptr_t>(ptr) % 16 == 0;
    };
    const bool vec = K % 4 == 0 && N % 4 == 0 && lda % 4 == 0 && ldb % 4 == 0 &&
                     ldc % 4 == 0 && aligned(A) && aligned(B) && aligned(C);
    const Entry e = vec ? kGemmVec : kGemmScalar;
    launch(fn[e], kEntryNames[e], unsigned((N + kGemmTile - 1) / kGemmTile),
           unsigned((M + kGemmTile - 1) / kGemmTile), &p);
  }
};

DeviceVideoModel::DeviceVideoModel(const SyntheticVideoModel &host)
    : impl_(std::make_unique<Impl>()) {
  Impl &m = *impl_;
  m.host = &host;
  m.g = host.geometry();
  const Geometry &g = m.g;
  m.channels = host.params().contentChannels;
  m.Lq = g.chunkTokens();
  m.dm = g.modelWidth();
  m.hd = g.attnWidth();
  // The kernels take counts as int and the GEMM runs m tiles along grid y.
  const int64_t intMax = 0x7fffffff;
  if (m.Lq > kMaxGridY * kGemmTile || 3 * m.hd > intMax || m.dm > intMax ||
      m.Lq * std::max(m.dm, 3 * m.hd) > (int64_t(1) << 40))
    throw Error("DeviceVideoModel: geometry too large for the kernels (" +
                str(m.Lq) + " tokens per chunk, modelWidth " + str(m.dm) +
                ", attnWidth " + str(m.hd) + ")");

  const cuda::DeviceInfo &dev = cuda::currentDevice();
  m.arch = archForDevice(dev.major, dev.minor);
  m.sms = std::max(1, dev.multiprocessors);
  JitResult jit = jitCompile(deviceModelJitRequest(m.arch));
  check(driver().cuModuleLoadData(&m.module, jit.cubin.data()),
        "cuModuleLoadData", kModuleName);
  for (int e = 0; e < kEntryCount; ++e)
    check(driver().cuModuleGetFunction(&m.fn[e], m.module, kEntryNames[e]),
          "cuModuleGetFunction",
          std::string(kModuleName) + ": " + kEntryNames[e]);

  // Content features of every chunk (small: chunkTokens x channels each).
  const size_t perChunk = size_t(m.Lq) * size_t(m.channels);
  std::vector<float> all(perChunk * size_t(g.chunks)), one;
  for (int c = 1; c <= g.chunks; ++c) {
    host.contentFeatures(c, one);
    std::copy(one.begin(), one.end(), all.begin() + long(perChunk * (c - 1)));
  }
  m.features = uploadFloats(all);
  host.embeddingMatrix(one);
  m.embed = uploadFloats(one);

  SyntheticVideoModel::RopeTables rt;
  host.ropeTables(rt);
  m.split = rt.split;
  const std::vector<float> *tables[6] = {&rt.timeCos, &rt.timeSin, &rt.rowCos,
                                         &rt.rowSin,  &rt.colCos,  &rt.colSin};
  std::vector<float> packed;
  size_t offsets[6];
  for (int i = 0; i < 6; ++i) {
    offsets[i] = packed.size();
    packed.insert(packed.end(), tables[i]->begin(), tables[i]->end());
  }
  m.rope = uploadFloats(packed);
  for (int i = 0; i < 6; ++i)
    m.ropeTable[i] = devicePtr<const float>(m.rope.dptr()) + offsets[i];

  m.layers.resize(size_t(g.layers));
  m.layerOnce = std::make_unique<std::once_flag[]>(size_t(g.layers));
  m.x = cuda::DeviceBuffer(size_t(m.Lq * m.dm) * sizeof(float));
  m.y = cuda::DeviceBuffer(size_t(m.Lq * 3 * m.hd) * sizeof(float));
  m.a = cuda::DeviceBuffer(size_t(m.Lq * m.hd) * sizeof(float));
}

DeviceVideoModel::~DeviceVideoModel() = default;
DeviceVideoModel::DeviceVideoModel(DeviceVideoModel &&) noexcept = default;
DeviceVideoModel &
DeviceVideoModel::operator=(DeviceVideoModel &&) noexcept = default;

const SyntheticVideoModel &DeviceVideoModel::host() const {
  return *impl_->host;
}
const Geometry &DeviceVideoModel::geometry() const { return impl_->g; }
const std::string &DeviceVideoModel::arch() const { return impl_->arch; }

DeviceHidden DeviceVideoModel::newHidden() const {
  return DeviceHidden(impl_->Lq, impl_->dm);
}

void DeviceVideoModel::prepareLayer(int layer) const {
  impl_->checkLayer(layer, "prepareLayer");
  cuda::currentDevice();
  impl_->layer(layer);
}

void DeviceVideoModel::initChunk(int chunk, int pass,
                                 DeviceHidden &hidden) const {
  const Impl &m = *impl_;
  m.checkChunk(chunk, "initChunk");
  if (pass < 0 || pass >= m.g.passesPerChunk)
    throw Error("DeviceVideoModel::initChunk: pass " + str(pass) +
                " is outside [0, " + str(m.g.passesPerChunk) + ")");
  m.checkHidden(hidden, "initChunk");
  cuda::currentDevice();
  LfcArInitParams p{};
  p.hidden = devicePtr<float>(hidden.dptr());
  p.features = devicePtr<const float>(m.features.dptr()) +
               size_t(chunk - 1) * size_t(m.Lq) * size_t(m.channels);
  p.embed = devicePtr<const float>(m.embed.dptr());
  p.noiseKey = m.host->noiseKey(chunk, pass);
  p.sigma = m.host->noiseSigma(pass);
  p.tokens = int(m.Lq);
  p.width = int(m.dm);
  p.channels = m.channels;
  launch(m.fn[kInit], kEntryNames[kInit], m.blocksFor(m.Lq * m.dm), 1, &p);
}

void DeviceVideoModel::copy(DeviceHidden &dst, const DeviceHidden &src) const {
  const Impl &m = *impl_;
  m.checkHidden(src, "copy", "src");
  m.checkHidden(dst, "copy", "dst");
  if (dst.dptr() == src.dptr())
    return;
  cuda::currentDevice();
  LfcArCopyParams p{devicePtr<float>(dst.dptr()),
                    devicePtr<const float>(src.dptr()), (long long)src.size()};
  launch(m.fn[kCopy], kEntryNames[kCopy], m.blocksFor(src.size()), 1, &p);
}

void DeviceVideoModel::project(int layer, int chunk, const DeviceHidden &hidden,
                               const Tensor4 &q, const Tensor4 &k,
                               const Tensor4 &v) const {
  const Impl &m = *impl_;
  const Geometry &g = m.g;
  m.checkLayer(layer, "project");
  m.checkChunk(chunk, "project");
  m.checkHidden(hidden, "project");
  cuda::currentDevice();
  checkDeviceTensor(q, "DeviceVideoModel::project: q", m.Lq, g.heads,
                    g.headDim);
  checkDeviceTensor(k, "DeviceVideoModel::project: k", m.Lq, g.heads,
                    g.headDim);
  checkDeviceTensor(v, "DeviceVideoModel::project: v", m.Lq, g.heads,
                    g.headDim);
  const Impl::Layer &w = m.layer(layer);

  LfcArNormParams np{devicePtr<const float>(hidden.dptr()),
                     devicePtr<float>(m.x.dptr()), int(m.Lq), int(m.dm)};
  launch(m.fn[kNorm], kEntryNames[kNorm], unsigned(m.Lq), 1, &np);

  m.gemm(devicePtr<const float>(m.x.dptr()), m.dm,
         devicePtr<const float>(w.qkv.dptr()), 3 * m.hd,
         devicePtr<float>(m.y.dptr()), 3 * m.hd, m.Lq, 3 * m.hd, m.dm, false);

  LfcArQkvParams p{};
  p.y = devicePtr<const float>(m.y.dptr());
  p.bias = devicePtr<const float>(w.bias.dptr());
  p.timeCos = m.ropeTable[0];
  p.timeSin = m.ropeTable[1];
  p.rowCos = m.ropeTable[2];
  p.rowSin = m.ropeTable[3];
  p.colCos = m.ropeTable[4];
  p.colSin = m.ropeTable[5];
  p.q = tensorArg(q);
  p.k = tensorArg(k);
  p.v = tensorArg(v);
  p.tokens = int(m.Lq);
  p.heads = g.heads;
  p.dim = g.headDim;
  p.cols = g.cols;
  p.tokensPerFrame = g.tokensPerFrame();
  p.firstFrame = g.firstFrame(chunk);
  p.sinkFrames = g.sinkFrames;
  p.timePairs = m.split.timePairs;
  p.rowPairs = m.split.rowPairs;
  p.queryScale = m.host->params().queryScale;
  p.sinkGain = m.host->params().sinkGain;
  launch(m.fn[kQkv], kEntryNames[kQkv],
         m.blocksFor(m.Lq * g.heads * (g.headDim / 2)), 1, &p);
}

void DeviceVideoModel::residual(int layer, DeviceHidden &hidden,
                                const Tensor4 &attnOut) const {
  const Impl &m = *impl_;
  const Geometry &g = m.g;
  m.checkLayer(layer, "residual");
  m.checkHidden(hidden, "residual");
  cuda::currentDevice();
  checkDeviceTensor(attnOut, "DeviceVideoModel::residual: attnOut", m.Lq,
                    g.heads, g.headDim);
  const Impl::Layer &w = m.layer(layer);

  LfcArGatherParams gp{tensorArg(attnOut), devicePtr<float>(m.a.dptr()),
                       int(m.Lq), g.heads, g.headDim};
  launch(m.fn[kGather], kEntryNames[kGather], m.blocksFor(m.Lq * m.hd), 1, &gp);
  m.gemm(devicePtr<const float>(m.a.dptr()), m.hd,
         devicePtr<const float>(w.out.dptr()), m.dm,
         devicePtr<float>(hidden.dptr()), m.dm, m.Lq, m.dm, m.hd, true);
}

void DeviceVideoModel::download(const DeviceHidden &hidden,
                                std::vector<float> &out) const {
  if (hidden.empty())
    throw Error("DeviceVideoModel::download: hidden is empty (no device "
                "memory; see newHidden())");
  cuda::currentDevice();
  out.resize(size_t(hidden.size()));
  // Synchronous on the legacy stream: waits for every kernel enqueued before.
  check(driver().cuMemcpyDtoH_v2(out.data(), hidden.dptr(), hidden.bytes()),
        "cuMemcpyDtoH_v2", "DeviceVideoModel::download");
}

} // namespace lfc::ar
