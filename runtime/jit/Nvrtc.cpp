// Finds and dlopens libnvrtc, resolving the handful of entry points the JIT
// uses.
#include "runtime/jit/Nvrtc.h"

#include <cstdlib>
#include <dlfcn.h>
#include <mutex>
#include <vector>

#ifndef LFC_CUDA_ROOT_DIR
#define LFC_CUDA_ROOT_DIR "/usr/local/cuda"
#endif

namespace lfc::detail {
namespace {

std::vector<std::string> candidatePaths() {
  // Sonames first so LD_LIBRARY_PATH and the system loader decide; then toolkit
  // roots for a toolkit that is installed but not on the loader path.
  std::vector<std::string> paths = {"libnvrtc.so.13", "libnvrtc.so"};
  std::vector<std::string> roots;
  if (const char *home = std::getenv("CUDA_HOME"); home && *home)
    roots.push_back(home);
  if (const char *path = std::getenv("CUDA_PATH"); path && *path)
    roots.push_back(path);
  roots.push_back("/usr/local/cuda");
  if (std::string(LFC_CUDA_ROOT_DIR) != "/usr/local/cuda")
    roots.push_back(LFC_CUDA_ROOT_DIR);
  for (const std::string &root : roots) {
    for (const char *lib : {"/lib64/libnvrtc.so.13", "/lib64/libnvrtc.so",
                            "/lib/libnvrtc.so.13", "/lib/libnvrtc.so"})
      paths.push_back(root + lib);
  }
  return paths;
}

struct Loaded {
  NvrtcApi api;
  bool ok = false;
  std::string why;
};

Loaded load() {
  Loaded result;
  std::string tried;
  void *handle = nullptr;
  for (const std::string &path : candidatePaths()) {
    handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle) {
      result.api.libraryPath = path;
      break;
    }
    const char *err = dlerror();
    tried += "\n  " + path + ": " + (err ? err : "not found");
  }
  if (!handle) {
    result.why = "cannot load libnvrtc (set CUDA_HOME or LD_LIBRARY_PATH to a "
                 "CUDA toolkit);"
                 " tried:" +
                 tried;
    return result;
  }
  bool missing = false;
  auto resolve = [&](auto &fn, const char *symbol) {
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(
        dlsym(handle, symbol));
    if (!fn) {
      result.why += std::string(result.why.empty() ? "" : ", ") + symbol;
      missing = true;
    }
  };
  NvrtcApi &a = result.api;
  resolve(a.version, "nvrtcVersion");
  resolve(a.getErrorString, "nvrtcGetErrorString");
  resolve(a.createProgram, "nvrtcCreateProgram");
  resolve(a.destroyProgram, "nvrtcDestroyProgram");
  resolve(a.compileProgram, "nvrtcCompileProgram");
  resolve(a.getProgramLogSize, "nvrtcGetProgramLogSize");
  resolve(a.getProgramLog, "nvrtcGetProgramLog");
  resolve(a.getCUBINSize, "nvrtcGetCUBINSize");
  resolve(a.getCUBIN, "nvrtcGetCUBIN");
  if (missing) {
    result.why = a.libraryPath + " lacks " + result.why +
                 " (NVRTC older than CUDA 11.1?)";
    return result;
  }
  if (a.version(&a.major, &a.minor) != NVRTC_SUCCESS) {
    result.why = a.libraryPath + ": nvrtcVersion failed";
    return result;
  }
  result.ok = true;
  return result;
}

} // namespace

const NvrtcApi *loadNvrtc(std::string *whyNot) {
  // The library stays loaded for the life of the process (never dlclose'd):
  // CUBINs and error strings it returned may still be referenced.
  static const Loaded loaded = load();
  if (!loaded.ok) {
    if (whyNot)
      *whyNot = loaded.why;
    return nullptr;
  }
  return &loaded.api;
}

} // namespace lfc::detail
