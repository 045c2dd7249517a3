// Static mask term window_frames(N): chunks 1-3 see no more than the window (dense).
lf.policy @term_window_frames {
  lf.geometry {layers = 2, heads = 2, head_dim = 64, dtype = "bf16",
               tokens_per_frame = 256, frames_per_chunk = 1, chunks = 4,
               passes_per_chunk = 2, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "per_chunk"} {
    %win = lf.sliding_window {frames = 2} : !lf.mask
    lf.yield %win : !lf.mask
  }
}
