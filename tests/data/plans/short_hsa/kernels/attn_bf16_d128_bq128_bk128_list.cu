// short_hsa block-sparse attention over kept lists (bf16, head_dim 128, blocks 128,
// tiles 128 x 64); logic in lfc/attention.cuh.
#include "lfc/attention.cuh"

namespace {
using Config = lfc::AttnConfig<lfc::BF16, /*head_dim=*/128, /*block_q=*/128, /*block_k=*/128,
                               /*tile_q=*/128, /*tile_k=*/64, /*warps=*/4,
                               lfc::MaskMode::KeptList>;
static_assert(Config::kThreads == 128, "launch contract: threads");
static_assert(Config::kSmemBytes == 98304, "launch contract: dynamic shared memory");
} // namespace

extern "C" __global__ void __launch_bounds__(128)
short_hsa_attn_list(const LfcAttnParams p) {
  lfc::blockSparseAttention<Config>(p);
}
