//===- LfKernelOps.td - kernel-level lf operations -----*- tablegen -*-===//
//
// What lf-lower-to-kernels produces and the plan printer (compiler/emit/)
// prints: a plan with its chunks and kernels, every decision an attribute.
// The printer maps each op to fixed text (docs/lowering.md); it decides
// nothing.
//
//===----------------------------------------------------------------------===//

#ifndef LFC_DIALECT_LFKERNELOPS_TD
#define LFC_DIALECT_LFKERNELOPS_TD

include "LfDialect.td"
include "mlir/IR/SymbolInterfaces.td"

def Lf_PlanOp : Lf_Op<"plan", [Symbol, SymbolTable, IsolatedFromAbove,
                                NoTerminator, SingleBlock, NoRegionArguments]> {
  let summary = "a lowered policy: the plan artifact's manifest and kernels";
  let description = [{
    Output of `lf-lower-to-kernels`: one `lf.geometry`, then one
    `lf.plan.chunk` per chunk in order, then the `lf.kernel`s. `source` is the
    policy file the plan was compiled from (the manifest's `[plan] source`).
    The verifier checks what the runtime's plan loader checks
    (docs/plan-format.md): derived chunk fields against the geometry, the
    chunks each kernel serves, unique entry symbols, one kernel per
    (role, chunk, arch), and that a kernel compiling a static mask serves only
    chunks with that mask.

    ```mlir
    lf.plan @tiny {source = "tiny.toml"} {
      lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16",
                   tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1,
                   passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
      lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1,
                     query_blocks = 4, key_blocks = 4, kept_key_blocks = 4,
                     block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0,
                     frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
      lf.kernel @tiny_attn_bf16_d64_tq128_tk64_w4_dense {...} {...}
    }
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, StrAttr:$source);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$sym_name attr-dict-with-keyword $body";
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    /// The geometry, or null when the plan is malformed.
    GeometryOp getGeometry();
  }];
}

def Lf_PlanChunkOp : Lf_Op<"plan.chunk", [HasParent<"PlanOp">]> {
  let summary = "one chunk of a plan: the manifest's [[chunks]] entry";
  let description = [{
    The fields of docs/plan-format.md's `[[chunks]]`, decided by
    `lf-lower-to-kernels`: budgets from the specialized `lf.chunk`, the frame
    stage (`sink_frames`, `near_frames`, `frames_top_k`; all 0 without one),
    the chunk's static mask in canonical text (docs/static-masks.md; `"all"`
    for a dense chunk) and the selection refresh (`"every_pass"` or
    `"per_chunk"`). A dense chunk keeps every key block (`kept_key_blocks ==
    key_blocks`, sparsity 0, static mask `all`).

    ```mlir
    lf.plan.chunk {index = 2, sparsity = 0.827, dense = false, visible_frames = 6,
                   query_blocks = 37, key_blocks = 74, kept_key_blocks = 12,
                   block_q = 128, block_k = 128, sink_frames = 1, near_frames = 2,
                   frames_top_k = 6, static_mask = "all", refresh = "every_pass"}
    ```
  }];
  let arguments = (ins Lf_I64Attr:$index, F64Attr:$sparsity, BoolAttr:$dense,
                   Lf_I64Attr:$visible_frames, Lf_I64Attr:$query_blocks,
                   Lf_I64Attr:$key_blocks, Lf_I64Attr:$kept_key_blocks,
                   Lf_I64Attr:$block_q, Lf_I64Attr:$block_k,
                   Lf_I64Attr:$sink_frames, Lf_I64Attr:$near_frames,
                   Lf_I64Attr:$frames_top_k, StrAttr:$static_mask,
                   StrAttr:$refresh);
  let assemblyFormat = "attr-dict";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Whether the frame stage restricts anything in this chunk
    /// (docs/selection-semantics.md step 3: a past longer than frames_top_k).
    bool hasFrameStage();
  }];
}

def Lf_KernelOp : Lf_Op<"kernel", [HasParent<"PlanOp">, Symbol, SymbolTable,
                                    NoTerminator, SingleBlock,
                                    NoRegionArguments]> {
  let summary = "one generated CUDA translation unit (kernels/<name>.cu)";
  let description = [{
    The symbol is the kernel's name (the JIT cache key's readable part; it
    encodes every specialization). `summary` is the one-line description in the
    source's header comment; `dtype` and `head_dim` are the element type and
    head dimension every entry is instantiated for; `chunks` the 1-based chunks
    it serves (ascending); `archs`, when present, the only architectures it is
    compiled for (`["sm_90a"]`; absent: every arch no arch-specific kernel of
    the same role and chunk serves). The body lists, in source order: includes,
    the static mask (`using Mask`), the attention config (`using Config`), and
    the `extern "C"` entries.

    ```mlir
    lf.kernel @p_select_bf16_d128 {summary = "HSA selection entries",
        dtype = "bf16", head_dim = 128, chunks = array<i64: 2, 3>} {
      lf.kernel.include "lfc/selection.cuh"
      lf.kernel.include "lfc/static_mask.cuh"
      lf.kernel.static_mask "all" as "lfc::mask::All"
      lf.kernel.entry @p_select_bf16_d128_select {role = "select",
          params = "LfcSelectParams", grid = ["params"],
          block = array<i64: 256, 1, 1>, launch_bounds = array<i64: 256>,
          shared_bytes = 8640, tile_q = 0}
    }
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, StrAttr:$summary,
                   StrAttr:$dtype, Lf_I64Attr:$head_dim,
                   DenseI64ArrayAttr:$chunks,
                   OptionalAttr<StrArrayAttr>:$archs);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$sym_name attr-dict-with-keyword $body";
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    /// The static mask op, or null when the kernel compiles in no mask.
    StaticMaskOp getStaticMask();
    /// The attention config, or null (selection kernels).
    AttentionConfigOp getAttentionConfig();
    /// The canonical text of the compiled-in static mask, "all" when none.
    ::llvm::StringRef getStaticMaskText();
    /// The archs, empty when the kernel is portable.
    ::llvm::SmallVector<::llvm::StringRef> getArchList();
  }];
}

