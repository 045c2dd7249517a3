// canonicalize on lf masks: set identities of union and restrict, merging of
// static frame sets, and block top-k with a budget of every block.
// RUN: lfc-opt %s -split-input-file -canonicalize | lfc-opt | FileCheck %s

// Policy level: repeated operands, single operands, restrict to itself.
// CHECK-LABEL: lf.policy @identities
// CHECK:      lf.select
// CHECK-NEXT:   %[[S:.*]] = lf.sink_frames {count = 1 : i64} : !lf.mask
// CHECK-NEXT:   %[[C:.*]] = lf.current_chunk : !lf.mask
// CHECK-NEXT:   %[[U:.*]] = lf.union %[[S]], %[[C]] : !lf.mask
// CHECK-NEXT:   %[[K:.*]] = lf.block_topk %[[U]] {budget = "growth"} : !lf.mask
// CHECK-NEXT:   lf.yield %[[K]] : !lf.mask
lf.policy @identities {
  lf.geometry {layers = 1, heads = 1, head_dim = 64, dtype = "bf16",
               tokens_per_frame = 64, frames_per_chunk = 1, chunks = 4,
               passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.growth.constant {sparsity = 0.5}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %s = lf.sink_frames {count = 1} : !lf.mask
    %c = lf.current_chunk : !lf.mask
    // union of identical operands folds to the operand
    %ss = lf.union %s, %s, %s : !lf.mask
    // union with one operand folds to it
    %one = lf.union %ss : !lf.mask
    // repeated operands are dropped
    %u = lf.union %one, %c, %s, %c : !lf.mask
    // restrict of a set to itself is the set
    %r = lf.restrict %u to %u : !lf.mask
    %k = lf.block_topk %r {budget = "growth"} : !lf.mask
    lf.yield %k : !lf.mask
  }
}

// -----

// A frame window reaching back further than any visible frame covers every key
// (4 chunks of 2 frames: the oldest frame is at most 6 frames back), so
// restricting to it, in either operand order, is a no-op. A window of 5 does
// not cover chunk 4's frame 0 and stays.
// CHECK-LABEL: lf.policy @covers_all
// CHECK:      lf.select
// CHECK-NEXT:   %[[C:.*]] = lf.current_chunk : !lf.mask
// CHECK-NEXT:   %[[N:.*]] = lf.sliding_window {frames = 5 : i64} : !lf.mask
// CHECK-NEXT:   %[[R:.*]] = lf.restrict %[[C]] to %[[N]] : !lf.mask
// CHECK-NEXT:   %[[K:.*]] = lf.block_topk %[[R]] {budget = "density", density = 5.000000e-01 : f64} : !lf.mask
// CHECK-NEXT:   lf.yield %[[K]] : !lf.mask
lf.policy @covers_all {
  lf.geometry {layers = 1, heads = 1, head_dim = 64, dtype = "bf16",
               tokens_per_frame = 64, frames_per_chunk = 2, chunks = 4,
               passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    %all = lf.sliding_window {frames = 6} : !lf.mask
    %near = lf.sliding_window {frames = 5} : !lf.mask
    %a = lf.restrict %c to %all : !lf.mask
    %b = lf.restrict %all to %a : !lf.mask
    %r = lf.restrict %b to %near : !lf.mask
    %k = lf.block_topk %r {budget = "density", density = 0.5} : !lf.mask
    lf.yield %k : !lf.mask
  }
}

// -----

// A rolling window without sink frames never shows a frame further back than
// kv_window_frames - frames_per_chunk = 4 - 2 = 2, so a 2-frame window covers
// everything.
// CHECK-LABEL: lf.policy @covers_all_windowed
// CHECK:      lf.select
// CHECK-NEXT:   %[[C:.*]] = lf.current_chunk : !lf.mask
// CHECK-NEXT:   lf.yield %[[C]] : !lf.mask
lf.policy @covers_all_windowed {
  lf.geometry {layers = 1, heads = 1, head_dim = 64, dtype = "bf16",
               tokens_per_frame = 64, frames_per_chunk = 2, chunks = 5,
               passes_per_chunk = 1, kv_window_frames = 4, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    %all = lf.sliding_window {frames = 2} : !lf.mask
    %a = lf.restrict %c to %all : !lf.mask
    lf.yield %a : !lf.mask
  }
}

