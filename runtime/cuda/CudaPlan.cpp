// Executing a plan on the CUDA backend: the plan's kernels, JIT-compiled for
// the device's arch, launched with the contracts its manifest states.
#include "lfc/executor.h"
#include "runtime/cuda/CudaBackend.h"

#include <algorithm>

namespace lfc::cuda {

namespace {

/// The attention variant a plan entry instantiates, checked against the launch
/// contract the manifest states for it.
AttnVariant variantOf(const Plan &plan, const PlanChunk &chunk,
                      const PlanKernel &kernel, const PlanEntry &entry,
                      const std::string &arch) {
  const AttentionVariant &a = entry.attention;
  AttnVariant v;
  v.arch = arch;
  v.dtype = plan.geometry.dtype;
  v.headDim = plan.geometry.headDim;
  v.dense = a.mask == "dense";
  v.blockQ = v.dense ? 128 : chunk.selection.blockQ;
  v.blockK = v.dense ? 128 : chunk.selection.blockK;
  v.tileQ = entry.launch.tileQ;
  v.tileK = a.tileK;
  v.warps = a.warps;
  v.wgmma = a.kernel != "mma";
  v.decoupled = a.kernel == "wgmma_mbar";
  v.tma = a.kernel == "tma";
  v.stages = v.tma ? a.stages : 2;
  if (a.mask == "static") {
    v.staticMask = kernel.staticMask;
    v.tokensPerFrame = plan.geometry.tokensPerFrame;
  }
  const std::string where = plan.dir + "/plan.toml: kernel '" + kernel.name +
                            "' entry '" + entry.symbol + "'";
  if (v.threads() != entry.launch.block[0])
    throw Error(where + ": block [" + std::to_string(entry.launch.block[0]) +
                ", 1, 1] but a " + a.kernel + " kernel with " +
                std::to_string(v.warps) + " warps runs " +
                std::to_string(v.threads()) + " threads");
  if (v.sharedBytes() != entry.launch.sharedBytes)
    throw Error(where + ": shared_bytes " +
                std::to_string(entry.launch.sharedBytes) + " but tiles " +
                std::to_string(v.tileQ) + " x " + std::to_string(v.tileK) +
                " at head_dim " + std::to_string(v.headDim) + " need " +
                std::to_string(v.sharedBytes()));
  return v;
}

class CudaBoundPlan final : public BoundPlan {
public:
  CudaBoundPlan(CudaBackend &backend, const Plan &plan)
      : BoundPlan(plan), backend_(backend) {
    checkKernelAbi(plan);
    const std::string &arch = backend.arch();
    for (const PlanChunk &chunk : plan.chunks) {
      ChunkKernels ck;
      const PlanEntry *entry = nullptr;
      const PlanKernel *attn =
          plan.findKernel("attention", chunk.index, arch, &entry);
      if (!attn)
        throw Error(plan.dir + "/plan.toml: no attention kernel serves chunk " +
                    std::to_string(chunk.index) + " on " + arch +
                    " (recompile the policy with lfc compile)");
      ck.var = variantOf(plan, chunk, *attn, *entry, arch);
      ck.attnName = attn->name;
      const LoadedKernel &am =
          backend.loadPlanKernel(plan, *attn, int(entry->launch.sharedBytes));
      ck.attn = am.functions.at(entry->symbol);
      if (chunk.selection.dense != ck.var.dense)
        throw Error(plan.dir + "/plan.toml: kernel '" + attn->name +
                    "' has mask '" + entry->attention.mask + "' but chunk " +
                    std::to_string(chunk.index) + " is " +
                    (chunk.selection.dense ? "dense" : "not dense"));
      if (const PlanKernel *sel =
              plan.findKernel("select", chunk.index, arch)) {
        if (ck.var.staticMask.size())
          throw Error(plan.dir + "/plan.toml: chunk " +
                      std::to_string(chunk.index) +
                      " has both a select kernel ('" + sel->name +
                      "') and a static-mask attention kernel");
        const PlanEntry *pool = nullptr, *select = nullptr;
        for (const PlanEntry &e : sel->entries) {
          if (e.role == "pool_keys")
            pool = &e;
          if (e.role == "select")
            select = &e;
        }
        if (!pool || !select)
          throw Error(plan.dir + "/plan.toml: kernel '" + sel->name +
                      "' needs pool_keys and select entries");
        const LoadedKernel &sm =
            backend.loadPlanKernel(plan, *sel, backend.selectSharedLimit());
        ck.selectName = sel->name;
        ck.pool = sm.functions.at(pool->symbol);
        ck.select = sm.functions.at(select->symbol);
      } else if (!chunk.selection.dense && ck.var.staticMask.empty()) {
        throw Error(plan.dir + "/plan.toml: chunk " +
                    std::to_string(chunk.index) +
                    " attends over a kept list but no select kernel serves it "
                    "on " +
                    arch);
      }
      chunks_.push_back(std::move(ck));
    }
  }

