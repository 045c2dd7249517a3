// lf-lower-to-kernels: every decision of the plan as kernel-level ops. Expected values are
// worked out in the comments from docs/lowering.md, docs/plan-format.md and the kernel
// catalog's rules (runtime/cuda/KernelSources.cpp: chooseAttnVariant), not from the pass.
// RUN: lfc-opt %s -split-input-file -verify-diagnostics -lf-resolve-growth -lf-specialize-chunks -canonicalize -lf-lower-to-kernels | FileCheck %s
// The plans verify and round-trip (`not`: the error splits below fail the first run).
// RUN: not lfc-opt %s -split-input-file -lf-resolve-growth -lf-specialize-chunks -canonicalize -lf-lower-to-kernels 2>/dev/null | lfc-opt -split-input-file | FileCheck %s --check-prefix=ROUND

// HSA: 4 chunks of 1 frame (256 tokens, blocks of 64: 4 query blocks, 4i key blocks).
// Chunk 1 dense; chunks 2-4 keep floor(0.5 * 4i) blocks = 4, 6, 8, below key_blocks, so they
// select; the frame stage (top-2 with 1 sink) restricts chunk 4 only (past 3 > 2).
// (Under -split-input-file the source names the split.)
// CHECK-LABEL: lf.plan @hsa attributes {source = "{{.*}}lf-lower-to-kernels.mlir{{.*}}"}
// CHECK-NEXT: lf.geometry {chunks = 4 : i64, dtype = "bf16"
// CHECK-NEXT: lf.plan.chunk {block_k = 64 : i64, block_q = 64 : i64, dense = true, frames_top_k = 2 : i64, index = 1 : i64, kept_key_blocks = 4 : i64, key_blocks = 4 : i64, near_frames = 0 : i64, query_blocks = 4 : i64, refresh = "every_pass", sink_frames = 1 : i64, sparsity = 0.000000e+00 : f64, static_mask = "all", visible_frames = 1 : i64}
// CHECK-NEXT: lf.plan.chunk {block_k = 64 : i64, block_q = 64 : i64, dense = false, frames_top_k = 2 : i64, index = 2 : i64, kept_key_blocks = 4 : i64, key_blocks = 8 : i64, near_frames = 0 : i64, query_blocks = 4 : i64, refresh = "every_pass", sink_frames = 1 : i64, sparsity = 5.000000e-01 : f64, static_mask = "all", visible_frames = 2 : i64}
// CHECK-NEXT: lf.plan.chunk {{.*}}index = 3 : i64, kept_key_blocks = 6 : i64, key_blocks = 12 : i64
// CHECK-NEXT: lf.plan.chunk {{.*}}index = 4 : i64, kept_key_blocks = 8 : i64, key_blocks = 16 : i64
// LFC_SELECT_SHARED_BYTES(4 query blocks, 16 key blocks, 4 frames) = 4 * round16(16*8 + 4*5) = 640.
// CHECK-NEXT: lf.kernel @hsa_select_bf16_d64 attributes {chunks = array<i64: 2, 3, 4>, dtype = "bf16", head_dim = 64 : i64, summary = "selection entries: commit keys, pool keys, select (frame top-2, then block top-k within static mask all)"} {
// CHECK-NEXT: lf.kernel.include "lfc/selection.cuh"
// CHECK-NEXT: lf.kernel.include "lfc/static_mask.cuh"
// CHECK-NEXT: lf.kernel.static_mask "all" as "lfc::mask::All"
// CHECK-NEXT: lf.kernel.entry @hsa_select_bf16_d64_commit {block = array<i64: 256, 1, 1>, grid = ["params"], launch_bounds = array<i64: 256>, params = "LfcCommitParams", role = "commit_keys", shared_bytes = 0 : i64, tile_q = 0 : i64}
// CHECK-NEXT: lf.kernel.entry @hsa_select_bf16_d64_pool {block = array<i64: 256, 1, 1>, grid = ["params"], launch_bounds = array<i64: 256>, params = "LfcPoolKeysParams", role = "pool_keys", shared_bytes = 0 : i64, tile_q = 0 : i64}
// CHECK-NEXT: lf.kernel.entry @hsa_select_bf16_d64_select {block = array<i64: 256, 1, 1>, grid = ["params"], launch_bounds = array<i64: 256>, params = "LfcSelectParams", role = "select", shared_bytes = 640 : i64, tile_q = 0 : i64}
// CHECK-NEXT: }
// sm_90a, block_q 64 < 128: no TMA; the wgmma kernel, one warp per 16 query rows, two CTAs
// per SM, (64 + 4*64) * 64 * 2 + 1024 = 41984 bytes.
// CHECK-NEXT: lf.kernel @hsa_attn_sm90a_bf16_d64_bq64_bk64_tq64_tk64_w4_wgmma_list attributes {archs = ["sm_90a"], chunks = array<i64: 2, 3, 4>
// CHECK-NEXT: lf.kernel.include "lfc/attention_sm90.cuh"
// CHECK-NEXT: lf.kernel.attention_config {block_k = 64 : i64, block_q = 64 : i64, mask = "list", tile_k = 64 : i64, tile_q = 64 : i64, warps = 4 : i64}
// CHECK-NEXT: lf.kernel.entry @hsa_attn_sm90a_bf16_d64_bq64_bk64_tq64_tk64_w4_wgmma_list {block = array<i64: 128, 1, 1>, grid = ["query_tiles", "heads", "batch"], kernel = "wgmma", launch_bounds = array<i64: 128, 2>, mask = "list", params = "LfcAttnParams", role = "attention", shared_bytes = 41984 : i64, tile_k = 64 : i64, tile_q = 64 : i64, warps = 4 : i64}
// Portable: mma.sync, 32 rows per warp.
// CHECK: lf.kernel @hsa_attn_bf16_d64_bq64_bk64_tq64_tk64_w2_list attributes {chunks = array<i64: 2, 3, 4>, dtype = "bf16"
// CHECK-NEXT: lf.kernel.include "lfc/attention.cuh"
// CHECK-NEXT: lf.kernel.attention_config {block_k = 64 : i64, block_q = 64 : i64, mask = "list", tile_k = 64 : i64, tile_q = 64 : i64, warps = 2 : i64}
// CHECK-NEXT: lf.kernel.entry {{.*}}kernel = "mma", launch_bounds = array<i64: 64>, mask = "list"
// Dense: 128-row tiles; TMA on sm_90a, (128 + 4*128) * 64 * 2 + 1024 = 82944 bytes.
// CHECK: lf.kernel @hsa_attn_sm90a_bf16_d64_tq128_tk128_w8_wgmma_tma_s2_dense attributes {archs = ["sm_90a"], chunks = array<i64: 1>
// CHECK-NEXT: lf.kernel.include "lfc/attention_sm90_tma.cuh"
// CHECK-NEXT: lf.kernel.attention_config {block_k = 128 : i64, block_q = 128 : i64, mask = "dense", tile_k = 128 : i64, tile_q = 128 : i64, warps = 8 : i64}
// CHECK-NEXT: lf.kernel.entry {{.*}}{block = array<i64: 384, 1, 1>, grid = ["params"], kernel = "tma", launch_bounds = array<i64: 384, 1>, mask = "dense", params = "LfcAttnParams,LfcAttnTmaParams", role = "attention", shared_bytes = 82944 : i64, stages = 2 : i64, tile_k = 128 : i64, tile_q = 128 : i64, warps = 8 : i64}
// CHECK: lf.kernel @hsa_attn_bf16_d64_tq128_tk64_w4_dense attributes {chunks = array<i64: 1>
// CHECK-NOT: lf.kernel @
// CHECK-NOT: lf.policy
// ROUND-LABEL: lf.plan @hsa
// ROUND-COUNT-5: lf.kernel @
lf.policy @hsa {
  lf.geometry {layers = 2, heads = 2, head_dim = 64, dtype = "bf16",
               tokens_per_frame = 256, frames_per_chunk = 1, chunks = 4,
               passes_per_chunk = 2, kv_window_frames = 0, sink_frames = 0}
  lf.growth.constant {sparsity = 0.5}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %sink = lf.sink_frames {count = 1} : !lf.mask
    %cur  = lf.current_chunk : !lf.mask
    %mid  = lf.frame_topk %sink {k = 2} : !lf.mask
    %all  = lf.union %sink, %cur, %mid : !lf.mask
    %kept = lf.block_topk %all {budget = "growth"} : !lf.mask
    lf.yield %kept : !lf.mask
  }
}