// -----

// Inside a chunk: static frame sets merge (union) and intersect (restrict);
// empty sets drop out of unions; a set of every visible frame covers all; a
// block top-k whose budget is every key block keeps its input.
// CHECK-LABEL: lf.policy @chunk_sets
// CHECK:      lf.chunk
// CHECK-NEXT:   %[[A:.*]] = lf.frames {frames = array<i64: 0, 2>} : !lf.mask
// CHECK-NEXT:   %[[T:.*]] = lf.frame_topk %[[A]] {k = 2 : i64} : !lf.mask
// CHECK-NEXT:   %[[F:.*]] = lf.frames {frames = array<i64: 0, 2, 3>} : !lf.mask
// CHECK-NEXT:   %[[U:.*]] = lf.union %[[F]], %[[T]] : !lf.mask
// CHECK-NEXT:   %[[I:.*]] = lf.frames {frames = array<i64: 2>} : !lf.mask
// CHECK-NEXT:   %[[R:.*]] = lf.restrict %[[U]] to %[[I]] : !lf.mask
// CHECK-NEXT:   %[[M:.*]] = lf.mass_threshold %[[R]] {mass = 5.000000e-01 : f64} : !lf.mask
// CHECK-NEXT:   lf.yield %[[M]] : !lf.mask
lf.policy @chunk_sets {
  lf.geometry {layers = 1, heads = 1, head_dim = 64, dtype = "bf16",
               tokens_per_frame = 64, frames_per_chunk = 1, chunks = 1,
               passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
  lf.chunk {index = 1, sparsity = 0.0, visible_frames = 4, query_tokens = 64,
            kv_tokens = 256, query_blocks = 1, key_blocks = 4,
            kept_key_blocks = 4, sink = array<i64: 0>, near = array<i64: 2>,
            middle = array<i64: 1>, current = array<i64: 3>, frames_kept = 3,
            dense = false} {
    %empty = lf.frames {frames = array<i64>} : !lf.mask
    %a = lf.frames {frames = array<i64: 0, 2>} : !lf.mask
    %b = lf.frames {frames = array<i64: 2, 3>} : !lf.mask
    %all = lf.frames {frames = array<i64: 0, 1, 2, 3>} : !lf.mask
    %t = lf.frame_topk %a {k = 2} : !lf.mask
    %u = lf.union %empty, %a, %t, %b : !lf.mask
    %i = lf.restrict %a to %b : !lf.mask
    %r = lf.restrict %u to %i : !lf.mask
    %x = lf.restrict %r to %all : !lf.mask
    %k = lf.block_topk %x {budget = "growth"} : !lf.mask
    %m = lf.mass_threshold %k {mass = 0.5} : !lf.mask
    lf.yield %m : !lf.mask
  }
}

// -----

// A union with an operand covering every key is that operand.
// CHECK-LABEL: lf.policy @union_full
// CHECK:      lf.chunk
// CHECK-NEXT:   %[[A:.*]] = lf.frames {frames = array<i64: 0, 1>} : !lf.mask
// CHECK-NEXT:   lf.yield %[[A]] : !lf.mask
lf.policy @union_full {
  lf.geometry {layers = 1, heads = 1, head_dim = 64, dtype = "bf16",
               tokens_per_frame = 64, frames_per_chunk = 1, chunks = 1,
               passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
  lf.chunk {index = 1, sparsity = 0.5, visible_frames = 2, query_tokens = 64,
            kv_tokens = 128, query_blocks = 1, key_blocks = 2,
            kept_key_blocks = 1, sink = array<i64>, near = array<i64: 0>,
            middle = array<i64>, current = array<i64: 1>, frames_kept = 1,
            dense = false} {
    %all = lf.frames {frames = array<i64: 0, 1>} : !lf.mask
    %t = lf.frame_topk %all {k = 2} : !lf.mask
    %u = lf.union %t, %all : !lf.mask
    lf.yield %u : !lf.mask
  }
}
