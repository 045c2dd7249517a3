// lfc::Session on the CUDA backend: the KV cache (global, rolling window with
// sink frames, mirrored ring) on the device, on a stream of its own. Dense
// plans against the double-precision oracle over frames the test assembles
// itself; sparse plans against the CPU session (identical kept blocks, outputs
// within tolerance).
#include "lfc/runtime.h"
#include "lfc/session.h"
#include "tests/gpu/GpuTestUtil.h"
#include "tests/unit/exec/SessionTestUtil.h"

#include <gtest/gtest.h>

#include <cmath>

namespace lfc::test {
namespace {

/// A host tensor's bits on the device.
struct DeviceCopy {
  cuda::DeviceBuffer buf;
  Tensor4 view;
  explicit DeviceCopy(const HostTensor &h)
      : buf(h.storage.size() * 2), view(h.view) {
    buf.upload(h.storage.data(), h.storage.size() * 2);
    view.data = buf.get();
    view.device = Device::Cuda;
  }
};

std::vector<uint16_t> downloadView(const Tensor4 &t) {
  // Views of the session's cache: [1, tokens, H, D] with strideS = H * D.
  std::vector<uint16_t> out(size_t(t.tokens * t.heads * t.dim));
  cuda::check(
      cuda::driver().cuMemcpyDtoH_v2(
          out.data(), reinterpret_cast<CUdeviceptr>(t.data), out.size() * 2),
      "cuMemcpyDtoH", "session view");
  return out;
}

/// A non-blocking stream of the test's own: the session must enqueue
/// everything on it (results are read after a context-wide synchronize).
struct Stream {
  CUstream s = nullptr;
  Stream() {
    cuda::currentDevice();
    cuda::check(cuda::driver().cuStreamCreate(&s, CU_STREAM_NON_BLOCKING),
                "cuStreamCreate");
  }
  ~Stream() { cuda::driver().cuStreamDestroy_v2(s); }
};

class SessionGpu : public ::testing::TestWithParam<CacheCase> {};

TEST_P(SessionGpu, DenseMatchesOracleAndViewsMatchFrames) {
  SKIP_WITHOUT_GPU();
  const CacheCase &gc = GetParam();
  const SessionPlanSpec spec = denseSpec(gc, 64); // the kernels' smallest D
  const Plan plan = sessionPlan(spec);
  const Model m(spec);
  auto gpu = createCudaBackend();
  Stream stream;
  SessionOptions opts;
  opts.builtinKernels = true;
  opts.stream = stream.s;
  Session s(*gpu, plan, opts);
  HostTensor outHost(spec.dtype, 1, m.lq, m.H, m.D);
  DeviceCopy out(outHost);
  int calls = 0;
  while (!s.finished()) {
    const int chunk = s.chunk();
    for (int pass = 0; pass < s.passes(); ++pass) {
      s.beginPass(pass);
      for (int l = 0; l < s.layers(); ++l) {
        const HostTensor q = m.input(chunk, pass, l, 0),
                         k = m.input(chunk, pass, l, 1),
                         v = m.input(chunk, pass, l, 2);
        const DeviceCopy qd(q), kd(k), vd(v);
        gpu->synchronize(); // the uploads ran on the legacy stream
        s.attention(l, qd.view, kd.view, vd.view, out.view);
        gpu->synchronize();
        const HostTensor K = m.logical(chunk, pass, l, 1),
                         V = m.logical(chunk, pass, l, 2);
        ASSERT_EQ(downloadView(s.keys(l)), K.storage)
            << gc.name << " chunk " << chunk << " pass " << pass << " layer "
            << l;
        ASSERT_EQ(downloadView(s.values(l)), V.storage);
        out.buf.download(outHost.storage.data(), outHost.storage.size() * 2);
        const std::vector<double> ref =
            denseReference(q, K, V, plan.geometry.softmaxScale);
        expectMatchesDense(outHost, ref,
                           std::string(gc.name) + " chunk " +
                               std::to_string(chunk) + " pass " +
                               std::to_string(pass));
        if (::testing::Test::HasFatalFailure())
          return;
        ++calls;
      }
    }
    s.advance();
  }
  EXPECT_EQ(calls, spec.chunks * spec.passes * spec.layers);
}

TEST_P(SessionGpu, SparseMatchesCpuSession) {
  SKIP_WITHOUT_GPU();
  const CacheCase &gc = GetParam();
  for (const bool everyPass : {true, false}) {
    SessionPlanSpec spec;
    spec.window = gc.window;
    spec.sink = gc.sink;
    spec.chunks = gc.chunks;
    spec.framesPerChunk = gc.framesPerChunk;
    spec.tokensPerFrame = 48;
    spec.headDim = 64;
    spec.block = 32;
    spec.everyPass = everyPass;
    spec.framesTopK = std::max(3, gc.sink + 1);
    const Plan plan = sessionPlan(spec);
    const Model m(spec);
    auto gpu = createCudaBackend();
    auto cpu = createCpuBackend();
    Stream stream;
    SessionOptions opts;
    opts.builtinKernels = true;
    Session sc(*cpu, plan, opts);
    opts.stream = stream.s;
    Session sg(*gpu, plan, opts);
    HostTensor outC(spec.dtype, 1, m.lq, m.H, m.D), outG = outC;
    DeviceCopy out(outG);
    int compared = 0;
    while (!sg.finished()) {
      const int chunk = sg.chunk();
      for (int pass = 0; pass < sg.passes(); ++pass) {
        sg.beginPass(pass);
        sc.beginPass(pass);
        for (int l = 0; l < sg.layers(); ++l) {
          const HostTensor q = m.input(chunk, pass, l, 0),
                           k = m.input(chunk, pass, l, 1),
                           v = m.input(chunk, pass, l, 2);
          const DeviceCopy qd(q), kd(k), vd(v);
          gpu->synchronize();
          sg.attention(l, qd.view, kd.view, vd.view, out.view);
          sc.attention(l, q.view, k.view, v.view, outC.view);
          gpu->synchronize();
          out.buf.download(outG.storage.data(), outG.storage.size() * 2);
          for (size_t e = 0; e < outC.storage.size(); ++e) {
            const float a = bf16ToFloat(outG.storage[e]),
                        b = bf16ToFloat(outC.storage[e]);
            ASSERT_NEAR(a, b, 2e-2 + 2e-2 * std::abs(b))
                << gc.name << " chunk " << chunk << " pass " << pass
                << " layer " << l << " element " << e;
          }
          ASSERT_EQ(sg.selects(), sc.selects());
          if (sc.selects()) {
            const KeptBlocks *kg = sg.kept(l), *kc = sc.kept(l);
            ASSERT_TRUE(kg && kc);
            const int64_t rows = kc->batch * kc->heads * kc->queryBlocks;
            std::vector<int32_t> idx(static_cast<size_t>(rows * kg->maxKept));
            std::vector<int32_t> cnt(static_cast<size_t>(rows));
            cuda::check(cuda::driver().cuMemcpyDtoH_v2(
                            idx.data(), reinterpret_cast<CUdeviceptr>(kg->idx),
                            idx.size() * 4),
                        "cuMemcpyDtoH");
            cuda::check(cuda::driver().cuMemcpyDtoH_v2(
                            cnt.data(), reinterpret_cast<CUdeviceptr>(kg->cnt),
                            cnt.size() * 4),
                        "cuMemcpyDtoH");
            for (int64_t r = 0; r < rows; ++r) {
              ASSERT_EQ(cnt[size_t(r)], kc->cnt[r]) << "row " << r;
              for (int n = 0; n < kc->cnt[r]; ++n)
                ASSERT_EQ(idx[size_t(r * kg->maxKept + n)],
                          kc->idx[r * kc->maxKept + n]);
            }
            ++compared;
          }
        }
      }
      sg.advance();
      sc.advance();
    }
    EXPECT_GT(compared, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Caches, SessionGpu,
    ::testing::Values(CacheCase{"global", 0, 0, 5, 2},
                      CacheCase{"window_sink1", 4, 1, 7, 2},
                      CacheCase{"window_no_sink", 4, 0, 6, 2},
                      CacheCase{"sink_spans_chunks", 4, 3, 7, 2},
                      CacheCase{"long_like", 12, 1, 9, 3}),
    [](const auto &info) { return std::string(info.param.name); });

} // namespace
} // namespace lfc::test
