//===- PlanPrinter.cpp - spells an lf.plan as plan.toml and CUDA sources --===//
//
// Every value printed here is an attribute of the kernel-level IR; the only
// knowledge is spelling: which C++ text each op and role stands for
// (docs/lowering.md, "Emitted sources"), and the TOML of docs/plan-format.md.
//
//===----------------------------------------------------------------------===//

#include "compiler/emit/PlanPrinter.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>

using namespace mlir;
using namespace mlir::lf;

namespace lfc::emit {

std::string sha256Hex(llvm::StringRef bytes) {
  std::array<uint8_t, 32> digest = llvm::SHA256::hash(
      llvm::ArrayRef<uint8_t>(bytes.bytes_begin(), bytes.bytes_end()));
  return llvm::toHex(digest, /*LowerCase=*/true);
}

namespace {

/// `text` on one line (a comment cannot hold a newline).
std::string oneLine(llvm::StringRef text) {
  std::string out;
  for (char c : text)
    out += static_cast<unsigned char>(c) < 0x20 ? '?' : c;
  return out;
}

/// A TOML basic string.
std::string tomlString(llvm::StringRef text) {
  std::string out = "\"";
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", byte);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string tomlStrings(llvm::ArrayRef<llvm::StringRef> values) {
  std::string out = "[";
  for (auto [position, value] : llvm::enumerate(values))
    out += (position ? ", " : "") + tomlString(value);
  return out + "]";
}

std::string tomlInts(llvm::ArrayRef<int64_t> values) {
  std::string out = "[";
  for (auto [position, value] : llvm::enumerate(values))
    out += (position ? ", " : "") + std::to_string(value);
  return out + "]";
}

/// The shortest decimal that reads back as `value`, always a TOML float.
std::string tomlFloat(double value) {
  char buf[64];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, value);
    if (std::strtod(buf, nullptr) == value)
      break;
  }
  std::string out = buf;
  if (out.find_first_of(".en") == std::string::npos)
    out += ".0";
  return out;
}

/// The plan format's dtype spelling of the dialect's.
llvm::StringRef planDtype(llvm::StringRef dtype) {
  return dtype == "f16" ? "fp16" : dtype;
}

/// The C++ element type of kernels_templates/lfc/numeric.cuh.
llvm::StringRef elementType(llvm::StringRef dtype) {
  return dtype == "f16" ? "lfc::F16" : "lfc::BF16";
}

llvm::StringRef maskModeEnumerator(llvm::StringRef mask) {
  if (mask == "dense")
    return "lfc::MaskMode::Dense";
  if (mask == "list")
    return "lfc::MaskMode::KeptList";
  return "lfc::MaskMode::Static";
}

/// The launch-contract expressions an attention entry's static_asserts
/// check: {threads, dynamic shared memory}.
std::pair<std::string, std::string> launchExpressions(KernelEntryOp entry) {
  llvm::StringRef kernel = *entry.getKernel();
  if (kernel == "tma") {
    std::string launch = "lfc::Sm90TmaLaunch<Config, " +
                         std::to_string(*entry.getStages()) + ">";
    return {launch + "::kThreads", launch + "::kSmemBytes"};
  }
  if (kernel == "wgmma" || kernel == "wgmma_mbar")
    return {"Config::kThreads", "lfc::Sm90Smem<Config>::kBytes"};
  return {"Config::kThreads", "Config::kSmemBytes"};
}

/// The template call of an entry.
std::string entryCall(KernelOp kernel, KernelEntryOp entry) {
  std::string element = elementType(kernel.getDtype()).str();
  llvm::StringRef role = entry.getRole();
  if (role == "commit_keys")
    return "lfc::commitKeys<" + element + ">(p)";
  if (role == "pool_keys")
    return "lfc::poolKeys<" + element + ">(p)";
  if (role == "select")
    return "lfc::selectBlocks<" + element + ", " +
           std::to_string(entry.getBlock()[0]) + ", /*max_dim=*/" +
           std::to_string(kernel.getHeadDim()) + ", Mask>(p)";
  llvm::StringRef variant = *entry.getKernel();
  if (variant == "tma")
    return "lfc::blockSparseAttentionSm90Tma<Config, " +
           std::to_string(*entry.getStages()) + ">(p, maps)";
  if (variant == "wgmma")
    return "lfc::blockSparseAttentionSm90<Config>(p)";
  if (variant == "wgmma_mbar")
    return "lfc::blockSparseAttentionSm90<Config, true>(p)";
  return "lfc::blockSparseAttention<Config>(p)";
}

