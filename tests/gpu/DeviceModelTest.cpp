// DeviceVideoModel (examples/ar_video/DeviceModel.h) against the host model it
// mirrors, SyntheticVideoModel (the oracle): hidden states after initChunk and
// after every residual, and q/k/v of every layer, chunk and pass (the refresh
// pass included), in fp32, bf16 and fp16, through strided views of a KV
// buffer. The attention between project and residual is a dense softmax on
// the host over the host model's q/k/v, and both models get the same output
// bits, so every difference is the device model's own. Skips without a GPU.
//
// Tolerances: the device model performs the host's operations in the host's
// order (docs/ar_video.md, "On the GPU"), so on a host CPU with AVX2+FMA most
// values agree bit for bit; what may differ is a libm rounding in the noise
// (log/sin/cos) and, on CPUs without FMA, the GEMMs' rounding. So: fp32 values
// within 1e-5 * (|host| + rms) of the host's; 16-bit values within one unit in
// the last place (plus 1e-5 * rms near zero) and at least 99% bit-identical.
#include "examples/ar_video/DeviceModel.h"

#include "examples/ar_video/device_model_kernels.cuh"
#include "lfc/half.h"
#include "tests/gpu/GpuTestUtil.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace lfc::ar {
namespace {

using cuda::check;
using cuda::driver;

/// A [1, tokens, heads, dim] tensor with the same bytes on the host and the
/// device, BSHD or BHSD.
struct Mirror {
  DType dtype;
  int64_t tokens, heads, dim;
  bool bhsd;
  std::vector<unsigned char> host;
  cuda::DeviceBuffer dev;

