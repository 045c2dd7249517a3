// Round trip of every kernel-level op (lf.plan, lf.plan.chunk, lf.kernel and its body ops):
// parse, print, parse again, print, and check the second print. The plan takes every step
// (dense, select + kept list, static) and every attention kernel kind but wgmma.
// RUN: lfc-opt %s | lfc-opt | FileCheck %s

// CHECK-LABEL: lf.plan @rt attributes {source = "rt.toml"} {
// CHECK-NEXT: lf.geometry {chunks = 3 : i64, dtype = "bf16", frames_per_chunk = 1 : i64, head_dim = 64 : i64, heads = 2 : i64, kv_window_frames = 0 : i64, layers = 1 : i64, passes_per_chunk = 1 : i64, sink_frames = 0 : i64, tokens_per_frame = 256 : i64}
// CHECK-NEXT: lf.plan.chunk {block_k = 64 : i64, block_q = 64 : i64, dense = true, frames_top_k = 0 : i64, index = 1 : i64, kept_key_blocks = 4 : i64, key_blocks = 4 : i64, near_frames = 0 : i64, query_blocks = 4 : i64, refresh = "every_pass", sink_frames = 0 : i64, sparsity = 0.000000e+00 : f64, static_mask = "all", visible_frames = 1 : i64}
// CHECK-NEXT: lf.plan.chunk {block_k = 64 : i64, block_q = 64 : i64, dense = false, frames_top_k = 0 : i64, index = 2 : i64, kept_key_blocks = 4 : i64, key_blocks = 8 : i64, near_frames = 0 : i64, query_blocks = 4 : i64, refresh = "per_chunk", sink_frames = 0 : i64, sparsity = 5.000000e-01 : f64, static_mask = "all", visible_frames = 2 : i64}
// CHECK-NEXT: lf.plan.chunk {{.*}}index = 3 : i64{{.*}}static_mask = "window_frames(1)"
// CHECK-NEXT: lf.kernel @rt_select attributes {chunks = array<i64: 2>, dtype = "bf16", head_dim = 64 : i64, summary = "selection"} {
// CHECK-NEXT:   lf.kernel.include "lfc/selection.cuh"
// CHECK-NEXT:   lf.kernel.include "lfc/static_mask.cuh"
// CHECK-NEXT:   lf.kernel.static_mask "all" as "lfc::mask::All"
// CHECK-NEXT:   lf.kernel.entry @rt_select_commit {block = array<i64: 256, 1, 1>, grid = ["params"], launch_bounds = array<i64: 256>, params = "LfcCommitParams", role = "commit_keys", shared_bytes = 0 : i64, tile_q = 0 : i64}
// CHECK-NEXT:   lf.kernel.entry @rt_select_pool {block = array<i64: 256, 1, 1>, grid = ["params"], launch_bounds = array<i64: 256>, params = "LfcPoolKeysParams", role = "pool_keys", shared_bytes = 0 : i64, tile_q = 0 : i64}
// CHECK-NEXT:   lf.kernel.entry @rt_select_select {block = array<i64: 256, 1, 1>, grid = ["params"], launch_bounds = array<i64: 256>, params = "LfcSelectParams", role = "select", shared_bytes = 320 : i64, tile_q = 0 : i64}
// CHECK-NEXT: }
// CHECK-NEXT: lf.kernel @rt_list_mbar attributes {archs = ["sm_90a"], chunks = array<i64: 2>, dtype = "bf16", head_dim = 64 : i64, summary = "kept list, wgmma with per-stage mbarriers"} {
// CHECK-NEXT:   lf.kernel.include "lfc/attention_sm90.cuh"
// CHECK-NEXT:   lf.kernel.attention_config {block_k = 64 : i64, block_q = 64 : i64, mask = "list", tile_k = 64 : i64, tile_q = 64 : i64, warps = 4 : i64}
// CHECK-NEXT:   lf.kernel.entry @rt_list_mbar {block = array<i64: 128, 1, 1>, grid = ["query_tiles", "heads", "batch"], kernel = "wgmma_mbar", launch_bounds = array<i64: 128, 2>, mask = "list", params = "LfcAttnParams", role = "attention", shared_bytes = 41984 : i64, tile_k = 64 : i64, tile_q = 64 : i64, warps = 4 : i64}
// CHECK-NEXT: }
// CHECK-NEXT: lf.kernel @rt_list attributes {chunks = array<i64: 2>
// CHECK:      lf.kernel @rt_static attributes {chunks = array<i64: 3>
// CHECK-NEXT:   lf.kernel.include "lfc/attention.cuh"
// CHECK-NEXT:   lf.kernel.include "lfc/static_mask.cuh"
// CHECK-NEXT:   lf.kernel.static_mask "window_frames(1)" as "lfc::mask::WindowFrames<1>"
// CHECK-NEXT:   lf.kernel.attention_config {block_k = 64 : i64, block_q = 64 : i64, mask = "static", tile_k = 64 : i64, tile_q = 64 : i64, tokens_per_frame = 256 : i64, warps = 2 : i64}
// CHECK-NEXT:   lf.kernel.entry @rt_static {{{.*}}kernel = "mma", launch_bounds = array<i64: 64>, mask = "static"
// CHECK:      lf.kernel @rt_dense_tma attributes {archs = ["sm_90a"], chunks = array<i64: 1>
// CHECK:        lf.kernel.entry @rt_dense_tma {block = array<i64: 384, 1, 1>, grid = ["params"], kernel = "tma", launch_bounds = array<i64: 384, 1>, mask = "dense", params = "LfcAttnParams,LfcAttnTmaParams", role = "attention", shared_bytes = 82944 : i64, stages = 2 : i64, tile_k = 128 : i64, tile_q = 128 : i64, warps = 8 : i64}
// CHECK:      lf.kernel @rt_dense attributes {chunks = array<i64: 1>
lf.plan @rt attributes {source = "rt.toml"} {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256,
               frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0,
               sink_frames = 0}
  lf.plan.chunk {index = 1, sparsity = 0.0, dense = true, visible_frames = 1, query_blocks = 4,
                 key_blocks = 4, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0,
                 near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "every_pass"}
  lf.plan.chunk {index = 2, sparsity = 0.5, dense = false, visible_frames = 2, query_blocks = 4,
                 key_blocks = 8, kept_key_blocks = 4, block_q = 64, block_k = 64, sink_frames = 0,
                 near_frames = 0, frames_top_k = 0, static_mask = "all", refresh = "per_chunk"}
  lf.plan.chunk {index = 3, sparsity = 0.0, dense = false, visible_frames = 3, query_blocks = 4,
                 key_blocks = 12, kept_key_blocks = 12, block_q = 64, block_k = 64, sink_frames = 0,
                 near_frames = 0, frames_top_k = 0, static_mask = "window_frames(1)",
                 refresh = "per_chunk"}
  lf.kernel @rt_select attributes {summary = "selection", dtype = "bf16", head_dim = 64,
                                   chunks = array<i64: 2>} {
    lf.kernel.include "lfc/selection.cuh"
    lf.kernel.include "lfc/static_mask.cuh"
    lf.kernel.static_mask "all" as "lfc::mask::All"
    lf.kernel.entry @rt_select_commit {role = "commit_keys", params = "LfcCommitParams",
        grid = ["params"], block = array<i64: 256, 1, 1>, launch_bounds = array<i64: 256>,
        shared_bytes = 0, tile_q = 0}
    lf.kernel.entry @rt_select_pool {role = "pool_keys", params = "LfcPoolKeysParams",
        grid = ["params"], block = array<i64: 256, 1, 1>, launch_bounds = array<i64: 256>,
        shared_bytes = 0, tile_q = 0}
    // LFC_SELECT_SHARED_BYTES(4, 8, 2) = 4 * round16(8*8 + 2*5) = 320
    lf.kernel.entry @rt_select_select {role = "select", params = "LfcSelectParams",
        grid = ["params"], block = array<i64: 256, 1, 1>,
        launch_bounds = array<i64: 256>, shared_bytes = 320, tile_q = 0}
  }
  lf.kernel @rt_list_mbar attributes {summary = "kept list, wgmma with per-stage mbarriers",
      dtype = "bf16", head_dim = 64, chunks = array<i64: 2>, archs = ["sm_90a"]} {
    lf.kernel.include "lfc/attention_sm90.cuh"
    lf.kernel.attention_config {block_q = 64, block_k = 64, tile_q = 64, tile_k = 64, warps = 4,
                                mask = "list"}
    lf.kernel.entry @rt_list_mbar {role = "attention", params = "LfcAttnParams",
        grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>,
        launch_bounds = array<i64: 128, 2>, shared_bytes = 41984, tile_q = 64,
        kernel = "wgmma_mbar", mask = "list", tile_k = 64, warps = 4}
  }
  lf.kernel @rt_list attributes {summary = "kept list, mma.sync", dtype = "bf16", head_dim = 64,
                                 chunks = array<i64: 2>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 64, block_k = 64, tile_q = 64, tile_k = 64, warps = 2,
                                mask = "list"}
    lf.kernel.entry @rt_list {role = "attention", params = "LfcAttnParams",
        grid = ["query_tiles", "heads", "batch"], block = array<i64: 64, 1, 1>,
        launch_bounds = array<i64: 64>, shared_bytes = 40960, tile_q = 64, kernel = "mma",
        mask = "list", tile_k = 64, warps = 2}
  }
  lf.kernel @rt_static attributes {summary = "static mask, mma.sync", dtype = "bf16",
                                   head_dim = 64, chunks = array<i64: 3>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.include "lfc/static_mask.cuh"
    lf.kernel.static_mask "window_frames(1)" as "lfc::mask::WindowFrames<1>"
    lf.kernel.attention_config {block_q = 64, block_k = 64, tile_q = 64, tile_k = 64, warps = 2,
                                mask = "static", tokens_per_frame = 256}
    lf.kernel.entry @rt_static {role = "attention", params = "LfcAttnParams",
        grid = ["query_tiles", "heads", "batch"], block = array<i64: 64, 1, 1>,
        launch_bounds = array<i64: 64>, shared_bytes = 40960, tile_q = 64, kernel = "mma",
        mask = "static", tile_k = 64, warps = 2}
  }
  lf.kernel @rt_dense_tma attributes {summary = "dense, TMA", dtype = "bf16", head_dim = 64,
                                      chunks = array<i64: 1>, archs = ["sm_90a"]} {
    lf.kernel.include "lfc/attention_sm90_tma.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 128,
                                warps = 8, mask = "dense"}
    lf.kernel.entry @rt_dense_tma {role = "attention",
        params = "LfcAttnParams,LfcAttnTmaParams", grid = ["params"],
        block = array<i64: 384, 1, 1>, launch_bounds = array<i64: 384, 1>, shared_bytes = 82944,
        tile_q = 128, kernel = "tma", mask = "dense", tile_k = 128, warps = 8, stages = 2}
  }
  lf.kernel @rt_dense attributes {summary = "dense, mma.sync", dtype = "bf16", head_dim = 64,
                                  chunks = array<i64: 1>} {
    lf.kernel.include "lfc/attention.cuh"
    lf.kernel.attention_config {block_q = 128, block_k = 128, tile_q = 128, tile_k = 64,
                                warps = 4, mask = "dense"}
    lf.kernel.entry @rt_dense {role = "attention", params = "LfcAttnParams",
        grid = ["query_tiles", "heads", "batch"], block = array<i64: 128, 1, 1>,
        launch_bounds = array<i64: 128>, shared_bytes = 49152, tile_q = 128, kernel = "mma",
        mask = "dense", tile_k = 64, warps = 4}
  }
}
