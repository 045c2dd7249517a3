// Every verifier message of the kernel-level lf ops (dialect/LfKernelOps.cpp), one per split.
// Each split is a valid plan with one thing broken.
// RUN: lfc-opt %s -split-input-file -verify-diagnostics

// expected-error @+1 {{'lf.plan' op needs exactly one lf.geometry, as its first op; found 0}}
lf.plan @p attributes {source = "p.toml"} {
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
  // expected-error @+1 {{'lf.plan.chunk' op is out of place; an lf.plan holds its lf.geometry, then its lf.plan.chunk ops, then its lf.kernel ops}}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
}

// -----

// expected-error @+1 {{'lf.plan' op has 0 lf.plan.chunk ops but the geometry has 1 chunks; give one per chunk}}
lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  // expected-error @+1 {{'lf.plan.chunk' op key_blocks (5) must be 4, what the geometry implies for chunk 1}}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 5, kept_key_blocks = 5, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 2, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  // expected-error @+1 {{'lf.plan.chunk' op index (3) is out of order; chunk #2 of the plan must have index 2}}
  lf.plan.chunk {index = 3, sparsity = 0.0, dense = true, visible_frames = 2, query_blocks = 4, key_blocks = 8, kept_key_blocks = 8, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1, 2>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  // expected-error @+1 {{'lf.kernel' op is instantiated for f16 head_dim 64 but the plan's geometry is bf16 head_dim 64}}
  lf.kernel @k attributes {summary = "s", dtype = "f16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  // expected-error @+1 {{'lf.kernel' op chunks [2] must be ascending, distinct and within 1..1}}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 2>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
  // expected-error @+1 {{'lf.kernel' op serves role 'attention' for chunk 1 on every arch, and so does 'k'; give them disjoint chunks or archs}}
  lf.kernel @k2 attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    lf.kernel.entry @k2 {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  // expected-error @+1 {{'lf.kernel' op serves no chunk; list the chunks it serves or drop the kernel}}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
  lf.kernel @k2 attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>, archs = ["sm_90a"]} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    // expected-error @+1 {{'lf.kernel.entry' op symbol 'k' is already an entry of this plan; entry symbols are unique in a plan}}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.5, dense = false, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 2, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    // expected-error @+1 {{'lf.kernel.entry' op mask 'dense' cannot serve chunk 1, which is not dense; dense chunks take mask "dense", others "list" or "static"}}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  // expected-error @+1 {{'lf.plan.chunk' op has no portable attention kernel (an lf.kernel without archs with an attention entry serving chunk 1)}}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>, archs = ["sm_90a"]} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.5, dense = false, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 2, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @sel attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/selection.cuh"
    lf.kernel.static_mask "all" as "lfc::mask::All"
    // expected-error @+1 {{'lf.kernel.entry' op shared_bytes (47) is below LFC_SELECT_SHARED_STRIDE(4, 1) = 48 (one query block per CTA) for chunk 1}}
    lf.kernel.entry @sel_select {role = "select", params = "LfcSelectParams", grid = ["query_blocks", "heads", "batch"], block = array<i64: 256, 1, 1>, launch_bounds = array<i64: 256>, shared_bytes = 47, tile_q = 0}
  }
  lf.kernel @list attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 64, block_k = 64, tile_q = 64, tile_k = 64, warps = 2, mask = "list"}
    lf.kernel.entry @list {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 64, 1, 1>, launch_bounds = array<i64: 64>, shared_bytes = 40960, tile_q = 64, kernel = "mma", mask = "list", tile_k = 64, warps = 2}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  // expected-error @+1 {{'lf.plan.chunk' op is served by a kept-list attention kernel but no select entry serves chunk 1}}
  lf.plan.chunk {index = 1, sparsity = 0.5, dense = false, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 2, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @list attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 64, block_k = 64, tile_q = 64, tile_k = 64, warps = 2, mask = "list"}
    lf.kernel.entry @list {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 64, 1, 1>, launch_bounds = array<i64: 64>, shared_bytes = 40960, tile_q = 64, kernel = "mma", mask = "list", tile_k = 64, warps = 2}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.5, dense = false, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 2, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @list attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.include "lfc/static_mask.cuh"
    lf.kernel.static_mask "all" as "lfc::mask::All"
    lf.kernel.attention_config {block_q = 64, block_k = 64, tile_q = 64, tile_k = 64, warps = 2, mask = "static", tokens_per_frame = 256}
    // expected-error @+1 {{'lf.kernel.entry' op mask 'static' keeps every eligible block without a selection, but chunk 1 selects (kept_key_blocks < key_blocks); serve it with a select kernel and mask "list"}}
    lf.kernel.entry @list {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 64, 1, 1>, launch_bounds = array<i64: 64>, shared_bytes = 40960, tile_q = 64, kernel = "mma", mask = "static", tile_k = 64, warps = 2}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.5, dense = false, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 2, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "current", refresh = "every_pass"}
  // expected-error @+1 {{'lf.kernel' op compiles in static mask 'all' but chunk 1, which it serves, has 'current'}}
  lf.kernel @sel attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/selection.cuh"
    lf.kernel.static_mask "all" as "lfc::mask::All"
    lf.kernel.entry @sel_select {role = "select", params = "LfcSelectParams", grid = ["query_blocks", "heads", "batch"], block = array<i64: 256, 1, 1>, launch_bounds = array<i64: 256>, shared_bytes = 192, tile_q = 0}
  }
  lf.kernel @list attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 64, block_k = 64, tile_q = 64, tile_k = 64, warps = 2, mask = "list"}
    lf.kernel.entry @list {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 64, 1, 1>, launch_bounds = array<i64: 64>, shared_bytes = 40960, tile_q = 64, kernel = "mma", mask = "list", tile_k = 64, warps = 2}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  // expected-error @+1 {{'lf.plan.chunk' op sparsity (1.000000e+00) must be in [0, 1)}}
  lf.plan.chunk {index = 1, sparsity = 1.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  // expected-error @+1 {{'lf.plan.chunk' op kept_key_blocks (0) must be in [1, key_blocks = 4]}}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 0, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  // expected-error @+1 {{'lf.plan.chunk' op block_q (48) and block_k (64) must be powers of two in 16..256}}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 48, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  // expected-error @+1 {{'lf.plan.chunk' op frames_top_k (2) counts the sink and near frames, so it must be 0 (no frame stage) or at least 3}}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 1, near_frames = 2, frames_top_k = 2, static_mask = "all", refresh = "every_pass"}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  // expected-error @+1 {{'lf.plan.chunk' op sink_frames and near_frames are frame-stage classes; they must be 0 when frames_top_k is 0}}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 1, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  // expected-error @+1 {{'lf.plan.chunk' op static_mask 'union(sink(1), current)' is not canonical static mask text: column 15: expected a term}}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "union(sink(1), current)", refresh = "every_pass"}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  // expected-error @+1 {{'lf.plan.chunk' op static_mask 'frames(2,1)' is not canonical static mask text: column 10: expected a frame > 2 (frames are ascending and distinct)}}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "frames(2,1)", refresh = "every_pass"}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  // expected-error @+1 {{'lf.plan.chunk' op refresh "sometimes" must be "every_pass" or "per_chunk"}}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "sometimes"}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  // expected-error @+1 {{'lf.plan.chunk' op is dense, so it keeps every key block: it needs sparsity 0, kept_key_blocks == key_blocks (4) and static_mask "all"}}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "current", refresh = "every_pass"}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  // expected-error @+1 {{'lf.kernel' op head_dim (96) has no CUDA kernel; supported: 64, 128}}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 96, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  // expected-error @+1 {{'lf.kernel' op arch 'sm90' must be sm_XY or sm_XYa (e.g. sm_90a)}}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>, archs = ["sm90"]} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  // expected-error @+1 {{'lf.kernel' op lists arch 'sm_90a' twice}}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>, archs = ["sm_90a", "sm_90a"]} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  // expected-error @+1 {{'lf.kernel' op has an empty archs list; omit it for a portable kernel}}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>, archs = []} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    // expected-error @+1 {{'lf.kernel.include' op is out of place; an lf.kernel lists its includes, then its static mask, then its attention config, then its entries}}
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  // expected-error @+1 {{'lf.kernel' op has more than one lf.kernel.static_mask or lf.kernel.attention_config; one translation unit has one Mask and one Config}}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
  // expected-error @+1 {{'lf.kernel' op has no lf.kernel.entry; a kernel needs at least one entry point}}
  lf.kernel @empty attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
  // expected-error @+1 {{'lf.kernel' op has an attention config but no attention entry}}
  lf.kernel @cfg attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    lf.kernel.entry @cfg_commit {role = "commit_keys", params = "LfcCommitParams", grid = ["params"], block = array<i64: 256, 1, 1>, launch_bounds = array<i64: 256>, shared_bytes = 0, tile_q = 0}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.5, dense = false, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 2, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @list attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 64, block_k = 64, tile_q = 64, tile_k = 64, warps = 2, mask = "list"}
    lf.kernel.entry @list {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 64, 1, 1>, launch_bounds = array<i64: 64>, shared_bytes = 40960, tile_q = 64, kernel = "mma", mask = "list", tile_k = 64, warps = 2}
  }
  // expected-error @+1 {{'lf.kernel' op needs an lf.kernel.static_mask (its select entry or static attention config instantiates Mask)}}
  lf.kernel @sel attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/selection.cuh"
    lf.kernel.entry @sel_select {role = "select", params = "LfcSelectParams", grid = ["query_blocks", "heads", "batch"], block = array<i64: 256, 1, 1>, launch_bounds = array<i64: 256>, shared_bytes = 192, tile_q = 0}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  // expected-error @+1 {{'lf.kernel' op has an lf.kernel.static_mask that no entry uses}}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.static_mask "all" as "lfc::mask::All"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.5, dense = false, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 2, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @list attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 64, block_k = 64, tile_q = 64, tile_k = 64, warps = 2, mask = "list"}
    lf.kernel.entry @list {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 64, 1, 1>, launch_bounds = array<i64: 64>, shared_bytes = 40960, tile_q = 64, kernel = "mma", mask = "list", tile_k = 64, warps = 2}
  }
  lf.kernel @sel attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/selection.cuh"
    lf.kernel.static_mask "all" as "lfc::mask::All"
    lf.kernel.entry @sel_select {role = "select", params = "LfcSelectParams", grid = ["query_blocks", "heads", "batch"], block = array<i64: 256, 1, 1>, launch_bounds = array<i64: 256>, shared_bytes = 192, tile_q = 0}
    // expected-error @+1 {{'lf.kernel.entry' op is a second 'select' entry of this kernel; a kernel has one entry per role}}
    lf.kernel.entry @sel_select2 {role = "select", params = "LfcSelectParams", grid = ["query_blocks", "heads", "batch"], block = array<i64: 256, 1, 1>, launch_bounds = array<i64: 256>, shared_bytes = 192, tile_q = 0}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    // expected-error @+1 {{'lf.kernel.include' op path '/abs/x.cuh' must be a relative header path such as "lfc/attention.cuh"}}
    lf.kernel.include "/abs/x.cuh"
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.5, dense = false, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 2, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "current", refresh = "every_pass"}
  lf.kernel @list attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 64, block_k = 64, tile_q = 64, tile_k = 64, warps = 2, mask = "list"}
    lf.kernel.entry @list {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 64, 1, 1>, launch_bounds = array<i64: 64>, shared_bytes = 40960, tile_q = 64, kernel = "mma", mask = "list", tile_k = 64, warps = 2}
  }
  lf.kernel @sel attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/selection.cuh"
    // expected-error @+1 {{'lf.kernel.static_mask' op type 'lfc::mask::Sink<1>' does not spell 'current'; expected 'lfc::mask::Current'}}
    lf.kernel.static_mask "current" as "lfc::mask::Sink<1>"
    lf.kernel.entry @sel_select {role = "select", params = "LfcSelectParams", grid = ["query_blocks", "heads", "batch"], block = array<i64: 256, 1, 1>, launch_bounds = array<i64: 256>, shared_bytes = 192, tile_q = 0}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.5, dense = false, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 2, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @list attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 64, block_k = 64, tile_q = 64, tile_k = 64, warps = 2, mask = "list"}
    lf.kernel.entry @list {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 64, 1, 1>, launch_bounds = array<i64: 64>, shared_bytes = 40960, tile_q = 64, kernel = "mma", mask = "list", tile_k = 64, warps = 2}
  }
  lf.kernel @sel attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/selection.cuh"
    // expected-error @+1 {{'lf.kernel.static_mask' op 'restrict(current)' is not canonical static mask text: column 17: expected restrict(x,y): exactly two operands}}
    lf.kernel.static_mask "restrict(current)" as "x"
    lf.kernel.entry @sel_select {role = "select", params = "LfcSelectParams", grid = ["query_blocks", "heads", "batch"], block = array<i64: 256, 1, 1>, launch_bounds = array<i64: 256>, shared_bytes = 192, tile_q = 0}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    // expected-error @+1 {{'lf.kernel.attention_config' op tile_k (48) must be a multiple of 16, at most 128, and divide its selection block (128)}}
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 48, warps = 4, mask = "dense"}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    // expected-error @+1 {{'lf.kernel.attention_config' op mask "sparse" must be "dense", "list" or "static"}}
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "sparse"}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    // expected-error @+1 {{'lf.kernel.attention_config' op tokens_per_frame is only allowed with mask "static" (static masks are frame arithmetic)}}
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense", tokens_per_frame = 256}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    // expected-error @+1 {{'lf.kernel.attention_config' op block_q (96) and block_k (128) must be powers of two in 16..256}}
    lf.kernel.attention_config {block_q = 96, block_k = 128, tile_q = 32, tile_k = 64, warps = 4, mask = "dense"}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    // expected-error @+1 {{'lf.kernel.entry' op symbol 'k-1' must be a C identifier}}
    lf.kernel.entry @"k-1" {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    // expected-error @+1 {{'lf.kernel.entry' op role "frame_scores" has no template function; supported: "commit_keys", "pool_keys", "select", "attention"}}
    lf.kernel.entry @k {role = "frame_scores", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    // expected-error @+1 {{'lf.kernel.entry' op params "LfcSelectParams" must be "LfcAttnParams" for role "attention" and kernel "mma"}}
    lf.kernel.entry @k {role = "attention", params = "LfcSelectParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    // expected-error @+1 {{'lf.kernel.entry' op grid dimension 'rows' must be batch, heads, query_blocks, key_blocks, query_tiles or an integer >= 1}}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "rows", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    // expected-error @+1 {{'lf.kernel.entry' op grid must have 3 dimensions or be ["params"], got 2 entries}}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    // expected-error @+1 {{'lf.kernel.entry' op block has 2048 threads; a CTA has at most 1024}}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 16, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    // expected-error @+1 {{'lf.kernel.entry' op launch_bounds must be [128] or [128, min CTAs per SM] (the block's threads)}}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 256>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    // expected-error @+1 {{'lf.kernel.entry' op shared_bytes (300000) must be in [0, 232448]}}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 300000, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    // expected-error @+1 {{'lf.kernel.entry' op tile_q (0) must be positive when the grid uses query_tiles, else 0}}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 0, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    // expected-error @+1 {{'lf.kernel.entry' op attention entries need kernel, mask, tile_k and warps}}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    // expected-error @+1 {{'lf.kernel.entry' op kernel "cutlass" must be "mma", "wgmma", "wgmma_mbar" or "tma"}}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "cutlass", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    // expected-error @+1 {{'lf.kernel.entry' op stages is only allowed for kernel "tma"}}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4, stages = 2}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    // expected-error @+1 {{'lf.kernel.entry' op block must be [128, 1, 1]: 4 warps}}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 64, 2, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "dense", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    // expected-error @+1 {{'lf.kernel.entry' op tile_q 128, tile_k 64, warps 4 and mask "list" must match the kernel's attention config (128, 64, 4, "dense")}}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma", mask = "list", tile_k = 64, warps = 4}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @k attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64, warps = 4, mask = "dense"}
    // expected-error @+1 {{'lf.kernel.entry' op grid must be ["params"] for kernel "tma" (its persistent grid)}}
    lf.kernel.entry @k {role = "attention", params = "LfcAttnParams,LfcAttnTmaParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 256, 1, 1>, launch_bounds = array<i64: 256>, shared_bytes = 49152, tile_q = 128, kernel = "tma", mask = "dense", tile_k = 64, warps = 4, stages = 2}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.5, dense = false, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 2, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @list attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 64, block_k = 64, tile_q = 64, tile_k = 64, warps = 2, mask = "list"}
    lf.kernel.entry @list {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 64, 1, 1>, launch_bounds = array<i64: 64>, shared_bytes = 40960, tile_q = 64, kernel = "mma", mask = "list", tile_k = 64, warps = 2}
  }
  lf.kernel @sel attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/selection.cuh"
    lf.kernel.static_mask "all" as "lfc::mask::All"
    // expected-error @+1 {{'lf.kernel.entry' op select entries run 256 threads (lfc::selectBlocks' kThreads), got 128}}
    lf.kernel.entry @sel_select {role = "select", params = "LfcSelectParams", grid = ["query_blocks", "heads", "batch"], block = array<i64: 128, 1, 1>, launch_bounds = array<i64: 128>, shared_bytes = 192, tile_q = 0}
  }
}