  Mirror(DType t, int64_t tokens, int64_t heads, int64_t dim, bool bhsd)
      : dtype(t), tokens(tokens), heads(heads), dim(dim), bhsd(bhsd),
        host(bytes(), 0), dev(bytes()) {
    dev.fill(0xff); // NaN in every dtype: unwritten elements show
  }
  size_t bytes() const {
    return size_t(tokens * heads * dim) * size_t(dtypeSize(dtype));
  }
  Tensor4 view(void *p, Device d) const {
    return bhsd ? Tensor4::bhsd(p, dtype, d, 1, tokens, heads, dim)
                : Tensor4::bshd(p, dtype, d, 1, tokens, heads, dim);
  }
  Tensor4 hostView() { return view(host.data(), Device::Host); }
  Tensor4 deviceView() { return view(dev.get(), Device::Cuda); }
  /// The view of rows [begin, begin + count).
  static Tensor4 rows(Tensor4 t, int64_t begin, int64_t count) {
    t.data = static_cast<char *>(t.data) +
             begin * t.strideS * int64_t(dtypeSize(t.dtype));
    t.tokens = count;
    return t;
  }
  int64_t index(int64_t s, int64_t h, int64_t d) const {
    return view(nullptr, Device::Host).offset(0, s, h) + d;
  }
  static float decode(const std::vector<unsigned char> &b, DType t, int64_t i) {
    if (t == DType::F32) {
      float f;
      std::memcpy(&f, &b[size_t(i) * 4], 4);
      return f;
    }
    uint16_t u;
    std::memcpy(&u, &b[size_t(i) * 2], 2);
    return t == DType::BF16 ? bf16ToFloat(u) : halfToFloat(u);
  }
  float get(int64_t s, int64_t h, int64_t d) const {
    return decode(host, dtype, index(s, h, d));
  }
  void set(int64_t s, int64_t h, int64_t d, float v) {
    const size_t i = size_t(index(s, h, d));
    if (dtype == DType::F32) {
      std::memcpy(&host[i * 4], &v, 4);
    } else {
      const uint16_t u = dtype == DType::BF16 ? floatToBf16(v) : floatToHalf(v);
      std::memcpy(&host[i * 2], &u, 2);
    }
  }
  void upload() { dev.upload(host.data(), host.size()); }
  std::vector<unsigned char> download() const {
    std::vector<unsigned char> out(host.size());
    dev.download(out.data(), out.size());
    return out;
  }
};

/// Unit in the last place of |x| in a 16-bit dtype (normal range; the
/// subnormal spacing below it).
double ulp16(double x, DType t) {
  const int mant = t == DType::BF16 ? 7 : 10;
  const int minExp = t == DType::BF16 ? -126 : -14;
  const int e =
      x > 0 ? std::max(int(std::floor(std::log2(x))), minExp) : minExp;
  return std::ldexp(1.0, e - mant);
}

struct Agreement {
  int64_t count = 0, exact = 0, bad = 0;
  double maxErr = 0, rms = 0;
  std::string firstBad;
};

/// Compares `got` with the oracle `want` elementwise under the tolerances
/// above (`dtype` is what the values were rounded to).
Agreement compare(const std::vector<float> &want, const std::vector<float> &got,
                  DType dtype) {
  Agreement a;
  double ss = 0;
  for (float w : want)
    ss += double(w) * w;
  a.rms = want.empty() ? 0 : std::sqrt(ss / double(want.size()));
  for (size_t i = 0; i < want.size(); ++i) {
    const double w = want[i], g = got[i], err = std::fabs(g - w);
    ++a.count;
    a.exact += std::memcmp(&want[i], &got[i], sizeof(float)) == 0;
    double tol = 1e-5 * a.rms;
    if (dtype == DType::F32)
      tol += 1e-5 * std::fabs(w);
    else
      tol += ulp16(std::max(std::fabs(w), std::fabs(g)), dtype);
    if (!(err <= tol)) { // NaN fails too
      if (a.bad++ == 0) {
        std::ostringstream s;
        s << "element " << i << ": device " << g << ", host " << w
          << " (tolerance " << tol << ")";
        a.firstBad = s.str();
      }
    }
    if (err > a.maxErr || std::isnan(err))
      a.maxErr = err;
  }
  return a;
}

/// Counts of bit-identical values, for the summary line.
struct Tally {
  int64_t exact = 0, count = 0;
  void add(const Agreement &a) {
    exact += a.exact;
    count += a.count;
  }
  double percent() const { return count ? 100.0 * double(exact) / count : 0; }
};

void expectAgree(const std::vector<float> &want, const std::vector<float> &got,
                 DType dtype, const std::string &what, Tally *tally = nullptr) {
  ASSERT_EQ(want.size(), got.size()) << what;
  const Agreement a = compare(want, got, dtype);
  if (tally)
    tally->add(a);
  EXPECT_EQ(a.bad, 0) << what << ": " << a.bad << " of " << a.count
                      << " values out of tolerance; first: " << a.firstBad
                      << "; max error " << a.maxErr << ", rms " << a.rms;
  if (dtype != DType::F32)
    EXPECT_GE(double(a.exact), 0.99 * double(a.count))
        << what << ": only " << a.exact << " of " << a.count
        << " values bit-identical";
}

/// The chunk's rows [begin, begin + count) of a mirror as floats in (s, h, d)
/// order, from the host bytes or from `bytes`.
std::vector<float> values(const Mirror &m, int64_t begin, int64_t count,
                          const std::vector<unsigned char> *bytes = nullptr) {
  const std::vector<unsigned char> &b = bytes ? *bytes : m.host;
  std::vector<float> out;
  out.reserve(size_t(count * m.heads * m.dim));
  for (int64_t s = begin; s < begin + count; ++s)
    for (int64_t h = 0; h < m.heads; ++h)
      for (int64_t d = 0; d < m.dim; ++d)
        out.push_back(Mirror::decode(b, m.dtype, m.index(s, h, d)));
  return out;
}

/// Dense softmax attention of the chunk's queries over keys [0, keys), fp64
/// accumulation, rounded into `o`.
void hostAttention(const Mirror &q, const Mirror &K, const Mirror &V,
                   int64_t keys, float scale, Mirror &o) {
  const int64_t Lq = q.tokens, H = q.heads, D = q.dim;
  // (s, h, d) order: element (s, h, d) at (s * H + h) * D + d.
  const std::vector<float> qs = values(q, 0, Lq), ks = values(K, 0, keys),
                           vs = values(V, 0, keys);
  auto row = [&](const std::vector<float> &x, int64_t s, int64_t h) {
    return &x[size_t((s * H + h) * D)];
  };
  std::vector<double> logit(static_cast<size_t>(keys)),
      acc(static_cast<size_t>(D));
  for (int64_t t = 0; t < Lq; ++t)
    for (int64_t h = 0; h < H; ++h) {
      const float *qr = row(qs, t, h);
      double mx = -1e300;
      for (int64_t j = 0; j < keys; ++j) {
        const float *kr = row(ks, j, h);
        double s = 0;
        for (int64_t d = 0; d < D; ++d)
          s += double(qr[d]) * double(kr[d]);
        logit[size_t(j)] = s * scale;
        mx = std::max(mx, logit[size_t(j)]);
      }
      double sum = 0;
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t j = 0; j < keys; ++j) {
        const double p = std::exp(logit[size_t(j)] - mx);
        const float *vr = row(vs, j, h);
        sum += p;
        for (int64_t d = 0; d < D; ++d)
          acc[size_t(d)] += p * double(vr[d]);
      }
      for (int64_t d = 0; d < D; ++d)
        o.set(t, h, d, float(acc[size_t(d)] / sum));
    }
}