/// The by-value parameters: `p`, then `maps` (tensor maps, which TMA reads by
/// address, so both stay in parameter space: __grid_constant__).
std::string entryParameters(KernelEntryOp entry) {
  llvm::SmallVector<llvm::StringRef> types;
  entry.getParams().split(types, ',');
  bool gridConstant = entry.getKernel() && *entry.getKernel() == "tma";
  const char *names[] = {"p", "maps"};
  std::string out;
  for (auto [position, type] : llvm::enumerate(types)) {
    if (position)
      out += ",\n    ";
    out += std::string("const ") + (gridConstant ? "__grid_constant__ " : "") +
           type.str() + " " + names[std::min<size_t>(position, 1)];
  }
  return out;
}

void printManifestEntry(llvm::raw_ostream &os, KernelEntryOp entry) {
  os << "\n[[kernels.entries]]\n";
  os << "symbol = " << tomlString(entry.getSymName()) << "\n";
  os << "role = " << tomlString(entry.getRole()) << "\n";
  os << "params = " << tomlString(entry.getParams()) << "\n";
  llvm::SmallVector<llvm::StringRef> grid;
  for (Attribute dim : entry.getGrid())
    grid.push_back(cast<StringAttr>(dim).getValue());
  if (grid.size() == 1)
    os << "grid = " << tomlString(grid.front()) << "\n";
  else
    os << "grid = " << tomlStrings(grid) << "\n";
  os << "block = " << tomlInts(entry.getBlock()) << "\n";
  if (entry.getSharedBytes())
    os << "shared_bytes = " << entry.getSharedBytes() << "\n";
  if (entry.getTileQ())
    os << "tile_q = " << entry.getTileQ() << "\n";
  if (entry.getRole() != "attention")
    return;
  os << "kernel = " << tomlString(*entry.getKernel()) << "\n";
  os << "mask = " << tomlString(*entry.getMask()) << "\n";
  os << "tile_k = " << *entry.getTileK() << "\n";
  os << "warps = " << *entry.getWarps() << "\n";
  if (entry.getStages())
    os << "stages = " << *entry.getStages() << "\n";
}

/// The quoted #include directives of a header, in order.
llvm::SmallVector<std::string> quotedIncludes(llvm::StringRef text) {
  llvm::SmallVector<std::string> includes;
  llvm::SmallVector<llvm::StringRef> lines;
  text.split(lines, '\n');
  for (llvm::StringRef line : lines) {
    line = line.ltrim();
    if (!line.consume_front("#"))
      continue;
    line = line.ltrim();
    if (!line.consume_front("include"))
      continue;
    line = line.ltrim();
    if (!line.consume_front("\""))
      continue;
    size_t end = line.find('"');
    if (end != llvm::StringRef::npos)
      includes.push_back(line.take_front(end).str());
  }
  return includes;
}

/// The template headers the kernels reach through quoted includes (the same
/// closure the runtime's JIT cache key follows), read from `templatesDir`.
/// Sorted by path.
FailureOr<std::map<std::string, std::string>>
bundleHeaders(PlanOp plan, llvm::StringRef templatesDir) {
  std::map<std::string, std::string> headers;
  llvm::SmallVector<std::pair<std::string, Operation *>> pending;
  plan.walk([&](KernelIncludeOp include) {
    pending.push_back({include.getPath().str(), include});
  });
  while (!pending.empty()) {
    auto [path, user] = pending.pop_back_val();
    if (headers.count(path))
      continue;
    llvm::SmallString<256> full(templatesDir);
    llvm::sys::path::append(full, path);
    llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> file =
        llvm::MemoryBuffer::getFile(full, /*IsText=*/false,
                                    /*RequiresNullTerminator=*/false);
    if (!file)
      return user->emitOpError()
             << "needs template header '" << path << "', which cannot be read "
             << "at '" << full << "': " << file.getError().message()
             << " (set LFC_KERNEL_INCLUDE_DIR to the kernels_templates/ "
                "directory, or compile with --external-templates)";
    std::string text = (*file)->getBuffer().str();
    for (std::string &included : quotedIncludes(text))
      pending.push_back({std::move(included), user});
    headers.emplace(path, std::move(text));
  }
  return headers;
}

} // namespace

