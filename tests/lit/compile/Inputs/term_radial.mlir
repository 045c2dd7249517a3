// Static mask term radial(D,W): W = ceil(0.25 * 256) = 64 tokens.
lf.policy @term_radial {
  lf.geometry {layers = 2, heads = 2, head_dim = 64, dtype = "bf16",
               tokens_per_frame = 256, frames_per_chunk = 1, chunks = 4,
               passes_per_chunk = 2, kv_window_frames = 0, sink_frames = 0}
  lf.select {block_q = 64, block_k = 64, refresh = "per_chunk"} {
    %cur = lf.current_chunk : !lf.mask
    %rad = lf.radial {decay_frames = 2, min_density = 0.25} : !lf.mask
    %elig = lf.union %cur, %rad : !lf.mask
    lf.yield %elig : !lf.mask
  }
}