// -----

// The restricted frame stage (form c), fp16: the static part is the window; the frame stage
// keeps its sink and near classes. The union names only the top-k and the current chunk (the
// top-k's result holds its always-kept operands already).
// CHECK-LABEL: lf.plan @restricted
// CHECK: lf.plan.chunk {{.*}}frames_top_k = 3 : i64, index = 2 : i64{{.*}}near_frames = 1 : i64{{.*}}sink_frames = 1 : i64, sparsity = 5.000000e-01 : f64, static_mask = "window_frames(4)"
// CHECK: lf.kernel @restricted_select_fp16_d128_static_window_frames4 attributes {chunks = array<i64: 2, 3, 4, 5, 6>, dtype = "f16"
// CHECK: lf.kernel.static_mask "window_frames(4)" as "lfc::mask::WindowFrames<4>"
// block_q 128, block_k 64: TMA on sm_90a with 64-key tiles: (128 + 4*64) * 128 * 2 + 1024.
// CHECK: lf.kernel @restricted_attn_sm90a_fp16_d128_bq128_bk64_tq128_tk64_w8_wgmma_tma_s2_list
// CHECK: shared_bytes = 99328 : i64
lf.policy @restricted {
  lf.geometry {layers = 2, heads = 2, head_dim = 128, dtype = "f16",
               tokens_per_frame = 256, frames_per_chunk = 1, chunks = 6,
               passes_per_chunk = 2, kv_window_frames = 0, sink_frames = 0}
  lf.growth.constant {sparsity = 0.5}
  lf.select {block_q = 128, block_k = 64, refresh = "every_pass"} {
    %sink = lf.sink_frames {count = 1} : !lf.mask
    %near = lf.near_frames {count = 1} : !lf.mask
    %cur  = lf.current_chunk : !lf.mask
    %mid  = lf.frame_topk %sink, %near {k = 3} : !lf.mask
    %hsa  = lf.union %mid, %cur : !lf.mask
    %win  = lf.sliding_window {frames = 4} : !lf.mask
    %elig = lf.restrict %win to %hsa : !lf.mask
    %kept = lf.block_topk %elig {budget = "growth"} : !lf.mask
    lf.yield %kept : !lf.mask
  }
}

