// Hopper (sm_90a) block-sparse attention: the FlashAttention-2 loop of
// attention.cuh with warpgroup MMAs (wgmma) reading Q, K and V straight from
// 128-byte-swizzled shared memory.
#ifndef LFC_ATTENTION_SM90_CUH
#define LFC_ATTENTION_SM90_CUH

#include "lfc/attention.cuh"

namespace lfc {

namespace sm90 {

// wgmma wrappers, one per shape and dtype (PTX needs the type in the opcode).
// SS: A and B from shared-memory descriptors; RS: A from registers (the
// mma.sync A-fragment layout per warp), B from a descriptor, B transposed
// (MN-major, as V is stored).
__device__ __forceinline__ void wgmmaSS_m64n64k16_bf16(float (&d)[8][4],
                                                       unsigned long long descA,
                                                       unsigned long long descB,
                                                       int accumulate) {
  asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %34, 0;\n"
               "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 "
               "{%0,%1,%2,%3,%4,%5,%6,%7,%8,%9,%10,%11,%12,%13,%14,%15,%16,%17,"
               "%18,%19,%20,%21,%22,%23,%24,%25,%26,%27,%28,%29,%30,%31}, %32, "
               "%33, p, 1, 1, 0, 0;\n}\n"
               : "+f"(d[0][0]), "+f"(d[0][1]), "+f"(d[0][2]), "+f"(d[0][3]),
                 "+f"(d[1][0]), "+f"(d[1][1]), "+f"(d[1][2]), "+f"(d[1][3]),
                 "+f"(d[2][0]), "+f"(d[2][1]), "+f"(d[2][2]), "+f"(d[2][3]),
                 "+f"(d[3][0]), "+f"(d[3][1]), "+f"(d[3][2]), "+f"(d[3][3]),
                 "+f"(d[4][0]), "+f"(d[4][1]), "+f"(d[4][2]), "+f"(d[4][3]),
                 "+f"(d[5][0]), "+f"(d[5][1]), "+f"(d[5][2]), "+f"(d[5][3]),
                 "+f"(d[6][0]), "+f"(d[6][1]), "+f"(d[6][2]), "+f"(d[6][3]),
                 "+f"(d[7][0]), "+f"(d[7][1]), "+f"(d[7][2]), "+f"(d[7][3])
               : "l"(descA), "l"(descB), "r"(accumulate));
}

__device__ __forceinline__ void
wgmmaRS_m64n64k16_bf16(float (&d)[8][4], const unsigned (&a)[4],
                       unsigned long long descB) {
  asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %37, 0;\n"
               "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 "
               "{%0,%1,%2,%3,%4,%5,%6,%7,%8,%9,%10,%11,%12,%13,%14,%15,%16,%17,"
               "%18,%19,%20,%21,%22,%23,%24,%25,%26,%27,%28,%29,%30,%31}, "
               "{%32,%33,%34,%35}, %36, p, 1, 1, 1;\n}\n"
               : "+f"(d[0][0]), "+f"(d[0][1]), "+f"(d[0][2]), "+f"(d[0][3]),
                 "+f"(d[1][0]), "+f"(d[1][1]), "+f"(d[1][2]), "+f"(d[1][3]),
                 "+f"(d[2][0]), "+f"(d[2][1]), "+f"(d[2][2]), "+f"(d[2][3]),
                 "+f"(d[3][0]), "+f"(d[3][1]), "+f"(d[3][2]), "+f"(d[3][3]),
                 "+f"(d[4][0]), "+f"(d[4][1]), "+f"(d[4][2]), "+f"(d[4][3]),
                 "+f"(d[5][0]), "+f"(d[5][1]), "+f"(d[5][2]), "+f"(d[5][3]),
                 "+f"(d[6][0]), "+f"(d[6][1]), "+f"(d[6][2]), "+f"(d[6][3]),
                 "+f"(d[7][0]), "+f"(d[7][1]), "+f"(d[7][2]), "+f"(d[7][3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(descB),
                 "r"(1));
}

__device__ __forceinline__ void
wgmmaRS_m64n128k16_bf16(float (&d)[16][4], const unsigned (&a)[4],
                        unsigned long long descB) {
  asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %69, 0;\n"
               "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 "
               "{%0,%1,%2,%3,%4,%5,%6,%7,%8,%9,%10,%11,%12,%13,%14,%15,%16,%17,"
               "%18,%19,%20,%21,%22,%23,%24,%25,%26,%27,%28,%29,%30,%31,%32,%"
               "33,%34,%35,%36,%37,%38,%39,%40,%41,%42,%43,%44,%45,%46,%47,%48,"
               "%49,%50,%51,%52,%53,%54,%55,%56,%57,%58,%59,%60,%61,%62,%63}, "
               "{%64,%65,%66,%67}, %68, p, 1, 1, 1;\n}\n"
               : "+f"(d[0][0]), "+f"(d[0][1]), "+f"(d[0][2]), "+f"(d[0][3]),
                 "+f"(d[1][0]), "+f"(d[1][1]), "+f"(d[1][2]), "+f"(d[1][3]),
                 "+f"(d[2][0]), "+f"(d[2][1]), "+f"(d[2][2]), "+f"(d[2][3]),
                 "+f"(d[3][0]), "+f"(d[3][1]), "+f"(d[3][2]), "+f"(d[3][3]),
                 "+f"(d[4][0]), "+f"(d[4][1]), "+f"(d[4][2]), "+f"(d[4][3]),
                 "+f"(d[5][0]), "+f"(d[5][1]), "+f"(d[5][2]), "+f"(d[5][3]),
                 "+f"(d[6][0]), "+f"(d[6][1]), "+f"(d[6][2]), "+f"(d[6][3]),
                 "+f"(d[7][0]), "+f"(d[7][1]), "+f"(d[7][2]), "+f"(d[7][3]),
                 "+f"(d[8][0]), "+f"(d[8][1]), "+f"(d[8][2]), "+f"(d[8][3]),
                 "+f"(d[9][0]), "+f"(d[9][1]), "+f"(d[9][2]), "+f"(d[9][3]),
                 "+f"(d[10][0]), "+f"(d[10][1]), "+f"(d[10][2]), "+f"(d[10][3]),
                 "+f"(d[11][0]), "+f"(d[11][1]), "+f"(d[11][2]), "+f"(d[11][3]),
                 "+f"(d[12][0]), "+f"(d[12][1]), "+f"(d[12][2]), "+f"(d[12][3]),
                 "+f"(d[13][0]), "+f"(d[13][1]), "+f"(d[13][2]), "+f"(d[13][3]),
                 "+f"(d[14][0]), "+f"(d[14][1]), "+f"(d[14][2]), "+f"(d[14][3]),
                 "+f"(d[15][0]), "+f"(d[15][1]), "+f"(d[15][2]), "+f"(d[15][3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(descB),
                 "r"(1));
}

__device__ __forceinline__ void wgmmaSS_m64n64k16_f16(float (&d)[8][4],
                                                      unsigned long long descA,
                                                      unsigned long long descB,
                                                      int accumulate) {
  asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %34, 0;\n"
               "wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16 "
               "{%0,%1,%2,%3,%4,%5,%6,%7,%8,%9,%10,%11,%12,%13,%14,%15,%16,%17,"
               "%18,%19,%20,%21,%22,%23,%24,%25,%26,%27,%28,%29,%30,%31}, %32, "
               "%33, p, 1, 1, 0, 0;\n}\n"
               : "+f"(d[0][0]), "+f"(d[0][1]), "+f"(d[0][2]), "+f"(d[0][3]),
                 "+f"(d[1][0]), "+f"(d[1][1]), "+f"(d[1][2]), "+f"(d[1][3]),
                 "+f"(d[2][0]), "+f"(d[2][1]), "+f"(d[2][2]), "+f"(d[2][3]),
                 "+f"(d[3][0]), "+f"(d[3][1]), "+f"(d[3][2]), "+f"(d[3][3]),
                 "+f"(d[4][0]), "+f"(d[4][1]), "+f"(d[4][2]), "+f"(d[4][3]),
                 "+f"(d[5][0]), "+f"(d[5][1]), "+f"(d[5][2]), "+f"(d[5][3]),
                 "+f"(d[6][0]), "+f"(d[6][1]), "+f"(d[6][2]), "+f"(d[6][3]),
                 "+f"(d[7][0]), "+f"(d[7][1]), "+f"(d[7][2]), "+f"(d[7][3])
               : "l"(descA), "l"(descB), "r"(accumulate));
}

__device__ __forceinline__ void
wgmmaRS_m64n64k16_f16(float (&d)[8][4], const unsigned (&a)[4],
                      unsigned long long descB) {
  asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %37, 0;\n"
               "wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16 "
               "{%0,%1,%2,%3,%4,%5,%6,%7,%8,%9,%10,%11,%12,%13,%14,%15,%16,%17,"
               "%18,%19,%20,%21,%22,%23,%24,%25,%26,%27,%28,%29,%30,%31}, "
               "{%32,%33,%34,%35}, %36, p, 1, 1, 1;\n}\n"
               : "+f"(d[0][0]), "+f"(d[0][1]), "+f"(d[0][2]), "+f"(d[0][3]),
                 "+f"(d[1][0]), "+f"(d[1][1]), "+f"(d[1][2]), "+f"(d[1][3]),
                 "+f"(d[2][0]), "+f"(d[2][1]), "+f"(d[2][2]), "+f"(d[2][3]),
                 "+f"(d[3][0]), "+f"(d[3][1]), "+f"(d[3][2]), "+f"(d[3][3]),
                 "+f"(d[4][0]), "+f"(d[4][1]), "+f"(d[4][2]), "+f"(d[4][3]),
                 "+f"(d[5][0]), "+f"(d[5][1]), "+f"(d[5][2]), "+f"(d[5][3]),
                 "+f"(d[6][0]), "+f"(d[6][1]), "+f"(d[6][2]), "+f"(d[6][3]),
                 "+f"(d[7][0]), "+f"(d[7][1]), "+f"(d[7][2]), "+f"(d[7][3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(descB),
                 "r"(1));
}

__device__ __forceinline__ void
wgmmaRS_m64n128k16_f16(float (&d)[16][4], const unsigned (&a)[4],
                       unsigned long long descB) {
  asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %69, 0;\n"
               "wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16 "
               "{%0,%1,%2,%3,%4,%5,%6,%7,%8,%9,%10,%11,%12,%13,%14,%15,%16,%17,"
               "%18,%19,%20,%21,%22,%23,%24,%25,%26,%27,%28,%29,%30,%31,%32,%"
               "33,%34,%35,%36,%37,%38,%39,%40,%41,%42,%43,%44,%45,%46,%47,%48,"
               "%49,%50,%51,%52,%53,%54,%55,%56,%57,%58,%59,%60,%61,%62,%63}, "
               "{%64,%65,%66,%67}, %68, p, 1, 1, 1;\n}\n"
               : "+f"(d[0][0]), "+f"(d[0][1]), "+f"(d[0][2]), "+f"(d[0][3]),
                 "+f"(d[1][0]), "+f"(d[1][1]), "+f"(d[1][2]), "+f"(d[1][3]),
                 "+f"(d[2][0]), "+f"(d[2][1]), "+f"(d[2][2]), "+f"(d[2][3]),
                 "+f"(d[3][0]), "+f"(d[3][1]), "+f"(d[3][2]), "+f"(d[3][3]),
                 "+f"(d[4][0]), "+f"(d[4][1]), "+f"(d[4][2]), "+f"(d[4][3]),
                 "+f"(d[5][0]), "+f"(d[5][1]), "+f"(d[5][2]), "+f"(d[5][3]),
                 "+f"(d[6][0]), "+f"(d[6][1]), "+f"(d[6][2]), "+f"(d[6][3]),
                 "+f"(d[7][0]), "+f"(d[7][1]), "+f"(d[7][2]), "+f"(d[7][3]),
                 "+f"(d[8][0]), "+f"(d[8][1]), "+f"(d[8][2]), "+f"(d[8][3]),
                 "+f"(d[9][0]), "+f"(d[9][1]), "+f"(d[9][2]), "+f"(d[9][3]),
                 "+f"(d[10][0]), "+f"(d[10][1]), "+f"(d[10][2]), "+f"(d[10][3]),
                 "+f"(d[11][0]), "+f"(d[11][1]), "+f"(d[11][2]), "+f"(d[11][3]),
                 "+f"(d[12][0]), "+f"(d[12][1]), "+f"(d[12][2]), "+f"(d[12][3]),
                 "+f"(d[13][0]), "+f"(d[13][1]), "+f"(d[13][2]), "+f"(d[13][3]),
                 "+f"(d[14][0]), "+f"(d[14][1]), "+f"(d[14][2]), "+f"(d[14][3]),
                 "+f"(d[15][0]), "+f"(d[15][1]), "+f"(d[15][2]), "+f"(d[15][3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(descB),
                 "r"(1));
}

__device__ __forceinline__ void
wgmmaSS_m64n128k16_bf16(float (&d)[16][4], unsigned long long descA,
                        unsigned long long descB, int accumulate) {
  asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"
               "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 "
               "{%0,%1,%2,%3,%4,%5,%6,%7,%8,%9,%10,%11,%12,%13,%14,%15,%16,%17,"
               "%18,%19,%20,%21,%22,%23,%24,%25,%26,%27,%28,%29,%30,%31,%32,%"
               "33,%34,%35,%36,%37,%38,%39,%40,%41,%42,%43,%44,%45,%46,%47,%48,"
               "%49,%50,%51,%52,%53,%54,%55,%56,%57,%58,%59,%60,%61,%62,%63}, "
               "%64, %65, p, 1, 1, 0, 0;\n}\n"
               : "+f"(d[0][0]), "+f"(d[0][1]), "+f"(d[0][2]), "+f"(d[0][3]),
                 "+f"(d[1][0]), "+f"(d[1][1]), "+f"(d[1][2]), "+f"(d[1][3]),
                 "+f"(d[2][0]), "+f"(d[2][1]), "+f"(d[2][2]), "+f"(d[2][3]),
                 "+f"(d[3][0]), "+f"(d[3][1]), "+f"(d[3][2]), "+f"(d[3][3]),
                 "+f"(d[4][0]), "+f"(d[4][1]), "+f"(d[4][2]), "+f"(d[4][3]),
                 "+f"(d[5][0]), "+f"(d[5][1]), "+f"(d[5][2]), "+f"(d[5][3]),
                 "+f"(d[6][0]), "+f"(d[6][1]), "+f"(d[6][2]), "+f"(d[6][3]),
                 "+f"(d[7][0]), "+f"(d[7][1]), "+f"(d[7][2]), "+f"(d[7][3]),
                 "+f"(d[8][0]), "+f"(d[8][1]), "+f"(d[8][2]), "+f"(d[8][3]),
                 "+f"(d[9][0]), "+f"(d[9][1]), "+f"(d[9][2]), "+f"(d[9][3]),
                 "+f"(d[10][0]), "+f"(d[10][1]), "+f"(d[10][2]), "+f"(d[10][3]),
                 "+f"(d[11][0]), "+f"(d[11][1]), "+f"(d[11][2]), "+f"(d[11][3]),
                 "+f"(d[12][0]), "+f"(d[12][1]), "+f"(d[12][2]), "+f"(d[12][3]),
                 "+f"(d[13][0]), "+f"(d[13][1]), "+f"(d[13][2]), "+f"(d[13][3]),
                 "+f"(d[14][0]), "+f"(d[14][1]), "+f"(d[14][2]), "+f"(d[14][3]),
                 "+f"(d[15][0]), "+f"(d[15][1]), "+f"(d[15][2]), "+f"(d[15][3])
               : "l"(descA), "l"(descB), "r"(accumulate));
}

__device__ __forceinline__ void wgmmaSS_m64n128k16_f16(float (&d)[16][4],
                                                       unsigned long long descA,
                                                       unsigned long long descB,
                                                       int accumulate) {
  asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"
               "wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16 "
               "{%0,%1,%2,%3,%4,%5,%6,%7,%8,%9,%10,%11,%12,%13,%14,%15,%16,%17,"
               "%18,%19,%20,%21,%22,%23,%24,%25,%26,%27,%28,%29,%30,%31,%32,%"
               "33,%34,%35,%36,%37,%38,%39,%40,%41,%42,%43,%44,%45,%46,%47,%48,"
               "%49,%50,%51,%52,%53,%54,%55,%56,%57,%58,%59,%60,%61,%62,%63}, "
               "%64, %65, p, 1, 1, 0, 0;\n}\n"
               : "+f"(d[0][0]), "+f"(d[0][1]), "+f"(d[0][2]), "+f"(d[0][3]),
                 "+f"(d[1][0]), "+f"(d[1][1]), "+f"(d[1][2]), "+f"(d[1][3]),
                 "+f"(d[2][0]), "+f"(d[2][1]), "+f"(d[2][2]), "+f"(d[2][3]),
                 "+f"(d[3][0]), "+f"(d[3][1]), "+f"(d[3][2]), "+f"(d[3][3]),
                 "+f"(d[4][0]), "+f"(d[4][1]), "+f"(d[4][2]), "+f"(d[4][3]),
                 "+f"(d[5][0]), "+f"(d[5][1]), "+f"(d[5][2]), "+f"(d[5][3]),
                 "+f"(d[6][0]), "+f"(d[6][1]), "+f"(d[6][2]), "+f"(d[6][3]),
                 "+f"(d[7][0]), "+f"(d[7][1]), "+f"(d[7][2]), "+f"(d[7][3]),
                 "+f"(d[8][0]), "+f"(d[8][1]), "+f"(d[8][2]), "+f"(d[8][3]),
                 "+f"(d[9][0]), "+f"(d[9][1]), "+f"(d[9][2]), "+f"(d[9][3]),
                 "+f"(d[10][0]), "+f"(d[10][1]), "+f"(d[10][2]), "+f"(d[10][3]),
                 "+f"(d[11][0]), "+f"(d[11][1]), "+f"(d[11][2]), "+f"(d[11][3]),
                 "+f"(d[12][0]), "+f"(d[12][1]), "+f"(d[12][2]), "+f"(d[12][3]),
                 "+f"(d[13][0]), "+f"(d[13][1]), "+f"(d[13][2]), "+f"(d[13][3]),
                 "+f"(d[14][0]), "+f"(d[14][1]), "+f"(d[14][2]), "+f"(d[14][3]),
                 "+f"(d[15][0]), "+f"(d[15][1]), "+f"(d[15][2]), "+f"(d[15][3])
               : "l"(descA), "l"(descB), "r"(accumulate));
}

template <typename T> struct Wgmma;
template <> struct Wgmma<BF16> {
  static __device__ __forceinline__ void
  qk(float (&d)[8][4], unsigned long long a, unsigned long long b, int acc) {
    wgmmaSS_m64n64k16_bf16(d, a, b, acc);
  }
  static __device__ __forceinline__ void
  qk(float (&d)[16][4], unsigned long long a, unsigned long long b, int acc) {
    wgmmaSS_m64n128k16_bf16(d, a, b, acc);
  }
  static __device__ __forceinline__ void
  pv(float (&d)[8][4], const unsigned (&a)[4], unsigned long long b) {
    wgmmaRS_m64n64k16_bf16(d, a, b);
  }
  static __device__ __forceinline__ void
  pv(float (&d)[16][4], const unsigned (&a)[4], unsigned long long b) {
    wgmmaRS_m64n128k16_bf16(d, a, b);
  }
};
template <> struct Wgmma<F16> {
  static __device__ __forceinline__ void
  qk(float (&d)[8][4], unsigned long long a, unsigned long long b, int acc) {
    wgmmaSS_m64n64k16_f16(d, a, b, acc);
  }
  static __device__ __forceinline__ void
  qk(float (&d)[16][4], unsigned long long a, unsigned long long b, int acc) {
    wgmmaSS_m64n128k16_f16(d, a, b, acc);
  }
  static __device__ __forceinline__ void
  pv(float (&d)[8][4], const unsigned (&a)[4], unsigned long long b) {
    wgmmaRS_m64n64k16_f16(d, a, b);
  }
  static __device__ __forceinline__ void
  pv(float (&d)[16][4], const unsigned (&a)[4], unsigned long long b) {
    wgmmaRS_m64n128k16_f16(d, a, b);
  }
};

__device__ __forceinline__ void fence() {
  asm volatile("wgmma.fence.sync.aligned;" ::: "memory");
}
__device__ __forceinline__ void commit() {
  asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory");
}
__device__ __forceinline__ void waitAll() {
  asm volatile("wgmma.wait_group.sync.aligned 0;" ::: "memory");
}
/// cp.async writes through the generic proxy; wgmma reads through the async
/// proxy.
__device__ __forceinline__ void fenceProxyAsync() {
  asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
}

// mbarriers: the decoupled pipeline's per-stage "full" (copies landed) and
// "empty" (both warpgroups done reading) signals.
__device__ __forceinline__ void mbarInit(unsigned bar, unsigned count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"(bar), "r"(count)
               : "memory");
}
__device__ __forceinline__ void mbarArrive(unsigned bar) {
  asm volatile(
      "{ .reg .b64 st; mbarrier.arrive.shared::cta.b64 st, [%0]; }" ::"r"(bar)
      : "memory");
}
/// Arrives once this thread's earlier cp.async copies have landed.
__device__ __forceinline__ void mbarArriveOnCopies(unsigned bar) {
  asm volatile("cp.async.mbarrier.arrive.noinc.shared::cta.b64 [%0];" ::"r"(bar)
               : "memory");
}
__device__ __forceinline__ void mbarWait(unsigned bar, unsigned parity) {
  unsigned done;
  do {
    asm volatile("{ .reg .pred p; mbarrier.try_wait.parity.shared::cta.b64 p, "
                 "[%1], %2; selp.u32 %0, 1, 0, p; }"
                 : "=r"(done)
                 : "r"(bar), "r"(parity)
                 : "memory");
  } while (!done);
}

/// Tiles are stored as head_dim/64 column blocks of [rows][64 elements]: each
/// 128-byte row is one swizzle row, 8 rows one 1024-byte swizzle atom (the
/// canonical 128B-swizzle layout wgmma reads). The XOR is the hardware's, a
/// function of address bits, so every column block starts 1024-byte aligned.
template <int kRows>
__device__ __forceinline__ unsigned tileOffset(int row, int chunk) {
  return unsigned((chunk / 8) * kRows * 128 + row * 128 +
                  (((chunk % 8) ^ (row % 8)) * 16));
}

/// Shared-memory matrix descriptor, 128-byte swizzle.
__device__ __forceinline__ unsigned long long
descriptor(unsigned addr, unsigned leadBytes, unsigned strideBytes) {
  return (unsigned long long)((addr & 0x3FFFF) >> 4) |
         ((unsigned long long)(leadBytes >> 4) << 16) |
         ((unsigned long long)(strideBytes >> 4) << 32) | (1ull << 62);
}

template <class C, int kRows>
__device__ __forceinline__ void
loadTile(unsigned sTile, const unsigned short *base, long long strideS,
         int row0, int limit) {
  constexpr int kTotal = kRows * C::kChunks;
  static_assert(kTotal % C::kThreads == 0,
                "every thread copies the same number of chunks");
  constexpr int kRowStep = C::kThreads / C::kChunks;
  const int c = threadIdx.x % C::kChunks, r0 = threadIdx.x / C::kChunks;
  const unsigned short *src = base + (long long)(row0 + r0) * strideS + c * 8;
#pragma unroll
  for (int j = 0; j < kTotal / C::kThreads; ++j) {
    const int r = r0 + j * kRowStep;
    const bool valid = row0 + r < limit;
    cpAsync16(sTile + tileOffset<kRows>(r, c),
              valid ? src + (long long)j * kRowStep * strideS : base, valid);
  }
}

/// Issues S = Q K^T for one warpgroup's 64 query rows and a TK-key tile as
/// one committed group of asynchronous wgmmas, both operands from 128B-swizzled
/// shared memory (64 head-dim columns per column block, 16 per k-step).
template <typename T, int D, int TQ, int TK, int NT>
__device__ __forceinline__ void issueQK(float (&s)[NT][4], unsigned sQGroup,
                                        unsigned sK) {
  fence();
#pragma unroll
  for (int ks = 0; ks < D / 16; ++ks) {
    const unsigned kByte = (ks % 4) * 32;
    Wgmma<T>::qk(s, descriptor(sQGroup + (ks / 4) * TQ * 128 + kByte, 16, 1024),
                 descriptor(sK + (ks / 4) * TK * 128 + kByte, 16, 1024),
                 ks > 0);
  }
  commit();
}

} // namespace sm90

