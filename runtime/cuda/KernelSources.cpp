// Generates the per-variant entry sources; every decision lives in the
// templates.
#include "runtime/cuda/KernelSources.h"

#include "lfc/backend.h"
#include "lfc/sha256.h"
#include "lfc/static_mask.h"

#include <sstream>

namespace lfc::cuda {

namespace {

const char *dtypeTag(DType t) {
  switch (t) {
  case DType::BF16:
    return "bf16";
  case DType::F16:
    return "fp16";
  case DType::F32:
    break;
  }
  throw Error("CUDA kernels take bf16 or fp16 tensors, got fp32");
}

const char *dtypeType(DType t) {
  return t == DType::BF16 ? "lfc::BF16" : "lfc::F16";
}

/// "sm_90a" -> "sm90a" (kernel names are C identifiers).
std::string archTag(const std::string &arch) {
  std::string s = arch;
  auto pos = s.find('_');
  if (pos != std::string::npos)
    s.erase(pos, 1);
  return s;
}

bool isPow2(int v) { return v > 0 && (v & (v - 1)) == 0; }

/// staticMaskTag before shortening. `closeAtEnd`: whether this expression
/// ends the whole tag (its closing `.`s are implied there).
void appendTag(std::string &out, const StaticMask &m, bool closeAtEnd) {
  const std::string text = m.text();
  const size_t paren = text.find('(');
  out += text.substr(0, paren);
  using Kind = StaticMask::Kind;
  if (m.kind() == Kind::Union || m.kind() == Kind::Restrict) {
    const auto &ops = m.operands();
    for (size_t n = 0; n < ops.size(); ++n) {
      out += '-';
      appendTag(out, ops[n], closeAtEnd && n + 1 == ops.size());
    }
    if (!closeAtEnd)
      out += '.';
    return;
  }
  for (size_t n = 0; n < m.args().size(); ++n)
    out += (n ? "x" : "") + std::to_string(m.args()[n]);
}

/// Whether a select variant ANDs a static mask into its eligibility.
bool selectIsStatic(const SelectVariant &v) {
  return !v.staticMask.empty() && v.staticMask != "all";
}

} // namespace

std::string entrySymbol(const std::string &kernelName) {
  std::string s = kernelName;
  for (char &c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '_'))
      c = '_';
  return s;
}

std::string staticMaskTag(const std::string &text) {
  const StaticMask m = StaticMask::parse(text);
  std::string tag;
  appendTag(tag, m, /*closeAtEnd=*/true);
  constexpr size_t kMaxTag = 48, kHexDigits = 8;
  if (tag.size() > kMaxTag)
    tag = tag.substr(0, kMaxTag - kHexDigits - 1) + "-" +
          sha256Hex(m.text()).substr(0, kHexDigits);
  return tag;
}

