// Argument validation shared by every backend: tensors (shape, dtype, strides,
// alignment) and chunk selections, with errors that name the argument and the
// expected value.
#include "lfc/runtime.h"
#include "lfc/static_mask.h"

#include <sstream>

namespace lfc {

const char *dtypeName(DType t) {
  switch (t) {
  case DType::BF16:
    return "bf16";
  case DType::F16:
    return "fp16";
  case DType::F32:
    return "fp32";
  }
  return "?";
}

int dtypeSize(DType t) { return t == DType::F32 ? 4 : 2; }

namespace {

std::string shapeString(int64_t b, int64_t s, int64_t h, int64_t d) {
  std::ostringstream os;
  os << "[" << b << ", " << s << ", " << h << ", " << d << "]";
  return os.str();
}

bool isPowerOfTwo(int v) { return v > 0 && (v & (v - 1)) == 0; }

} // namespace

void checkTensor(const Tensor4 &t, const char *what, int64_t batch,
                 int64_t tokens, int64_t heads, int64_t dim, DType dtype,
                 Device device) {
  std::string name = what;
  if (!t.data)
    throw Error(name + ": data is null");
  if (t.device != device)
    throw Error(
        name + ": expected " +
        (device == Device::Host ? "host" : "CUDA device") + " memory, got " +
        (t.device == Device::Host ? "host" : "CUDA device") + " memory");
  if (t.batch != batch || t.tokens != tokens || t.heads != heads ||
      t.dim != dim)
    throw Error(name + ": expected shape [batch, tokens, heads, head_dim] = " +
                shapeString(batch, tokens, heads, dim) + ", got " +
                shapeString(t.batch, t.tokens, t.heads, t.dim));
  if (t.dtype != dtype)
    throw Error(name + ": expected dtype " + dtypeName(dtype) + ", got " +
                dtypeName(t.dtype));
  // Vector loads move 16 bytes: base and the two outer strides must be 16-byte
  // multiples.
  const int64_t align = 16 / dtypeSize(dtype);
  struct {
    const char *field;
    int64_t value;
  } strides[] = {
      {"strideB", t.strideB}, {"strideS", t.strideS}, {"strideH", t.strideH}};
  for (const auto &s : strides) {
    if (s.value < 0)
      throw Error(name + ": " + s.field + " is negative (" +
                  std::to_string(s.value) + ")");
    if (s.value % align != 0)
      throw Error(name + ": " + s.field + " (" + std::to_string(s.value) +
                  " elements) must be a multiple of " + std::to_string(align) +
                  " elements (16 bytes)");
  }
  if (reinterpret_cast<uintptr_t>(t.data) % 16 != 0)
    throw Error(name + ": base pointer must be 16-byte aligned");
  // Rows are head_dim contiguous elements; a smaller outer stride makes rows
  // overlap.
  if ((tokens > 1 && t.strideS < dim) || (heads > 1 && t.strideH < dim))
    throw Error(name + ": strides (strideS " + std::to_string(t.strideS) +
                ", strideH " + std::to_string(t.strideH) +
                ") overlap rows of head_dim " + std::to_string(dim) +
                "; expected BSHD (" + std::to_string(heads * dim) + ", " +
                std::to_string(dim) + ") or BHSD (" + std::to_string(dim) +
                ", " + std::to_string(tokens * dim) + ")");
}

void checkSelection(const ChunkSelection &sel) {
  auto fail = [](const std::string &msg) {
    throw Error("ChunkSelection: " + msg);
  };
  if (sel.tokensPerFrame <= 0)
    fail("tokensPerFrame must be > 0, got " +
         std::to_string(sel.tokensPerFrame));
  if (sel.framesPerChunk <= 0)
    fail("framesPerChunk must be > 0, got " +
         std::to_string(sel.framesPerChunk));
  if (sel.visibleFrames < sel.framesPerChunk)
    fail("visibleFrames (" + std::to_string(sel.visibleFrames) +
         ") must be >= framesPerChunk (" + std::to_string(sel.framesPerChunk) +
         ")");
  for (auto [field, v] :
       {std::pair{"blockQ", sel.blockQ}, std::pair{"blockK", sel.blockK}})
    if (!isPowerOfTwo(v) || v < 16 || v > 256)
      fail(std::string(field) + " must be a power of two in [16, 256], got " +
           std::to_string(v));
  if (sel.sinkFrames < 0 || sel.nearFrames < 0 || sel.framesTopK < 0)
    fail("sinkFrames, nearFrames and framesTopK must be >= 0, got " +
         std::to_string(sel.sinkFrames) + ", " +
         std::to_string(sel.nearFrames) + ", " +
         std::to_string(sel.framesTopK));
  if (!sel.dense &&
      (sel.keptKeyBlocks < 0 || sel.keptKeyBlocks > sel.keyBlocks()))
    fail("keptKeyBlocks must be in [0, keyBlocks (" +
         std::to_string(sel.keyBlocks()) + ")], got " +
         std::to_string(sel.keptKeyBlocks));
  if (sel.staticMask) {
    const StaticMask &m = *sel.staticMask;
    // The mask is otherwise geometry-independent: every term is defined for
    // every chunk position and block size.
    if (const StaticMask *bad = m.radialWiderThan(sel.tokensPerFrame))
      fail("staticMask '" + m.text() + "': " + bad->text() + " needs W (" +
           std::to_string(bad->args()[1]) + ") <= tokensPerFrame (" +
           std::to_string(sel.tokensPerFrame) +
           "): the band must fit in one frame");
    if (sel.dense && !m.isAll())
      fail("dense (every key block kept) contradicts staticMask '" + m.text() +
           "'; a dense chunk's static mask is 'all'");
  }
}

} // namespace lfc
