// HostArray: sizes, element access, BSHD views, copies of strided views and
// dtype conversion, against closed-form values.
#include "IoTestUtil.h"

#include "lfc/half.h"
#include "lfc/runtime.h"

#include <cmath>
#include <cstring>

namespace lfc {
namespace {

using iotest::expectError;

TEST(HostArray, ZerosSizesAndOverflow) {
  HostArray a = HostArray::zeros(DType::BF16, {2, 3, 4});
  EXPECT_EQ(a.elements(), 24);
  EXPECT_EQ(a.bytes.size(), 48u);
  HostArray s = HostArray::zeros(DType::F32, {});
  EXPECT_EQ(s.elements(), 1);
  EXPECT_EQ(s.bytes.size(), 4u);
  EXPECT_EQ(HostArray::zeros(DType::F16, {5, 0}).bytes.size(), 0u);
  expectError(
      [] {
        HostArray::zeros(DType::F32, {int64_t(1) << 62, 2});
      },
      {"[4611686018427387904, 2]", "overflow"});
  expectError(
      [] {
        HostArray::zeros(DType::F32, {3, -1});
      },
      {"[3, -1]", "negative dimension"});
}

TEST(HostArray, FromFloatsRoundsToNearestEven) {
  // bf16 keeps 8 significant bits: 1 + 2^-8 is halfway between 1 and
  // 1 + 2^-7 and goes to the even 1; 1 + 3 * 2^-8 goes to 1 + 2^-6.
  HostArray a = HostArray::fromFloats(DType::BF16, {4},
                                      {1.0f, 1.0f + std::ldexp(1.0f, -8),
                                       1.0f + 3 * std::ldexp(1.0f, -8), -2.5f});
  EXPECT_EQ(a.at(0), 1.0f);
  EXPECT_EQ(a.at(1), 1.0f);
  EXPECT_EQ(a.at(2), 1.0f + std::ldexp(1.0f, -6));
  EXPECT_EQ(a.at(3), -2.5f);
  // Raw bits, little-endian: 1.0 = 0x3f80, -2.5 = 0xc020.
  EXPECT_EQ(a.bytes[0], 0x80);
  EXPECT_EQ(a.bytes[1], 0x3f);
  EXPECT_EQ(a.bytes[6], 0x20);
  EXPECT_EQ(a.bytes[7], 0xc0);

  HostArray h = HostArray::fromFloats(DType::F16, {2}, {65504.0f, 1e-7f});
  EXPECT_EQ(h.at(0), 65504.0f);
  EXPECT_EQ(h.at(1), std::ldexp(1.0f, -23)); // 1e-7 -> 2 * 2^-24
  expectError(
      [] {
        HostArray::fromFloats(DType::F32, {2, 2}, {1, 2, 3});
      },
      {"3 values", "[2, 2]", "4 elements"});
}

TEST(HostArray, BshdViewStridesAndAliasing) {
  HostArray a = HostArray::zeros(DType::BF16, {2, 3, 4, 8});
  Tensor4 t = bshdView(a, "q");
  EXPECT_EQ(t.data, a.bytes.data());
  EXPECT_EQ(t.dtype, DType::BF16);
  EXPECT_EQ(t.device, Device::Host);
  EXPECT_EQ(t.batch, 2);
  EXPECT_EQ(t.tokens, 3);
  EXPECT_EQ(t.heads, 4);
  EXPECT_EQ(t.dim, 8);
  EXPECT_EQ(t.strideB, 3 * 4 * 8);
  EXPECT_EQ(t.strideS, 4 * 8);
  EXPECT_EQ(t.strideH, 8);
  // The runtime's own argument check accepts the view.
  EXPECT_NO_THROW(checkTensor(t, "q", 2, 3, 4, 8, DType::BF16, Device::Host));
  // Writes through the view land in the array at the BSHD offset.
  static_cast<uint16_t *>(t.data)[t.offset(1, 2, 3) + 5] = 0x3f80;
  EXPECT_EQ(a.at(((1 * 3 + 2) * 4 + 3) * 8 + 5), 1.0f);

  const HostArray &c = a;
  EXPECT_EQ(bshdView(c).data, a.bytes.data());
  HostArray r3 = HostArray::zeros(DType::F32, {2, 3, 4});
  expectError(
      [&] { bshdView(r3, "k"); },
      {"k: expected a rank-4 [batch, tokens, heads, head_dim]", "[2, 3, 4]"});
}

TEST(HostArray, ToHostArrayCopiesAStridedView) {
  const int64_t B = 2, S = 3, H = 2, D = 4;
  // A BHSD buffer with value(b, s, h, d) = 1000b + 100s + 10h + d.
  std::vector<float> bhsd(size_t(B * H * S * D));
  Tensor4 v = Tensor4::bhsd(bhsd.data(), DType::F32, Device::Host, B, S, H, D);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t s = 0; s < S; ++s)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t d = 0; d < D; ++d)
          bhsd[size_t(v.offset(b, s, h) + d)] =
              float(1000 * b + 100 * s + 10 * h + d);
  HostArray a = toHostArray(v);
  ASSERT_EQ(a.shape, (std::vector<int64_t>{B, S, H, D}));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t s = 0; s < S; ++s)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t d = 0; d < D; ++d)
          EXPECT_EQ(a.at(((b * S + s) * H + h) * D + d),
                    float(1000 * b + 100 * s + 10 * h + d));
  Tensor4 dev = v;
  dev.device = Device::Cuda;
  expectError([&] { toHostArray(dev); }, {"expected a host view"});
}

TEST(HostArray, Convert) {
  HostArray f =
      HostArray::fromFloats(DType::F32, {4},
                            {1.0f + std::ldexp(1.0f, -9), -0.0f,
                             std::ldexp(1.0f, -20), std::ldexp(1.0f, -26)});
  HostArray b = convert(f, DType::BF16);
  EXPECT_EQ(b.dtype, DType::BF16);
  EXPECT_EQ(b.at(0), 1.0f); // 1 + 2^-9 is below bf16's half ulp
  EXPECT_TRUE(std::signbit(b.at(1)));
  EXPECT_EQ(b.at(2), std::ldexp(1.0f, -20));
  EXPECT_EQ(b.at(3), std::ldexp(1.0f, -26));
  HostArray h = convert(b, DType::F16);
  EXPECT_EQ(h.at(0), 1.0f);
  EXPECT_EQ(h.at(2), std::ldexp(1.0f, -20)); // fp16 subnormal 16 * 2^-24
  EXPECT_EQ(h.at(3), 0.0f);                  // a quarter of 2^-24: zero
  HostArray back = convert(h, DType::F32);
  EXPECT_EQ(back.shape, f.shape);
  EXPECT_EQ(back.at(2), std::ldexp(1.0f, -20));
}

} // namespace
} // namespace lfc