def Lf_KernelIncludeOp : Lf_Op<"kernel.include", [HasParent<"KernelOp">]> {
  let summary = "`#include \"PATH\"` of a kernel template header";
  let description = [{
    `PATH` is relative to `kernels_templates/` (or the plan's bundled
    `include/`).

    ```mlir
    lf.kernel.include "lfc/attention_sm90_tma.cuh"
    ```
  }];
  let arguments = (ins StrAttr:$path);
  let assemblyFormat = "$path attr-dict";
  let hasVerifier = 1;
}

def Lf_StaticMaskOp : Lf_Op<"kernel.static_mask", [HasParent<"KernelOp">]> {
  let summary = "the static mask a kernel compiles in: `using Mask = TYPE;`";
  let description = [{
    `text` is the canonical static mask (docs/static-masks.md), which the
    manifest records as the kernel's `static_mask`; `type` is its C++ type
    from `kernels_templates/lfc/static_mask.cuh`. The verifier checks that the
    text is canonical and that the type spells it. Present in selection kernels
    (the select entry's `Mask` argument) and static-mask attention kernels.

    ```mlir
    lf.kernel.static_mask "union(sink(1),current)" as "lfc::mask::Union<lfc::mask::Sink<1>, lfc::mask::Current>"
    ```
  }];
  let arguments = (ins StrAttr:$text, StrAttr:$type);
  let assemblyFormat = "$text `as` $type attr-dict";
  let hasVerifier = 1;
}

def Lf_AttentionConfigOp : Lf_Op<"kernel.attention_config",
                                 [HasParent<"KernelOp">]> {
  let summary = "the template arguments of lfc::AttnConfig: `using Config = ...;`";
  let description = [{
    Instantiates `lfc::AttnConfig<T, head_dim, block_q, block_k, tile_q,
    tile_k, warps, MaskMode>` (`kernels_templates/lfc/attention.cuh`) with the
    kernel's `dtype` and `head_dim`. `mask` is `"dense"`, `"list"` (kept list)
    or `"static"`; a static config also takes the kernel's `Mask` (an
    `lf.kernel.static_mask` before it) and `tokens_per_frame`. `block_q` and
    `block_k` are the policy's selection blocks (128 for dense kernels, which
    have none); `tile_q`, `tile_k` and `warps` the per-arch choice of
    `lfc::cuda::chooseAttnVariant`.

    ```mlir
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128,
        tile_k = 128, warps = 8, mask = "static", tokens_per_frame = 1560}
    ```
  }];
  let arguments = (ins Lf_I64Attr:$block_q, Lf_I64Attr:$block_k,
                   Lf_I64Attr:$tile_q, Lf_I64Attr:$tile_k, Lf_I64Attr:$warps,
                   StrAttr:$mask, OptionalAttr<Lf_I64Attr>:$tokens_per_frame);
  let assemblyFormat = "attr-dict";
  let hasVerifier = 1;
}

