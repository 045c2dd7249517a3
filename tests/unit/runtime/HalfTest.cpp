// bf16 / fp16 conversions against closed-form values and hand-computed rounding
// cases.
#include "lfc/half.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace {

using lfc::bf16ToFloat;
using lfc::floatToBf16;
using lfc::floatToHalf;
using lfc::halfToFloat;

TEST(Half, Bf16KnownValues) {
  EXPECT_EQ(floatToBf16(1.0f), 0x3f80);
  EXPECT_EQ(floatToBf16(-2.0f), 0xc000);
  EXPECT_EQ(floatToBf16(0.0f), 0x0000);
  EXPECT_EQ(bf16ToFloat(0x4049), 3.140625f);
  EXPECT_EQ(floatToBf16(std::numeric_limits<float>::infinity()), 0x7f80);
  EXPECT_TRUE(std::isnan(bf16ToFloat(floatToBf16(std::nanf("")))));
}

TEST(Half, Bf16RoundsToNearestEven) {
  // 1 + 2^-8 lies exactly between 0x3f80 and 0x3f81: ties go to the even
  // 0x3f80.
  EXPECT_EQ(floatToBf16(lfc::bitsToFloat(0x3f808000u)), 0x3f80);
  // 1 + 3 * 2^-8 lies between 0x3f81 and 0x3f82: ties go to the even 0x3f82.
  EXPECT_EQ(floatToBf16(lfc::bitsToFloat(0x3f818000u)), 0x3f82);
  EXPECT_EQ(floatToBf16(lfc::bitsToFloat(0x3f808001u)),
            0x3f81); // above the tie
  EXPECT_EQ(floatToBf16(lfc::bitsToFloat(0x3f807fffu)),
            0x3f80); // below the tie
  // The largest finite float rounds up past the largest bf16 into infinity.
  EXPECT_EQ(floatToBf16(std::numeric_limits<float>::max()), 0x7f80);
}

TEST(Half, HalfToFloatMatchesClosedFormForAllValues) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    int sign = h >> 15, exp = (h >> 10) & 31, mant = h & 1023;
    float got = halfToFloat(uint16_t(h));
    if (exp == 31) {
      EXPECT_TRUE(mant ? std::isnan(got) : std::isinf(got)) << std::hex << h;
      continue;
    }
    double expect = exp == 0 ? std::ldexp(double(mant), -24)
                             : std::ldexp(1.0 + mant / 1024.0, exp - 15);
    if (sign)
      expect = -expect;
    ASSERT_EQ(double(got), expect) << "fp16 0x" << std::hex << h;
    // Every fp16 value is exactly representable: converting back is the
    // identity.
    ASSERT_EQ(floatToHalf(got), uint16_t(h)) << "fp16 0x" << std::hex << h;
  }
}

TEST(Half, FloatToHalfRounding) {
  EXPECT_EQ(floatToHalf(1.0f), 0x3c00);
  EXPECT_EQ(floatToHalf(65504.0f), 0x7bff);
  EXPECT_EQ(floatToHalf(65519.0f), 0x7bff); // below the tie with 65536
  EXPECT_EQ(floatToHalf(65520.0f), 0x7c00); // the tie rounds to even: infinity
  EXPECT_EQ(floatToHalf(-1e6f), 0xfc00);
  // 1 + 2^-11 ties between 0x3c00 and 0x3c01: even 0x3c00; 1 + 3 * 2^-11: even
  // 0x3c02.
  EXPECT_EQ(floatToHalf(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
  EXPECT_EQ(floatToHalf(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  // Subnormals: 2^-24 is the smallest; 2^-25 ties to even zero; 1.5 * 2^-24
  // ties to 2.
  EXPECT_EQ(floatToHalf(std::ldexp(1.0f, -24)), 0x0001);
  EXPECT_EQ(floatToHalf(std::ldexp(1.0f, -25)), 0x0000);
  EXPECT_EQ(floatToHalf(1.5f * std::ldexp(1.0f, -24)), 0x0002);
  EXPECT_EQ(floatToHalf(std::ldexp(1.0f, -25) * 1.01f), 0x0001);
  // Just below the smallest normal rounds up into it.
  EXPECT_EQ(floatToHalf(std::ldexp(1023.6f, -24)), 0x0400);
  EXPECT_EQ(floatToHalf(-0.0f), 0x8000);
  EXPECT_TRUE(std::isnan(halfToFloat(floatToHalf(std::nanf("")))));
}

} // namespace
