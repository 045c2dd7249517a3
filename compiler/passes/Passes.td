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

#endif // LFC_COMPILER_PASSES_PASSES_TD
