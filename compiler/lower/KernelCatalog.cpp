// Calls the runtime's kernel catalog and turns its exceptions into values
// (built with exceptions, unlike the MLIR libraries).
#include "compiler/lower/KernelCatalog.h"

#include "lfc/backend.h"
#include "runtime/cuda/KernelSources.h"

#include <exception>

namespace lfc::lower {

bool chooseAttentionTiles(const std::string &arch, bool bf16, int headDim,
                          int blockQ, int blockK, bool dense, int maxShared,
                          AttentionTiles &out, std::string &error) noexcept {
  try {
    cuda::AttnVariant v =
        cuda::chooseAttnVariant(arch, bf16 ? DType::BF16 : DType::F16, headDim,
                                blockQ, blockK, dense, maxShared);
    out = AttentionTiles();
    out.kernel = v.tma         ? "tma"
                 : v.decoupled ? "wgmma_mbar"
                 : v.wgmma     ? "wgmma"
                               : "mma";
    out.blockQ = v.blockQ;
    out.blockK = v.blockK;
    out.tileQ = v.tileQ;
    out.tileK = v.tileK;
    out.warps = v.warps;
    out.stages = v.tma ? v.stages : 0;
    out.threads = v.threads();
    out.sharedBytes = v.sharedBytes();
    return true;
  } catch (const std::exception &e) {
    error = e.what();
  } catch (...) {
    error = "the kernel catalog failed without a message";
  }
  return false;
}

bool staticMaskTag(const std::string &text, std::string &tag,
                   std::string &error) noexcept {
  try {
    tag = cuda::staticMaskTag(text);
    return true;
  } catch (const std::exception &e) {
    error = e.what();
  } catch (...) {
    error = "the kernel catalog failed without a message";
  }
  return false;
}

std::string entrySymbol(const std::string &kernelName) {
  return cuda::entrySymbol(kernelName);
}

} // namespace lfc::lower
