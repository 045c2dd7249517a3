// A frame top-k selected on its own: the frame stage always keeps the current chunk, so the
// top-k must be in a union with lf.current_chunk.
lf.policy @frame_topk_alone {
  lf.geometry {layers = 2, heads = 2, head_dim = 64, dtype = "bf16",
               tokens_per_frame = 256, frames_per_chunk = 1, chunks = 8,
               passes_per_chunk = 2, kv_window_frames = 0, sink_frames = 0}
  lf.growth.constant {sparsity = 0.5}
  lf.select {block_q = 64, block_k = 64, refresh = "every_pass"} {
    %sink = lf.sink_frames {count = 1} : !lf.mask
    %mid = lf.frame_topk %sink {k = 3} : !lf.mask
    %win = lf.sliding_window {frames = 4} : !lf.mask
    %both = lf.restrict %mid to %win : !lf.mask
    %kept = lf.block_topk %both {budget = "growth"} : !lf.mask
    lf.yield %kept : !lf.mask
  }
}
