// Light Forcing on Self Forcing, long mode (the lf form of self_forcing_long.toml):
// 63 latent frames (21 chunks of 3), rolling KV cache of the last 12 frames plus 1 sink
// frame, Chunk-Aware Growth .85/.95, frame top-3 with 1 sink and 1 near frame.
lf.policy @self_forcing_long {
  lf.geometry {layers = 30, heads = 12, head_dim = 128, dtype = "bf16",
               tokens_per_frame = 1560, frames_per_chunk = 3, chunks = 21,
               passes_per_chunk = 5, kv_window_frames = 12, sink_frames = 1}
  lf.growth.chunk_aware {target = 0.85, base = 0.95}
  lf.select {block_q = 128, block_k = 128, refresh = "every_pass"} {
    %sink = lf.sink_frames {count = 1} : !lf.mask
    %near = lf.near_frames {count = 1} : !lf.mask
    %cur  = lf.current_chunk : !lf.mask
    %mid  = lf.frame_topk %sink, %near {k = 3, score = "mean_dot"} : !lf.mask
    %all  = lf.union %sink, %near, %cur, %mid : !lf.mask
    %kept = lf.block_topk %all {budget = "growth", score = "mean_dot"} : !lf.mask
    lf.yield %kept : !lf.mask
  }
}