std::string printKernelSource(KernelOp kernel, llvm::StringRef policySource) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "// " << kernel.getSymName() << ": " << oneLine(kernel.getSummary())
     << " (generated by lfc compile from " << oneLine(policySource) << ").\n";
  Block &body = kernel.getBody().front();
  for (KernelIncludeOp include : body.getOps<KernelIncludeOp>())
    os << "#include \"" << include.getPath() << "\"\n";
  os << "\n";

  StaticMaskOp mask = kernel.getStaticMask();
  AttentionConfigOp config = kernel.getAttentionConfig();
  if (mask || config) {
    os << "namespace {\n";
    if (mask)
      os << "using Mask = " << mask.getType() << ";\n";
    if (config) {
      os << "using Config = lfc::AttnConfig<" << elementType(kernel.getDtype())
         << ", /*head_dim=*/" << kernel.getHeadDim() << ", /*block_q=*/"
         << config.getBlockQ() << ", /*block_k=*/" << config.getBlockK()
         << ", /*tile_q=*/" << config.getTileQ() << ", /*tile_k=*/"
         << config.getTileK() << ", /*warps=*/" << config.getWarps() << ", "
         << maskModeEnumerator(config.getMask());
      if (std::optional<int64_t> tokensPerFrame = config.getTokensPerFrame())
        os << ", Mask, /*tokens_per_frame=*/" << *tokensPerFrame;
      os << ">;\n";
      for (KernelEntryOp entry : body.getOps<KernelEntryOp>()) {
        if (entry.getRole() != "attention")
          continue;
        auto [threads, shared] = launchExpressions(entry);
        os << "static_assert(" << threads << " == " << entry.getBlock()[0]
           << ", \"launch contract: threads\");\n";
        os << "static_assert(" << shared << " == " << entry.getSharedBytes()
           << ", \"launch contract: dynamic shared memory\");\n";
      }
    }
    os << "} // namespace\n\n";
  }

  bool first = true;
  for (KernelEntryOp entry : body.getOps<KernelEntryOp>()) {
    if (!first)
      os << "\n";
    first = false;
    os << "extern \"C\" __global__ void __launch_bounds__(";
    llvm::interleave(entry.getLaunchBounds(), os, ", ");
    os << ")\n"
       << entry.getSymName() << "(" << entryParameters(entry) << ") {\n"
       << "  " << entryCall(kernel, entry) << ";\n"
       << "}\n";
  }
  return text;
}