// -----

// Static only (form a, no block top-k): no select kernel; the mask is derived from the
// selection's ops, so it reads the same in every chunk: nested unions flatten, repeats drop.
// CHECK-LABEL: lf.plan @static_only
// CHECK: lf.plan.chunk {{.*}}dense = true, {{.*}}index = 1 : i64, {{.*}}static_mask = "all"
// CHECK: lf.plan.chunk {{.*}}dense = false, {{.*}}index = 2 : i64, kept_key_blocks = 8 : i64, key_blocks = 8 : i64, {{.*}}static_mask = "union(sink(1),near(2),current)"
// CHECK-NOT: role = "select"
// CHECK: lf.kernel.static_mask "union(sink(1),near(2),current)" as "lfc::mask::Union<lfc::mask::Sink<1>, lfc::mask::Near<2>, lfc::mask::Current>"
// CHECK-NEXT: lf.kernel.attention_config {block_k = 64 : i64, block_q = 64 : i64, mask = "static", tile_k = 64 : i64, tile_q = 64 : i64, tokens_per_frame = 256 : i64, warps = 4 : i64}
// CHECK-NEXT: lf.kernel.entry @static_only_attn_sm90a_bf16_d64_bq64_bk64_tq64_tk64_w4_wgmma_tpf256_static_union_sink1_near2_current {{.*}}mask = "static"
lf.policy @static_only {
  lf.geometry {layers = 2, heads = 2, head_dim = 64, dtype = "bf16",
               tokens_per_frame = 256, frames_per_chunk = 1, chunks = 5,
               passes_per_chunk = 2, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "per_chunk"} {
    %sink = lf.sink_frames {count = 1} : !lf.mask
    %near = lf.near_frames {count = 2} : !lf.mask
    %cur  = lf.current_chunk : !lf.mask
    %past = lf.union %sink, %near : !lf.mask
    %elig = lf.union %past, %cur, %sink : !lf.mask
    lf.yield %elig : !lf.mask
  }
}

