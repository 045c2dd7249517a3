// short_hsa selection entries (bf16, head_dim 128): commit, pool, select; logic in
// lfc/selection.cuh.
#include "lfc/selection.cuh"

extern "C" __global__ void __launch_bounds__(256)
short_hsa_select_commit(const LfcCommitParams p) {
  lfc::commitKeys<lfc::BF16>(p);
}

extern "C" __global__ void __launch_bounds__(256)
short_hsa_select_pool(const LfcPoolKeysParams p) {
  lfc::poolKeys<lfc::BF16>(p);
}

extern "C" __global__ void __launch_bounds__(256)
short_hsa_select_select(const LfcSelectParams p) {
  lfc::selectBlocks<lfc::BF16, 256, /*max_dim=*/128>(p);
}
