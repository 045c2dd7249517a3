// Light Forcing on Self Forcing, short mode (the lf form of self_forcing_short.toml):
// 21 latent frames (7 chunks of 3) of Wan2.1-T2V-1.3B at 480x832, global KV cache,
// Chunk-Aware Growth .88/.98 and Hierarchical Sparse Attention (frame top-6 with
// 1 sink and 2 near frames, then block top-k under the chunk's budget).
lf.policy @self_forcing_short {
  lf.geometry {layers = 30, heads = 12, head_dim = 128, dtype = "bf16",
               tokens_per_frame = 1560, frames_per_chunk = 3, chunks = 7,
               passes_per_chunk = 5, kv_window_frames = 0, sink_frames = 1}
  lf.growth.chunk_aware {target = 0.88, base = 0.98}
  lf.select {block_q = 128, block_k = 128, refresh = "every_pass"} {
    %sink = lf.sink_frames {count = 1} : !lf.mask
    %near = lf.near_frames {count = 2} : !lf.mask
    %cur  = lf.current_chunk : !lf.mask
    %mid  = lf.frame_topk %sink, %near {k = 6, score = "mean_dot"} : !lf.mask
    %all  = lf.union %sink, %near, %cur, %mid : !lf.mask
    %kept = lf.block_topk %all {budget = "growth", score = "mean_dot"} : !lf.mask
    lf.yield %kept : !lf.mask
  }
}
