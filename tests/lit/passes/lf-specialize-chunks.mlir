// lf-specialize-chunks: one lf.chunk per chunk with the static layout, budget
// and the selection body with its static parts folded into lf.frames.
// Expected numbers are worked out by hand in the comments from
// docs/dialect-contract.md and docs/selection-semantics.md.
// RUN: lfc-opt %s -split-input-file -verify-diagnostics -lf-specialize-chunks | lfc-opt | FileCheck %s

// Short preset (schedule rounded to the paper's 3 digits). 1560 tokens per
// frame, blocks of 128: query blocks ceil(4680/128) = 37; key blocks
// ceil(3i*1560/128) = 37, 74, 110, 147, 183, 220, 256; kept =
// floor((1-s)*kb) = 37, floor(12.80) = 12, floor(15.95) = 15, floor(18.82) = 18,
// floor(21.41) = 21, floor(23.76) = 23, floor(26.11) = 26.
// CHECK-LABEL: lf.policy @short
// CHECK: lf.select
// CHECK: lf.chunk {current = array<i64: 0, 1, 2>, dense = true, frames_kept = 0 : i64, index = 1 : i64, kept_key_blocks = 37 : i64, key_blocks = 37 : i64, kv_tokens = 4680 : i64, middle = array<i64>, near = array<i64>, query_blocks = 37 : i64, query_tokens = 4680 : i64, sink = array<i64>, sparsity = 0.000000e+00 : f64, visible_frames = 3 : i64} {
// Chunk 1 has no past: sink, near and the frame top-k are empty sets.
// CHECK-NEXT: %[[S1:.*]] = lf.frames {frames = array<i64>} : !lf.mask
// CHECK-NEXT: %[[N1:.*]] = lf.frames {frames = array<i64>} : !lf.mask
// CHECK-NEXT: %[[C1:.*]] = lf.frames {frames = array<i64: 0, 1, 2>} : !lf.mask
// CHECK-NEXT: %[[T1:.*]] = lf.frames {frames = array<i64>} : !lf.mask
// CHECK-NEXT: %[[U1:.*]] = lf.union %[[S1]], %[[N1]], %[[C1]], %[[T1]] : !lf.mask
// CHECK-NEXT: %[[K1:.*]] = lf.block_topk %[[U1]] {budget = "growth"} : !lf.mask
// CHECK-NEXT: lf.yield %[[K1]] : !lf.mask
// Chunk 2: 3 past frames <= k = 6, so the frame top-k keeps all of them.
// CHECK: lf.chunk {current = array<i64: 3, 4, 5>, dense = false, frames_kept = 3 : i64, index = 2 : i64, kept_key_blocks = 12 : i64, key_blocks = 74 : i64, kv_tokens = 9360 : i64, middle = array<i64>, near = array<i64: 1, 2>, query_blocks = 37 : i64, query_tokens = 4680 : i64, sink = array<i64: 0>, sparsity = 0.82699999999999996 : f64, visible_frames = 6 : i64} {
// CHECK-NEXT: lf.frames {frames = array<i64: 0>}
// CHECK-NEXT: lf.frames {frames = array<i64: 1, 2>}
// CHECK-NEXT: lf.frames {frames = array<i64: 3, 4, 5>}
// CHECK-NEXT: lf.frames {frames = array<i64: 0, 1, 2>}
// CHECK: lf.chunk {current = array<i64: 6, 7, 8>, dense = false, frames_kept = 6 : i64, index = 3 : i64, kept_key_blocks = 15 : i64, key_blocks = 110 : i64, kv_tokens = 14040 : i64, middle = array<i64: 1, 2, 3>, near = array<i64: 4, 5>, query_blocks = 37 : i64, query_tokens = 4680 : i64, sink = array<i64: 0>, sparsity = 0.85499999999999998 : f64, visible_frames = 9 : i64} {
// Chunk 4: 9 past frames > 6, the frame top-k stays dynamic and keeps k = 6.
// CHECK: lf.chunk {current = array<i64: 9, 10, 11>, dense = false, frames_kept = 6 : i64, index = 4 : i64, kept_key_blocks = 18 : i64, key_blocks = 147 : i64, kv_tokens = 18720 : i64, middle = array<i64: 1, 2, 3, 4, 5, 6>, near = array<i64: 7, 8>, query_blocks = 37 : i64, query_tokens = 4680 : i64, sink = array<i64: 0>, sparsity = 8.720000e-01 : f64, visible_frames = 12 : i64} {
// CHECK-NEXT: %[[S4:.*]] = lf.frames {frames = array<i64: 0>} : !lf.mask
// CHECK-NEXT: %[[N4:.*]] = lf.frames {frames = array<i64: 7, 8>} : !lf.mask
// CHECK-NEXT: %[[C4:.*]] = lf.frames {frames = array<i64: 9, 10, 11>} : !lf.mask
// CHECK-NEXT: %[[T4:.*]] = lf.frame_topk %[[S4]], %[[N4]] {k = 6 : i64} : !lf.mask
// CHECK: kept_key_blocks = 21 : i64, key_blocks = 183 : i64, kv_tokens = 23400 : i64
// CHECK: kept_key_blocks = 23 : i64, key_blocks = 220 : i64, kv_tokens = 28080 : i64
// CHECK: lf.chunk {current = array<i64: 18, 19, 20>, dense = false, frames_kept = 6 : i64, index = 7 : i64, kept_key_blocks = 26 : i64, key_blocks = 256 : i64, kv_tokens = 32760 : i64, middle = array<i64: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15>, near = array<i64: 16, 17>, query_blocks = 37 : i64, query_tokens = 4680 : i64, sink = array<i64: 0>, sparsity = 8.980000e-01 : f64, visible_frames = 21 : i64} {
// CHECK-NOT: lf.chunk
lf.policy @short {
  lf.geometry {layers = 30, heads = 12, head_dim = 128, dtype = "bf16",
               tokens_per_frame = 1560, frames_per_chunk = 3, chunks = 7,
               passes_per_chunk = 5, kv_window_frames = 0, sink_frames = 1}
  lf.schedule {sparsity = array<f64: 0.0, 0.827, 0.855, 0.872, 0.883, 0.892, 0.898>}
  lf.select {block_q = 128, block_k = 128, refresh = "every_pass"} {
    %sink = lf.sink_frames {count = 1} : !lf.mask
    %near = lf.near_frames {count = 2} : !lf.mask
    %cur  = lf.current_chunk : !lf.mask
    %mid  = lf.frame_topk %sink, %near {k = 6} : !lf.mask
    %all  = lf.union %sink, %near, %cur, %mid : !lf.mask
    %kept = lf.block_topk %all {budget = "growth"} : !lf.mask
    lf.yield %kept : !lf.mask
  }
}

