// Trace I/O: host arrays in .npy and .safetensors files, and traces of the
// Q/K/V tensors of a video model's attention calls (docs/traces.md,
// normative), read back as Tensor4 host views for replay through any policy.
//
// Every reader validates everything it reads and throws lfc::Error naming the
// file, what is wrong and what was expected; malformed input never crashes, and
// no size is allocated before the file is known to hold that many bytes. Data
// are little-endian (the host must be little-endian too: x86-64, AArch64).
#pragma once

#include "lfc/backend.h" // lfc::Error
#include "lfc/tensor.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace lfc {

// ---------------------------------------------------------------------------
// Host arrays

/// An n-D array in host memory, C order (row-major), owning its bytes:
/// bytes.size() == elements() * dtypeSize(dtype). 16-bit types hold their raw
/// bit patterns (bf16: the top half of an fp32; fp16: IEEE binary16).
struct HostArray {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;

  /// Product of `shape` (1 for a 0-D array).
  int64_t elements() const;
  /// Element `i` (flat C-order index) as fp32; exact for every dtype.
  float at(int64_t i) const;
  /// A zero-filled array; throws lfc::Error if a dimension is negative or the
  /// byte size overflows int64.
  static HostArray zeros(DType dtype, std::vector<int64_t> shape);
  /// An array of `values` rounded to `dtype` (round-to-nearest-even).
  static HostArray fromFloats(DType dtype, std::vector<int64_t> shape,
                              const std::vector<float> &values);
};

/// "[2, 3, 4]" ("[]" for 0-D).
std::string shapeString(const std::vector<int64_t> &shape);

/// A rank-4 [B, S, H, D] array as a BSHD host view: strides (S*H*D, H*D, D, 1)
/// elements. The view aliases `a.bytes` (valid while `a` lives unresized); the
/// const overload's view must only be read. Throws lfc::Error naming `what`
/// unless `a` has rank 4.
Tensor4 bshdView(HostArray &a, const std::string &what = "array");
Tensor4 bshdView(const HostArray &a, const std::string &what = "array");

/// A host view of any strides copied into a C-order [B, S, H, D] array (e.g.
/// a backend's output, to write it). Throws lfc::Error for a device view.
HostArray toHostArray(const Tensor4 &t);

/// `a` converted to `to`: widening is exact, narrowing rounds to nearest even
/// (lfc/half.h).
HostArray convert(const HostArray &a, DType to);

// ---------------------------------------------------------------------------
// .npy (NumPy format versions 1.0, 2.0, 3.0; C order, little-endian)

/// dtypes lfc reads from .npy: '<f4' (fp32), '<f2' (fp16), and bf16, which
/// NumPy has no native type for, as raw 16-bit patterns: '<u2' (what lfc and
/// docs/traces.md write), '<V2' or '|V2' (what NumPy writes for
/// ml_dtypes.bfloat16). Written: '<f4', '<f2', '<u2'.
extern const char *const kNpySupportedDtypes;

/// What an .npy header says.
struct NpyHeader {
  int major = 1, minor = 0; ///< format version
  std::string descr;        ///< as written, e.g. "<f4"
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  uint64_t dataOffset = 0; ///< bytes before the data (preamble + header)
  uint64_t dataBytes = 0;  ///< product(shape) * itemsize
};

/// Reads and validates the header only (the file's size must be exactly
/// dataOffset + dataBytes).
NpyHeader readNpyHeader(const std::string &path);
HostArray readNpy(const std::string &path);
/// An .npy file given as bytes; `name` stands for it in errors.
HostArray parseNpy(const std::string &bytes, const std::string &name);

/// The .npy bytes of `a`. version 0: 1.0 if the header fits (64 KiB: any
/// rank below ~3000), else 2.0; 1, 2 or 3 force that version. The header is
/// padded with spaces to a 64-byte boundary and ends with '\n', as NumPy's.
std::string npyBytes(const HostArray &a, int version = 0);
/// Writes npyBytes(a, version) to `path` atomically (temporary + rename).
void writeNpy(const std::string &path, const HostArray &a, int version = 0);

// ---------------------------------------------------------------------------
// .safetensors (8-byte little-endian header size N, N bytes of JSON, data)

/// dtypes lfc reads and writes in .safetensors: "BF16", "F16", "F32".
extern const char *const kSafetensorsSupportedDtypes;

struct SafetensorsEntry {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0; ///< data_offsets, relative to the data section
};

/// A parsed .safetensors file: the header is validated when opened (dtypes,
/// shapes, offsets in range, sizes = product(shape) * itemsize, no two tensors
/// overlapping); tensor data are read on demand. `__metadata__` (an object of
/// strings) is kept in metadata(); its non-string values are ignored.
class SafetensorsFile {
public:
  static SafetensorsFile open(const std::string &path);
  /// A file given as bytes; `name` stands for it in errors.
  static SafetensorsFile parse(std::string bytes, const std::string &name);

