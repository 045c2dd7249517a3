// bf16 / fp16 <-> fp32 conversions on raw 16-bit values (host side),
// round-to-nearest-even. Shared by the CPU backend and the tests (GPU results
// are compared through these).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace lfc {

inline float bitsToFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
inline uint32_t floatToBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

/// Exact: bf16 is the top half of an fp32.
inline float bf16ToFloat(uint16_t h) { return bitsToFloat(uint32_t(h) << 16); }

/// Round to nearest, ties to even. NaN stays NaN (quiet), infinities stay
/// infinite.
inline uint16_t floatToBf16(float f) {
  uint32_t u = floatToBits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u)
    return uint16_t((u >> 16) | 0x0040u);
  // Adding 0x7fff plus the lowest kept bit rounds half-way cases toward the
  // even result; an overflow past the largest finite value correctly carries
  // into infinity.
  uint32_t lsb = (u >> 16) & 1u;
  return uint16_t((u + 0x7fffu + lsb) >> 16);
}

/// Exact (every fp16 value, subnormals included, is representable in fp32).
inline float halfToFloat(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  if (exp == 0x1f) // inf / NaN
    return bitsToFloat(sign | 0x7f800000u | (mant << 13));
  if (exp == 0) // zero / subnormal: mant * 2^-24
    return (sign ? -1.0f : 1.0f) * std::ldexp(float(mant), -24);
  return bitsToFloat(sign | ((exp + 127 - 15) << 23) | (mant << 13));
}

/// Round to nearest, ties to even, with fp16 subnormals and overflow to
/// infinity.
inline uint16_t floatToHalf(float f) {
  uint32_t u = floatToBits(f);
  uint16_t sign = uint16_t((u >> 16) & 0x8000u);
  uint32_t absBits = u & 0x7fffffffu;
  if (absBits > 0x7f800000u) // NaN
    return uint16_t(sign | 0x7e00u);
  if (absBits >=
      0x477ff000u) // >= 65520 rounds to infinity (65504 is the largest finite)
    return uint16_t(sign | 0x7c00u);
  int exp = int(absBits >> 23) - 127;
  if (exp < -14) {
    // Subnormal (or zero) result: value = m * 2^-24 with m = round(|f| * 2^24);
    // the scaling is exact and nearbyint rounds ties to even in the default
    // rounding mode.
    float scaled = bitsToFloat(absBits) * 16777216.0f;
    return uint16_t(sign | uint16_t(std::nearbyint(scaled)));
  }
  uint32_t mant = absBits & 0x7fffffu;
  uint32_t half = uint32_t(exp + 15) << 10 | (mant >> 13);
  uint32_t rest = mant & 0x1fffu;
  // Round to nearest even on the 13 dropped bits; a carry out of the mantissa
  // bumps the exponent, which is the correctly rounded result (up to infinity
  // at the top).
  if (rest > 0x1000u || (rest == 0x1000u && (half & 1u)))
    ++half;
  return uint16_t(sign | half);
}

} // namespace lfc
