// Round trip of every lf op: parse, print, parse again, print, and check the
// second print.
// RUN: lfc-opt %s | lfc-opt | FileCheck %s

// CHECK-LABEL: lf.policy @hsa
// CHECK: lf.geometry {chunks = 7 : i64, dtype = "bf16", frames_per_chunk = 3 : i64, head_dim = 128 : i64, heads = 12 : i64, kv_window_frames = 0 : i64, layers = 30 : i64, passes_per_chunk = 5 : i64, sink_frames = 1 : i64, tokens_per_frame = 1560 : i64}
// CHECK: lf.growth.chunk_aware {base = 0.97999999999999998 : f64, target = 8.800000e-01 : f64}
// CHECK: lf.select {block_k = 128 : i64, block_q = 64 : i64, refresh = "every_pass"} {
// CHECK-NEXT:   %[[SINK:.*]] = lf.sink_frames {count = 1 : i64} : !lf.mask
// CHECK-NEXT:   %[[NEAR:.*]] = lf.near_frames {count = 2 : i64} : !lf.mask
// CHECK-NEXT:   %[[CUR:.*]] = lf.current_chunk : !lf.mask
// CHECK-NEXT:   %[[MID:.*]] = lf.frame_topk %[[SINK]], %[[NEAR]] {k = 6 : i64} : !lf.mask
// CHECK-NEXT:   %[[ALL:.*]] = lf.union %[[SINK]], %[[NEAR]], %[[CUR]], %[[MID]] : !lf.mask
// CHECK-NEXT:   %[[KEPT:.*]] = lf.block_topk %[[ALL]] {budget = "growth"} : !lf.mask
// CHECK-NEXT:   lf.yield %[[KEPT]] : !lf.mask
lf.policy @hsa {
  lf.geometry {layers = 30, heads = 12, head_dim = 128, dtype = "bf16",
               tokens_per_frame = 1560, frames_per_chunk = 3, chunks = 7,
               passes_per_chunk = 5, kv_window_frames = 0, sink_frames = 1}
  lf.growth.chunk_aware {target = 0.88, base = 0.98}
  lf.select {block_q = 64, block_k = 128, refresh = "every_pass"} {
    %sink = lf.sink_frames {count = 1} : !lf.mask
    %near = lf.near_frames {count = 2} : !lf.mask
    %cur  = lf.current_chunk : !lf.mask
    %mid  = lf.frame_topk %sink, %near {k = 6, score = "mean_dot"} : !lf.mask
    %all  = lf.union %sink, %near, %cur, %mid : !lf.mask
    %kept = lf.block_topk %all {budget = "growth", score = "mean_dot"} : !lf.mask
    lf.yield %kept : !lf.mask
  }
}

// CHECK-LABEL: lf.policy @windows
// CHECK: lf.growth.constant {sparsity = 8.500000e-01 : f64}
// CHECK: lf.select {block_k = 16 : i64, block_q = 256 : i64, refresh = "per_chunk"} {
// CHECK-NEXT: %[[W:.*]] = lf.sliding_window {frames = 4 : i64} : !lf.mask
// CHECK-NEXT: %[[T:.*]] = lf.sliding_window {tokens = 8192 : i64} : !lf.mask
// CHECK-NEXT: %[[R:.*]] = lf.radial {decay_frames = 3 : i64, min_density = 1.250000e-01 : f64} : !lf.mask
// CHECK-NEXT: %[[U:.*]] = lf.union %[[W]], %[[R]] : !lf.mask
// CHECK-NEXT: %[[X:.*]] = lf.restrict %[[U]] to %[[T]] : !lf.mask
// CHECK-NEXT: %[[M:.*]] = lf.mass_threshold %[[X]] {mass = 9.000000e-01 : f64} : !lf.mask
// CHECK-NEXT: %[[D:.*]] = lf.block_topk %[[M]] {budget = "density", density = 2.000000e-01 : f64} : !lf.mask
// CHECK-NEXT: lf.yield %[[D]] : !lf.mask
lf.policy @windows {
  lf.geometry {layers = 2, heads = 4, head_dim = 64, dtype = "f16",
               tokens_per_frame = 1536, frames_per_chunk = 3, chunks = 21,
               passes_per_chunk = 4, kv_window_frames = 12, sink_frames = 1}
  lf.growth.constant {sparsity = 0.85}
  lf.select {block_q = 256, block_k = 16, refresh = "per_chunk"} {
    %w = lf.sliding_window {frames = 4} : !lf.mask
    %t = lf.sliding_window {tokens = 8192} : !lf.mask
    %r = lf.radial {decay_frames = 3, min_density = 0.125} : !lf.mask
    %u = lf.union %w, %r : !lf.mask
    %x = lf.restrict %u to %t : !lf.mask
    %m = lf.mass_threshold %x {mass = 0.9} : !lf.mask
    %d = lf.block_topk %m {budget = "density", density = 0.2} : !lf.mask
    lf.yield %d : !lf.mask
  }
}