// -----

lf.policy @mass {
  lf.geometry {layers = 2, heads = 2, head_dim = 64, dtype = "bf16",
               tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3,
               passes_per_chunk = 2, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %cur = lf.current_chunk : !lf.mask
    %win = lf.sliding_window {frames = 2} : !lf.mask
    %all = lf.union %cur, %win : !lf.mask
    // expected-error @+1 {{'lf.mass_threshold' op has no kernel lowering: the CUDA kernels keep a fixed number of blocks per query block (lf.block_topk), not a mass}}
    %m = lf.mass_threshold %all {mass = 0.9} : !lf.mask
    lf.yield %m : !lf.mask
  }
}

// -----

lf.policy @nested_block_topk {
  lf.geometry {layers = 2, heads = 2, head_dim = 64, dtype = "bf16",
               tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3,
               passes_per_chunk = 2, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %cur = lf.current_chunk : !lf.mask
    %win = lf.sliding_window {frames = 2} : !lf.mask
    // expected-error @+1 {{'lf.block_topk' op must be the selected mask itself: the block stage runs last}}
    %some = lf.block_topk %win {budget = "density", density = 0.5} : !lf.mask
    %all = lf.union %cur, %some : !lf.mask
    lf.yield %all : !lf.mask
  }
}

// -----

lf.policy @union_without_current {
  lf.geometry {layers = 2, heads = 2, head_dim = 64, dtype = "bf16",
               tokens_per_frame = 256, frames_per_chunk = 1, chunks = 6,
               passes_per_chunk = 2, kv_window_frames = 0, sink_frames = 0}
  lf.growth.constant {sparsity = 0.5}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %sink = lf.sink_frames {count = 1} : !lf.mask
    %mid  = lf.frame_topk %sink {k = 2} : !lf.mask
    // expected-error @+1 {{'lf.union' op forms the frame stage but lacks lf.current_chunk}}
    %all  = lf.union %sink, %mid : !lf.mask
    %kept = lf.block_topk %all {budget = "growth"} : !lf.mask
    lf.yield %kept : !lf.mask
  }
}

// -----

lf.policy @two_frame_topks {
  lf.geometry {layers = 2, heads = 2, head_dim = 64, dtype = "bf16",
               tokens_per_frame = 256, frames_per_chunk = 1, chunks = 6,
               passes_per_chunk = 2, kv_window_frames = 0, sink_frames = 0}
  lf.growth.constant {sparsity = 0.5}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %cur  = lf.current_chunk : !lf.mask
    %a    = lf.frame_topk {k = 2} : !lf.mask
    // expected-error @+1 {{'lf.frame_topk' op is the second lf.frame_topk of this union; the frame stage selects with one}}
    %b    = lf.frame_topk {k = 3} : !lf.mask
    %all  = lf.union %a, %b, %cur : !lf.mask
    %kept = lf.block_topk %all {budget = "growth"} : !lf.mask
    lf.yield %kept : !lf.mask
  }
}

// -----