struct Case {
  int headDim;
  DType dtype;
  int dModel; ///< 0: heads * headDim
  const char *name;
};

class DeviceModelVsHost : public ::testing::TestWithParam<Case> {};

TEST_P(DeviceModelVsHost, RolloutMatchesTheHostModel) {
  SKIP_WITHOUT_GPU();
  const Case c = GetParam();
  Geometry g;
  g.layers = 3;
  g.heads = 2;
  g.headDim = c.headDim;
  g.rows = 6;
  g.cols = 10;
  g.framesPerChunk = 3;
  g.chunks = 2;
  g.passesPerChunk = 3;
  g.sinkFrames = 1;
  g.dtype = c.dtype;
  g.dModel = c.dModel;
  const SyntheticVideoModel host(g, 2026);
  const DeviceVideoModel dev(host);
  const int64_t Lq = g.chunkTokens(), total = g.chunks * Lq;
  const int H = g.heads, D = g.headDim;

  // q and o per chunk in BSHD; the KV buffers of every layer in BHSD, so the
  // chunk's rows are a strided view (strideH = total * D).
  Mirror q(c.dtype, Lq, H, D, false), o(c.dtype, Lq, H, D, true);
  std::vector<Mirror> K, V;
  for (int l = 0; l < g.layers; ++l) {
    K.emplace_back(c.dtype, total, H, D, true);
    V.emplace_back(c.dtype, total, H, D, true);
  }
  std::vector<float> hHost, hDev;
  DeviceHidden hidden = dev.newHidden();
  Tally hiddenTally, qkvTally;
  for (int chunk = 1; chunk <= g.chunks; ++chunk) {
    const int64_t row0 = (chunk - 1) * Lq;
    for (int pass = 0; pass < g.passesPerChunk; ++pass) {
      const std::string at = std::string(c.name) + " chunk " +
                             std::to_string(chunk) + " pass " +
                             std::to_string(pass);
      host.initChunk(chunk, pass, hHost);
      dev.initChunk(chunk, pass, hidden);
      dev.download(hidden, hDev);
      expectAgree(hHost, hDev, DType::F32, at + ": initChunk", &hiddenTally);
      for (int l = 0; l < g.layers; ++l) {
        const std::string atL = at + " layer " + std::to_string(l);
        host.project(l, chunk, hHost, q.hostView(),
                     Mirror::rows(K[size_t(l)].hostView(), row0, Lq),
                     Mirror::rows(V[size_t(l)].hostView(), row0, Lq));
        dev.project(l, chunk, hidden, q.deviceView(),
                    Mirror::rows(K[size_t(l)].deviceView(), row0, Lq),
                    Mirror::rows(V[size_t(l)].deviceView(), row0, Lq));
        const auto qd = q.download(), kd = K[size_t(l)].download(),
                   vd = V[size_t(l)].download();
        expectAgree(values(q, 0, Lq), values(q, 0, Lq, &qd), c.dtype,
                    atL + ": q", &qkvTally);
        expectAgree(values(K[size_t(l)], row0, Lq),
                    values(K[size_t(l)], row0, Lq, &kd), c.dtype, atL + ": k",
                    &qkvTally);
        expectAgree(values(V[size_t(l)], row0, Lq),
                    values(V[size_t(l)], row0, Lq, &vd), c.dtype, atL + ": v",
                    &qkvTally);
        // Rows outside the chunk stay as they were (earlier chunks' refresh
        // rows, or never written: 0xff bytes on the device).
        if (chunk == 1) {
          for (int64_t s = Lq; s < total; ++s)
            for (int h = 0; h < H; ++h)
              for (int d = 0; d < D; d += 7)
                ASSERT_TRUE(std::isnan(
                    Mirror::decode(kd, c.dtype, K[size_t(l)].index(s, h, d))))
                    << atL << ": k row " << s << " written";
        }

        // The same attention output for both.
        hostAttention(q, K[size_t(l)], V[size_t(l)], chunk * Lq,
                      host.softmaxScale(), o);
        o.upload();
        host.residual(l, hHost, o.hostView());
        dev.residual(l, hidden, o.deviceView());
        dev.download(hidden, hDev);
        expectAgree(hHost, hDev, DType::F32, atL + ": hidden after residual",
                    &hiddenTally);
        if (HasFailure())
          return; // the first failing step says the most
      }
    }
  }
  // copy() duplicates the state exactly.
  DeviceHidden other = dev.newHidden();
  dev.copy(other, hidden);
  std::vector<float> copied;
  dev.download(other, copied);
  EXPECT_EQ(std::memcmp(copied.data(), hDev.data(), copied.size() * 4), 0);
  std::printf("[ agree    ] %s: bit-identical to the host model: hidden "
              "%.3f%% of %lld, q/k/v %.3f%% of %lld\n",
              c.name, hiddenTally.percent(), (long long)hiddenTally.count,
              qkvTally.percent(), (long long)qkvTally.count);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, DeviceModelVsHost,
    ::testing::Values(Case{64, DType::BF16, 0, "d64_bf16"},
                      Case{64, DType::F32, 0, "d64_f32"},
                      Case{128, DType::BF16, 0, "d128_bf16"},
                      Case{128, DType::F32, 0, "d128_f32"},
                      Case{64, DType::F16, 0, "d64_f16"},
                      // dModel 150: K and N not multiples of 4 (the scalar
                      // GEMM), N not a multiple of the tile.
                      Case{64, DType::BF16, 150, "d64_bf16_dmodel150"}),
    [](const auto &info) { return std::string(info.param.name); });

