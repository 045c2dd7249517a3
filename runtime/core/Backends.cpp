// createBackend(): LFC_BACKEND, CUDA when available, the CPU reference backend
// otherwise.
#include "lfc/cuda_backend.h"
#include "lfc/runtime.h"

#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace lfc {

BackendKind parseBackendKind(const std::string &value) {
  if (value.empty() || value == "auto")
    return BackendKind::Auto;
  if (value == "cpu")
    return BackendKind::Cpu;
  if (value == "cuda")
    return BackendKind::Cuda;
  throw Error("LFC_BACKEND: unknown backend '" + value +
              "'; expected cpu, cuda or auto");
}

std::unique_ptr<Backend> createBackend(BackendKind kind) {
  if (kind == BackendKind::Auto)
    if (const char *env = std::getenv("LFC_BACKEND"))
      kind = parseBackendKind(env);
  if (kind == BackendKind::Cpu)
    return createCpuBackend();
  std::string why;
  bool available = cudaBackendAvailable(&why);
  if (kind == BackendKind::Cuda) {
    if (!available)
      throw Error(
          "CUDA backend requested (LFC_BACKEND=cuda) but unavailable: " + why);
    return createCudaBackend();
  }
  if (available)
    return createCudaBackend();
  static std::once_flag noted;
  std::call_once(noted, [&] {
    std::fprintf(stderr,
                 "lfc: note: using the CPU reference backend (slow): %s; set "
                 "LFC_BACKEND=cpu to silence this\n",
                 why.c_str());
  });
  return createCpuBackend();
}

} // namespace lfc