lf.policy @window_operand {
  lf.geometry {layers = 2, heads = 2, head_dim = 64, dtype = "bf16",
               tokens_per_frame = 256, frames_per_chunk = 1, chunks = 6,
               passes_per_chunk = 2, kv_window_frames = 0, sink_frames = 0}
  lf.growth.constant {sparsity = 0.5}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %cur  = lf.current_chunk : !lf.mask
    %win  = lf.sliding_window {frames = 1} : !lf.mask
    // expected-error @+1 {{'lf.frame_topk' op operand #0 cannot be lowered: the frame stage keeps at most one lf.sink_frames and one lf.near_frames operand always (docs/selection-semantics.md), got lf.sliding_window}}
    %mid  = lf.frame_topk %win {k = 2} : !lf.mask
    %all  = lf.union %mid, %cur : !lf.mask
    %kept = lf.block_topk %all {budget = "growth"} : !lf.mask
    lf.yield %kept : !lf.mask
  }
}

// -----

// lf.near_frames never holds the policy's sink frames; near(2) alone would in chunk 2 (past 1).
lf.policy @near_over_sink {
  lf.geometry {layers = 2, heads = 2, head_dim = 64, dtype = "bf16",
               tokens_per_frame = 256, frames_per_chunk = 1, chunks = 4,
               passes_per_chunk = 2, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %sink = lf.sink_frames {count = 1} : !lf.mask
    // expected-error @+1 {{'lf.near_frames' op excludes the policy's 1 sink frame(s), which near(2) of a static mask would not in chunk 2 (its past is shorter than sink + near); put an lf.sink_frames {count = 1} beside it in the same lf.union}}
    %near = lf.near_frames {count = 2} : !lf.mask
    %cur  = lf.current_chunk : !lf.mask
    %a    = lf.union %sink, %cur : !lf.mask
    %b    = lf.union %near, %cur : !lf.mask
    %both = lf.restrict %a to %b : !lf.mask
    lf.yield %both : !lf.mask
  }
}

// -----

// A rolling window of 4 frames behind 1 sink frame: past 3 frames once full, so radial
// distances of the sink frame are not its cache position.
lf.policy @radial_rolling {
  lf.geometry {layers = 2, heads = 2, head_dim = 64, dtype = "bf16",
               tokens_per_frame = 256, frames_per_chunk = 1, chunks = 8,
               passes_per_chunk = 2, kv_window_frames = 4, sink_frames = 1}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %cur = lf.current_chunk : !lf.mask
    // expected-error @+1 {{'lf.radial' op lf.radial (every past frame) reaches the cache's sink frames, whose temporal distance is not their position in the rolling window; a static mask measures positions (docs/static-masks.md), so this cannot be lowered exactly. Keep the reach within the 3 past frames of the window, or use a global cache or sink_frames = 0}}
    %rad = lf.radial {decay_frames = 2, min_density = 0.5} : !lf.mask
    %all = lf.union %cur, %rad : !lf.mask
    lf.yield %all : !lf.mask
  }
}

// -----

// The same geometry with a window of 3 frames: exact (it never reaches the sink frame).
// CHECK-LABEL: lf.plan @window_rolling
// CHECK: static_mask = "window_frames(3)"
lf.policy @window_rolling {
  lf.geometry {layers = 2, heads = 2, head_dim = 64, dtype = "bf16",
               tokens_per_frame = 256, frames_per_chunk = 1, chunks = 8,
               passes_per_chunk = 2, kv_window_frames = 4, sink_frames = 1}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %win = lf.sliding_window {frames = 3} : !lf.mask
    lf.yield %win : !lf.mask
  }
}

// -----

lf.policy @window_rolling_too_far {
  lf.geometry {layers = 2, heads = 2, head_dim = 64, dtype = "bf16",
               tokens_per_frame = 256, frames_per_chunk = 1, chunks = 8,
               passes_per_chunk = 2, kv_window_frames = 4, sink_frames = 1}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    // expected-error @+1 {{'lf.sliding_window' op this sliding window reaches the cache's sink frames}}
    %win = lf.sliding_window {frames = 4} : !lf.mask
    lf.yield %win : !lf.mask
  }
}
