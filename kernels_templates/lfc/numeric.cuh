// Device numerics without toolkit headers: 16-bit dtypes as raw bits, IEEE fp32
// via PTX.
#ifndef LFC_NUMERIC_CUH
#define LFC_NUMERIC_CUH

namespace lfc {

// Dtype tags. The 16-bit values travel as raw bits because NVRTC has no
// cuda_bf16.h.
struct BF16 {
  static constexpr bool kIsBF16 = true;
};
struct F16 {
  static constexpr bool kIsBF16 = false;
};

/// Exact widening of one 16-bit value to fp32.
template <typename T>
__device__ __forceinline__ float toFloat(unsigned short bits);

template <>
__device__ __forceinline__ float toFloat<BF16>(unsigned short bits) {
  return __int_as_float(int(unsigned(bits) << 16));
}

template <> __device__ __forceinline__ float toFloat<F16>(unsigned short bits) {
  float r;
  asm("cvt.f32.f16 %0, %1;" : "=f"(r) : "h"(bits));
  return r;
}

/// Packs two fp32 values into two 16-bit values (lo in the low half), round to
/// nearest even.
template <typename T>
__device__ __forceinline__ unsigned packPair(float lo, float hi);

template <>
__device__ __forceinline__ unsigned packPair<BF16>(float lo, float hi) {
  unsigned r;
  // cvt.rn.bf16x2 puts its first source in the upper half.
  asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
  return r;
}

template <>
__device__ __forceinline__ unsigned packPair<F16>(float lo, float hi) {
  unsigned r;
  asm("cvt.rn.f16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
  return r;
}

// Selection must match the CPU oracle bit for bit, so its arithmetic is pinned
// to IEEE round-to-nearest PTX instructions: no contraction, no flush-to-zero,
// no approximate division, whatever options the kernel was compiled with.
__device__ __forceinline__ float addRn(float a, float b) {
  float r;
  asm("add.rn.f32 %0, %1, %2;" : "=f"(r) : "f"(a), "f"(b));
  return r;
}

__device__ __forceinline__ float fmaRn(float a, float b, float c) {
  float r;
  asm("fma.rn.f32 %0, %1, %2, %3;" : "=f"(r) : "f"(a), "f"(b), "f"(c));
  return r;
}

__device__ __forceinline__ float divRn(float a, float b) {
  float r;
  asm("div.rn.f32 %0, %1, %2;" : "=f"(r) : "f"(a), "f"(b));
  return r;
}

/// 2^x; attention tolerates the approximation (docs/selection-semantics.md
/// tolerance).
__device__ __forceinline__ float exp2Approx(float x) {
  float r;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(x));
  return r;
}

__device__ __forceinline__ float negInf() { return __int_as_float(0xff800000); }

} // namespace lfc

#endif // LFC_NUMERIC_CUH
