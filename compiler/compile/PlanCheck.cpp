// Calls the runtime's plan loader and turns its exceptions into values (built
// with exceptions, unlike the MLIR libraries).
#include "compiler/compile/PlanCheck.h"

#include "lfc/jit.h"
#include "lfc/plan.h"

#include <exception>

namespace lfc::compile {

bool checkPlan(const std::string &dir, std::string &summary,
               std::string &error) noexcept {
  try {
    Plan plan = loadPlan(dir);
    summary = std::to_string(plan.chunks.size()) + " chunks, " +
              std::to_string(plan.kernels.size()) + " kernels";
    return true;
  } catch (const std::exception &e) {
    error = e.what();
  } catch (...) {
    error = "the plan loader failed without a message";
  }
  return false;
}

std::string kernelTemplatesDir() { return defaultKernelIncludeDir(); }

} // namespace lfc::compile
