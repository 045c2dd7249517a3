// libnvrtc loaded at run time with dlopen (the runtime never links it).
#pragma once

#include <nvrtc.h>

#include <type_traits>

#include <string>

namespace lfc::detail {

struct NvrtcApi {
  decltype(&::nvrtcVersion) version = nullptr;
  decltype(&::nvrtcGetErrorString) getErrorString = nullptr;
  decltype(&::nvrtcCreateProgram) createProgram = nullptr;
  decltype(&::nvrtcDestroyProgram) destroyProgram = nullptr;
  decltype(&::nvrtcCompileProgram) compileProgram = nullptr;
  decltype(&::nvrtcGetProgramLogSize) getProgramLogSize = nullptr;
  decltype(&::nvrtcGetProgramLog) getProgramLog = nullptr;
  decltype(&::nvrtcGetCUBINSize) getCUBINSize = nullptr;
  decltype(&::nvrtcGetCUBIN) getCUBIN = nullptr;
  std::string libraryPath; ///< the file that was loaded
  int major = 0, minor = 0;
};

/// The process-wide NVRTC, loaded on first use; nullptr if it cannot be loaded,
/// with the reason (every path tried and dlerror) in *whyNot.
const NvrtcApi *loadNvrtc(std::string *whyNot);

} // namespace lfc::detail
