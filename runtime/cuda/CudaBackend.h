// The CUDA implementation of lfc::Backend: JIT-compiled selection and attention
// kernels.
#pragma once

#include "lfc/backend.h"
#include "lfc/plan.h"
#include "runtime/cuda/Driver.h"
#include "runtime/cuda/KernelSources.h"

#include <functional>
#include <map>
#include <memory>
#include <string>

namespace lfc::cuda {

/// A JIT-compiled, loaded module and the timing of how it was obtained.
struct LoadedKernel {
  CUmodule module = nullptr;
  std::map<std::string, CUfunction> functions; ///< by entry name
  bool cacheHit = false;
  double compileMs = 0; ///< NVRTC time (0 on a cache hit)
};

class CudaBackend final : public Backend {
public:
  CudaBackend();
  ~CudaBackend() override;

  std::string name() const override;
  Device device() const override { return Device::Cuda; }

  std::unique_ptr<PooledKeyCache>
  createPooledKeys(int64_t batch, int64_t heads, int64_t headDim,
                   int64_t maxTokens, int blockK, int tokensPerFrame) override;
  void commitKeys(PooledKeyCache &cache, const Tensor4 &k,
                  int64_t endToken) override;
  void select(const ChunkSelection &sel, const Tensor4 &q, const Tensor4 &k,
              const PooledKeyCache *pooled, KeptBlocks &kept) override;
  void attention(const ChunkSelection &sel, const Tensor4 &q, const Tensor4 &k,
                 const Tensor4 &v, const KeptBlocks *kept, const Tensor4 &o,
                 float scale) override;
  void synchronize() override;
  void copy(const Tensor4 &dst, const Tensor4 &src) override;
  void toHost(void *host, const void *src, size_t bytes) override;
  void fromHost(void *dst, const void *host, size_t bytes) override;
  void setStream(void *stream) override;
  void *stream() const override { return stream_; }
  std::unique_ptr<TimeMark> mark() override;
  double elapsedMs(const TimeMark &a, const TimeMark &b) override;
  std::shared_ptr<void> allocate(size_t bytes) override;
  /// Binds a plan: JIT-compiles (or loads from the cache) the plan's kernels
  /// for this device's arch and launches them (CudaPlan.cpp).
  std::unique_ptr<BoundPlan> bind(const Plan &plan) override;

  /// The selection launches (pooling, then select) with the given functions;
  /// `name` prefixes every error. select() passes its built-in kernel's.
  void launchSelect(const std::string &name, CUfunction pool, CUfunction select,
                    const ChunkSelection &sel, const Tensor4 &q,
                    const Tensor4 &k, const PooledKeyCache *pooled,
                    KeptBlocks &kept);
  /// The attention launch of variant `var` with function `f`, after every
  /// argument check; attention() passes its built-in kernel's.
  void launchAttention(const AttnVariant &var, CUfunction f,
                       const std::string &name, const ChunkSelection &sel,
                       const Tensor4 &q, const Tensor4 &k, const Tensor4 &v,
                       const KeptBlocks *kept, const Tensor4 &o, float scale);
  /// Compiles (or loads from the JIT cache) and loads one kernel of a plan,
  /// memoized by plan kernel name and source hash; every entry gets
  /// `sharedBytes` of dynamic shared memory.
  const LoadedKernel &loadPlanKernel(const Plan &plan, const PlanKernel &kernel,
                                     int sharedBytes);

  /// The arch kernels are compiled for ("sm_90a" on Hopper).
  const std::string &arch() const { return arch_; }
  /// The attention variant attention() would launch for these parameters.
  AttnVariant attnVariant(DType dtype, int headDim, int blockQ, int blockK,
                          bool dense) const;
  /// Benchmarks and tests: force the attention kernel (tileQ, tileK, warps;
  /// kernel 0 mma.sync, 1 wgmma with a CTA barrier per tile, 2 wgmma with
  /// per-stage mbarriers, 3 and 4 wgmma with a TMA producer warpgroup and 2 or
  /// 3 stages, `warps` consumer warps); tileQ 0 restores the per-arch choice.
  /// The kernel name records whatever is used.
  void setAttnTiles(int tileQ, int tileK, int warps, int kernel) {
    tiles_ = {tileQ, tileK, warps, kernel};
  }
  /// Tests and benchmarks: schedule the TMA kernel (tail split, persistent
  /// grid) as if the GPU had `sms` multiprocessors (0: the real count; -1: the
  /// real count, never split).
  void setTailSplitSms(int sms) { splitSms_ = sms; }
  /// Benchmarks: query blocks per select CTA, at most LFC_SELECT_GROUP and
  /// what shared memory allows (0: the most that fit).
  void setSelectGroup(int group) { selectGroup_ = group; }
  /// Benchmarks: launch the TMA kernel with one CTA per unit of work instead
  /// of a persistent grid of one CTA per SM.
  void setPersistentTma(bool on) { persistentTma_ = on; }
  /// Compiles (or loads from the JIT cache) and loads a module; memoized by
  /// name. `source` is called only on the first load of `name`: select() and
  /// attention() run once per chunk, pass and layer, and generating a source
  /// would add to every call's host latency.
  const LoadedKernel &load(const std::string &name,
                           const std::function<std::string()> &source,
                           const std::vector<std::string> &entries,
                           int sharedBytes);
  /// Ignores modules loaded so far, so the next load() goes through the JIT
  /// (cache) again: the benchmark times cold and warm plan loads with it.
  void forgetLoadedModules();

  /// Dynamic shared memory the select kernel may use (it ranks all key blocks
  /// in one CTA).
  int selectSharedLimit() const;

private:
  const DeviceInfo &device_;
  CUstream stream_ = nullptr;
  std::string arch_;
  std::map<std::string, LoadedKernel> modules_;
  DeviceBuffer queryMeans_, blockMeans_, frameMeans_;
  /// The TMA kernel's split-item scratch: partial rows and arrival counters
  /// (zeroed once; each launch leaves them zero).
  DeviceBuffer tmaPartial_, tmaCounters_;
  struct {
    int tileQ = 0, tileK = 0, warps = 0;
    int kernel = 0;
  } tiles_;
  int selectGroup_ = 0;
  int splitSms_ = 0;
  bool persistentTma_ = true;
};

} // namespace lfc::cuda