/// One full-size (Wan2.1-1.3B) layer: chunk 2 (no sink frame) and chunk 1
/// (sink), first pass, layer 0, bf16.
TEST(DeviceModelFullSize, Wan13bLayerMatchesTheHostModel) {
  SKIP_WITHOUT_GPU();
  const Geometry g = Geometry::wan13b();
  const SyntheticVideoModel host(g, 7);
  const DeviceVideoModel dev(host);
  const int64_t Lq = g.chunkTokens();
  Mirror q(DType::BF16, Lq, g.heads, g.headDim, false),
      k(DType::BF16, Lq, g.heads, g.headDim, false),
      v(DType::BF16, Lq, g.heads, g.headDim, false);
  Mirror dq(DType::BF16, Lq, g.heads, g.headDim, false),
      dk(DType::BF16, Lq, g.heads, g.headDim, false),
      dv(DType::BF16, Lq, g.heads, g.headDim, false);
  std::vector<float> hHost, hDev;
  DeviceHidden hidden = dev.newHidden();
  for (int chunk : {2, 1}) {
    const std::string at = "wan13b chunk " + std::to_string(chunk);
    host.initChunk(chunk, 0, hHost);
    dev.initChunk(chunk, 0, hidden);
    dev.download(hidden, hDev);
    expectAgree(hHost, hDev, DType::F32, at + ": initChunk");
    host.project(0, chunk, hHost, q.hostView(), k.hostView(), v.hostView());
    dev.project(0, chunk, hidden, q.deviceView(), k.deviceView(),
                v.deviceView());
    for (auto [mh, name] : {std::pair{&q, "q"}, {&k, "k"}, {&v, "v"}}) {
      const auto bytes = mh->download();
      expectAgree(values(*mh, 0, Lq), values(*mh, 0, Lq, &bytes), DType::BF16,
                  at + ": " + name);
    }
  }
}