AttnVariant chooseAttnVariant(const std::string &arch, DType dtype, int headDim,
                              int blockQ, int blockK, bool dense, int maxShared,
                              bool allowTma) {
  dtypeTag(dtype);
  if (headDim != 64 && headDim != 128)
    throw Error("attention: head_dim " + std::to_string(headDim) +
                " has no CUDA kernel; supported: 64, 128");
  if (!isPow2(blockQ) || blockQ < 16 || !isPow2(blockK) || blockK < 16)
    throw Error("attention: selection blocks must be powers of two >= 16, got "
                "block_q " +
                std::to_string(blockQ) + ", block_k " + std::to_string(blockK));
  AttnVariant v;
  v.arch = arch;
  v.dtype = dtype;
  v.headDim = headDim;
  v.dense = dense;
  if (dense) {
    // Without a kept list the selection blocks play no part: the kernel is
    // keyed by tiles.
    blockQ = blockK = 128;
  }
  v.blockQ = blockQ;
  v.blockK = blockK;
  // Hopper: TMA producer + two ping-ponging wgmma warpgroups (128 query rows),
  // 128-key tiles where the key blocks allow (one TMA pair per kept block, half
  // the softmax bookkeeping per key). Any stride checkTensor accepts (16-byte
  // aligned base and strides) is a valid tensor map.
  if (allowTma && arch == "sm_90a" && blockQ >= 128 && blockK >= 64) {
    AttnVariant t = v;
    t.tileQ = 128;
    t.tileK = blockK < 128 ? blockK : 128;
    t.warps = 8;
    t.wgmma = t.tma = true;
    // Two stages: a third (226 of 227 KiB at d128) measured no faster on the
    // H200 at density 1.0 or 0.2 (docs/PERFORMANCE.md).
    t.stages = 2;
    if (t.sharedBytes() <= maxShared)
      return t;
  }
  // 128 query rows (8 warps) amortize each K/V tile over the most rows; a
  // 64-key tile keeps the two K/V stages (plus Q) at 96 KiB for d128, inside
  // every sm_80+ part's opt-in limit. A tile never straddles a selection block.
  v.tileQ = blockQ < 128 ? blockQ : 128;
  v.tileK = blockK < 64 ? blockK : 64;
  // Where shared memory is short, give up query rows first (down to 4 warps),
  // then key rows, then the remaining query rows.
  while (v.sharedBytes() > maxShared) {
    if (v.tileQ > 64)
      v.tileQ /= 2;
    else if (v.tileK > 16)
      v.tileK /= 2;
    else if (v.tileQ > 16)
      v.tileQ /= 2;
    else
      break;
  }
  // 32 rows per warp halve the K/V shared-memory reads per MMA (the limiter at
  // 16 rows).
  v.warps = v.tileQ >= 64 ? v.tileQ / 32 : v.tileQ / 16;
  // Hopper: warpgroup MMAs read K and V from shared memory without per-warp
  // copies; one warpgroup per 64 query rows, 64-key tiles.
  if (arch == "sm_90a" && v.tileQ >= 64 && v.tileK == 64) {
    v.wgmma = true;
    v.warps = v.tileQ / 16;
    if (v.sharedBytes() > maxShared) {
      v.wgmma = v.decoupled = false;
      v.warps = v.tileQ / 32;
    }
  }
  if (v.sharedBytes() > maxShared)
    throw Error("attention: " + kernelName(v) + " needs " +
                std::to_string(v.sharedBytes()) +
                " bytes of shared memory; the device allows " +
                std::to_string(maxShared));
  return v;
}

std::string kernelName(const AttnVariant &v) {
  const bool isStatic = !v.staticMask.empty();
  if (isStatic && (v.dense || v.tokensPerFrame <= 0))
    throw Error("attention: a static-mask kernel ('" + v.staticMask +
                "') is not dense and needs tokens per frame > 0, got " +
                (v.dense ? "dense" : "not dense") + " and " +
                std::to_string(v.tokensPerFrame));
  std::ostringstream os;
  os << "lfc_attn_" << archTag(v.arch) << "_" << dtypeTag(v.dtype) << "_d"
     << v.headDim;
  if (!v.dense)
    os << "_bq" << v.blockQ << "_bk" << v.blockK;
  os << "_tq" << v.tileQ << "_tk" << v.tileK << "_w" << v.warps
     << (v.wgmma ? "_wgmma" : "")
     << (v.tma ? "_tma_s" + std::to_string(v.stages) : "")
     << (v.decoupled ? "_mbar" : "");
  if (isStatic)
    os << "_tpf" << v.tokensPerFrame << "_static_"
       << staticMaskTag(v.staticMask);
  else
    os << (v.dense ? "_dense" : "_list");
  return os.str();
}

