// The runtime's kernel catalog (runtime/cuda/KernelSources.h) as the compiler
// sees it: which attention kernel lfc runs for a selection shape on an arch,
// with errors as values. This header and its .cpp are plain C++ (no MLIR): the
// .cpp is built with exceptions and converts the catalog's lfc::Error, so
// lf-lower-to-kernels (built without) can call it.
#ifndef LFC_COMPILER_LOWER_KERNELCATALOG_H
#define LFC_COMPILER_LOWER_KERNELCATALOG_H

#include <string>

namespace lfc::lower {

/// One attention variant: the template family and its tiles.
struct AttentionTiles {
  std::string kernel;         ///< "mma", "wgmma", "wgmma_mbar" or "tma"
  int blockQ = 0, blockK = 0; ///< selection blocks of the config (128 if dense)
  int tileQ = 0, tileK = 0;
  int warps = 0;       ///< consumer warps
  int stages = 0;      ///< tma only, else 0
  int threads = 0;     ///< per CTA (tma: warps * 32 + the producer warpgroup)
  int sharedBytes = 0; ///< dynamic shared memory
};

/// lfc::cuda::chooseAttnVariant(arch, dtype, headDim, blockQ, blockK, dense,
/// maxShared): the variant the runtime itself would pick, so compiler and
/// runtime agree on tiles. `bf16` false means fp16. Returns false and sets
/// `error` to the catalog's message when no variant fits.
bool chooseAttentionTiles(const std::string &arch, bool bf16, int headDim,
                          int blockQ, int blockK, bool dense, int maxShared,
                          AttentionTiles &out, std::string &error) noexcept;

/// lfc::cuda::staticMaskTag(text): the kernel-name form of a canonical static
/// mask (`union-sink1-current-radial3x156`), as the runtime names its kernels.
/// Returns false and sets `error` when the text is not canonical.
bool staticMaskTag(const std::string &text, std::string &tag,
                   std::string &error) noexcept;

/// lfc::cuda::entrySymbol(name): the C identifier of a kernel's entry point.
std::string entrySymbol(const std::string &kernelName);

} // namespace lfc::lower

#endif // LFC_COMPILER_LOWER_KERNELCATALOG_H
