// A static Radial-Attention-like pattern (the lf form of radial_static.toml): the chunk
// always sees itself and the first frame; each past frame contributes a spatial band of
// key blocks that halves every 3 frames of temporal distance, never below 10% of the frame.
// No top-k: the plan folds the mask into the attention kernels and runs no selection.
lf.policy @radial_static {
  lf.geometry {layers = 30, heads = 12, head_dim = 128, dtype = "bf16",
               tokens_per_frame = 1560, frames_per_chunk = 3, chunks = 7,
               passes_per_chunk = 5, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 128, block_k = 128, refresh = "per_chunk"} {
    %sink  = lf.sink_frames {count = 1} : !lf.mask
    %cur   = lf.current_chunk : !lf.mask
    %decay = lf.radial {decay_frames = 3, min_density = 0.1} : !lf.mask
    %elig  = lf.union %sink, %cur, %decay : !lf.mask
    lf.yield %elig : !lf.mask
  }
}
