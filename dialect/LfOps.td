//===- LfOps.td - operations of the lf dialect -------------*- tablegen -*-===//

#ifndef LFC_DIALECT_LFOPS_TD
#define LFC_DIALECT_LFOPS_TD

include "LfDialect.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"

// Mask building blocks live in a selection body, or in a chunk body once the
// policy has been specialized per chunk.
defvar Lf_InMaskRegion = ParentOneOf<["SelectOp", "ChunkOp"]>;

//===----------------------------------------------------------------------===//
// Policy structure
//===----------------------------------------------------------------------===//

def Lf_PolicyOp : Lf_Op<"policy", [Symbol, IsolatedFromAbove, NoTerminator,
                                    SingleBlock, NoRegionArguments]> {
  let summary = "a sparse-attention policy";
  let description = [{
    Holds exactly one `lf.geometry`, at most one growth op (`lf.growth.*`) or
    its resolved `lf.schedule`, exactly one `lf.select`, and, after
    `lf-specialize-chunks`, one `lf.chunk` per chunk in order.

    ```mlir
    lf.policy @tiny {
      lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16",
                   tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3,
                   passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
      lf.growth.constant {sparsity = 0.5}
      lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
        %cur = lf.current_chunk : !lf.mask
        lf.yield %cur : !lf.mask
      }
    }
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$sym_name attr-dict-with-keyword $body";
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    /// The single geometry op, or null when the policy is malformed.
    GeometryOp getGeometry();
    /// The select op, or null when the policy is malformed.
    SelectOp getSelect();
    /// The growth op (any kind), or null when there is none.
    ::mlir::Operation *getGrowth();
    /// The resolved schedule, or null when growth is not resolved yet.
    ScheduleOp getSchedule();
  }];
}

def Lf_GeometryOp : Lf_Op<"geometry", [ParentOneOf<["PolicyOp", "PlanOp"]>]> {
  let summary = "model and generation geometry of a policy (or of its plan)";
  let description = [{
    `kv_window_frames = 0` is a global KV cache; `N > 0` is a rolling window of
    `N` frames (it must hold at least one chunk) plus `sink_frames` sink frames.
    Supported: `head_dim` 64 or 128, `dtype` "bf16" or "f16".

    ```mlir
    lf.geometry {layers = 30, heads = 12, head_dim = 128, dtype = "bf16",
                 tokens_per_frame = 1560, frames_per_chunk = 3, chunks = 7,
                 passes_per_chunk = 5, kv_window_frames = 0, sink_frames = 1}
    ```
  }];
  let arguments = (ins Lf_I64Attr:$layers, Lf_I64Attr:$heads, Lf_I64Attr:$head_dim,
                   StrAttr:$dtype, Lf_I64Attr:$tokens_per_frame,
                   Lf_I64Attr:$frames_per_chunk, Lf_I64Attr:$chunks,
                   Lf_I64Attr:$passes_per_chunk, Lf_I64Attr:$kv_window_frames,
                   Lf_I64Attr:$sink_frames);
  let assemblyFormat = "attr-dict";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Growth schedules (Chunk-Aware Growth) and their resolved form
//===----------------------------------------------------------------------===//

def Lf_GrowthChunkAwareOp : Lf_Op<"growth.chunk_aware", [HasParent<"PolicyOp">]> {
  let summary = "Chunk-Aware Growth: sparsity grows with the chunk index";
  let description = [{
    Chunk 1 is dense; chunk `i >= 2` gets `s_i = base - beta / sqrt(i * F)` with
    `beta` chosen so the KV-weighted mean sparsity equals `target`
    (DESIGN.md section 1). Requires `0 <= target < base < 1`.

    ```mlir
    lf.growth.chunk_aware {target = 0.88, base = 0.98}
    ```
  }];
  let arguments = (ins F64Attr:$target, F64Attr:$base);
  let assemblyFormat = "attr-dict";
  let hasVerifier = 1;
}

def Lf_GrowthConstantOp : Lf_Op<"growth.constant", [HasParent<"PolicyOp">]> {
  let summary = "the same sparsity for every chunk after the first";
  let description = [{
    Chunk 1 stays dense, as under Chunk-Aware Growth (it is the cheapest chunk
    and every later chunk inherits its keys); use `lf.growth.explicit` for a
    sparse first chunk.

    ```mlir
    lf.growth.constant {sparsity = 0.85}
    ```
  }];
  let arguments = (ins F64Attr:$sparsity);
  let assemblyFormat = "attr-dict";
  let hasVerifier = 1;
}

def Lf_GrowthExplicitOp : Lf_Op<"growth.explicit", [HasParent<"PolicyOp">]> {
  let summary = "one explicit sparsity per chunk";
  let description = [{
    Exactly `chunks` values, each in `[0, 1)`.

    ```mlir
    lf.growth.explicit {sparsity = array<f64: 0.0, 0.8, 0.85>}
    ```
  }];
  let arguments = (ins DenseF64ArrayAttr:$sparsity);
  let assemblyFormat = "attr-dict";
  let hasVerifier = 1;
}

def Lf_ScheduleOp : Lf_Op<"schedule", [HasParent<"PolicyOp">]> {
  let summary = "resolved per-chunk sparsity (output of lf-resolve-growth)";
  let description = [{
    ```mlir
    lf.schedule {sparsity = array<f64: 0.0, 0.827, 0.855>}
    ```
  }];
  let arguments = (ins DenseF64ArrayAttr:$sparsity);
  let assemblyFormat = "attr-dict";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Selection and per-chunk specialization
//===----------------------------------------------------------------------===//

def Lf_SelectOp : Lf_Op<"select", [HasParent<"PolicyOp">, SingleBlock,
                                   NoRegionArguments]> {
  let summary = "which key blocks each query block attends to";
  let description = [{
    The body computes a `!lf.mask` from building blocks and yields it.
    `block_q`/`block_k` are the selection block sizes (powers of two in
    16..256); `refresh` is "every_pass" (select in every denoising pass) or
    "per_chunk" (select once per chunk and reuse).

    ```mlir
    lf.select {block_q = 128, block_k = 128, refresh = "every_pass"} {
      %cur = lf.current_chunk : !lf.mask
      %kept = lf.block_topk %cur {budget = "growth", score = "mean_dot"} : !lf.mask
      lf.yield %kept : !lf.mask
    }
    ```
  }];
  let arguments = (ins Lf_I64Attr:$block_q, Lf_I64Attr:$block_k, StrAttr:$refresh);
  let regions = (region SizedRegion<1>:$body);
  // `attr-dict $body` is ambiguous for ODS (both start with `{`); the custom
  // form reads exactly like it since the attributes are always present.
  let hasCustomAssemblyFormat = 1;
  let hasVerifier = 1;
}

def Lf_ChunkOp : Lf_Op<"chunk", [HasParent<"PolicyOp">, SingleBlock,
                                 NoRegionArguments]> {
  let summary = "the policy specialized for one chunk (output of lf-specialize-chunks)";
  let description = [{
    `index` is 1-based. Frame indices are positions in the chunk's logical KV
    sequence (visible past frames in temporal order, then the current chunk).
    The body is the selection body with its static parts folded into
    `lf.frames` constants.

    ```mlir
    lf.chunk {index = 2, sparsity = 0.827, visible_frames = 6,
              query_tokens = 4680, kv_tokens = 9360, query_blocks = 37,
              key_blocks = 74, kept_key_blocks = 12, sink = array<i64: 0>,
              near = array<i64: 1, 2>, middle = array<i64>,
              current = array<i64: 3, 4, 5>, frames_kept = 3, dense = false} {
      %all = lf.frames {frames = array<i64: 0, 1, 2, 3, 4, 5>} : !lf.mask
      %kept = lf.block_topk %all {budget = "growth", score = "mean_dot"} : !lf.mask
      lf.yield %kept : !lf.mask
    }
    ```
  }];
  let arguments = (ins Lf_I64Attr:$index, F64Attr:$sparsity, Lf_I64Attr:$visible_frames,
                   Lf_I64Attr:$query_tokens, Lf_I64Attr:$kv_tokens,
                   Lf_I64Attr:$query_blocks, Lf_I64Attr:$key_blocks,
                   Lf_I64Attr:$kept_key_blocks, DenseI64ArrayAttr:$sink,
                   DenseI64ArrayAttr:$near, DenseI64ArrayAttr:$middle,
                   DenseI64ArrayAttr:$current, Lf_I64Attr:$frames_kept,
                   BoolAttr:$dense);
  let regions = (region SizedRegion<1>:$body);
  // `attr-dict $body` is ambiguous for ODS (both start with `{`); the custom
  // form reads exactly like it since the attributes are always present.
  let hasCustomAssemblyFormat = 1;
  let hasVerifier = 1;
}

def Lf_YieldOp : Lf_Op<"yield", [Pure, Terminator, ReturnLike, Lf_InMaskRegion]> {
  let summary = "the mask a selection or chunk body produces";
  let description = [{
    ```mlir
    lf.yield %kept : !lf.mask
    ```
  }];
  let arguments = (ins Lf_MaskType:$value);
  let assemblyFormat = "$value attr-dict `:` type($value)";
}

//===----------------------------------------------------------------------===//
// Static mask building blocks (known from the chunk index alone)
//===----------------------------------------------------------------------===//

class Lf_MaskOp<string mnemonic, list<Trait> traits = []>
    : Lf_Op<mnemonic, !listconcat([Pure, Lf_InMaskRegion], traits)> {
  let results = (outs Lf_MaskType:$result);
}

def Lf_SinkFramesOp : Lf_MaskOp<"sink_frames"> {
  let summary = "the first `count` past frames";
  let description = [{
    ```mlir
    %sink = lf.sink_frames {count = 1} : !lf.mask
    ```
  }];
  let arguments = (ins Lf_I64Attr:$count);
  let assemblyFormat = "attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Lf_NearFramesOp : Lf_MaskOp<"near_frames"> {
  let summary = "the last `count` past frames (those just before the chunk)";
  let description = [{
    ```mlir
    %near = lf.near_frames {count = 2} : !lf.mask
    ```
  }];
  let arguments = (ins Lf_I64Attr:$count);
  let assemblyFormat = "attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Lf_CurrentChunkOp : Lf_MaskOp<"current_chunk"> {
  let summary = "the frames of the chunk being generated";
  let description = [{
    ```mlir
    %cur = lf.current_chunk : !lf.mask
    ```
  }];
  let assemblyFormat = "attr-dict `:` type($result)";
}

def Lf_SlidingWindowOp : Lf_MaskOp<"sliding_window"> {
  let summary = "keys within N frames or N tokens before the query block";
  let description = [{
    Exactly one of `frames` or `tokens`, positive. The current chunk is always
    included. `frames` measures temporal distance from the chunk's first frame
    (the frame just before the chunk is at distance 1).

    ```mlir
    %win = lf.sliding_window {frames = 4} : !lf.mask
    %tok = lf.sliding_window {tokens = 8192} : !lf.mask
    ```
  }];
  let arguments = (ins OptionalAttr<Lf_I64Attr>:$frames, OptionalAttr<Lf_I64Attr>:$tokens);
  let assemblyFormat = "attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Lf_RadialOp : Lf_MaskOp<"radial"> {
  let summary = "spatial window that halves every `decay_frames` of temporal distance";
  let description = [{
    For a past frame at temporal distance `d` frames, keeps the key blocks
    within a spatial window covering `max(min_density, 2^(-d / decay_frames))`
    of the frame around the query block's position. Requires
    `decay_frames > 0` and `0 < min_density <= 1`.

    ```mlir
    %rad = lf.radial {decay_frames = 3, min_density = 0.125} : !lf.mask
    ```
  }];
  let arguments = (ins Lf_I64Attr:$decay_frames, F64Attr:$min_density);
  let assemblyFormat = "attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Lf_FramesOp : Lf_MaskOp<"frames"> {
  let summary = "a static set of frames (produced by lf-specialize-chunks)";
  let description = [{
    Every key block overlapping one of the listed frames (positions in the
    chunk's logical KV sequence, strictly increasing). Only valid in a chunk.

    ```mlir
    %f = lf.frames {frames = array<i64: 0, 4, 5>} : !lf.mask
    ```
  }];
  let arguments = (ins DenseI64ArrayAttr:$frames);
  let assemblyFormat = "attr-dict `:` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Dynamic mask building blocks (need scores at run time)
//===----------------------------------------------------------------------===//

def Lf_FrameTopkOp : Lf_MaskOp<"frame_topk"> {
  let summary = "past frames selected by pooled score";
  let description = [{
    `k` counts every kept past frame, including the frames its operands always
    keep (sink/near); it picks `k - |always|` middle frames by
    `dot(mean(q block), mean(frame keys))`. When a chunk's past holds no more
    than `k` frames, every past frame is kept.

    ```mlir
    %mid = lf.frame_topk %sink, %near {k = 6, score = "mean_dot"} : !lf.mask
    ```
  }];
  let arguments = (ins Variadic<Lf_MaskType>:$always, Lf_I64Attr:$k,
                   DefaultValuedStrAttr<StrAttr, "mean_dot">:$score);
  let assemblyFormat = "$always attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Lf_BlockTopkOp : Lf_MaskOp<"block_topk"> {
  let summary = "key blocks of the input selected by pooled score under a budget";
  let description = [{
    `budget = "growth"` keeps `floor((1 - s_chunk) * key_blocks)` blocks
    (`s_chunk` from the growth schedule); `budget = "density"` keeps
    `floor(density * key_blocks)`.

    ```mlir
    %kept = lf.block_topk %all {budget = "growth", score = "mean_dot"} : !lf.mask
    %some = lf.block_topk %all {budget = "density", density = 0.2} : !lf.mask
    ```
  }];
  let arguments = (ins Lf_MaskType:$input, StrAttr:$budget,
                   OptionalAttr<F64Attr>:$density,
                   DefaultValuedStrAttr<StrAttr, "mean_dot">:$score);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Lf_MassThresholdOp : Lf_MaskOp<"mass_threshold"> {
  let summary = "smallest prefix of blocks reaching a softmax mass of pooled scores";
  let description = [{
    Keeps the smallest prefix of the input's blocks (by score, descending)
    whose softmax mass of pooled scores reaches `mass`, `0 < mass <= 1`.

    ```mlir
    %m = lf.mass_threshold %all {mass = 0.9, score = "mean_dot"} : !lf.mask
    ```
  }];
  let arguments = (ins Lf_MaskType:$input, F64Attr:$mass,
                   DefaultValuedStrAttr<StrAttr, "mean_dot">:$score);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Set algebra
//===----------------------------------------------------------------------===//

def Lf_UnionOp : Lf_MaskOp<"union"> {
  let summary = "union of masks";
  let description = [{
    ```mlir
    %all = lf.union %sink, %near, %cur : !lf.mask
    ```
  }];
  let arguments = (ins Variadic<Lf_MaskType>:$inputs);
  let assemblyFormat = "$inputs attr-dict `:` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Lf_RestrictOp : Lf_MaskOp<"restrict"> {
  let summary = "intersection: the blocks of `input` that are also in `domain`";
  let description = [{
    ```mlir
    %r = lf.restrict %kept to %win : !lf.mask
    ```
  }];
  let arguments = (ins Lf_MaskType:$input, Lf_MaskType:$domain);
  let assemblyFormat = "$input `to` $domain attr-dict `:` type($result)";
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

//===----------------------------------------------------------------------===//
// Kernel level (output of lf-lower-to-kernels)
//===----------------------------------------------------------------------===//

include "LfKernelOps.td"

#endif // LFC_DIALECT_LFOPS_TD