  bool selects(int chunk) const override { return at(chunk).select; }

  void select(int chunk, const Tensor4 &q, const Tensor4 &k,
              const PooledKeyCache *pooled, KeptBlocks &kept) override {
    const ChunkKernels &ck = at(chunk);
    if (!ck.select)
      throw Error("select: chunk " + std::to_string(chunk) + " of plan '" +
                  plan().name + "' has no selection");
    backend_.launchSelect(ck.selectName, ck.pool, ck.select,
                          plan().chunks[size_t(chunk - 1)].selection, q, k,
                          pooled, kept);
  }

  void attention(int chunk, const Tensor4 &q, const Tensor4 &k,
                 const Tensor4 &v, const KeptBlocks *kept,
                 const Tensor4 &o) override {
    const ChunkKernels &ck = at(chunk);
    if (ck.select && !kept)
      throw Error(ck.attnName + ": chunk " + std::to_string(chunk) +
                  " needs the kept blocks of its selection");
    backend_.launchAttention(ck.var, ck.attn, ck.attnName,
                             plan().chunks[size_t(chunk - 1)].selection, q, k,
                             v, ck.select ? kept : nullptr, o,
                             plan().geometry.softmaxScale);
  }

  std::string kernelsFor(int chunk) const override {
    const ChunkKernels &ck = at(chunk);
    return (ck.select ? ck.selectName + " + " : std::string()) + ck.attnName;
  }

private:
  struct ChunkKernels {
    AttnVariant var;
    std::string attnName, selectName;
    CUfunction attn = nullptr, pool = nullptr, select = nullptr;
  };
  const ChunkKernels &at(int chunk) const {
    if (chunk < 1 || chunk > int(chunks_.size()))
      throw Error("plan '" + plan().name + "': chunk " + std::to_string(chunk) +
                  " is outside 1.." + std::to_string(chunks_.size()));
    return chunks_[size_t(chunk - 1)];
  }

  CudaBackend &backend_;
  std::vector<ChunkKernels> chunks_;
};

} // namespace

std::shared_ptr<void> CudaBackend::allocate(size_t bytes) {
  auto buffer = std::make_shared<DeviceBuffer>(std::max<size_t>(bytes, 1));
  buffer->fill(0);
  return std::shared_ptr<void>(buffer, buffer->get());
}

std::unique_ptr<BoundPlan> CudaBackend::bind(const Plan &plan) {
  return std::make_unique<CudaBoundPlan>(*this, plan);
}

const LoadedKernel &CudaBackend::loadPlanKernel(const Plan &plan,
                                                const PlanKernel &kernel,
                                                int sharedBytes) {
  const std::string key = "plan:" + kernel.name + ":" + kernel.sha256;
  if (auto it = modules_.find(key); it != modules_.end())
    return it->second;
  JitResult jit = jitCompile(plan.jitRequest(kernel, arch_));
  LoadedKernel k;
  k.cacheHit = jit.cacheHit;
  k.compileMs = jit.compileMs;
  check(driver().cuModuleLoadData(&k.module, jit.cubin.data()),
        "cuModuleLoadData", kernel.name);
  for (const PlanEntry &entry : kernel.entries) {
    CUfunction f = nullptr;
    check(driver().cuModuleGetFunction(&f, k.module, entry.symbol.c_str()),
          "cuModuleGetFunction", kernel.name + ": " + entry.symbol);
    const int64_t shared =
        std::max<int64_t>(entry.launch.sharedBytes, sharedBytes);
    if (shared > 48 * 1024)
      check(
          driver().cuFuncSetAttribute(
              f, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, int(shared)),
          "cuFuncSetAttribute",
          entry.symbol + " dynamic shared memory " + std::to_string(shared));
    k.functions[entry.symbol] = f;
  }
  return modules_.emplace(key, std::move(k)).first->second;
}

} // namespace lfc::cuda
