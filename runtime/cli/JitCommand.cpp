// `lfc jit`: compiles every kernel of a plan for a list of architectures (no
// GPU needed), filling the JIT cache; any NVRTC error or warning fails the
// command.
#include "runtime/cli/Commands.h"

#include "lfc/backend.h"
#include "lfc/jit.h"
#include "lfc/plan.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

void printHelp(FILE *out) {
  std::fputs(
      R"(usage: lfc jit PLAN_DIR --arch LIST [--cache-dir DIR] [--jobs N]

Compiles every kernel of the plan in PLAN_DIR with NVRTC for each architecture in
LIST and stores the CUBINs in the JIT cache, so a later run on a GPU of that
architecture loads them without compiling. Needs libnvrtc, not a GPU.

options:
  --arch LIST       comma-separated real architectures, e.g.
                    sm_80,sm_86,sm_89,sm_90a,sm_100a,sm_120
  --cache-dir DIR   cache directory (default: $LFC_CACHE_DIR, else ~/.cache/lfc)
  -j, --jobs N      parallel compiles (default: the number of CPU cores)
  -h, --help        this text

Exit status: 0 when every kernel compiled without an error or warning, 1 when any
NVRTC error or warning occurred (the log is printed), 2 on a usage or plan error.
)",
      out);
}

std::vector<std::string> splitList(const std::string &s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty())
      out.push_back(item);
  return out;
}

} // namespace

int lfc::cli::runJit(int argc, char **argv) {
  std::string planDir, cacheDir;
  unsigned jobs = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::string> archs;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char *flag) -> std::string {
      size_t n = std::strlen(flag);
      if (arg.size() > n && arg.compare(0, n, flag) == 0 && arg[n] == '=')
        return arg.substr(n + 1);
      if (i + 1 >= argc) {
        std::fprintf(stderr, "lfc jit: error: %s needs a value\n", flag);
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "-h" || arg == "--help") {
      printHelp(stdout);
      return 0;
    }
    if (arg == "--arch" || arg.rfind("--arch=", 0) == 0) {
      for (const std::string &a : splitList(value("--arch")))
        archs.push_back(a);
    } else if (arg == "-j" || arg == "--jobs" || arg.rfind("--jobs=", 0) == 0) {
      std::string v = value(arg == "-j" ? "-j" : "--jobs");
      char *end = nullptr;
      long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end || n < 1 || n > 256) {
        std::fprintf(
            stderr,
            "lfc jit: error: --jobs needs a count in [1, 256], got '%s'\n",
            v.c_str());
        return 2;
      }
      jobs = unsigned(n);
    } else if (arg == "--cache-dir" || arg.rfind("--cache-dir=", 0) == 0) {
      cacheDir = value("--cache-dir");
    } else if (!arg.empty() && arg[0] == '-') {
      std::fprintf(stderr,
                   "lfc jit: error: unknown option '%s' (see lfc jit --help)\n",
                   arg.c_str());
      return 2;
    } else if (planDir.empty()) {
      planDir = arg;
    } else {
      std::fprintf(stderr,
                   "lfc jit: error: more than one plan given ('%s' and '%s')\n",
                   planDir.c_str(), arg.c_str());
      return 2;
    }
  }
  if (planDir.empty() || archs.empty()) {
    std::fprintf(stderr, "lfc jit: error: %s\n",
                 planDir.empty() ? "no plan directory given"
                                 : "no --arch given");
    printHelp(stderr);
    return 2;
  }

  lfc::Plan plan;
  try {
    for (const std::string &a : archs)
      lfc::validateArch(a);
    plan = lfc::loadPlan(planDir);
  } catch (const lfc::Error &e) {
    std::fprintf(stderr, "lfc jit: error: %s\n", e.what());
    return 2;
  }
  std::string nvrtcWhy;
  if (!lfc::nvrtcAvailable(&nvrtcWhy)) {
    std::fprintf(stderr, "lfc jit: error: %s\n", nvrtcWhy.c_str());
    return 1;
  }
  std::printf("plan %s: %zu kernel(s), %zu arch(s), NVRTC %s, cache %s\n",
              plan.name.c_str(), plan.kernels.size(), archs.size(),
              lfc::nvrtcVersion().c_str(),
              cacheDir.empty() ? lfc::defaultCacheDir().c_str()
                               : cacheDir.c_str());

  int nameWidth = 8;
  for (const lfc::PlanKernel &kernel : plan.kernels)
    nameWidth = std::max(nameWidth, int(kernel.name.size()));

  // Compiles run on `jobs` threads; results are printed afterwards in plan
  // order so the output does not depend on scheduling.
  struct Job {
    const lfc::PlanKernel *kernel;
    std::string arch;
    lfc::JitResult result;
    std::string error;
  };
  // A kernel is compiled for an arch where the runtime would launch it: for
  // some role and chunk it serves, Plan::findKernel picks it on that arch (an
  // sm_90a-only kernel is never built for sm_80; a generic kernel that every
  // sm_90a-specific kernel replaces is not built for sm_90a).
  auto usedOn = [&](const lfc::PlanKernel &kernel, const std::string &arch) {
    for (const lfc::PlanEntry &entry : kernel.entries)
      for (const lfc::PlanChunk &chunk : plan.chunks)
        if (plan.findKernel(entry.role, chunk.index, arch) == &kernel)
          return true;
    return false;
  };
  std::vector<Job> work;
  for (const lfc::PlanKernel &kernel : plan.kernels)
    for (const std::string &arch : archs)
      if (usedOn(kernel, arch))
        work.push_back({&kernel, arch, {}, {}});
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next.fetch_add(1)) < work.size();) {
      lfc::JitRequest req = plan.jitRequest(*work[i].kernel, work[i].arch);
      req.cacheDir = cacheDir;
      try {
        work[i].result = lfc::jitCompile(req);
      } catch (const lfc::Error &e) {
        work[i].error = e.what();
      }
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < std::min<size_t>(jobs, work.size()); ++t)
    pool.emplace_back(worker);
  worker();
  for (std::thread &t : pool)
    t.join();

  int errors = 0, warnings = 0, hits = 0, total = int(work.size());
  double totalMs = 0;
  for (const Job &job : work) {
    const char *name = job.kernel->name.c_str(), *arch = job.arch.c_str();
    if (!job.error.empty()) {
      ++errors;
      std::fprintf(stderr, "lfc jit: error: %s\n", job.error.c_str());
      continue;
    }
    const lfc::JitResult &r = job.result;
    totalMs += r.compileMs;
    hits += r.cacheHit;
    std::printf("  %-*s  %-8s %-4s %9.1f ms  %zu bytes\n", nameWidth, name,
                arch, r.cacheHit ? "hit" : "miss", r.compileMs, r.cubin.size());
    if (!r.cacheRejected.empty())
      std::printf("    rebuilt cache entry: %s\n", r.cacheRejected.c_str());
    // The cache keeps the log, so a warning fails warm runs as well as cold
    // ones.
    if (!r.log.empty()) {
      ++warnings;
      std::fprintf(
          stderr,
          "lfc jit: error: kernel '%s' (%s) compiled with warnings:\n%s\n",
          name, arch, r.log.c_str());
    }
  }
  std::printf("%d compiled, %d cache hit(s), %d error(s), %d with warnings, "
              "%.1f ms compiling\n",
              total - errors, hits, errors, warnings, totalMs);
  return errors || warnings ? 1 : 0;
}
