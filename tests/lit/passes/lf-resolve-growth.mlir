// lf-resolve-growth: each lf.growth.* op becomes the lf.schedule it defines.
// Expected values: PAPER checks the 3-digit values published in DESIGN.md
// (each pattern accepts exactly the numbers that round to that value); EXACT
// checks 13 digits computed independently in Python from DESIGN.md's formula.
// RUN: lfc-opt %s -split-input-file -verify-diagnostics -lf-resolve-growth | lfc-opt | FileCheck %s --check-prefixes=CHECK,EXACT
// RUN: lfc-opt %s -split-input-file -verify-diagnostics -lf-resolve-growth | FileCheck %s --check-prefix=PAPER

// Short preset: 7 chunks of 3 frames, global cache, .88/.98 (beta = .375):
// [0, .827, .855, .872, .883, .892, .898].
// CHECK-LABEL: lf.policy @short
// CHECK-NOT: lf.growth
// EXACT: lf.schedule {sparsity = array<f64: 0.000000e+00, 0.8269904165014{{[0-9]*}}, 0.8550681982242{{[0-9]*}}, 0.8718058859216{{[0-9]*}}, 0.8832282424621{{[0-9]*}}, 0.8916598757785{{[0-9]*}}, 0.8982129373793{{[0-9]*}}>}
// PAPER: lf.schedule {sparsity = array<f64: 0.000000e+00, 0.82{{6[5-9]|7[0-4]}}{{[0-9]*}}, 0.85{{4[5-9]|5[0-4]}}{{[0-9]*}}, 0.87{{1[5-9]|2[0-4]}}{{[0-9]*}}, 0.88{{2[5-9]|3[0-4]}}{{[0-9]*}}, 0.89{{1[5-9]|2[0-4]}}{{[0-9]*}}, 0.89{{7[5-9]|8[0-4]}}{{[0-9]*}}>}
// CHECK: lf.select
lf.policy @short {
  lf.geometry {layers = 30, heads = 12, head_dim = 128, dtype = "bf16",
               tokens_per_frame = 1560, frames_per_chunk = 3, chunks = 7,
               passes_per_chunk = 5, kv_window_frames = 0, sink_frames = 1}
  lf.growth.chunk_aware {target = 0.88, base = 0.98}
  lf.select {block_q = 128, block_k = 128, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    %k = lf.block_topk %c {budget = "growth"} : !lf.mask
    lf.yield %k : !lf.mask
  }
}

// -----

