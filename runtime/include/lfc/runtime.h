// Backend selection: the factory the session, examples and tools use.
#pragma once

#include "lfc/backend.h"

#include <memory>
#include <string>

namespace lfc {

enum class BackendKind { Auto, Cpu, Cuda };

/// Parses LFC_BACKEND's values: "" or "auto", "cpu", "cuda"; throws lfc::Error
/// otherwise.
BackendKind parseBackendKind(const std::string &value);

/// Creates the backend `kind` asks for:
///  - Cpu: the CPU reference backend;
///  - Cuda: the CUDA backend, or lfc::Error saying why it is unavailable (never
///  a fallback);
///  - Auto: $LFC_BACKEND if set, else CUDA when available, else CPU with a
///  one-time note on
///    stderr saying why.
std::unique_ptr<Backend> createBackend(BackendKind kind = BackendKind::Auto);

/// The CPU reference backend; `threads` 0: std::thread::hardware_concurrency().
std::unique_ptr<Backend> createCpuBackend(unsigned threads = 0);

/// Checks a tensor argument against an expected shape and dtype, the stride
/// rules of docs/selection-semantics.md (innermost contiguous, outer strides
/// and base 16-byte aligned) and the device; throws lfc::Error naming `what`
/// and the expected value.
void checkTensor(const Tensor4 &t, const char *what, int64_t batch,
                 int64_t tokens, int64_t heads, int64_t dim, DType dtype,
                 Device device);

/// Checks a ChunkSelection's fields (block sizes, frame counts, budget); throws
/// lfc::Error.
void checkSelection(const ChunkSelection &sel);

} // namespace lfc
