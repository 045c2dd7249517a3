// A Radial-Attention-like pattern (the lf form of radial.toml): the chunk always sees
// itself and the first frame; each past frame contributes a spatial window of key blocks
// that halves every 3 frames of temporal distance, never below 10% of the frame. The
// shape is static, so selection runs once per chunk; a constant budget of 20% of the key
// blocks (chunk 1 dense) caps what each query block keeps.
lf.policy @radial {
  lf.geometry {layers = 30, heads = 12, head_dim = 128, dtype = "bf16",
               tokens_per_frame = 1560, frames_per_chunk = 3, chunks = 7,
               passes_per_chunk = 5, kv_window_frames = 0, sink_frames = 0}
  lf.growth.constant {sparsity = 0.8}
  lf.select {block_q = 128, block_k = 128, refresh = "per_chunk"} {
    %sink  = lf.sink_frames {count = 1} : !lf.mask
    %cur   = lf.current_chunk : !lf.mask
    %decay = lf.radial {decay_frames = 3, min_density = 0.1} : !lf.mask
    %elig  = lf.union %sink, %cur, %decay : !lf.mask
    %kept  = lf.block_topk %elig {budget = "growth", score = "mean_dot"} : !lf.mask
    lf.yield %kept : !lf.mask
  }
}