// Long preset: 63 frames = 21 chunks of 3, window 12 + sink 1, .85/.95. The
// window caps kv_i at 12 frames from chunk 4 on; starts .734, .774, .798 and
// ends .883.
// CHECK-LABEL: lf.policy @long
// EXACT: lf.schedule {sparsity = array<f64: 0.000000e+00, 0.7344726641321{{[0-9]*}}, 0.7740226671674{{[0-9]*}}, 0.7975991592767{{[0-9]*}}, 0.8136885441259{{[0-9]*}}, 0.8255652346189{{[0-9]*}}, 0.8347957930997{{[0-9]*}}, 0.8422363320660{{[0-9]*}}, 0.8483994395178{{[0-9]*}}, 0.8536132451980{{[0-9]*}}, 0.8580988351975{{[0-9]*}}, 0.8620113335837{{[0-9]*}}, 0.8654632237459{{[0-9]*}}, 0.8685383240796{{[0-9]*}}, 0.8713005442574{{[0-9]*}}, 0.8737995796383{{[0-9]*}}, 0.8760747336782{{[0-9]*}}, 0.8781575547107{{[0-9]*}}, 0.8800736985659{{[0-9]*}}, 0.8818442720629{{[0-9]*}}, 0.8834868201343{{[0-9]*}}>}
// PAPER: lf.schedule {sparsity = array<f64: 0.000000e+00, 0.73{{3[5-9]|4[0-4]}}{{[0-9]*}}, 0.77{{3[5-9]|4[0-4]}}{{[0-9]*}}, 0.79{{7[5-9]|8[0-4]}}{{[0-9]*}}, {{.*}}, 0.88{{2[5-9]|3[0-4]}}{{[0-9]*}}>}
lf.policy @long {
  lf.geometry {layers = 30, heads = 12, head_dim = 128, dtype = "bf16",
               tokens_per_frame = 1560, frames_per_chunk = 3, chunks = 21,
               passes_per_chunk = 5, kv_window_frames = 12, sink_frames = 1}
  lf.growth.chunk_aware {target = 0.85, base = 0.95}
  lf.select {block_q = 128, block_k = 128, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

// Hand-checkable: F = 1, 3 chunks, global, .5/.9. sum kv = 2 + 3 = 5,
// sum a*kv = sqrt(2) + sqrt(3), beta = 0.4 * 5 / (sqrt(2) + sqrt(3)) = 0.63567,
// s_2 = 0.9 - beta / sqrt(2) = 0.45051, s_3 = 0.9 - beta / sqrt(3) = 0.53299.
// CHECK-LABEL: lf.policy @hand
// EXACT: lf.schedule {sparsity = array<f64: 0.000000e+00, 0.4505102572168{{[0-9]*}}, 0.5329931618554{{[0-9]*}}>}
// PAPER: lf.schedule {sparsity = array<f64: 0.000000e+00, 0.4505{{[0-9]*}}, 0.5329{{[0-9]*}}>}
lf.policy @hand {
  lf.geometry {layers = 1, heads = 1, head_dim = 64, dtype = "bf16",
               tokens_per_frame = 64, frames_per_chunk = 1, chunks = 3,
               passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.growth.chunk_aware {target = 0.5, base = 0.9}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

// A single chunk has no sparse chunk to balance: it stays dense.
// CHECK-LABEL: lf.policy @single
// CHECK: lf.schedule {sparsity = array<f64: 0.000000e+00>}
lf.policy @single {
  lf.geometry {layers = 1, heads = 1, head_dim = 64, dtype = "bf16",
               tokens_per_frame = 64, frames_per_chunk = 3, chunks = 1,
               passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.growth.chunk_aware {target = 0.5, base = 0.9}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

// Constant growth gives its value to every chunk after the first; chunk 1 is
// dense as under Chunk-Aware Growth.
// CHECK-LABEL: lf.policy @constant
// CHECK: lf.schedule {sparsity = array<f64: 0.000000e+00, 2.500000e-01, 2.500000e-01, 2.500000e-01>}
lf.policy @constant {
  lf.geometry {layers = 1, heads = 1, head_dim = 64, dtype = "bf16",
               tokens_per_frame = 64, frames_per_chunk = 1, chunks = 4,
               passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.growth.constant {sparsity = 0.25}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

// Explicit growth is copied as given.
// CHECK-LABEL: lf.policy @explicit
// CHECK: lf.schedule {sparsity = array<f64: 0.000000e+00, 5.000000e-01, 7.500000e-01>}
lf.policy @explicit {
  lf.geometry {layers = 1, heads = 1, head_dim = 64, dtype = "bf16",
               tokens_per_frame = 64, frames_per_chunk = 1, chunks = 3,
               passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.growth.explicit {sparsity = array<f64: 0.0, 0.5, 0.75>}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

// A policy with a resolved schedule and no growth is left alone.
// CHECK-LABEL: lf.policy @resolved
// CHECK: lf.schedule {sparsity = array<f64: 0.000000e+00, 1.250000e-01>}
lf.policy @resolved {
  lf.geometry {layers = 1, heads = 1, head_dim = 64, dtype = "bf16",
               tokens_per_frame = 64, frames_per_chunk = 1, chunks = 2,
               passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.schedule {sparsity = array<f64: 0.0, 0.125>}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

// A wide target/base gap pushes chunk 2 below zero: beta = 8 * 0.375 = 3.0
// here, s_2 = 0.9 - 3.0 / sqrt(6) = -0.3241.
lf.policy @unreachable {
  lf.geometry {layers = 1, heads = 1, head_dim = 64, dtype = "bf16",
               tokens_per_frame = 64, frames_per_chunk = 3, chunks = 7,
               passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  // expected-error @+1 {{'lf.growth.chunk_aware' op gives chunk 2 a sparsity of -3.240767e-01, outside [0, 1); raise target or lower base}}
  lf.growth.chunk_aware {target = 0.1, base = 0.9}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}