// -----

lf.plan @p attributes {source = "p.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.5, dense = false, visible_frames = 1, query_blocks = 4, key_blocks = 4, kept_key_blocks = 2, block_q = 64, block_k = 64, sink_frames = 0, near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.kernel @list attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 64, block_k = 64, tile_q = 64, tile_k = 64, warps = 2, mask = "list"}
    lf.kernel.entry @list {role = "attention", params = "LfcAttnParams", grid = ["query_tiles", "heads", "batch"], block = array<i64: 64, 1, 1>, launch_bounds = array<i64: 64>, shared_bytes = 40960, tile_q = 64, kernel = "mma", mask = "list", tile_k = 64, warps = 2}
  }
  lf.kernel @sel attributes {summary = "s", dtype = "bf16", head_dim = 64, chunks = array<i64: 1>} {
    lf.kernel.include "lfc/selection.cuh"
    lf.kernel.static_mask "all" as "lfc::mask::All"
    // expected-error @+1 {{'lf.kernel.entry' op kernel, mask, tile_k, warps and stages describe attention entries only}}
    lf.kernel.entry @sel_select {role = "select", params = "LfcSelectParams", grid = ["query_blocks", "heads", "batch"], block = array<i64: 256, 1, 1>, launch_bounds = array<i64: 256>, shared_bytes = 192, tile_q = 0, warps = 4}
  }
}