FailureOr<std::vector<PlanFile>> printPlan(PlanOp plan,
                                           const PrintOptions &options) {
  std::vector<PlanFile> files;
  std::map<std::string, std::string> headers;
  if (!options.externalTemplates) {
    FailureOr<std::map<std::string, std::string>> bundled =
        bundleHeaders(plan, options.templatesDir);
    if (failed(bundled))
      return failure();
    headers = std::move(*bundled);
  }

  std::string manifest;
  llvm::raw_string_ostream os(manifest);
  os << "# Plan " << plan.getSymName() << ", generated by lfc compile from "
     << oneLine(plan.getSource())
     << ".\n# Format: docs/plan-format.md (version 2); the choices behind it: "
        "docs/lowering.md.\n"
     << "# Do not edit: recompile the policy (the SHA-256 entries below cover "
        "every other file).\n"
     << "format_version = 2\n\n";
  os << "[plan]\n"
     << "name = " << tomlString(plan.getSymName()) << "\n"
     << "generator = \"lfc compile\"\n"
     << "source = " << tomlString(plan.getSource()) << "\n\n";

  GeometryOp geometry = plan.getGeometry();
  os << "[geometry]\n"
     << "layers = " << geometry.getLayers() << "\n"
     << "heads = " << geometry.getHeads() << "\n"
     << "head_dim = " << geometry.getHeadDim() << "\n"
     << "dtype = " << tomlString(planDtype(geometry.getDtype())) << "\n"
     << "tokens_per_frame = " << geometry.getTokensPerFrame() << "\n"
     << "frames_per_chunk = " << geometry.getFramesPerChunk() << "\n"
     << "chunks = " << geometry.getChunks() << "\n"
     << "passes_per_chunk = " << geometry.getPassesPerChunk() << "\n"
     << "kv_window_frames = " << geometry.getKvWindowFrames() << "\n"
     << "sink_frames = " << geometry.getSinkFrames() << "\n";

  Block &body = plan.getBody().front();
  for (PlanChunkOp chunk : body.getOps<PlanChunkOp>()) {
    os << "\n[[chunks]]\n"
       << "index = " << chunk.getIndex() << "\n"
       << "sparsity = " << tomlFloat(chunk.getSparsity().convertToDouble())
       << "\n"
       << "dense = " << (chunk.getDense() ? "true" : "false") << "\n"
       << "visible_frames = " << chunk.getVisibleFrames() << "\n"
       << "query_blocks = " << chunk.getQueryBlocks() << "\n"
       << "key_blocks = " << chunk.getKeyBlocks() << "\n"
       << "kept_key_blocks = " << chunk.getKeptKeyBlocks() << "\n"
       << "block_q = " << chunk.getBlockQ() << "\n"
       << "block_k = " << chunk.getBlockK() << "\n"
       << "sink_frames = " << chunk.getSinkFrames() << "\n"
       << "near_frames = " << chunk.getNearFrames() << "\n"
       << "frames_top_k = " << chunk.getFramesTopK() << "\n"
       << "static_mask = " << tomlString(chunk.getStaticMask()) << "\n"
       << "refresh = " << tomlString(chunk.getRefresh()) << "\n";
  }

  os << "\n[build]\n";
  if (options.externalTemplates)
    os << "# The kernels include the source tree's kernels_templates/ (or "
          "$LFC_KERNEL_INCLUDE_DIR).\nexternal_templates = true\n";
  else
    os << "# The template headers the kernels include, bundled: the plan "
          "compiles anywhere.\ninclude_dirs = [\"include\"]\n";
  for (const auto &[path, text] : headers) {
    std::string planPath = "include/" + path;
    os << "\n[[headers]]\n"
       << "path = " << tomlString(planPath) << "\n"
       << "sha256 = \"" << sha256Hex(text) << "\"\n";
    files.push_back({planPath, text});
  }

  for (KernelOp kernel : body.getOps<KernelOp>()) {
    std::string source = "kernels/" + kernel.getSymName().str() + ".cu";
    std::string text = printKernelSource(kernel, plan.getSource());
    os << "\n[[kernels]]\n"
       << "name = " << tomlString(kernel.getSymName()) << "\n"
       << "source = " << tomlString(source) << "\n"
       << "sha256 = \"" << sha256Hex(text) << "\"\n"
       << "chunks = " << tomlInts(kernel.getChunks()) << "\n";
    llvm::SmallVector<llvm::StringRef> archs = kernel.getArchList();
    if (!archs.empty())
      os << "archs = " << tomlStrings(archs) << "\n";
    if (StaticMaskOp mask = kernel.getStaticMask())
      os << "static_mask = " << tomlString(mask.getText()) << "\n";
    for (KernelEntryOp entry : kernel.getBody().front().getOps<KernelEntryOp>())
      printManifestEntry(os, entry);
    files.push_back({source, std::move(text)});
  }
  files.push_back({"plan.toml", std::move(manifest)});
  return files;
}

} // namespace lfc::emit
