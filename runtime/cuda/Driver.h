// The CUDA driver API loaded at run time (dlopen libcuda.so.1), with errors as
// lfc::Error.
#pragma once

#include "lfc/backend.h"

#include <cuda.h>

#include <cstddef>
#include <string>

namespace lfc::cuda {

/// The driver entry points lfc uses, resolved by their versioned ABI names
/// (cuMemAlloc_v2,
/// ...), since cuda.h's macros only rename calls compiled against it, not dlsym
/// lookups.
struct DriverApi {
#define LFC_DRIVER_FN(name) decltype(&::name) name = nullptr;
#include "runtime/cuda/DriverFunctions.def"
};

/// Whether libcuda loads, initializes and reports at least one device; *whyNot
/// says why not.
bool driverAvailable(std::string *whyNot);

/// The loaded driver (cuInit done). Throws lfc::Error saying why it cannot be
/// used.
const DriverApi &driver();

/// Throws lfc::Error("<call>: CUDA_ERROR_X (<description>)<context>") unless r
/// == CUDA_SUCCESS.
void check(CUresult r, const char *call, const std::string &context = "");

/// The device lfc runs on ($LFC_CUDA_DEVICE, default 0), with its primary
/// context made current on the calling thread.
struct DeviceInfo {
  CUdevice device = 0;
  CUcontext context = nullptr;
  int major = 0, minor = 0;
  int multiprocessors = 0;
  int maxSharedOptin =
      0; ///< bytes of dynamic shared memory a CTA may opt in to
  std::string name;
};
const DeviceInfo &currentDevice();

/// Owning device allocation (for the backend's scratch, tests and benchmarks).
class DeviceBuffer {
public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t bytes);
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer &&other) noexcept;
  DeviceBuffer &operator=(DeviceBuffer &&other) noexcept;
  DeviceBuffer(const DeviceBuffer &) = delete;
  DeviceBuffer &operator=(const DeviceBuffer &) = delete;

  void *get() const { return reinterpret_cast<void *>(ptr_); }
  CUdeviceptr dptr() const { return ptr_; }
  size_t size() const { return bytes_; }
  void upload(const void *host, size_t bytes, size_t offset = 0);
  void download(void *host, size_t bytes, size_t offset = 0) const;
  /// Fills every byte with `value` (tests poison outputs this way).
  void fill(unsigned char value);

private:
  CUdeviceptr ptr_ = 0;
  size_t bytes_ = 0;
};

/// Throws lfc::Error naming `what` unless `p` points into device memory of this
/// context.
void checkDevicePointer(const void *p, const std::string &what);

} // namespace lfc::cuda
