// The synthetic AR video model (Workload.h) computed on the current CUDA
// device: the same weights, content, noise, RoPE and sink gain, the same
// numbers up to fp32 rounding (docs/ar_video.md, "On the GPU").
//
// The GPU loop mirrors the host one:
//
//   DeviceVideoModel dev(host);             // JIT-compiles the kernels
//   DeviceHidden hidden = dev.newHidden();
//   for chunk, pass:
//     dev.initChunk(chunk, pass, hidden);
//     for layer:
//       dev.project(layer, chunk, hidden, q, kRows, vRows); // device tensors
//       attention(q, K, V) -> o;                             // the caller's
//       dev.residual(layer, hidden, o);
//
// Every call enqueues its kernels on the legacy default stream (stream 0), as
// the lfc CUDA backend does, and returns without waiting; only download()
// waits for them. The first project/residual of a layer uploads its weights,
// which waits for the stream once (prepareLayer does it ahead).
#pragma once

#include "examples/ar_video/Workload.h"
#include "lfc/jit.h"
#include "lfc/tensor.h"
#include "runtime/cuda/Driver.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace lfc::ar {

/// A chunk's hidden states on the device: [chunkTokens, modelWidth] fp32,
/// row-major, owned.
class DeviceHidden {
public:
  DeviceHidden() = default;
  /// Allocates tokens x width floats (contents undefined).
  DeviceHidden(int64_t tokens, int64_t width);

  int64_t tokens() const { return tokens_; }
  int64_t width() const { return width_; }
  /// Number of floats, tokens * width.
  int64_t size() const { return tokens_ * width_; }
  size_t bytes() const { return size_t(size()) * sizeof(float); }
  bool empty() const { return size() == 0; }
  void *data() const { return buffer_.get(); }
  CUdeviceptr dptr() const { return buffer_.dptr(); }

private:
  int64_t tokens_ = 0, width_ = 0;
  cuda::DeviceBuffer buffer_;
};

class DeviceVideoModel {
public:
  /// The same model as `host` (same weights, content, noise, RoPE, sink gain),
  /// on the current CUDA device; `host` must outlive this. Kernels are
  /// JIT-compiled (disk-cached) on construction; the content features of every
  /// chunk, the embedding and the RoPE tables are uploaded then. Throws
  /// lfc::Error without a usable CUDA device or NVRTC.
  explicit DeviceVideoModel(const SyntheticVideoModel &host);
  ~DeviceVideoModel();
  DeviceVideoModel(DeviceVideoModel &&) noexcept;
  DeviceVideoModel &operator=(DeviceVideoModel &&) noexcept;
  DeviceVideoModel(const DeviceVideoModel &) = delete;
  DeviceVideoModel &operator=(const DeviceVideoModel &) = delete;

  const SyntheticVideoModel &host() const;
  const Geometry &geometry() const;
  /// The arch the kernels were compiled for ("sm_90a", ...).
  const std::string &arch() const;

  /// A hidden state of the right size, [chunkTokens, modelWidth].
  DeviceHidden newHidden() const;
  /// hidden = content(chunk) + noiseSigma(pass) * noise(chunk, pass), as
  /// SyntheticVideoModel::initChunk.
  void initChunk(int chunk, int pass, DeviceHidden &hidden) const;
  /// dst = src (same size).
  void copy(DeviceHidden &dst, const DeviceHidden &src) const;
  /// As SyntheticVideoModel::project: q, k, v [1, chunkTokens, heads, headDim]
  /// device tensors (Device::Cuda; any strides, head_dim contiguous; bf16,
  /// fp16 or fp32 each, rounded to nearest even).
  void project(int layer, int chunk, const DeviceHidden &hidden,
               const Tensor4 &q, const Tensor4 &k, const Tensor4 &v) const;
  /// hidden += W_o(layer) attnOut per token; attnOut [1, chunkTokens, heads,
  /// headDim] device tensor (bf16, fp16 or fp32, any strides).
  void residual(int layer, DeviceHidden &hidden, const Tensor4 &attnOut) const;
  /// Waits for the stream and copies hidden to the host (resized).
  void download(const DeviceHidden &hidden, std::vector<float> &out) const;

  /// Uploads layer `layer`'s weights now if not done yet (generating them on
  /// the host if the host model has not); waits for the stream.
  void prepareLayer(int layer) const;

  /// Not thread-safe beyond this: the calls share scratch buffers, so one
  /// thread at a time drives a model (its kernels run in call order on the
  /// stream, which makes reuse between calls safe).

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The CUDA source of the model's kernels: device_model_kernels.cuh, embedded
/// into the library at build time.
const std::string &deviceModelKernelSource();

/// The NVRTC request DeviceVideoModel compiles for `arch` (one module with
/// every kernel; the disk cache on).
JitRequest deviceModelJitRequest(const std::string &arch);

/// Entry points of the module, as named in the source.
const std::vector<std::string> &deviceModelKernelEntries();

} // namespace lfc::ar
