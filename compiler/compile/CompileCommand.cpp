// `lfc compile`: policy (.toml or .mlir) -> lf pipeline -> lf-lower-to-kernels
// -> plan printer -> a fresh directory next to PLAN_DIR -> the runtime's plan
// loader -> rename into place. Nothing is half-written: every error before the
// final rename leaves the file system as it was.
#include "compiler/compile/Commands.h"

#include "compiler/compile/PlanCheck.h"
#include "compiler/emit/PlanPrinter.h"
#include "compiler/frontend/EmitLf.h"
#include "compiler/frontend/MlirDiagnostics.h"
#include "compiler/frontend/PolicyParser.h"
#include "compiler/passes/Passes.h"
#include "dialect/LfDialect.h"
#include "dialect/LfOps.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace {

const char kUsage[] =
    "usage: lfc compile POLICY -o PLAN_DIR [--external-templates] [--force]\n"
    "\n"
    "Compiles a sparsity policy (.toml, or its lf dialect form .mlir) into a "
    "plan directory\n"
    "for the runtime: plan.toml (docs/plan-format.md, format 2), one CUDA "
    "source per kernel\n"
    "under kernels/, and the kernel template headers they include under "
    "include/, so the\n"
    "plan compiles on a machine without this source tree. The runtime "
    "JIT-compiles the\n"
    "kernels for the GPU it finds (`lfc jit PLAN_DIR --arch ...` does it "
    "ahead of time).\n"
    "What each kernel is and why: docs/lowering.md.\n"
    "\n"
    "options:\n"
    "  -o, --output PLAN_DIR  the plan directory to write (must not exist "
    "unless --force)\n"
    "  --external-templates   do not bundle the headers: the plan uses the "
    "source tree's\n"
    "                         kernels_templates/ (or $LFC_KERNEL_INCLUDE_DIR) "
    "when loaded\n"
    "  --force                replace an existing plan directory (one holding "
    "plan.toml)\n"
    "  -h, --help             print this help\n"
    "\n"
    "The plan is written to a temporary directory next to PLAN_DIR, checked "
    "with the\n"
    "runtime's plan loader, then renamed into place; on any error nothing is "
    "left behind\n"
    "and an existing PLAN_DIR is untouched. Errors are printed as "
    "FILE:LINE:COL: error:\n"
    "MESSAGE on stderr (exit status 1); usage errors exit with status 2.\n";

struct Options {
  std::string policyPath;
  std::string planDir;
  bool externalTemplates = false;
  bool force = false;
};

void usageError(const std::string &message) {
  std::fprintf(stderr, "lfc compile: error: %s\n", message.c_str());
}

std::optional<Options> parseOptions(int argc, char **argv,
                                    bool &helpRequested) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      helpRequested = true;
      return std::nullopt;
    }
    if (arg == "--external-templates") {
      options.externalTemplates = true;
      continue;
    }
    if (arg == "--force") {
      options.force = true;
      continue;
    }
    if (arg == "-o" || arg == "--output" || arg.rfind("--output=", 0) == 0) {
      std::string value;
      if (arg.rfind("--output=", 0) == 0) {
        value = arg.substr(std::strlen("--output="));
      } else if (i + 1 < argc) {
        value = argv[++i];
      }
      if (value.empty()) {
        usageError(arg + " needs the plan directory to write");
        return std::nullopt;
      }
      if (!options.planDir.empty()) {
        usageError("one plan directory at a time, got '" + options.planDir +
                   "' and '" + value + "'");
        return std::nullopt;
      }
      options.planDir = value;
      continue;
    }
    if (!arg.empty() && arg[0] == '-') {
      usageError("unknown option '" + arg +
                 "' (valid: -o PLAN_DIR, --external-templates, --force, "
                 "--help)");
      return std::nullopt;
    }
    if (!options.policyPath.empty()) {
      usageError("one policy file at a time, got '" + options.policyPath +
                 "' and '" + arg + "'");
      return std::nullopt;
    }
    options.policyPath = arg;
  }
  if (options.policyPath.empty()) {
    std::fprintf(stderr, "lfc compile: error: no policy file given\n%s",
                 kUsage);
    return std::nullopt;
  }
  if (options.planDir.empty()) {
    usageError("no plan directory given; add -o PLAN_DIR");
    return std::nullopt;
  }
  return options;
}

/// The policy as an lf module: the TOML front end, or the dialect's parser
/// for .mlir. Errors are printed; null on failure.
mlir::OwningOpRef<mlir::ModuleOp> loadPolicy(const std::string &path,
                                             mlir::MLIRContext &context) {
  if (llvm::StringRef(path).ends_with(".mlir"))
    return mlir::parseSourceFile<mlir::ModuleOp>(path, &context);
  lfc::frontend::ParseResult parsed = lfc::frontend::parsePolicyFile(path);
  if (!parsed.spec) {
    for (const auto &diag : parsed.diagnostics)
      std::fprintf(stderr, "%s\n",
                   lfc::frontend::formatDiagnostic(diag).c_str());
    return nullptr;
  }
  return lfc::frontend::emitLf(*parsed.spec, context);
}

