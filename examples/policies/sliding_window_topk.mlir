// Sliding window + block top-k (the lf form of sliding_window_topk.toml): each query
// block looks only at the last 6 frames before its chunk (the chunk itself always
// included) and keeps the best-scoring quarter of the key blocks: a sliding-tile-like
// pattern with a fixed density instead of a growth schedule.
lf.policy @sliding_window_topk {
  lf.geometry {layers = 30, heads = 12, head_dim = 128, dtype = "bf16",
               tokens_per_frame = 1560, frames_per_chunk = 3, chunks = 7,
               passes_per_chunk = 5, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 128, block_k = 128, refresh = "every_pass"} {
    %recent = lf.sliding_window {frames = 6} : !lf.mask
    %kept   = lf.block_topk %recent {budget = "density", density = 0.25, score = "mean_dot"} : !lf.mask
    lf.yield %kept : !lf.mask
  }
}
