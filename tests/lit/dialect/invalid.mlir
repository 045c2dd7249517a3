// Every verifier message of the lf dialect, one per split.
// RUN: lfc-opt %s -split-input-file -verify-diagnostics

lf.policy @p {
  // expected-error @+1 {{'lf.geometry' op layers (0) must be positive}}
  lf.geometry {layers = 0, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

lf.policy @p {
  // expected-error @+1 {{'lf.geometry' op heads (-2) must be positive}}
  lf.geometry {layers = 1, heads = -2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

lf.policy @p {
  // expected-error @+1 {{'lf.geometry' op tokens_per_frame (0) must be positive}}
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 0, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

lf.policy @p {
  // expected-error @+1 {{'lf.geometry' op frames_per_chunk (0) must be positive}}
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 0, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

lf.policy @p {
  // expected-error @+1 {{'lf.geometry' op chunks (0) must be positive}}
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 0, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

lf.policy @p {
  // expected-error @+1 {{'lf.geometry' op passes_per_chunk (0) must be positive}}
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 0, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

lf.policy @p {
  // expected-error @+1 {{'lf.geometry' op head_dim (96) is not supported; supported: 64, 128}}
  lf.geometry {layers = 1, heads = 2, head_dim = 96, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

lf.policy @p {
  // expected-error @+1 {{'lf.geometry' op dtype "f32" is not supported; supported: "bf16", "f16"}}
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "f32", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

lf.policy @p {
  // expected-error @+1 {{'lf.geometry' op kv_window_frames (2) must be 0 (global cache) or at least frames_per_chunk (3) so the window holds the current chunk}}
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 3, chunks = 3, passes_per_chunk = 1, kv_window_frames = 2, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

lf.policy @p {
  // expected-error @+1 {{'lf.geometry' op kv_window_frames (-1) must be 0 (global cache) or at least frames_per_chunk (1)}}
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = -1, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

lf.policy @p {
  // expected-error @+1 {{'lf.geometry' op sink_frames (-1) must be 0 or positive}}
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = -1}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  // expected-error @+1 {{'lf.growth.chunk_aware' op target (-1.000000e-01) must be in [0, 1): 0 is dense, values approaching 1 drop almost every key block}}
  lf.growth.chunk_aware {target = -0.1, base = 0.9}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  // expected-error @+1 {{'lf.growth.chunk_aware' op base (1.000000e+00) must be in [0, 1)}}
  lf.growth.chunk_aware {target = 0.5, base = 1.0}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  // expected-error @+1 {{'lf.growth.chunk_aware' op target (9.000000e-01) must be below base (8.000000e-01): later chunks grow from the target towards the base sparsity}}
  lf.growth.chunk_aware {target = 0.9, base = 0.8}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  // expected-error @+1 {{'lf.growth.chunk_aware' op target (8.000000e-01) must be below base (8.000000e-01)}}
  lf.growth.chunk_aware {target = 0.8, base = 0.8}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  // expected-error @+1 {{'lf.growth.constant' op sparsity (1.500000e+00) must be in [0, 1)}}
  lf.growth.constant {sparsity = 1.5}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  // expected-error @+1 {{'lf.growth.explicit' op sparsity of chunk 2 (-5.000000e-01) must be in [0, 1)}}
  lf.growth.explicit {sparsity = array<f64: 0.0, -0.5, 0.5>}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  // expected-error @+1 {{'lf.growth.explicit' op sparsity is empty; give one value in [0, 1) per chunk}}
  lf.growth.explicit {sparsity = array<f64>}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  // expected-error @+1 {{'lf.growth.explicit' op has 2 sparsity values but the geometry has 3 chunks; give exactly one value per chunk}}
  lf.growth.explicit {sparsity = array<f64: 0.0, 0.5>}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  // expected-error @+1 {{'lf.schedule' op has 4 sparsity values but the geometry has 3 chunks; give exactly one value per chunk}}
  lf.schedule {sparsity = array<f64: 0.0, 0.5, 0.5, 0.5>}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  // expected-error @+1 {{'lf.schedule' op sparsity of chunk 3 (1.000000e+00) must be in [0, 1)}}
  lf.schedule {sparsity = array<f64: 0.0, 0.5, 1.0>}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  // expected-error @+1 {{'lf.schedule' op sparsity is empty}}
  lf.schedule {sparsity = array<f64>}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

// expected-error @+1 {{'lf.policy' op needs exactly one lf.geometry, found 0}}
lf.policy @p {
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

// expected-error @+1 {{'lf.policy' op needs exactly one lf.geometry, found 2}}
lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

// expected-error @+1 {{'lf.policy' op needs exactly one lf.select, found 0}}
lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
}

// -----

// expected-error @+1 {{'lf.policy' op needs exactly one lf.select, found 2}}
lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

// expected-error @+1 {{'lf.policy' op has 2 growth ops; at most one lf.growth.* is allowed}}
lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.growth.constant {sparsity = 0.5}
  lf.growth.chunk_aware {target = 0.5, base = 0.9}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

// expected-error @+1 {{'lf.policy' op has 2 lf.schedule ops; at most one is allowed}}
lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.schedule {sparsity = array<f64: 0.0, 0.5, 0.5>}
  lf.schedule {sparsity = array<f64: 0.0, 0.5, 0.5>}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

// expected-error @+1 {{'lf.policy' op has both a growth op and an lf.schedule; lf-resolve-growth replaces the growth op by the schedule, keep only one}}
lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.growth.constant {sparsity = 0.5}
  lf.schedule {sparsity = array<f64: 0.0, 0.5, 0.5>}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    // expected-error @+1 {{'lf.block_topk' op budget "growth" needs an lf.growth.* or lf.schedule op in the enclosing policy; add one or use budget = "density"}}
    %k = lf.block_topk %c {budget = "growth"} : !lf.mask
    lf.yield %k : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  // expected-error @+1 {{'lf.select' op block_q (48) must be a power of two in 16..256 (16, 32, 64, 128, 256)}}
  lf.select {block_q = 48, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  // expected-error @+1 {{'lf.select' op block_k (512) must be a power of two in 16..256}}
  lf.select {block_q = 64, block_k = 512, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  // expected-error @+1 {{'lf.select' op block_q (8) must be a power of two in 16..256}}
  lf.select {block_q = 8, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  // expected-error @+1 {{'lf.select' op refresh "sometimes" is not supported; supported: "every_pass", "per_chunk"}}
  lf.select {block_q = 64, block_k = 64, refresh = "sometimes"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  // expected-error @+1 {{'lf.select' op body must end with an lf.yield of the selected !lf.mask}}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.growth.constant {sparsity = 0.5}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    // expected-error @+1 {{'lf.sink_frames' op count (0) must be positive; drop the op to keep no sink frames}}
    %s = lf.sink_frames {count = 0} : !lf.mask
    lf.yield %s : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.growth.constant {sparsity = 0.5}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    // expected-error @+1 {{'lf.near_frames' op count (-1) must be positive; drop the op to keep no near frames}}
    %s = lf.near_frames {count = -1} : !lf.mask
    lf.yield %s : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.growth.constant {sparsity = 0.5}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    // expected-error @+1 {{'lf.sliding_window' op needs exactly one of 'frames' or 'tokens', got both}}
    %s = lf.sliding_window {frames = 2, tokens = 100} : !lf.mask
    lf.yield %s : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.growth.constant {sparsity = 0.5}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    // expected-error @+1 {{'lf.sliding_window' op needs exactly one of 'frames' or 'tokens', got neither}}
    %s = lf.sliding_window : !lf.mask
    lf.yield %s : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.growth.constant {sparsity = 0.5}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    // expected-error @+1 {{'lf.sliding_window' op frames (0) must be positive}}
    %s = lf.sliding_window {frames = 0} : !lf.mask
    lf.yield %s : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.growth.constant {sparsity = 0.5}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    // expected-error @+1 {{'lf.sliding_window' op tokens (-5) must be positive}}
    %s = lf.sliding_window {tokens = -5} : !lf.mask
    lf.yield %s : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.growth.constant {sparsity = 0.5}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    // expected-error @+1 {{'lf.radial' op decay_frames (0) must be positive}}
    %s = lf.radial {decay_frames = 0, min_density = 0.5} : !lf.mask
    lf.yield %s : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.growth.constant {sparsity = 0.5}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    // expected-error @+1 {{'lf.radial' op min_density (0.000000e+00) must be in (0, 1]}}
    %s = lf.radial {decay_frames = 2, min_density = 0.0} : !lf.mask
    lf.yield %s : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.growth.constant {sparsity = 0.5}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    // expected-error @+1 {{'lf.radial' op min_density (1.500000e+00) must be in (0, 1]}}
    %s = lf.radial {decay_frames = 2, min_density = 1.5} : !lf.mask
    lf.yield %s : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.growth.constant {sparsity = 0.5}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    // expected-error @+1 {{'lf.frames' op is only valid inside lf.chunk (it is produced by lf-specialize-chunks); in lf.select use lf.sink_frames, lf.near_frames or lf.current_chunk}}
    %s = lf.frames {frames = array<i64: 0>} : !lf.mask
    lf.yield %s : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.growth.constant {sparsity = 0.5}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    // expected-error @+1 {{'lf.frame_topk' op k (0) must be positive}}
    %s = lf.frame_topk {k = 0} : !lf.mask
    lf.yield %s : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.growth.constant {sparsity = 0.5}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    // expected-error @+1 {{'lf.frame_topk' op score "max_dot" is not supported; supported: "mean_dot"}}
    %s = lf.frame_topk {k = 2, score = "max_dot"} : !lf.mask
    lf.yield %s : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.growth.constant {sparsity = 0.5}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %s = lf.sink_frames {count = 1} : !lf.mask
    %n = lf.near_frames {count = 2} : !lf.mask
    // expected-error @+1 {{'lf.frame_topk' op k (2) is smaller than the 3 frames its operands always keep; k counts every kept past frame, so use k >= 3}}
    %t = lf.frame_topk %s, %n {k = 2} : !lf.mask
    lf.yield %t : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.growth.constant {sparsity = 0.5}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    // expected-error @+1 {{'lf.frame_topk' op operand #0 must be a static set of past frames (lf.sink_frames, lf.near_frames, lf.sliding_window {frames}, lf.frames), got lf.current_chunk}}
    %t = lf.frame_topk %c {k = 2} : !lf.mask
    lf.yield %t : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.growth.constant {sparsity = 0.5}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    // expected-error @+1 {{'lf.block_topk' op score "l2" is not supported; supported: "mean_dot"}}
    %k = lf.block_topk %c {budget = "growth", score = "l2"} : !lf.mask
    lf.yield %k : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.growth.constant {sparsity = 0.5}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    // expected-error @+1 {{'lf.block_topk' op density is only meaningful with budget = "density"; budget "growth" takes the chunk's sparsity from the schedule}}
    %k = lf.block_topk %c {budget = "growth", density = 0.5} : !lf.mask
    lf.yield %k : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.growth.constant {sparsity = 0.5}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    // expected-error @+1 {{'lf.block_topk' op budget "fixed" is not supported; supported: "growth", "density"}}
    %k = lf.block_topk %c {budget = "fixed"} : !lf.mask
    lf.yield %k : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.growth.constant {sparsity = 0.5}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    // expected-error @+1 {{'lf.block_topk' op budget "density" needs a density attribute in (0, 1]}}
    %k = lf.block_topk %c {budget = "density"} : !lf.mask
    lf.yield %k : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.growth.constant {sparsity = 0.5}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    // expected-error @+1 {{'lf.block_topk' op density (0.000000e+00) must be in (0, 1]}}
    %k = lf.block_topk %c {budget = "density", density = 0.0} : !lf.mask
    lf.yield %k : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.growth.constant {sparsity = 0.5}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    // expected-error @+1 {{'lf.mass_threshold' op mass (1.100000e+00) must be in (0, 1]}}
    %k = lf.mass_threshold %c {mass = 1.1} : !lf.mask
    lf.yield %k : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.growth.constant {sparsity = 0.5}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    // expected-error @+1 {{'lf.mass_threshold' op score "max" is not supported; supported: "mean_dot"}}
    %k = lf.mass_threshold %c {mass = 0.5, score = "max"} : !lf.mask
    lf.yield %k : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.growth.constant {sparsity = 0.5}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    // expected-error @+1 {{'lf.union' op needs at least one operand}}
    %u = lf.union : !lf.mask
    lf.yield %u : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
  // expected-error @+1 {{'lf.chunk' op index (0) must be positive}}
  lf.chunk {index = 0, sparsity = 0.0, visible_frames = 1, query_tokens = 256, kv_tokens = 256, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, sink = array<i64>, near = array<i64>, middle = array<i64>, current = array<i64: 0>, frames_kept = 0, dense = true} {
    %f = lf.frames {frames = array<i64: 0>} : !lf.mask
    lf.yield %f : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
  // expected-error @+1 {{'lf.chunk' op sparsity (1.000000e+00) must be in [0, 1)}}
  lf.chunk {index = 1, sparsity = 1.0, visible_frames = 1, query_tokens = 256, kv_tokens = 256, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, sink = array<i64>, near = array<i64>, middle = array<i64>, current = array<i64: 0>, frames_kept = 0, dense = true} {
    %f = lf.frames {frames = array<i64: 0>} : !lf.mask
    lf.yield %f : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
  // expected-error @+1 {{'lf.chunk' op visible_frames (0) must be positive}}
  lf.chunk {index = 1, sparsity = 0.0, visible_frames = 0, query_tokens = 256, kv_tokens = 256, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, sink = array<i64>, near = array<i64>, middle = array<i64>, current = array<i64>, frames_kept = 0, dense = true} {
    %f = lf.frames {frames = array<i64: 0>} : !lf.mask
    lf.yield %f : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
  // expected-error @+1 {{'lf.chunk' op query_tokens (0) must be positive}}
  lf.chunk {index = 1, sparsity = 0.0, visible_frames = 1, query_tokens = 0, kv_tokens = 256, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, sink = array<i64>, near = array<i64>, middle = array<i64>, current = array<i64: 0>, frames_kept = 0, dense = true} {
    %f = lf.frames {frames = array<i64: 0>} : !lf.mask
    lf.yield %f : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
  // expected-error @+1 {{'lf.chunk' op kv_tokens (0) must be positive}}
  lf.chunk {index = 1, sparsity = 0.0, visible_frames = 1, query_tokens = 256, kv_tokens = 0, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, sink = array<i64>, near = array<i64>, middle = array<i64>, current = array<i64: 0>, frames_kept = 0, dense = true} {
    %f = lf.frames {frames = array<i64: 0>} : !lf.mask
    lf.yield %f : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
  // expected-error @+1 {{'lf.chunk' op query_blocks (0) must be positive}}
  lf.chunk {index = 1, sparsity = 0.0, visible_frames = 1, query_tokens = 256, kv_tokens = 256, query_blocks = 0, key_blocks = 4, kept_key_blocks = 4, sink = array<i64>, near = array<i64>, middle = array<i64>, current = array<i64: 0>, frames_kept = 0, dense = true} {
    %f = lf.frames {frames = array<i64: 0>} : !lf.mask
    lf.yield %f : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
  // expected-error @+1 {{'lf.chunk' op key_blocks (0) must be positive}}
  lf.chunk {index = 1, sparsity = 0.0, visible_frames = 1, query_tokens = 256, kv_tokens = 256, query_blocks = 4, key_blocks = 0, kept_key_blocks = 4, sink = array<i64>, near = array<i64>, middle = array<i64>, current = array<i64: 0>, frames_kept = 0, dense = true} {
    %f = lf.frames {frames = array<i64: 0>} : !lf.mask
    lf.yield %f : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
  // expected-error @+1 {{'lf.chunk' op kept_key_blocks (5) must be in [0, key_blocks = 4]}}
  lf.chunk {index = 1, sparsity = 0.0, visible_frames = 1, query_tokens = 256, kv_tokens = 256, query_blocks = 4, key_blocks = 4, kept_key_blocks = 5, sink = array<i64>, near = array<i64>, middle = array<i64>, current = array<i64: 0>, frames_kept = 0, dense = true} {
    %f = lf.frames {frames = array<i64: 0>} : !lf.mask
    lf.yield %f : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
  // expected-error @+1 {{'lf.chunk' op near frame 3 is outside the visible frames [0, 1)}}
  lf.chunk {index = 1, sparsity = 0.0, visible_frames = 1, query_tokens = 256, kv_tokens = 256, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, sink = array<i64>, near = array<i64: 3>, middle = array<i64>, current = array<i64: 0>, frames_kept = 0, dense = true} {
    %f = lf.frames {frames = array<i64: 0>} : !lf.mask
    lf.yield %f : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
  // expected-error @+1 {{'lf.chunk' op sink, near, middle and current classify 2 frames but visible_frames is 3; every visible frame has one class}}
  lf.chunk {index = 1, sparsity = 0.0, visible_frames = 3, query_tokens = 256, kv_tokens = 256, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, sink = array<i64: 0>, near = array<i64>, middle = array<i64>, current = array<i64: 2>, frames_kept = 0, dense = true} {
    %f = lf.frames {frames = array<i64: 2>} : !lf.mask
    lf.yield %f : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
  // expected-error @+1 {{'lf.chunk' op frames_kept (2) must be in [0, 1] (the past frames of this chunk)}}
  lf.chunk {index = 1, sparsity = 0.0, visible_frames = 2, query_tokens = 256, kv_tokens = 256, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, sink = array<i64: 0>, near = array<i64>, middle = array<i64>, current = array<i64: 1>, frames_kept = 2, dense = true} {
    %f = lf.frames {frames = array<i64: 0>} : !lf.mask
    lf.yield %f : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
  // expected-error @+1 {{'lf.chunk' op body must end with an lf.yield of the selected !lf.mask}}
  lf.chunk {index = 1, sparsity = 0.0, visible_frames = 1, query_tokens = 256, kv_tokens = 256, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, sink = array<i64>, near = array<i64>, middle = array<i64>, current = array<i64: 0>, frames_kept = 0, dense = true} {
    %f = lf.frames {frames = array<i64: 0>} : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
  lf.chunk {index = 1, sparsity = 0.0, visible_frames = 1, query_tokens = 256, kv_tokens = 256, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, sink = array<i64>, near = array<i64>, middle = array<i64>, current = array<i64: 0>, frames_kept = 0, dense = true} {
    // expected-error @+1 {{'lf.frames' op frames must be strictly increasing, got 0 after 0}}
    %f = lf.frames {frames = array<i64: 0, 0>} : !lf.mask
    lf.yield %f : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 1, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
  lf.chunk {index = 1, sparsity = 0.0, visible_frames = 1, query_tokens = 256, kv_tokens = 256, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, sink = array<i64>, near = array<i64>, middle = array<i64>, current = array<i64: 0>, frames_kept = 0, dense = true} {
    // expected-error @+1 {{'lf.frames' op frame 1 is outside the chunk's visible frames [0, 1)}}
    %f = lf.frames {frames = array<i64: 1>} : !lf.mask
    lf.yield %f : !lf.mask
  }
}

// -----

// expected-error @+1 {{'lf.policy' op has 1 lf.chunk ops but the geometry has 3 chunks; a specialized policy has one per chunk}}
lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
  lf.chunk {index = 1, sparsity = 0.0, visible_frames = 1, query_tokens = 256, kv_tokens = 256, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, sink = array<i64>, near = array<i64>, middle = array<i64>, current = array<i64: 0>, frames_kept = 0, dense = true} {
    %f = lf.frames {frames = array<i64: 0>} : !lf.mask
    lf.yield %f : !lf.mask
  }
}

// -----

lf.policy @p {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 2, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
  lf.chunk {index = 1, sparsity = 0.0, visible_frames = 1, query_tokens = 256, kv_tokens = 256, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, sink = array<i64>, near = array<i64>, middle = array<i64>, current = array<i64: 0>, frames_kept = 0, dense = true} {
    %f = lf.frames {frames = array<i64: 0>} : !lf.mask
    lf.yield %f : !lf.mask
  }
  // expected-error @+1 {{'lf.chunk' op index (3) is out of order; chunk #2 of the policy must have index 2}}
  lf.chunk {index = 3, sparsity = 0.0, visible_frames = 1, query_tokens = 256, kv_tokens = 256, query_blocks = 4, key_blocks = 4, kept_key_blocks = 4, sink = array<i64>, near = array<i64>, middle = array<i64>, current = array<i64: 0>, frames_kept = 0, dense = true} {
    %f = lf.frames {frames = array<i64: 0>} : !lf.mask
    lf.yield %f : !lf.mask
  }
}
