// lf-lower-to-kernels needs a specialized policy (lf-resolve-growth, lf-specialize-chunks).
// RUN: lfc-opt %s -split-input-file -verify-diagnostics -lf-lower-to-kernels

// expected-error @+1 {{'lf.policy' op is not specialized per chunk; run lf-specialize-chunks before lf-lower-to-kernels}}
lf.policy @unspecialized {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 2, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    lf.yield %c : !lf.mask
  }
}

// -----

lf.policy @unresolved {
  lf.geometry {layers = 1, heads = 2, head_dim = 64, dtype = "bf16", tokens_per_frame = 256, frames_per_chunk = 1, chunks = 2, passes_per_chunk = 1, kv_window_frames = 0, sink_frames = 0}
  // expected-error @+1 {{'lf.growth.constant' op is not resolved; run lf-resolve-growth and lf-specialize-chunks before lf-lower-to-kernels}}
  lf.growth.constant {sparsity = 0.5}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %c = lf.current_chunk : !lf.mask
    %k = lf.block_topk %c {budget = "growth"} : !lf.mask
    lf.yield %k : !lf.mask
  }
}
