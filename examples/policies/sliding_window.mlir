// A static sliding window (the lf form of sliding_window.toml): the 6 frames before the
// chunk and the chunk itself. No top-k: the plan folds the window into the attention
// kernels and runs no selection; chunks 1-3 see no more than the window and are dense.
lf.policy @sliding_window {
  lf.geometry {layers = 30, heads = 12, head_dim = 128, dtype = "bf16",
               tokens_per_frame = 1560, frames_per_chunk = 3, chunks = 7,
               passes_per_chunk = 5, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 128, block_k = 128, refresh = "per_chunk"} {
    %recent = lf.sliding_window {frames = 6} : !lf.mask
    lf.yield %recent : !lf.mask
  }
}
