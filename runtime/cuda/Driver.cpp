// Loads libcuda with dlopen and resolves the versioned driver entry points.
#include "runtime/cuda/Driver.h"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>
#include <utility>

namespace lfc::cuda {

namespace {

struct Loaded {
  DriverApi api;
  std::string error; ///< non-empty: the driver cannot be used, and why
  DeviceInfo device;
};

std::string errorText(const DriverApi &api, CUresult r) {
  const char *name = nullptr, *text = nullptr;
  if (api.cuGetErrorName)
    api.cuGetErrorName(r, &name);
  if (api.cuGetErrorString)
    api.cuGetErrorString(r, &text);
  std::string s = name ? name : "CUDA error " + std::to_string(int(r));
  if (text)
    s += std::string(" (") + text + ")";
  return s;
}

int attribute(const DriverApi &api, CUdevice dev, CUdevice_attribute attr,
              const char *what) {
  int v = 0;
  check(api.cuDeviceGetAttribute(&v, attr, dev), "cuDeviceGetAttribute", what);
  return v;
}

Loaded load() {
  Loaded l;
  // Never linked: a runtime without a driver must still load and fall back to
  // the CPU.
  void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char *e = dlerror();
    l.error = std::string("cannot load the CUDA driver libcuda.so.1: ") +
              (e ? e : "unknown");
    return l;
  }
#define LFC_DRIVER_FN(name)                                                    \
  l.api.name = reinterpret_cast<decltype(&::name)>(dlsym(lib, #name));         \
  if (!l.api.name && l.error.empty())                                          \
    l.error = "libcuda.so.1 has no symbol " #name                              \
              " (driver too old for CUDA 12.8+ ABI?)";
#include "runtime/cuda/DriverFunctions.def"
  if (!l.error.empty())
    return l;
  const DriverApi &api = l.api;
  if (CUresult r = api.cuInit(0); r != CUDA_SUCCESS) {
    l.error = "cuInit failed: " + errorText(api, r);
    return l;
  }
  int count = 0;
  if (CUresult r = api.cuDeviceGetCount(&count);
      r != CUDA_SUCCESS || count == 0) {
    l.error = r != CUDA_SUCCESS
                  ? "cuDeviceGetCount failed: " + errorText(api, r)
                  : std::string("the CUDA driver reports no device");
    return l;
  }
  int ordinal = 0;
  if (const char *env = std::getenv("LFC_CUDA_DEVICE")) {
    char *end = nullptr;
    long v = std::strtol(env, &end, 10);
    if (*env == '\0' || *end != '\0' || v < 0 || v >= count) {
      l.error = std::string("LFC_CUDA_DEVICE='") + env +
                "' is not a device ordinal in [0, " + std::to_string(count) +
                ")";
      return l;
    }
    ordinal = int(v);
  }
  try {
    DeviceInfo &d = l.device;
    check(api.cuDeviceGet(&d.device, ordinal), "cuDeviceGet");
    char name[256] = {};
    check(api.cuDeviceGetName(name, sizeof name, d.device), "cuDeviceGetName");
    d.name = name;
    d.major = attribute(api, d.device,
                        CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, "major");
    d.minor = attribute(api, d.device,
                        CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, "minor");
    d.multiprocessors = attribute(
        api, d.device, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, "SM count");
    d.maxSharedOptin = attribute(
        api, d.device, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,
        "max shared memory per block (opt-in)");
    if (d.major < 8) {
      l.error = "device " + d.name + " is sm_" + std::to_string(d.major) +
                std::to_string(d.minor) + "; lfc's kernels need sm_80 or newer";
      return l;
    }
    check(api.cuDevicePrimaryCtxRetain(&d.context, d.device),
          "cuDevicePrimaryCtxRetain");
  } catch (const Error &e) {
    l.error = e.what();
  }
  return l;
}

Loaded &loaded() {
  static Loaded l = load();
  return l;
}

} // namespace

void check(CUresult r, const char *call, const std::string &context) {
  if (r == CUDA_SUCCESS)
    return;
  throw Error(std::string(call) + ": " + errorText(loaded().api, r) +
              (context.empty() ? "" : " [" + context + "]"));
}

bool driverAvailable(std::string *whyNot) {
  const Loaded &l = loaded();
  if (!l.error.empty() && whyNot)
    *whyNot = l.error;
  return l.error.empty();
}

const DriverApi &driver() {
  const Loaded &l = loaded();
  if (!l.error.empty())
    throw Error("CUDA backend unavailable: " + l.error);
  return l.api;
}

const DeviceInfo &currentDevice() {
  const DriverApi &api = driver();
  const DeviceInfo &d = loaded().device;
  // The primary context is per process but "current" is per thread: set it on
  // every use.
  check(api.cuCtxSetCurrent(d.context), "cuCtxSetCurrent");
  return d;
}

DeviceBuffer::DeviceBuffer(size_t bytes) : bytes_(bytes) {
  currentDevice();
  if (bytes)
    check(driver().cuMemAlloc_v2(&ptr_, bytes), "cuMemAlloc_v2",
          std::to_string(bytes) + " bytes");
}

DeviceBuffer::~DeviceBuffer() {
  if (ptr_)
    driver().cuMemFree_v2(ptr_);
}

DeviceBuffer::DeviceBuffer(DeviceBuffer &&other) noexcept
    : ptr_(std::exchange(other.ptr_, 0)),
      bytes_(std::exchange(other.bytes_, 0)) {}

DeviceBuffer &DeviceBuffer::operator=(DeviceBuffer &&other) noexcept {
  if (this != &other) {
    if (ptr_)
      driver().cuMemFree_v2(ptr_);
    ptr_ = std::exchange(other.ptr_, 0);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

void DeviceBuffer::upload(const void *host, size_t bytes, size_t offset) {
  if (offset + bytes > bytes_)
    throw Error("DeviceBuffer::upload: " + std::to_string(bytes) +
                " bytes at offset " + std::to_string(offset) +
                " exceed the buffer's " + std::to_string(bytes_));
  check(driver().cuMemcpyHtoD_v2(ptr_ + offset, host, bytes),
        "cuMemcpyHtoD_v2");
}

void DeviceBuffer::download(void *host, size_t bytes, size_t offset) const {
  if (offset + bytes > bytes_)
    throw Error("DeviceBuffer::download: " + std::to_string(bytes) +
                " bytes at offset " + std::to_string(offset) +
                " exceed the buffer's " + std::to_string(bytes_));
  check(driver().cuMemcpyDtoH_v2(host, ptr_ + offset, bytes),
        "cuMemcpyDtoH_v2");
}

void DeviceBuffer::fill(unsigned char value) {
  check(driver().cuMemsetD8_v2(ptr_, value, bytes_), "cuMemsetD8_v2");
}

void checkDevicePointer(const void *p, const std::string &what) {
  // cuPointerGetAttributes (plural) reports an unknown address as memory type 0
  // with CUDA_SUCCESS, where the singular call fails: a rejected host pointer
  // then leaves no driver API error behind (compute-sanitizer reports those).
  unsigned type = 0;
  CUpointer_attribute attr = CU_POINTER_ATTRIBUTE_MEMORY_TYPE;
  void *values[] = {&type};
  CUresult r = driver().cuPointerGetAttributes(
      1, &attr, values, reinterpret_cast<CUdeviceptr>(p));
  if (r != CUDA_SUCCESS)
    throw Error(what + ": cannot query the pointer's memory type (" +
                errorText(driver(), r) + ")");
  if (type != CU_MEMORYTYPE_DEVICE && type != CU_MEMORYTYPE_UNIFIED)
    throw Error(what + ": expected a CUDA device pointer, got " +
                (type == CU_MEMORYTYPE_HOST ? std::string("pinned host memory")
                                            : std::string("host memory")));
}

} // namespace lfc::cuda