std::string errnoText() { return std::strerror(errno); }

/// Writes `files` under `dir` (which exists and is empty).
bool writeFiles(const std::string &dir,
                const std::vector<lfc::emit::PlanFile> &files,
                std::string &error) {
  for (const lfc::emit::PlanFile &file : files) {
    llvm::SmallString<256> path(dir);
    llvm::sys::path::append(path, file.path);
    if (std::error_code ec = llvm::sys::fs::create_directories(
            llvm::sys::path::parent_path(path))) {
      error = "cannot create '" + llvm::sys::path::parent_path(path).str() +
              "': " + ec.message();
      return false;
    }
    std::error_code ec;
    llvm::raw_fd_ostream out(path, ec, llvm::sys::fs::OF_None);
    if (ec) {
      error = "cannot write '" + path.str().str() + "': " + ec.message();
      return false;
    }
    out << file.contents;
    out.close();
    if (out.has_error()) {
      error =
          "cannot write '" + path.str().str() + "': " + out.error().message();
      out.clear_error();
      return false;
    }
  }
  return true;
}

/// rename(2) that never replaces an existing `to` (rename would silently
/// replace an empty directory created since we looked).
int renameNoReplace(const std::string &from, const std::string &to) {
#ifdef RENAME_NOREPLACE
  if (renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(),
                RENAME_NOREPLACE) == 0)
    return 0;
  if (errno != EINVAL && errno != ENOSYS)
    return -1;
#endif
  struct stat st;
  if (lstat(to.c_str(), &st) == 0) {
    errno = EEXIST;
    return -1;
  }
  return std::rename(from.c_str(), to.c_str());
}

/// A fresh, empty directory next to `planDir` (same file system, so the final
/// rename is atomic).
std::optional<std::string> makeSiblingDir(const std::string &planDir,
                                          const char *kind,
                                          std::string &error) {
  llvm::StringRef parent = llvm::sys::path::parent_path(planDir);
  std::string pattern = (parent.empty() ? std::string(".") : parent.str()) +
                        "/." + llvm::sys::path::filename(planDir).str() +
                        ".lfc-" + kind + "-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (!mkdtemp(buffer.data())) {
    error = "cannot create a directory next to '" + planDir + "' (" + pattern +
            "): " + errnoText();
    return std::nullopt;
  }
  return std::string(buffer.data());
}

/// The directory mode a plain mkdir would give (mkdtemp makes 0700).
void setDefaultMode(const std::string &dir) {
  mode_t mask = umask(0);
  umask(mask);
  chmod(dir.c_str(), 0777 & ~mask);
}

/// `followLinks` false: a symbolic link is not a directory (--force never
/// replaces what a link points to).
bool isDirectory(const std::string &path, bool followLinks = false) {
  struct stat st;
  int rc = followLinks ? stat(path.c_str(), &st) : lstat(path.c_str(), &st);
  return rc == 0 && S_ISDIR(st.st_mode);
}

bool exists(const std::string &path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

/// "out/plan/" -> "out/plan": the last component names the directory.
std::string withoutTrailingSlashes(std::string path) {
  while (path.size() > 1 && path.back() == '/')
    path.pop_back();
  return path;
}

/// May --force replace `planDir`? Only a plan directory (holding plan.toml)
/// or an empty one: never a file or an unrelated directory.
bool replaceable(const std::string &planDir, std::string &why) {
  if (!isDirectory(planDir)) {
    why = "it is not a directory (or is a symbolic link)";
    return false;
  }
  if (exists(planDir + "/plan.toml"))
    return true;
  std::error_code ec;
  llvm::sys::fs::directory_iterator it(planDir, ec), end;
  if (!ec && it == end)
    return true;
  why = "it is not a plan directory (no plan.toml) and not empty";
  return false;
}

} // namespace