TEST(DeviceModelArgs, BadArgumentsNameTheArgument) {
  SKIP_WITHOUT_GPU();
  Geometry g;
  g.layers = 2;
  g.chunks = 2;
  g.passesPerChunk = 2;
  const SyntheticVideoModel host(g, 1);
  const DeviceVideoModel dev(host);
  const int64_t Lq = g.chunkTokens();
  Mirror q(DType::BF16, Lq, g.heads, g.headDim, false),
      k(DType::BF16, Lq, g.heads, g.headDim, false),
      v(DType::BF16, Lq, g.heads, g.headDim, false);
  Mirror small(DType::BF16, Lq - 1, g.heads, g.headDim, false);
  DeviceHidden hidden = dev.newHidden();
  dev.initChunk(1, 0, hidden);

  auto expectError = [](const std::function<void()> &fn,
                        std::vector<std::string> parts) {
    try {
      fn();
      ADD_FAILURE() << "no error; expected one with '" << parts[0] << "'";
    } catch (const Error &e) {
      for (const std::string &p : parts)
        EXPECT_NE(std::string(e.what()).find(p), std::string::npos)
            << "'" << e.what() << "' lacks '" << p << "'";
    }
  };
  const std::string shape = "[1, " + std::to_string(Lq) + ", " +
                            std::to_string(g.heads) + ", " +
                            std::to_string(g.headDim) + "]";
  // A host tensor where a device tensor belongs.
  expectError(
      [&] {
        dev.project(0, 1, hidden, q.hostView(), k.deviceView(), v.deviceView());
      },
      {"project: q", "Device::Cuda", shape, "host"});
  expectError(
      [&] {
        dev.project(0, 1, hidden, q.deviceView(), k.deviceView(), v.hostView());
      },
      {"project: v", "Device::Cuda"});
  // Device::Cuda claimed for host memory.
  Tensor4 lying = q.hostView();
  lying.device = Device::Cuda;
  expectError(
      [&] { dev.project(0, 1, hidden, lying, k.deviceView(), v.deviceView()); },
      {"project: q", "host memory"});
  // Wrong shape.
  expectError(
      [&] {
        dev.project(0, 1, hidden, q.deviceView(), small.deviceView(),
                    v.deviceView());
      },
      {"project: k", "expected shape " + shape});
  // Layer, chunk, pass out of range.
  expectError(
      [&] {
        dev.project(2, 1, hidden, q.deviceView(), k.deviceView(),
                    v.deviceView());
      },
      {"project", "layer 2 is outside [0, 2)"});
  expectError(
      [&] {
        dev.project(0, 3, hidden, q.deviceView(), k.deviceView(),
                    v.deviceView());
      },
      {"project", "chunk 3 is outside [1, 2]"});
  expectError([&] { dev.initChunk(1, 2, hidden); },
              {"initChunk", "pass 2 is outside [0, 2)"});
  expectError([&] { dev.initChunk(0, 0, hidden); }, {"initChunk", "chunk 0"});
  // Hidden states of the wrong size.
  DeviceHidden none, wrong(Lq, g.modelWidth() + 1);
  expectError([&] { dev.initChunk(1, 0, none); },
              {"initChunk", "hidden is [0, 0]", "newHidden"});
  expectError(
      [&] {
        dev.project(0, 1, wrong, q.deviceView(), k.deviceView(),
                    v.deviceView());
      },
      {"project", "hidden is [" + std::to_string(Lq) + ", " +
                      std::to_string(g.modelWidth() + 1) + "]"});
  expectError([&] { dev.copy(wrong, hidden); }, {"copy", "dst"});
  std::vector<float> unused;
  expectError([&] { dev.download(none, unused); }, {"download", "empty"});
  // residual's attention output.
  expectError([&] { dev.residual(0, hidden, q.hostView()); },
              {"residual: attnOut", "Device::Cuda", shape});
  expectError([&] { dev.residual(1, hidden, small.deviceView()); },
              {"residual: attnOut", "expected shape"});
  expectError([&] { dev.prepareLayer(-1); },
              {"prepareLayer", "layer -1 is outside"});
  // The model still works after the errors.
  dev.project(0, 1, hidden, q.deviceView(), k.deviceView(), v.deviceView());
  std::vector<float> out;
  dev.download(hidden, out);
  EXPECT_EQ(out.size(), size_t(Lq * g.modelWidth()));
}

