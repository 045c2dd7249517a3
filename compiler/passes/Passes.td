//===- Passes.td - passes over the lf dialect --------------*- tablegen -*-===//

#ifndef LFC_COMPILER_PASSES_PASSES_TD
#define LFC_COMPILER_PASSES_PASSES_TD

include "mlir/Pass/PassBase.td"

def ResolveGrowth : Pass<"lf-resolve-growth", "::mlir::ModuleOp"> {
  let summary = "Replace each lf.growth.* op by the lf.schedule it defines";
  let description = [{
    `lf.growth.chunk_aware {target, base}` becomes the Chunk-Aware Growth
    schedule of DESIGN.md section 1: chunk 1 dense, chunk `i >= 2`
    `s_i = base - beta / sqrt(i * F)` with
    `beta = (base - target) * sum(kv_i) / sum(kv_i / sqrt(i * F))`,
    `kv_i = min(i * F, W)` (`W` = kv_window_frames, infinite when 0), sums over
    `i >= 2`. `lf.growth.constant` gives every chunk after the first its value (chunk 1
    dense);
    `lf.growth.explicit` is copied.
  }];
  let constructor = "::mlir::lf::createResolveGrowthPass()";
  let dependentDialects = ["::mlir::lf::LfDialect"];
}

def SpecializeChunks : Pass<"lf-specialize-chunks", "::mlir::ModuleOp"> {
  let summary = "Emit one lf.chunk per chunk with its static geometry and budget";
  let description = [{
    Needs a resolved `lf.schedule` (run lf-resolve-growth first) when the
    policy has growth. Each `lf.chunk` carries the chunk's frame classes,
    token and block counts and key-block budget, and a copy of the selection
    body whose static masks (sink, near, current chunk, frame sliding window,
    frame top-k that cannot drop anything) are folded into `lf.frames`.
  }];
  let constructor = "::mlir::lf::createSpecializeChunksPass()";
  let dependentDialects = ["::mlir::lf::LfDialect"];
}

def LowerToKernels : Pass<"lf-lower-to-kernels", "::mlir::ModuleOp"> {
  let summary = "Rewrite each specialized lf.policy into an lf.plan of kernels";
  let description = [{
    Needs lf-resolve-growth and lf-specialize-chunks (and canonicalize) first.
    Replaces every `lf.policy` by an `lf.plan` that states every decision of
    the plan artifact (docs/lowering.md, docs/plan-format.md): per chunk the
    manifest fields (budgets, frame stage, canonical static mask, refresh);
    per kernel its name, the chunks and archs it serves, its template headers,
    static mask, attention config and entries with their launch contracts.

    The selected mask must be one of: (a) a static expression (sink, near,
    current chunk, sliding window, radial, union, restrict), (b) the
    Hierarchical Sparse Attention union of one `lf.frame_topk`, its sink/near
    operands and `lf.current_chunk`, or (c) `lf.restrict` of (b) and a static
    expression; each optionally under one `lf.block_topk`. Anything else is an
    error at the op's location. Dense chunks get dense attention kernels,
    chunks that select (a frame stage, or fewer kept than key blocks) a select
    kernel and kept-list attention kernels, other chunks static-mask attention
    kernels; each attention kernel comes as an sm_90a kernel and a portable one,
    with the tiles lfc::cuda::chooseAttnVariant picks.
  }];
  let constructor = "::mlir::lf::createLowerToKernelsPass()";
  let dependentDialects = ["::mlir::lf::LfDialect"];
}

#endif // LFC_COMPILER_PASSES_PASSES_TD
