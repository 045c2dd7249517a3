// Static mask terms sink(N), near(N) and union: the first 2 and the last past frame.
lf.policy @term_sink_near {
  lf.geometry {layers = 2, heads = 2, head_dim = 64, dtype = "bf16",
               tokens_per_frame = 256, frames_per_chunk = 1, chunks = 4,
               passes_per_chunk = 2, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "per_chunk"} {
    %sink = lf.sink_frames {count = 2} : !lf.mask
    %near = lf.near_frames {count = 1} : !lf.mask
    %cur  = lf.current_chunk : !lf.mask
    %elig = lf.union %sink, %near, %cur : !lf.mask
    lf.yield %elig : !lf.mask
  }
}
