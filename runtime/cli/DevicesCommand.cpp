// `lfc devices`: which backend lfc runs on here, and why (scripts use
// `lfc devices --backend` to choose between the GPU and the CPU demo).
#include "lfc/cuda_backend.h"
#include "lfc/jit.h"
#include "runtime/cli/Commands.h"
#include "runtime/cuda/Driver.h"

#include <cstdio>
#include <cstring>
#include <string>

namespace lfc::cli {

int runDevices(int argc, char **argv) {
  bool brief = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--backend")) {
      brief = true;
    } else if (!std::strcmp(argv[i], "-h") || !std::strcmp(argv[i], "--help")) {
      std::printf("usage: lfc devices [--backend]\n"
                  "  Says whether the CUDA backend is usable here (driver, "
                  "device, arch, NVRTC)\n"
                  "  and otherwise why not. --backend prints only the backend "
                  "`auto` picks:\n"
                  "  'cuda' or 'cpu'.\n");
      return 0;
    } else {
      std::fprintf(stderr, "lfc devices: unknown argument '%s' (see --help)\n",
                   argv[i]);
      return 2;
    }
  }
  std::string why;
  bool cuda = cudaBackendAvailable(&why);
  std::string nvrtcWhy;
  if (cuda && !nvrtcAvailable(&nvrtcWhy)) {
    cuda = false;
    why = "NVRTC cannot be loaded: " + nvrtcWhy;
  }
  if (brief) {
    std::printf("%s\n", cuda ? "cuda" : "cpu");
    return 0;
  }
  if (!cuda) {
    std::printf("cpu: the CUDA backend is not usable here (%s); lfc runs on "
                "the CPU reference backend\n",
                why.c_str());
    return 0;
  }
  const cuda::DeviceInfo &d = cuda::currentDevice();
  std::printf("cuda: %s, compute capability %d.%d, kernels for %s, %d SMs, "
              "NVRTC %s\n",
              d.name.c_str(), d.major, d.minor,
              archForDevice(d.major, d.minor).c_str(), d.multiprocessors,
              nvrtcVersion().c_str());
  return 0;
}

} // namespace lfc::cli
