// Warp-level tensor-core and async-copy primitives (sm_80+): cp.async,
// ldmatrix, mma.sync.
#ifndef LFC_MMA_CUH
#define LFC_MMA_CUH

#include "lfc/numeric.cuh"

namespace lfc {

__device__ __forceinline__ unsigned smemAddr(const void *p) {
  unsigned r;
  asm("{ .reg .u64 t; cvta.to.shared.u64 t, %1; cvt.u32.u64 %0, t; }"
      : "=r"(r)
      : "l"(p));
  return r;
}

/// 16-byte global->shared copy; reads nothing and writes zeros when !valid, so
/// ragged tails never feed stale shared memory (possibly NaN) into the matrix
/// units.
__device__ __forceinline__ void cpAsync16(unsigned dst, const void *src,
                                          bool valid) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(dst),
               "l"(src), "r"(valid ? 16 : 0)
               : "memory");
}

__device__ __forceinline__ void cpAsyncCommit() {
  asm volatile("cp.async.commit_group;" ::: "memory");
}

template <int N> __device__ __forceinline__ void cpAsyncWait() {
  asm volatile("cp.async.wait_group %0;" ::"n"(N) : "memory");
}

__device__ __forceinline__ void ldmatrixX4(unsigned addr, unsigned &r0,
                                           unsigned &r1, unsigned &r2,
                                           unsigned &r3) {
  asm volatile(
      "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];"
      : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3)
      : "r"(addr));
}

__device__ __forceinline__ void ldmatrixX4Trans(unsigned addr, unsigned &r0,
                                                unsigned &r1, unsigned &r2,
                                                unsigned &r3) {
  asm volatile(
      "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];"
      : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3)
      : "r"(addr));
}

/// D = A * B + D for one m16n8k16 tile, fp32 accumulators.
template <typename T>
__device__ __forceinline__ void mma16816(float (&d)[4], const unsigned (&a)[4],
                                         unsigned b0, unsigned b1);

template <>
__device__ __forceinline__ void mma16816<BF16>(float (&d)[4],
                                               const unsigned (&a)[4],
                                               unsigned b0, unsigned b1) {
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
               "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

template <>
__device__ __forceinline__ void
mma16816<F16>(float (&d)[4], const unsigned (&a)[4], unsigned b0, unsigned b1) {
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
               "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

/// Byte offset of 16-byte chunk `chunk` of row `row` in a tile whose rows hold
/// `kChunks` chunks. XOR-ing the chunk with the row (mod 8) spreads the 8 rows
/// that one ldmatrix phase reads over all 32 banks; rows are 128 or 256 bytes,
/// so unswizzled they would all hit the same banks.
template <int kChunks>
__device__ __forceinline__ unsigned swizzle(int row, int chunk) {
  static_assert(kChunks % 8 == 0, "rows must be a multiple of 128 bytes");
  return unsigned(row * kChunks + (chunk ^ (row & 7))) * 16u;
}

} // namespace lfc

#endif // LFC_MMA_CUH