int lfc::cli::runCompile(int argc, char **argv) {
  bool helpRequested = false;
  std::optional<Options> options = parseOptions(argc, argv, helpRequested);
  if (helpRequested) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (!options)
    return 2;
  const std::string planDir = withoutTrailingSlashes(options->planDir);
  const std::string name = llvm::sys::path::filename(planDir).str();
  if (name.empty() || name == "." || name == ".." || planDir == "/") {
    usageError("PLAN_DIR '" + options->planDir +
               "' must name a directory to create, such as plans/short");
    return 2;
  }
  llvm::StringRef parent = llvm::sys::path::parent_path(planDir);
  if (!parent.empty() && !isDirectory(parent.str(), /*followLinks=*/true)) {
    std::fprintf(stderr,
                 "lfc compile: error: the parent directory of '%s' does not "
                 "exist; create '%s' first\n",
                 planDir.c_str(), parent.str().c_str());
    return 1;
  }
  // Checked before compiling (the common mistake) and again when moving the
  // plan into place.
  std::string why;
  if (exists(planDir) && !options->force) {
    std::fprintf(stderr,
                 "lfc compile: error: '%s' already exists; pass --force to "
                 "replace it, or choose another PLAN_DIR\n",
                 planDir.c_str());
    return 1;
  }
  if (exists(planDir) && !replaceable(planDir, why)) {
    std::fprintf(stderr,
                 "lfc compile: error: refusing to replace '%s' even with "
                 "--force: %s\n",
                 planDir.c_str(), why.c_str());
    return 1;
  }

  mlir::MLIRContext context;
  context.disableMultithreading();
  context.printOpOnDiagnostic(false);
  context.getOrLoadDialect<mlir::lf::LfDialect>();
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &diag) {
    lfc::frontend::printMlirDiagnostic(diag, options->policyPath);
    return mlir::success();
  });

  mlir::OwningOpRef<mlir::ModuleOp> module =
      loadPolicy(options->policyPath, context);
  if (!module || mlir::failed(mlir::verify(*module)))
    return 1;
  size_t policies = 0;
  for (auto policy : module->getOps<mlir::lf::PolicyOp>()) {
    (void)policy;
    ++policies;
  }
  if (policies != 1) {
    std::fprintf(stderr,
                 "%s: error: expected exactly one lf.policy, found %zu; "
                 "compile one policy per plan\n",
                 options->policyPath.c_str(), policies);
    return 1;
  }
  if (mlir::failed(lfc::runLfCompilePipeline(*module)))
    return 1;
  auto plans = module->getOps<mlir::lf::PlanOp>();
  if (plans.empty()) {
    std::fprintf(stderr, "%s: error: internal: lowering produced no lf.plan\n",
                 options->policyPath.c_str());
    return 1;
  }
  mlir::lf::PlanOp plan = *plans.begin();

  lfc::emit::PrintOptions printOptions;
  printOptions.externalTemplates = options->externalTemplates;
  if (!options->externalTemplates)
    printOptions.templatesDir = lfc::compile::kernelTemplatesDir();
  mlir::FailureOr<std::vector<lfc::emit::PlanFile>> files =
      lfc::emit::printPlan(plan, printOptions);
  if (mlir::failed(files))
    return 1;

  // Write, check, move into place; clean up on every failure.
  std::string error;
  std::optional<std::string> staging = makeSiblingDir(planDir, "tmp", error);
  if (!staging) {
    std::fprintf(stderr, "lfc compile: error: %s\n", error.c_str());
    return 1;
  }
  auto fail = [&](const std::string &message) {
    llvm::sys::fs::remove_directories(*staging);
    std::fprintf(stderr, "lfc compile: error: %s\n", message.c_str());
    return 1;
  };
  setDefaultMode(*staging);
  if (!writeFiles(*staging, *files, error))
    return fail(error);
  std::string summary;
  if (!lfc::compile::checkPlan(*staging, summary, error))
    return fail("internal: the runtime's plan loader rejects the generated "
                "plan: " +
                error);

  if (!exists(planDir)) {
    if (renameNoReplace(*staging, planDir) != 0)
      return fail("cannot move the plan to '" + planDir + "': " + errnoText() +
                  (errno == EEXIST ? " (it appeared while compiling; pass "
                                     "--force to replace it)"
                                   : ""));
  } else {
    if (!options->force)
      return fail("'" + planDir +
                  "' appeared while compiling; pass --force to replace it");
    if (!replaceable(planDir, why))
      return fail("refusing to replace '" + planDir + "': " + why);
    // Old aside, new in, old removed: PLAN_DIR is at every moment either the
    // old plan or the new one (or, for an instant, absent).
    std::optional<std::string> aside = makeSiblingDir(planDir, "old", error);
    if (!aside)
      return fail(error);
    if (std::rename(planDir.c_str(), aside->c_str()) != 0) {
      std::string reason = errnoText();
      llvm::sys::fs::remove_directories(*aside);
      return fail("cannot move the old '" + planDir + "' aside: " + reason);
    }
    if (renameNoReplace(*staging, planDir) != 0) {
      std::string reason = errnoText();
      std::rename(aside->c_str(), planDir.c_str());
      return fail("cannot move the plan to '" + planDir + "': " + reason);
    }
    llvm::sys::fs::remove_directories(*aside);
  }
  std::fprintf(stderr, "lfc compile: %s -> %s (plan %s: %s)\n",
               options->policyPath.c_str(), planDir.c_str(),
               plan.getSymName().str().c_str(), summary.c_str());
  return 0;
}