// ---------------------------------------------------------------------------
// Throughput (prints only).

struct Events {
  CUevent a = nullptr, b = nullptr;
  Events() {
    check(driver().cuEventCreate(&a, CU_EVENT_DEFAULT), "cuEventCreate");
    check(driver().cuEventCreate(&b, CU_EVENT_DEFAULT), "cuEventCreate");
  }
  ~Events() {
    driver().cuEventDestroy_v2(a);
    driver().cuEventDestroy_v2(b);
  }
  /// Median milliseconds of `fn` over `reps` timed runs (after 3 warm-ups).
  double medianMs(const std::function<void()> &fn, int reps = 20) {
    for (int i = 0; i < 3; ++i)
      fn();
    std::vector<double> ms;
    for (int i = 0; i < reps; ++i) {
      check(driver().cuEventRecord(a, nullptr), "cuEventRecord");
      fn();
      check(driver().cuEventRecord(b, nullptr), "cuEventRecord");
      check(driver().cuEventSynchronize(b), "cuEventSynchronize");
      float t = 0;
      check(driver().cuEventElapsedTime_v2(&t, a, b), "cuEventElapsedTime");
      ms.push_back(t);
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
  }
};

TEST(DeviceModelPerf, GemmAndLayerThroughput) {
  SKIP_WITHOUT_GPU();
  const cuda::DeviceInfo &info = cuda::currentDevice();
  const std::string arch = archForDevice(info.major, info.minor);
  // The GEMM entries on their own at the projection's size: M = 4680 tokens,
  // N = 3 * 12 * 128, K = 1536; the default build and both register budgets.
  const int M = 4680, N = 4608, K = 1536;
  const double flop = 2.0 * M * N * K;
  std::vector<float> A(size_t(M) * K), B(size_t(K) * N), C(size_t(M) * N);
  std::mt19937 rng(5);
  std::normal_distribution<float> nd;
  for (float &x : A)
    x = nd(rng);
  for (float &x : B)
    x = nd(rng) / 40.f;
  cuda::DeviceBuffer dA(A.size() * 4), dB(B.size() * 4), dC(C.size() * 4);
  dA.upload(A.data(), A.size() * 4);
  dB.upload(B.data(), B.size() * 4);
  LfcArGemmParams p{};
  p.a = reinterpret_cast<const float *>(dA.get());
  p.b = reinterpret_cast<const float *>(dB.get());
  p.c = reinterpret_cast<float *>(dC.get());
  p.lda = K;
  p.ldb = N;
  p.ldc = N;
  p.m = M;
  p.n = N;
  p.k = K;
  p.accumulate = 0;
  Events ev;
  struct Variant {
    const char *define, *entry;
  } variants[] = {{"", "lfc_ar_gemm_vec4"},
                  {"", "lfc_ar_gemm_scalar"},
                  {"-DLFC_AR_GEMM_MIN_BLOCKS=1", "lfc_ar_gemm_vec4"},
                  {"-DLFC_AR_GEMM_MIN_BLOCKS=2", "lfc_ar_gemm_vec4"}};
  for (const Variant &var : variants) {
    JitRequest req = deviceModelJitRequest(arch);
    if (*var.define)
      req.options.push_back(var.define);
    const JitResult jit = jitCompile(req);
    CUmodule module = nullptr;
    check(driver().cuModuleLoadData(&module, jit.cubin.data()),
          "cuModuleLoadData");
    CUfunction f = nullptr;
    check(driver().cuModuleGetFunction(&f, module, var.entry),
          "cuModuleGetFunction", var.entry);
    void *args[] = {&p};
    dC.fill(0xff);
    const double ms = ev.medianMs([&] {
      check(driver().cuLaunchKernel(f, unsigned((N + 127) / 128),
                                    unsigned((M + 127) / 128), 1, 256, 1, 1, 0,
                                    nullptr, args, nullptr),
            "cuLaunchKernel", var.entry);
    });
    // Spot-check 256 entries against fp64 sums.
    dC.download(C.data(), C.size() * 4);
    std::uniform_int_distribution<int> ri(0, M - 1), ci(0, N - 1);
    for (int s = 0; s < 256; ++s) {
      const int i = ri(rng), j = ci(rng);
      double want = 0, mag = 0;
      for (int kk = 0; kk < K; ++kk) {
        const double t = double(A[size_t(i) * K + kk]) * B[size_t(kk) * N + j];
        want += t;
        mag += std::fabs(t);
      }
      ASSERT_NEAR(C[size_t(i) * N + j], want, 1e-5 * mag)
          << var.entry << " " << var.define << ": C[" << i << ", " << j << "]";
    }
    driver().cuModuleUnload(module);
    std::printf("[ perf     ] %s (%s): %s %s: fp32 GEMM %dx%dx%d %.3f ms, "
                "%.1f TFLOP/s (median of 20)\n",
                info.name.c_str(), arch.c_str(), var.entry,
                *var.define ? var.define : "(default)", M, N, K, ms,
                flop / ms * 1e-9);
  }

  // The model's calls at full size (layer 0 uploaded first).
  const Geometry g = Geometry::wan13b();
  const SyntheticVideoModel host(g, 1);
  const DeviceVideoModel dev(host);
  dev.prepareLayer(0);
  const int64_t Lq = g.chunkTokens();
  Mirror q(DType::BF16, Lq, g.heads, g.headDim, false),
      k(DType::BF16, Lq, g.heads, g.headDim, false),
      v(DType::BF16, Lq, g.heads, g.headDim, false);
  DeviceHidden hidden = dev.newHidden();
  const double initMs = ev.medianMs([&] { dev.initChunk(3, 0, hidden); });
  const double projectMs = ev.medianMs([&] {
    dev.project(0, 3, hidden, q.deviceView(), k.deviceView(), v.deviceView());
  });
  const double residualMs =
      ev.medianMs([&] { dev.residual(0, hidden, q.deviceView()); });
  const double resFlop = 2.0 * double(Lq) * g.modelWidth() * g.attnWidth();
  std::printf("[ perf     ] wan13b chunk (%lld tokens): initChunk %.3f ms, "
              "project %.3f ms (%.1f TFLOP/s), residual %.3f ms (%.1f "
              "TFLOP/s); a pass of 30 layers: %.1f ms\n",
              (long long)Lq, initMs, projectMs, flop / projectMs * 1e-9,
              residualMs, resFlop / residualMs * 1e-9,
              initMs + 30 * (projectMs + residualMs));
}

} // namespace
} // namespace lfc::ar
