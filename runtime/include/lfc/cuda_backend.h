// Entry points of the CUDA backend (runtime/cuda/), used by createBackend().
#pragma once

#include "lfc/backend.h"

#include <memory>
#include <string>

namespace lfc {
/// Whether the CUDA driver loads and a device is present; if not, *whyNot says
/// why.
bool cudaBackendAvailable(std::string *whyNot);
std::unique_ptr<Backend> createCudaBackend();
} // namespace lfc