// CHECK-LABEL: lf.policy @explicit
// CHECK: lf.growth.explicit {sparsity = array<f64: 0.000000e+00, 5.000000e-01, 7.500000e-01>}
// CHECK: lf.select {block_k = 32 : i64, block_q = 32 : i64, refresh = "every_pass"} {
// CHECK-NEXT: %[[C:.*]] = lf.current_chunk : !lf.mask
// CHECK-NEXT: lf.yield %[[C]] : !lf.mask
lf.policy @explicit {
  lf.geometry {layers = 1, heads = 1, head_dim = 64, dtype = "bf16",
               tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3,
               passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.growth.explicit {sparsity = array<f64: 0.0, 0.5, 0.75>}
  lf.select {block_q = 32, block_k = 32, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// The specialized form: lf.schedule, lf.chunk and lf.frames.
// CHECK-LABEL: lf.policy @specialized
// CHECK: lf.schedule {sparsity = array<f64: 0.000000e+00, 5.000000e-01>}
// CHECK: lf.chunk {current = array<i64: 0>, dense = true, frames_kept = 0 : i64, index = 1 : i64, kept_key_blocks = 8 : i64, key_blocks = 8 : i64, kv_tokens = 256 : i64, middle = array<i64>, near = array<i64>, query_blocks = 8 : i64, query_tokens = 256 : i64, sink = array<i64>, sparsity = 0.000000e+00 : f64, visible_frames = 1 : i64} {
// CHECK-NEXT: %[[F:.*]] = lf.frames {frames = array<i64: 0>} : !lf.mask
// CHECK-NEXT: lf.yield %[[F]] : !lf.mask
// CHECK: lf.chunk {current = array<i64: 1>, dense = false, frames_kept = 1 : i64, index = 2 : i64, kept_key_blocks = 8 : i64, key_blocks = 16 : i64, kv_tokens = 512 : i64, middle = array<i64>, near = array<i64: 0>, query_blocks = 8 : i64, query_tokens = 256 : i64, sink = array<i64>, sparsity = 5.000000e-01 : f64, visible_frames = 2 : i64} {
// CHECK-NEXT: %[[G:.*]] = lf.frames {frames = array<i64: 0, 1>} : !lf.mask
// CHECK-NEXT: %[[K:.*]] = lf.block_topk %[[G]] {budget = "growth"} : !lf.mask
// CHECK-NEXT: lf.yield %[[K]] : !lf.mask
lf.policy @specialized {
  lf.geometry {layers = 1, heads = 1, head_dim = 64, dtype = "bf16",
               tokens_per_frame = 256, frames_per_chunk = 1, chunks = 2,
               passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.schedule {sparsity = array<f64: 0.0, 0.5>}
  lf.select {block_q = 32, block_k = 32, refresh = "every_pass"} {
    %n = lf.near_frames {count = 1} : !lf.mask
    %c = lf.current_chunk : !lf.mask
    %u = lf.union %n, %c : !lf.mask
    %k = lf.block_topk %u {budget = "growth"} : !lf.mask
    lf.yield %k : !lf.mask
  }
  lf.chunk {index = 1, sparsity = 0.0, visible_frames = 1, query_tokens = 256,
            kv_tokens = 256, query_blocks = 8, key_blocks = 8,
            kept_key_blocks = 8, sink = array<i64>, near = array<i64>,
            middle = array<i64>, current = array<i64: 0>, frames_kept = 0,
            dense = true} {
    %f = lf.frames {frames = array<i64: 0>} : !lf.mask
    lf.yield %f : !lf.mask
  }
  lf.chunk {index = 2, sparsity = 0.5, visible_frames = 2, query_tokens = 256,
            kv_tokens = 512, query_blocks = 8, key_blocks = 16,
            kept_key_blocks = 8, sink = array<i64>, near = array<i64: 0>,
            middle = array<i64>, current = array<i64: 1>, frames_kept = 1,
            dense = false} {
    %g = lf.frames {frames = array<i64: 0, 1>} : !lf.mask
    %k = lf.block_topk %g {budget = "growth"} : !lf.mask
    lf.yield %k : !lf.mask
  }
}