  const std::string &name() const;
  /// Tensor names, sorted.
  std::vector<std::string> names() const;
  bool contains(const std::string &tensor) const;
  /// Throws lfc::Error listing (some of) the names present if absent.
  const SafetensorsEntry &entry(const std::string &tensor) const;
  HostArray get(const std::string &tensor) const;
  const std::map<std::string, std::string> &metadata() const;

  SafetensorsFile(SafetensorsFile &&) noexcept;
  SafetensorsFile &operator=(SafetensorsFile &&) noexcept;
  ~SafetensorsFile();

private:
  SafetensorsFile();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The .safetensors bytes of `tensors` (packed in name order, the JSON header
/// padded with spaces to a multiple of 8 bytes); `metadata` becomes
/// `__metadata__` when not empty.
std::string
safetensorsBytes(const std::map<std::string, HostArray> &tensors,
                 const std::map<std::string, std::string> &metadata = {});
void writeSafetensors(const std::string &path,
                      const std::map<std::string, HostArray> &tensors,
                      const std::map<std::string, std::string> &metadata = {});

// ---------------------------------------------------------------------------
// Traces (docs/traces.md)

/// trace.json's geometry. visibleFrames(c) follows docs/policy-format.md: c*F
/// with a global cache, min(c*F, sink + window) with a rolling window.
struct TraceGeometry {
  DType dtype = DType::BF16;
  int64_t batch = 0, heads = 0, headDim = 0;
  int64_t tokensPerFrame = 0, framesPerChunk = 0;
  int64_t chunks = 0, passesPerChunk = 0, layers = 0;
  int64_t kvWindowFrames = 0, sinkFrames = 0;

  int64_t visibleFrames(int chunk) const;
  int64_t queryTokens() const { return framesPerChunk * tokensPerFrame; }
  int64_t keyTokens(int chunk) const {
    return visibleFrames(chunk) * tokensPerFrame;
  }
};

/// One attention call: chunk 1-based, pass and layer 0-based.
struct TraceCall {
  int chunk = 0, pass = 0, layer = 0;
  bool operator==(const TraceCall &o) const {
    return chunk == o.chunk && pass == o.pass && layer == o.layer;
  }
  bool operator<(const TraceCall &o) const;
};

/// "c001_p00_l000_q": role is 'q', 'k', 'v' or 'o'.
std::string traceTensorName(const TraceCall &call, char role);
/// Parses a name in exactly that canonical form (at least 3, 2, 3 digits, no
/// extra leading zeros); false otherwise.
bool parseTraceTensorName(const std::string &name, TraceCall &call, char &role);

/// One call's tensors, owned; the views alias them (BSHD, Device::Host).
struct TraceTensors {
  TraceCall call;
  HostArray q, k, v;
  HostArray o; ///< the model's output; empty (no shape) without outputs
  bool hasOutput = false;

  Tensor4 qView() const { return bshdView(q, "q"); }
  Tensor4 kView() const { return bshdView(k, "k"); }
  Tensor4 vView() const { return bshdView(v, "v"); }
  Tensor4 oView() const; ///< throws lfc::Error without an output
};

/// Reads a trace: a directory (trace.json plus <name>.npy files, or plus one or
/// more .safetensors shards) or one .safetensors file whose __metadata__
/// "lfc_trace" holds trace.json's text. Opening validates the geometry, that
/// the tensors present are exactly those trace.json's "recorded" sets name
/// (missing and unexpected ones listed, the first 10 of each), and every
/// tensor's dtype and shape; load() then reads one call's data.
class TraceReader {
public:
  explicit TraceReader(const std::string &path);
  TraceReader(TraceReader &&) noexcept;
  TraceReader &operator=(TraceReader &&) noexcept;
  ~TraceReader();

  const std::string &path() const;
  /// "npy", "safetensors" (a directory of shards) or "safetensors-file".
  const std::string &layout() const;
  const TraceGeometry &geometry() const;
  /// The recorded chunks, passes and layers (ascending); calls() is their
  /// product in AR order (chunk, then pass, then layer).
  const std::vector<int> &chunks() const;
  const std::vector<int> &passes() const;
  const std::vector<int> &layers() const;
  const std::vector<TraceCall> &calls() const;
  bool hasOutputs() const;
  bool contains(const TraceCall &call) const;
  /// Throws lfc::Error (listing what the trace holds) if `call` is absent.
  TraceTensors load(const TraceCall &call) const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace lfc