// -----

// Rolling window of 12 frames + 1 sink, 3 frames per chunk: chunk i sees
// min(3i, 13) frames. Chunk 4 sees 12 (the window is not full yet); chunk 5
// sees 13: logical frame 0 is the sink (absolute frame 0), logical 1..9 are
// absolute frames 3..11, the current chunk is logical 10..12 (absolute
// 12..14). Chunk 5: kv tokens 13 * 1560 = 20280, key blocks
// ceil(20280/128) = 159, kept floor(0.2 * 159) = floor(31.8) = 31. Its frame
// window of 4 keeps past frames at distance <= 4 from absolute frame 12:
// absolute 8..11 = logical 6..9 (the sink, at distance 12, is outside).
// frames_kept: known past frames {0} | {9} | {6,7,8,9} = 5, plus at most
// k - |{0, 9}| = 1 more chosen by the top-k: 6.
// Chunk 4: 147 key blocks, kept floor(0.2 * 147) = 29; window keeps logical
// 5..8 (distance 9 - f <= 4); frames_kept {0, 5, 6, 7, 8} + 1 = 6.
// CHECK-LABEL: lf.policy @long
// CHECK: lf.chunk {current = array<i64: 9, 10, 11>, dense = false, frames_kept = 6 : i64, index = 4 : i64, kept_key_blocks = 29 : i64, key_blocks = 147 : i64, kv_tokens = 18720 : i64, middle = array<i64: 1, 2, 3, 4, 5, 6, 7>, near = array<i64: 8>, query_blocks = 37 : i64, query_tokens = 4680 : i64, sink = array<i64: 0>, sparsity = 8.000000e-01 : f64, visible_frames = 12 : i64} {
// CHECK: lf.frames {frames = array<i64: 5, 6, 7, 8, 9, 10, 11>}
// CHECK: lf.chunk {current = array<i64: 10, 11, 12>, dense = false, frames_kept = 6 : i64, index = 5 : i64, kept_key_blocks = 31 : i64, key_blocks = 159 : i64, kv_tokens = 20280 : i64, middle = array<i64: 1, 2, 3, 4, 5, 6, 7, 8>, near = array<i64: 9>, query_blocks = 37 : i64, query_tokens = 4680 : i64, sink = array<i64: 0>, sparsity = 8.000000e-01 : f64, visible_frames = 13 : i64} {
// CHECK-NEXT: lf.frames {frames = array<i64: 0>}
// CHECK-NEXT: lf.frames {frames = array<i64: 9>}
// CHECK-NEXT: lf.frames {frames = array<i64: 10, 11, 12>}
// CHECK-NEXT: lf.frame_topk
// CHECK-NEXT: lf.frames {frames = array<i64: 6, 7, 8, 9, 10, 11, 12>}
// CHECK: lf.chunk {current = array<i64: 10, 11, 12>, {{.*}}index = 6 : i64, {{.*}}visible_frames = 13 : i64}
lf.policy @long {
  lf.geometry {layers = 30, heads = 12, head_dim = 128, dtype = "bf16",
               tokens_per_frame = 1560, frames_per_chunk = 3, chunks = 6,
               passes_per_chunk = 5, kv_window_frames = 12, sink_frames = 1}
  lf.schedule {sparsity = array<f64: 0.0, 0.8, 0.8, 0.8, 0.8, 0.8>}
  lf.select {block_q = 128, block_k = 128, refresh = "every_pass"} {
    %sink = lf.sink_frames {count = 1} : !lf.mask
    %near = lf.near_frames {count = 1} : !lf.mask
    %cur  = lf.current_chunk : !lf.mask
    %mid  = lf.frame_topk %sink, %near {k = 3} : !lf.mask
    %win  = lf.sliding_window {frames = 4} : !lf.mask
    %all  = lf.union %sink, %near, %cur, %mid, %win : !lf.mask
    %kept = lf.block_topk %all {budget = "growth"} : !lf.mask
    lf.yield %kept : !lf.mask
  }
}