std::string entrySource(const AttnVariant &v) {
  const std::string name = kernelName(v), symbol = entrySymbol(name);
  const char *header = v.tma     ? "lfc/attention_sm90_tma.cuh"
                       : v.wgmma ? "lfc/attention_sm90.cuh"
                                 : "lfc/attention.cuh";
  std::ostringstream os;
  os << "// " << name
     << ": block-sparse attention entry (generated by lfc; logic in " << header
     << ").\n"
     << "#include \"" << header << "\"\n\n"
     << "namespace {\n";
  if (!v.staticMask.empty())
    os << "using Mask = " << StaticMask::parse(v.staticMask).cppType() << ";\n";
  os << "using Config = lfc::AttnConfig<" << dtypeType(v.dtype)
     << ", /*head_dim=*/" << v.headDim << ", /*block_q=*/" << v.blockQ
     << ", /*block_k=*/" << v.blockK
     << ",\n                             /*tile_q=*/" << v.tileQ
     << ", /*tile_k=*/" << v.tileK << ", /*warps=*/" << v.warps;
  if (!v.staticMask.empty())
    os << ", lfc::MaskMode::Static, Mask, /*tokens_per_frame=*/"
       << v.tokensPerFrame << ">;\n";
  else
    os << ", lfc::MaskMode::" << (v.dense ? "Dense" : "KeptList") << ">;\n";
  os << "static_assert("
     << (v.tma ? "lfc::Sm90TmaLaunch<Config, " + std::to_string(v.stages) +
                     ">::kThreads"
               : std::string("Config::kThreads"))
     << " == " << v.threads() << ", \"launch contract: threads\");\n"
     << "static_assert("
     << (v.tma ? "lfc::Sm90TmaLaunch<Config, " + std::to_string(v.stages) +
                     ">::kSmemBytes"
         : v.wgmma ? std::string("lfc::Sm90Smem<Config>::kBytes")
                   : std::string("Config::kSmemBytes"))
     << " == " << v.sharedBytes()
     << ", \"launch contract: dynamic shared memory\");\n"
     << "} // namespace\n\n";
  if (v.tma) {
    // One CTA per SM: the register cap at entry (65536 / 384 threads) is what
    // setmaxnreg redistributes, 24 to the producer and 240 to each consumer.
    // The tensor maps must stay in parameter space (__grid_constant__): TMA
    // reads them by address.
    os << "extern \"C\" __global__ void __launch_bounds__(" << v.threads()
       << ", 1)\n"
       << symbol
       << "(const __grid_constant__ LfcAttnParams p,\n"
          "    const __grid_constant__ LfcAttnTmaParams maps) {\n"
       << "  lfc::blockSparseAttentionSm90Tma<Config, " << v.stages
       << ">(p, maps);\n"
       << "}\n";
    return os.str();
  }
  // Two 256-thread CTAs per SM hide one CTA's softmax behind the other's
  // MMAs; that caps registers at 128, which the wgmma kernel fits without
  // spilling.
  os << "extern \"C\" __global__ void __launch_bounds__(" << v.threads()
     << (v.wgmma ? ", 2" : "") << ")\n"
     << symbol << "(const LfcAttnParams p) {\n"
     << "  lfc::"
     << (v.wgmma ? "blockSparseAttentionSm90" : "blockSparseAttention")
     << "<Config>(p);\n"
     << "}\n";
  return os.str();
}

std::string kernelName(const SelectVariant &v) {
  return "lfc_select_" + archTag(v.arch) + "_" + dtypeTag(v.dtype) + "_d" +
         std::to_string(v.headDim) +
         (selectIsStatic(v) ? "_static_" + staticMaskTag(v.staticMask) : "");
}

std::string entrySource(const SelectVariant &v) {
  if (v.headDim != 64 && v.headDim != 128)
    throw Error("select: head_dim " + std::to_string(v.headDim) +
                " has no CUDA kernel; supported: 64, 128");
  const std::string name = kernelName(v), type = dtypeType(v.dtype);
  const std::string symbol = entrySymbol(name);
  const std::string threads = std::to_string(SelectVariant::kThreads);
  std::ostringstream os;
  os << "// " << name << ": HSA selection entries (generated by lfc; logic in "
     << "lfc/selection.cuh).\n"
     << "#include \"lfc/selection.cuh\"\n\n";
  if (selectIsStatic(v))
    os << "namespace {\nusing Mask = "
       << StaticMask::parse(v.staticMask).cppType() << ";\n} // namespace\n\n";
  os << "extern \"C\" __global__ void __launch_bounds__(" << threads << ")\n"
     << symbol << "_commit(const LfcCommitParams p) {\n"
     << "  lfc::commitKeys<" << type << ">(p);\n}\n\n"
     << "extern \"C\" __global__ void __launch_bounds__(" << threads << ")\n"
     << symbol << "_pool(const LfcPoolKeysParams p) {\n"
     << "  lfc::poolKeys<" << type << ">(p);\n}\n\n"
     << "extern \"C\" __global__ void __launch_bounds__(" << threads << ")\n"
     << symbol << "_select(const LfcSelectParams p) {\n"
     << "  lfc::selectBlocks<" << type << ", " << threads << ", /*max_dim=*/"
     << v.headDim << (selectIsStatic(v) ? ", Mask" : "") << ">(p);\n}\n";
  return os.str();
}

