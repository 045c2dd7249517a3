// Static mask term restrict(x,y): a radial pattern cut to a 2-frame window.
lf.policy @term_restrict {
  lf.geometry {layers = 2, heads = 2, head_dim = 64, dtype = "bf16",
               tokens_per_frame = 256, frames_per_chunk = 1, chunks = 4,
               passes_per_chunk = 2, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "per_chunk"} {
    %sink = lf.sink_frames {count = 1} : !lf.mask
    %cur  = lf.current_chunk : !lf.mask
    %rad  = lf.radial {decay_frames = 1, min_density = 0.5} : !lf.mask
    %elig = lf.union %sink, %cur, %rad : !lf.mask
    %win  = lf.sliding_window {frames = 2} : !lf.mask
    %both = lf.restrict %elig to %win : !lf.mask
    lf.yield %both : !lf.mask
  }
}