// -----

// The budget floor must not lose a block to binary rounding: 160 tokens per
// frame in blocks of 16 is 10 key blocks for chunk 1 and 20 for chunk 2;
// (1 - 0.8) * 10 = 1.9999999999999996 in doubles must give 2, and
// (1 - 0.9) * 20 = 1.9999999999999996 must give 2 as well.
// CHECK-LABEL: lf.policy @floor
// CHECK: dense = false, frames_kept = 0 : i64, index = 1 : i64, kept_key_blocks = 2 : i64, key_blocks = 10 : i64
// CHECK: dense = false, frames_kept = 1 : i64, index = 2 : i64, kept_key_blocks = 2 : i64, key_blocks = 20 : i64
lf.policy @floor {
  lf.geometry {layers = 1, heads = 1, head_dim = 64, dtype = "bf16",
               tokens_per_frame = 160, frames_per_chunk = 1, chunks = 2,
               passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.schedule {sparsity = array<f64: 0.8, 0.9>}
  lf.select {block_q = 16, block_k = 16, refresh = "every_pass"} {
    %n = lf.near_frames {count = 1} : !lf.mask
    %c = lf.current_chunk : !lf.mask
    %u = lf.union %n, %c : !lf.mask
    %k = lf.block_topk %u {budget = "growth"} : !lf.mask
    lf.yield %k : !lf.mask
  }
}

// -----

// Without growth every chunk has sparsity 0 and a budget of all key blocks.
// dense needs the mask to keep everything too: chunk 1 (only the current
// chunk exists, which a window always keeps) is dense. Later chunks are not:
// a token window of 300 reaches at most ceil(300/256) = 2 frames back (from
// the chunk's first query block; later blocks reach less of the past), so
// frames_kept is 2.
// CHECK-LABEL: lf.policy @no_growth
// CHECK: dense = true, frames_kept = 0 : i64, index = 1 : i64, kept_key_blocks = 16 : i64, key_blocks = 16 : i64
// CHECK-NEXT: %[[T:.*]] = lf.sliding_window {tokens = 300 : i64} : !lf.mask
// CHECK-NEXT: lf.yield %[[T]]
// CHECK: dense = false, frames_kept = 2 : i64, index = 2 : i64, kept_key_blocks = 32 : i64, key_blocks = 32 : i64, kv_tokens = 1024 : i64
// CHECK: dense = false, frames_kept = 2 : i64, index = 3 : i64, kept_key_blocks = 48 : i64, key_blocks = 48 : i64, kv_tokens = 1536 : i64
lf.policy @no_growth {
  lf.geometry {layers = 1, heads = 1, head_dim = 64, dtype = "f16",
               tokens_per_frame = 256, frames_per_chunk = 2, chunks = 3,
               passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 32, block_k = 32, refresh = "per_chunk"} {
    %t = lf.sliding_window {tokens = 300} : !lf.mask
    lf.yield %t : !lf.mask
  }
}

// -----

// Block indices are int32 in the runtime: 2^40 tokens per frame in blocks of
// 16 is 2^36 key blocks.
lf.policy @too_many_blocks {
  lf.geometry {layers = 1, heads = 1, head_dim = 64, dtype = "bf16",
               tokens_per_frame = 1099511627776, frames_per_chunk = 1,
               chunks = 1, passes_per_chunk = 1, kv_window_frames = 0,
               sink_frames = 0}
  // expected-error @+1 {{'lf.select' op chunk 1 has 68719476736 query blocks and 68719476736 key blocks; the runtime indexes blocks with int32, so both must be at most 2147483647 (use larger block_q/block_k or fewer tokens)}}
  lf.select {block_q = 16, block_k = 16, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

// 2^62 tokens per frame times 3 frames overflows int64.
lf.policy @overflow {
  // expected-error @+1 {{'lf.geometry' op chunk 1 needs more than 2^63 tokens; reduce chunks, frames_per_chunk or tokens_per_frame}}
  lf.geometry {layers = 1, heads = 1, head_dim = 64, dtype = "bf16",
               tokens_per_frame = 4611686018427387904, frames_per_chunk = 3,
               chunks = 1, passes_per_chunk = 1, kv_window_frames = 0,
               sink_frames = 0}
  lf.select {block_q = 16, block_k = 16, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

lf.policy @unresolved {
  lf.geometry {layers = 1, heads = 1, head_dim = 64, dtype = "bf16",
               tokens_per_frame = 64, frames_per_chunk = 1, chunks = 2,
               passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  // expected-error @+1 {{'lf.growth.constant' op is not resolved; run lf-resolve-growth before lf-specialize-chunks}}
  lf.growth.constant {sparsity = 0.5}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

// expected-error @+1 {{'lf.policy' op is already specialized (it has lf.chunk ops); run lf-specialize-chunks once}}
lf.policy @twice {
  lf.geometry {layers = 1, heads = 1, head_dim = 64, dtype = "bf16",
               tokens_per_frame = 64, frames_per_chunk = 1, chunks = 1,
               passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
  lf.chunk {index = 1, sparsity = 0.0, visible_frames = 1, query_tokens = 64,
            kv_tokens = 64, query_blocks = 1, key_blocks = 1,
            kept_key_blocks = 1, sink = array<i64>, near = array<i64>,
            middle = array<i64>, current = array<i64: 0>, frames_kept = 0,
            dense = true} {
    %f = lf.frames {frames = array<i64: 0>} : !lf.mask
    lf.yield %f : !lf.mask
  }
}

// -----

// A fixed density sets the budget (floor(0.3 * 10) = 3 of 10 key blocks) and the
// reported sparsity (1 - 3/10 = 0.7), not the schedule's 0.
// CHECK-LABEL: lf.policy @density
// CHECK: lf.chunk {current = array<i64: 0>, dense = false, frames_kept = 0 : i64, index = 1 : i64, kept_key_blocks = 3 : i64, key_blocks = 10 : i64, {{.*}}, sparsity = 0.69999999999999996 : f64, visible_frames = 1 : i64}
lf.policy @density {
  lf.geometry {layers = 1, heads = 1, head_dim = 64, dtype = "bf16",
               tokens_per_frame = 160, frames_per_chunk = 1, chunks = 1,
               passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 16, block_k = 16, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    %k = lf.block_topk %c {budget = "density", density = 0.3} : !lf.mask
    lf.yield %k : !lf.mask
  }
}

// -----

// floor((1 - 0.95) * 10) = 0: no key block would be kept.
lf.policy @nothing_kept {
  lf.geometry {layers = 1, heads = 1, head_dim = 64, dtype = "bf16",
               tokens_per_frame = 160, frames_per_chunk = 1, chunks = 1,
               passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.schedule {sparsity = array<f64: 0.95>}
  // expected-error @+1 {{'lf.select' op chunk 1 would keep no key block: floor(5.000000e-02 * 10) = 0; lower the sparsity or use a smaller block_k}}
  lf.select {block_q = 16, block_k = 16, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    %k = lf.block_topk %c {budget = "growth"} : !lf.mask
    lf.yield %k : !lf.mask
  }
}