const std::vector<std::string> &supportedArchs() {
  static const std::vector<std::string> archs = {"sm_80",  "sm_86",   "sm_89",
                                                 "sm_90a", "sm_100a", "sm_120"};
  return archs;
}

namespace {

struct StaticCase {
  const char *mask;
  int blockQ, blockK, tokensPerFrame;
};
const StaticCase kStaticCases[] = {
    {"union(sink(1),current,radial(3,156))", 128, 128, 1560},
    {"window_frames(6)", 128, 64, 1560},
    {"window_tokens(3000)", 64, 128, 200},
    {"restrict(window_frames(4),union(frames(0,2),near(2)))", 128, 128, 1560},
    {"current", 128, 256, 880},
};

} // namespace

std::vector<KernelSource> allKernelSources(const std::string &arch) {
  // sm_86/89/120 have ~99 KiB of opt-in shared memory, the others more; 99 KiB
  // is the budget every listed arch satisfies. sm_90a parts (H100, H200) all
  // have 227 KiB, which the TMA kernel's 128-key stages need.
  const int shared = arch == "sm_90a" ? 227 * 1024 : 99 * 1024;
  std::vector<KernelSource> out;
  for (DType t : {DType::BF16, DType::F16})
    for (int d : {64, 128}) {
      SelectVariant s{arch, t, d};
      out.push_back({kernelName(s), entrySource(s)});
      auto add = [&](AttnVariant v) {
        out.push_back({kernelName(v), entrySource(v)});
        if (v.tma) {
          // The benchmarks' alternative: the CTA-barrier wgmma kernel.
          const AttnVariant tma = v;
          v = chooseAttnVariant(arch, t, d, v.blockQ, v.blockK, v.dense, shared,
                                /*allowTma=*/false);
          v.staticMask = tma.staticMask;
          v.tokensPerFrame = tma.tokensPerFrame;
          out.push_back({kernelName(v), entrySource(v)});
        }
        if (v.wgmma) {
          // The benchmarks' alternatives on sm_90a: the mbarrier-pipelined
          // wgmma kernel and the mma.sync kernel.
          if (!v.dense && v.blockQ == 128 && v.blockK == 128) {
            AttnVariant m = v;
            m.decoupled = true;
            out.push_back({kernelName(m), entrySource(m)});
          }
          v.wgmma = v.decoupled = false;
          v.warps = v.tileQ / 32;
          out.push_back({kernelName(v), entrySource(v)});
        }
      };
      for (int bq : {64, 128})
        for (int bk : {64, 128})
          add(chooseAttnVariant(arch, t, d, bq, bk, false, shared));
      add(chooseAttnVariant(arch, t, d, 128, 128, true, shared));
      // Static masks: every term kind, on every kernel family of the arch
      // (block shapes that pick the TMA, wgmma and mma.sync kernels, one and
      // two tiles per key block), and the select entry that ANDs the mask in.
      for (const StaticCase &c : kStaticCases) {
        out.push_back({kernelName(SelectVariant{arch, t, d, c.mask}),
                       entrySource(SelectVariant{arch, t, d, c.mask})});
        AttnVariant v =
            chooseAttnVariant(arch, t, d, c.blockQ, c.blockK, false, shared);
        v.staticMask = c.mask;
        v.tokensPerFrame = c.tokensPerFrame;
        add(v);
      }
    }
  return out;
}

} // namespace lfc::cuda
