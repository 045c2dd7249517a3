// Static mask term current: every chunk after the first attends to itself only.
lf.policy @term_current {
  lf.geometry {layers = 2, heads = 2, head_dim = 64, dtype = "bf16",
               tokens_per_frame = 256, frames_per_chunk = 1, chunks = 4,
               passes_per_chunk = 2, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "per_chunk"} {
    %cur = lf.current_chunk : !lf.mask
    lf.yield %cur : !lf.mask
  }
}
