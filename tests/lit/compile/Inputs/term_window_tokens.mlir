// Static mask term window_tokens(N): 300 tokens before each query block.
lf.policy @term_window_tokens {
  lf.geometry {layers = 2, heads = 2, head_dim = 64, dtype = "bf16",
               tokens_per_frame = 256, frames_per_chunk = 1, chunks = 4,
               passes_per_chunk = 2, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "per_chunk"} {
    %win = lf.sliding_window {tokens = 300} : !lf.mask
    lf.yield %win : !lf.mask
  }
}