/// Dynamic shared memory of the sm_90a kernel: the tiles plus slack to align
/// them to 1024.
template <class C> struct Sm90Smem {
  static constexpr int kBytes = C::kSmemBytes + 1024;
};

/// kDecoupled: per-stage mbarriers instead of one CTA barrier per key tile, so
/// the two warpgroups are not forced into lockstep (one can run its softmax
/// while the other's MMAs use the tensor cores).
template <class C, bool kDecoupled = false>
__device__ __forceinline__ void
blockSparseAttentionSm90(const LfcAttnParams &p) {
  using T = typename C::Elem;
  constexpr int D = C::kHeadDim, TK = C::kTileK, TQ = C::kTileQ, NT = TK / 8,
                DT = D / 8;
  static_assert(TK == 64, "the wgmma path uses 64-key tiles (m64n64 scores)");
  static_assert(C::kWarps % 4 == 0 && TQ == C::kWarps * 16,
                "one warpgroup per 64 query rows, 16 rows per warp");
  extern __shared__ __align__(1024) unsigned char smemRaw[];
  const unsigned rawAddr = smemAddr(smemRaw);
  const unsigned sQ = (rawAddr + 1023u) & ~1023u;
  unsigned char *smem = smemRaw + (sQ - rawAddr);
  const unsigned sK0 = sQ + TQ * D * 2;
  const unsigned sV0 = sK0 + 2 * TK * D * 2;
  constexpr unsigned kStage = TK * D * 2;

  const int b = blockIdx.z, h = blockIdx.y;
  const int q0 = blockIdx.x * TQ;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int warpGroup = warp / 4;
  const unsigned short *qBase = detail::headSlice(p.q, b, h);
  const unsigned short *kBase = detail::headSlice(p.k, b, h);
  const unsigned short *vBase = detail::headSlice(p.v, b, h);
  const detail::KeyTiles<C> tiles(p, b, h, q0);
  const int numTiles = tiles.count;
  auto tileStart = [&](int t) { return tiles.start(t); };

  // full[stage] at bars[stage], empty[stage] at bars[2 + stage].
  __shared__ __align__(8) unsigned long long bars[4];
  const unsigned fullBar = smemAddr(bars), emptyBar = fullBar + 16;
  if constexpr (kDecoupled) {
    if (threadIdx.x == 0)
      for (int i = 0; i < 4; ++i)
        sm90::mbarInit(fullBar + 8 * i, C::kThreads);
    __syncthreads();
  }

  sm90::loadTile<C, TQ>(sQ, qBase, p.q.strideS, q0, p.lq);
  if (numTiles > 0) {
    const int k0 = tileStart(0);
    sm90::loadTile<C, TK>(sK0, kBase, p.k.strideS, k0, p.lk);
    sm90::loadTile<C, TK>(sV0, vBase, p.v.strideS, k0, p.lk);
  }
  cpAsyncCommit();
  if constexpr (kDecoupled)
    if (numTiles > 0)
      sm90::mbarArriveOnCopies(fullBar);

  float acc[DT][4];
#pragma unroll
  for (int i = 0; i < DT; ++i)
    acc[i][0] = acc[i][1] = acc[i][2] = acc[i][3] = 0.f;
  float rowMax[2] = {negInf(), negInf()};
  float rowSum[2] = {0.f, 0.f};
  // This warpgroup's 64 query rows: one K-major A operand per 64-column block
  // of Q.
  const unsigned sQGroup = sQ + warpGroup * 64 * 128;

  // One barrier per key tile: it publishes tile t's copies and retires tile t -
  // 1, whose stage the copies of tile t + 1, issued right after it, overwrite.
  for (int t = 0; t < numTiles; ++t) {
    const int stage = t & 1;
    const int k0 = tileStart(t);
    if constexpr (kDecoupled) {
      sm90::mbarWait(fullBar + 8 * stage, (t >> 1) & 1);
      sm90::fenceProxyAsync();
    } else {
      cpAsyncWait<0>();
      sm90::fenceProxyAsync();
      __syncthreads();
      if (t + 1 < numTiles) {
        const int kn = tileStart(t + 1);
        sm90::loadTile<C, TK>(sK0 + (stage ^ 1) * kStage, kBase, p.k.strideS,
                              kn, p.lk);
        sm90::loadTile<C, TK>(sV0 + (stage ^ 1) * kStage, vBase, p.v.strideS,
                              kn, p.lk);
        cpAsyncCommit();
      }
    }
    const unsigned sK = sK0 + stage * kStage, sV = sV0 + stage * kStage;

    // S = Q K^T: K-major A and B; a k-step of 16 elements is 32 bytes inside a
    // swizzle row, the next 64 columns live in the next column block.
    float s[NT][4];
#pragma unroll
    for (int n = 0; n < NT; ++n)
      s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.f;
    sm90::issueQK<T, D, TQ, TK>(s, sQGroup, sK);
    if constexpr (kDecoupled) {
      // While QK^T runs: once both warpgroups are done with tile t - 1, copy
      // tile t + 1 into its stage. A warpgroup ahead of the other waits here
      // with its MMAs in flight, so the two drift apart by up to a tile.
      if (t + 1 < numTiles) {
        const int other = stage ^ 1;
        if (t >= 1)
          sm90::mbarWait(emptyBar + 8 * other, ((t - 1) >> 1) & 1);
        const int kn = tileStart(t + 1);
        sm90::loadTile<C, TK>(sK0 + other * kStage, kBase, p.k.strideS, kn,
                              p.lk);
        sm90::loadTile<C, TK>(sV0 + other * kStage, vBase, p.v.strideS, kn,
                              p.lk);
        cpAsyncCommit();
        sm90::mbarArriveOnCopies(fullBar + 8 * other);
      }
    }
    sm90::waitAll();

    float rescale[2];
    detail::onlineSoftmaxStep<NT>(s, rowMax, rowSum, rescale, k0, TK, p.lk,
                                  lane, p.scaleLog2);
#pragma unroll
    for (int i = 0; i < DT; ++i)
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        acc[i][2 * r] *= rescale[r];
        acc[i][2 * r + 1] *= rescale[r];
      }

    // O += P V: P from registers, V as an MN-major (transposed) B operand: 64
    // head-dim columns per column block (lead offset: one column block of TK
    // rows), 8 keys per swizzle atom (stride offset 1024), 16 keys per k-step.
    // Every P fragment is packed before the fence, so the MMAs issue back to
    // back.
    unsigned pa[TK / 16][4];
#pragma unroll
    for (int ks = 0; ks < TK / 16; ++ks) {
      pa[ks][0] = packPair<T>(s[2 * ks][0], s[2 * ks][1]);
      pa[ks][1] = packPair<T>(s[2 * ks][2], s[2 * ks][3]);
      pa[ks][2] = packPair<T>(s[2 * ks + 1][0], s[2 * ks + 1][1]);
      pa[ks][3] = packPair<T>(s[2 * ks + 1][2], s[2 * ks + 1][3]);
    }
    sm90::fence();
#pragma unroll
    for (int ks = 0; ks < TK / 16; ++ks)
      sm90::Wgmma<T>::pv(acc, pa[ks],
                         sm90::descriptor(sV + ks * 16 * 128, TK * 128, 1024));
    sm90::commit();
    sm90::waitAll();
    if constexpr (kDecoupled)
      sm90::mbarArrive(emptyBar + 8 * stage);
  }

  // Normalize (an empty row has sum 0 and is written as zeros) and stage the
  // rows through shared memory for 16-byte stores. Q is dead once every copy
  // has landed (with no kept tile nothing waited for it yet) and every warp is
  // past its last MMA.
  cpAsyncWait<0>();
  __syncthreads();
  float inv[2];
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    float l = rowSum[r];
    l += __shfl_xor_sync(0xffffffffu, l, 1);
    l += __shfl_xor_sync(0xffffffffu, l, 2);
    inv[r] = l > 0.f ? 1.f / l : 0.f;
  }
  const int rowA = warp * 16 + lane / 4;
  const unsigned off = (lane % 4) * 4;
#pragma unroll
  for (int i = 0; i < DT; ++i) {
    *reinterpret_cast<unsigned *>(smem + swizzle<C::kChunks>(rowA, i) + off) =
        packPair<T>(acc[i][0] * inv[0], acc[i][1] * inv[0]);
    *reinterpret_cast<unsigned *>(smem + swizzle<C::kChunks>(rowA + 8, i) +
                                  off) =
        packPair<T>(acc[i][2] * inv[1], acc[i][3] * inv[1]);
  }
  __syncwarp();
  unsigned short *oBase =
      static_cast<unsigned short *>(p.o) + b * p.oStrideB + h * p.oStrideH;
  for (int i = lane; i < 16 * C::kChunks; i += 32) {
    const int r = warp * 16 + i / C::kChunks, c = i % C::kChunks;
    if (q0 + r < p.lq) {
      const uint4 val =
          *reinterpret_cast<const uint4 *>(smem + swizzle<C::kChunks>(r, c));
      *reinterpret_cast<uint4 *>(oBase + (long long)(q0 + r) * p.oStrideS +
                                 c * 8) = val;
    }
  }
}

} // namespace lfc

#endif // LFC_ATTENTION_SM90_CUH
