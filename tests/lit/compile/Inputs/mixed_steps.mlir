// One policy whose chunks take all three steps (docs/lowering.md): chunk 1 dense, chunk 2
// static (sparsity 0 and a past of 1 frame <= k: nothing to select, but the token window
// restricts it), chunk 3 select + kept list (its past of 2 frames > k, sparsity 0.5).
// Blocks of 64 rows: sm_90a runs the wgmma kernel (TMA needs block_q >= 128).
lf.policy @mixed {
  lf.geometry {layers = 2, heads = 2, head_dim = 64, dtype = "f16",
               tokens_per_frame = 256, frames_per_chunk = 1, chunks = 3,
               passes_per_chunk = 2, kv_window_frames = 0, sink_frames = 0}
  lf.growth.explicit {sparsity = array<f64: 0.0, 0.0, 0.5>}
  lf.select {block_q = 64, block_k = 64, refresh = "per_chunk"} {
    %sink = lf.sink_frames {count = 1} : !lf.mask
    %cur  = lf.current_chunk : !lf.mask
    %mid  = lf.frame_topk %sink {k = 1} : !lf.mask
    %hsa  = lf.union %mid, %sink, %cur : !lf.mask
    %win  = lf.sliding_window {tokens = 100} : !lf.mask
    %elig = lf.restrict %hsa to %win : !lf.mask
    %kept = lf.block_topk %elig {budget = "growth"} : !lf.mask
    lf.yield %kept : !lf.mask
  }
}
