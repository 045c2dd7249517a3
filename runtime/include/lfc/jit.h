// NVRTC JIT with a content-addressed disk cache: CUDA source in, CUBIN out.
#pragma once

#include <string>
#include <vector>

namespace lfc {

/// One kernel translation unit to compile for one architecture.
struct JitRequest {
  /// Readable name; appears in errors, in the log and in the cache file name.
  std::string kernelName;
  /// Full CUDA C++ source text.
  std::string source;
  /// Virtual file name of `source` in NVRTC diagnostics (default: kernelName +
  /// ".cu").
  std::string sourceName;
  /// Real architecture: "sm_80", "sm_90a", ... (see archForDevice). No
  /// compute_XY: the runtime loads CUBINs only.
  std::string arch;
  /// Passed as -I; every header reachable from `source` through them is part of
  /// the cache key.
  std::vector<std::string> includeDirs;
  /// Extra NVRTC options, passed after the defaults (-std=c++17,
  /// --gpu-architecture=arch).
  std::vector<std::string> options;
  /// Cache directory; empty: defaultCacheDir().
  std::string cacheDir;
  /// false: always compile, never read or write the cache.
  bool useCache = true;
};

struct JitResult {
  std::vector<char> cubin;
  bool cacheHit = false;
  /// Wall time of the NVRTC compile (0 on a cache hit).
  double compileMs = 0;
  /// NVRTC's log (warnings) from the compile that produced this CUBIN; kept in
  /// the cache entry, so a hit reports the same log as the miss that filled it.
  std::string log;
  /// Cache entry path ("" when useCache is false).
  std::string cachePath;
  /// Hex SHA-256 cache key.
  std::string key;
  /// Why an existing cache entry was not used and got rebuilt (truncated,
  /// corrupt, foreign), or "" when there was none or it was used.
  std::string cacheRejected;
};

/// Compiles (or loads from the cache). Throws lfc::Error naming the kernel and
/// carrying the NVRTC log on a compile error, or saying why NVRTC cannot be
/// loaded.
JitResult jitCompile(const JitRequest &req);

/// "sm_90a" for Hopper (9.0, so wgmma is available), "sm_100a" for 10.0,
/// "sm_XY" elsewhere.
std::string archForDevice(int major, int minor);

/// Checks an arch string ("sm_" + digits + optional "a"/"f"); throws lfc::Error
/// otherwise.
void validateArch(const std::string &arch);

/// Directory holding the kernel templates (kernels_templates/):
/// $LFC_KERNEL_INCLUDE_DIR if set, else the source tree this runtime was built
/// from.
std::string defaultKernelIncludeDir();

/// $LFC_CACHE_DIR if set, else $XDG_CACHE_HOME/lfc, else ~/.cache/lfc.
std::string defaultCacheDir();

/// Whether libnvrtc can be loaded (dlopen); if not, *whyNot lists what was
/// tried.
bool nvrtcAvailable(std::string *whyNot = nullptr);

/// "13.0" (throws lfc::Error if NVRTC cannot be loaded).
std::string nvrtcVersion();

} // namespace lfc