def Lf_KernelEntryOp : Lf_Op<"kernel.entry", [HasParent<"KernelOp">, Symbol]> {
  let summary = "one `extern \"C\" __global__` entry point and its launch contract";
  let description = [{
    The symbol is the C name of the entry. `role` says which template function
    it calls (`commit_keys`: `lfc::commitKeys<T>`, `pool_keys`:
    `lfc::poolKeys<T>`, `select`: `lfc::selectBlocks<T, threads, head_dim,
    Mask>`, `attention`: per `kernel`, below). The launch contract is the
    manifest's `[[kernels.entries]]`: `params` (the by-value parameter types,
    comma-separated), `grid` (three symbols or integers, or `["params"]`),
    `block` (threads), `shared_bytes` (dynamic shared memory), `tile_q` (query
    rows per CTA, 0 when the grid has no `query_tiles`). `launch_bounds` is
    `__launch_bounds__(max threads[, min CTAs per SM])`.

    Attention entries also state their variant: `kernel` (`"mma"`:
    `lfc::blockSparseAttention<Config>`, `"wgmma"`:
    `lfc::blockSparseAttentionSm90<Config>`, `"wgmma_mbar"`:
    `lfc::blockSparseAttentionSm90<Config, true>`, `"tma"`:
    `lfc::blockSparseAttentionSm90Tma<Config, stages>` taking tensor maps),
    `mask`, `tile_k`, `warps` (consumer warps) and, for tma only, `stages`.
    They must match the kernel's `lf.kernel.attention_config`.

    ```mlir
    lf.kernel.entry @p_attn_sm90a_bf16_d128_tq128_tk128_w8_wgmma_tma_s2_dense {
        role = "attention", params = "LfcAttnParams,LfcAttnTmaParams",
        grid = ["params"], block = array<i64: 384, 1, 1>,
        launch_bounds = array<i64: 384, 1>, shared_bytes = 164864, tile_q = 128,
        kernel = "tma", mask = "dense", tile_k = 128, warps = 8, stages = 2}
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, StrAttr:$role,
                   StrAttr:$params, StrArrayAttr:$grid,
                   DenseI64ArrayAttr:$block, DenseI64ArrayAttr:$launch_bounds,
                   Lf_I64Attr:$shared_bytes, Lf_I64Attr:$tile_q,
                   OptionalAttr<StrAttr>:$kernel, OptionalAttr<StrAttr>:$mask,
                   OptionalAttr<Lf_I64Attr>:$tile_k,
                   OptionalAttr<Lf_I64Attr>:$warps,
                   OptionalAttr<Lf_I64Attr>:$stages);
  let assemblyFormat = "$sym_name attr-dict";
  let hasVerifier = 1;
}

#endif // LFC_DIALECT_LFKERNELOPS_TD
