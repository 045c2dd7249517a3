// .npy: round trips for every dtype and format version, hand-built files with
// known values (as NumPy writes them), and every error with its message.
#include "IoTestUtil.h"

#include <cmath>

namespace lfc {
namespace {

using iotest::expectError;
using iotest::le;

// A hand-built .npy file: magic, version, header length, `dict` padded with
// spaces and a newline to `align` bytes, then `data`.
std::string npyFile(int major, const std::string &dict, const std::string &data,
                    size_t align = 64) {
  const size_t pre = major == 1 ? 10 : 12;
  std::string h = dict;
  while ((pre + h.size() + 1) % align)
    h += ' ';
  h += '\n';
  return std::string("\x93NUMPY", 6) + char(major) + '\0' +
         le(h.size(), major == 1 ? 2 : 4) + h + data;
}

std::string f32Dict(const std::string &shape) {
  return "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
}

TEST(Npy, RoundTripEveryDtypeAndVersion) {
  iotest::TempDir tmp;
  const std::vector<std::vector<int64_t>> shapes = {
      {}, {0}, {7}, {2, 3}, {2, 3, 4, 5}, {1, 0, 3}};
  uint32_t seed = 1;
  for (DType t : {DType::BF16, DType::F16, DType::F32})
    for (int version : {0, 1, 2, 3})
      for (const auto &shape : shapes) {
        SCOPED_TRACE(std::string(dtypeName(t)) + " v" +
                     std::to_string(version) + " " + shapeString(shape));
        HostArray a = iotest::randomArray(t, shape, seed++);
        std::string bytes = npyBytes(a, version);
        EXPECT_EQ(int(uint8_t(bytes[6])), version == 0 ? 1 : version);
        const size_t hdrEnd = bytes.size() - a.bytes.size();
        EXPECT_EQ(hdrEnd % 64, 0u); // data aligned as NumPy aligns it
        EXPECT_EQ(bytes[hdrEnd - 1], '\n');
        HostArray b = parseNpy(bytes, "mem.npy");
        EXPECT_EQ(b.dtype, t);
        EXPECT_EQ(b.shape, shape);
        EXPECT_EQ(b.bytes, a.bytes); // exact bits, NaN patterns included
        const std::string path = tmp.file("a.npy");
        writeNpy(path, a, version);
        HostArray c = readNpy(path);
        EXPECT_EQ(c.bytes, a.bytes);
        NpyHeader h = readNpyHeader(path);
        EXPECT_EQ(h.major, version == 0 ? 1 : version);
        EXPECT_EQ(h.dataOffset, hdrEnd);
        EXPECT_EQ(h.dataBytes, a.bytes.size());
      }
}

TEST(Npy, WriterHeaderIsNumPys) {
  HostArray a = HostArray::zeros(DType::F32, {3});
  std::string b = npyBytes(a);
  EXPECT_EQ(b.substr(0, 10), std::string("\x93NUMPY\x01\x00\x76\x00", 10));
  EXPECT_EQ(b.substr(10, 57),
            "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }");
  EXPECT_EQ(npyBytes(HostArray::zeros(DType::BF16, {2, 5})).substr(10, 59),
            "{'descr': '<u2', 'fortran_order': False, 'shape': (2, 5), }");
  EXPECT_EQ(npyBytes(HostArray::zeros(DType::F16, {})).substr(10, 55),
            "{'descr': '<f2', 'fortran_order': False, 'shape': (), }");
}

TEST(Npy, HandBuiltF32KnownValues) {
  // 1.0 = 0x3f800000, -2.0 = 0xc0000000, 0.5 = 0x3f000000, 3.0 = 0x40400000.
  const std::string data = le(0x3f800000, 4) + le(0xc0000000, 4) +
                           le(0x3f000000, 4) + le(0x40400000, 4);
  // NumPy >= 1.24 pads to 128 bytes (room for the shape to grow).
  HostArray a = parseNpy(npyFile(1, f32Dict("(2, 2)"), data, 128), "f.npy");
  EXPECT_EQ(a.dtype, DType::F32);
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(a.at(0), 1.0f);
  EXPECT_EQ(a.at(1), -2.0f);
  EXPECT_EQ(a.at(2), 0.5f);
  EXPECT_EQ(a.at(3), 3.0f);
}

TEST(Npy, HandBuiltF16AndBf16KnownValues) {
  // fp16: 1.0 = 0x3c00, -2.0 = 0xc000, 65504 = 0x7bff, 2^-24 = 0x0001.
  const std::string f16 =
      le(0x3c00, 2) + le(0xc000, 2) + le(0x7bff, 2) + le(0x0001, 2);
  HostArray h = parseNpy(
      npyFile(2,
              "{\"descr\": \"<f2\", \"fortran_order\": False, \"shape\": "
              "(4,)}",
              f16),
      "h.npy");
  EXPECT_EQ(h.dtype, DType::F16);
  EXPECT_EQ(h.at(0), 1.0f);
  EXPECT_EQ(h.at(1), -2.0f);
  EXPECT_EQ(h.at(2), 65504.0f);
  EXPECT_EQ(h.at(3), std::ldexp(1.0f, -24));
  // bf16 bit patterns: 1.0 = 0x3f80, 3.140625 = 0x4049, -0.5 = 0xbf00.
  const std::string bf = le(0x3f80, 2) + le(0x4049, 2) + le(0xbf00, 2);
  for (const char *descr : {"<u2", "<V2", "|V2"}) {
    SCOPED_TRACE(descr);
    HostArray b = parseNpy(npyFile(3,
                                   std::string("{'shape': (3,), 'descr': '") +
                                       descr + "', 'fortran_order': False}",
                                   bf),
                           "b.npy");
    EXPECT_EQ(b.dtype, DType::BF16);
    EXPECT_EQ(b.at(0), 1.0f);
    EXPECT_EQ(b.at(1), 3.140625f);
    EXPECT_EQ(b.at(2), -0.5f);
  }
}

TEST(Npy, PythonTwoLongsAndNoTrailingNewline) {
  // Version 1.0 files from Python 2 write longs as 2L; a header may also lack
  // the final newline.
  std::string dict =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1L, 2L), }";
  std::string file = std::string("\x93NUMPY\x01\x00", 8) + le(dict.size(), 2) +
                     dict + le(0x3f800000, 4) + le(0x40400000, 4);
  HostArray a = parseNpy(file, "py2.npy");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(a.at(1), 3.0f);
}

TEST(Npy, StructureErrors) {
  expectError([] { parseNpy("\x93NUMP", "s.npy"); },
              {"s.npy: too short for an .npy file (5 bytes"});
  expectError([] { parseNpy("PK\x03\x04xxxxxxxxxxxx", "z.npy"); },
              {"z.npy: bad magic: not an .npy file",
               "expected the bytes \\x93NUMPY, got \\x50\\x4b\\x03\\x04"});
  std::string good = npyFile(1, f32Dict("(1,)"), le(0, 4));
  std::string v4 = good;
  v4[6] = 4;
  expectError([&] { parseNpy(v4, "v.npy"); },
              {"v.npy: unsupported .npy format version 4.0",
               "supported: 1.0, 2.0, 3.0"});
  std::string v11 = good;
  v11[7] = 1;
  expectError([&] { parseNpy(v11, "v.npy"); }, {"version 1.1"});
  std::string v2short = std::string("\x93NUMPY\x02\x00\x10\x00", 10);
  expectError([&] { parseNpy(v2short, "p.npy"); },
              {"truncated .npy preamble: version 2.0 needs 12 bytes, the "
               "file has 10"});
  std::string hdrLong = good.substr(0, 8) + le(1000, 2) + good.substr(10);
  expectError([&] { parseNpy(hdrLong, "t.npy"); },
              {"t.npy: truncated .npy header: its length field says 1000 "
               "bytes, only 122 bytes follow the preamble"});
}

TEST(Npy, HeaderSyntaxErrors) {
  auto hdr = [](const std::string &dict) {
    return [dict] { parseNpy(npyFile(1, dict, ""), "h.npy"); };
  };
  expectError(hdr("['descr']"),
              {"h.npy: malformed .npy header at header byte 0",
               "expected the header to be a Python dict"});
  expectError(hdr("{'descr' '<f4'}"), {"expected ':' after key 'descr'"});
  expectError(hdr("{'descr': '<f4}"), {"unterminated string"});
  expectError(hdr("{'descr': '<\\f4'}"), {"escape sequences"});
  expectError(hdr("{'descr': '<f4' 'x'}"),
              {"expected ',' or '}' after the value of 'descr'"});
  expectError(hdr("{'descr': '<f4', 'fortran_order': Flase}"),
              {"expected a value (string, True, False, None, integer, "
               "tuple or list), got 'F'"});
  expectError(hdr("{'shape': (1, 2}"), {"expected ',' or ')', got '}'"});
  expectError(hdr("{} x"), {"unexpected 'x' after the header dict"});
  expectError(hdr("{'a': 1, 'a': 2}"), {"duplicate key 'a'"});
  expectError(hdr("{'s': " + std::string(40, '(') + "}"),
              {"nested deeper than 16"});
}

TEST(Npy, HeaderContentErrors) {
  auto with = [](const std::string &dict, const std::string &data = "") {
    return [dict, data] { parseNpy(npyFile(1, dict, data), "c.npy"); };
  };
  expectError(with("{'descr': '<f4', 'fortran_order': False}"),
              {"c.npy: the .npy header has no 'shape' key"});
  expectError(
      with("{'descr': '<f4', 'fortran_order': False, 'shape': (), 'x': 1}"),
      {"unexpected key 'x' in the .npy header (expected exactly 'descr', "
       "'fortran_order', 'shape')"});
  expectError(with("{'descr': '<f8', 'fortran_order': False, 'shape': ()}"),
              {"c.npy: unsupported .npy dtype '<f8'",
               "supported: '<f4' (fp32), '<f2' (fp16), '<u2' / '<V2' / "
               "'|V2' (bf16 bit patterns)"});
  expectError(with("{'descr': '>f4', 'fortran_order': False, 'shape': ()}"),
              {"'>f4' (big-endian)", "supported: '<f4'"});
  expectError(with("{'descr': [('a', '<f4')], 'fortran_order': False, "
                   "'shape': ()}"),
              {"unsupported .npy dtype: 'descr' is a list (a structured "
               "dtype?)"});
  expectError(with("{'descr': '<f4', 'fortran_order': True, 'shape': (2, "
                   "2)}",
                   std::string(16, '\0')),
              {"c.npy: Fortran-order (column-major) data is not supported",
               "expected 'fortran_order': False"});
  expectError(with("{'descr': '<f4', 'fortran_order': 0, 'shape': ()}"),
              {"'fortran_order' is an integer, expected True or False"});
  expectError(with("{'descr': '<f4', 'fortran_order': False, 'shape': (3)}"),
              {"'shape' is an integer, expected a tuple"});
  expectError(with("{'descr': '<f4', 'fortran_order': False, 'shape': [3]}"),
              {"'shape' is a list, expected a tuple"});
  expectError(with("{'descr': '<f4', 'fortran_order': False, 'shape': (2, "
                   "-3)}"),
              {"'shape' has a negative dimension -3"});
  expectError(with("{'descr': '<f4', 'fortran_order': False, 'shape': "
                   "('2',)}"),
              {"'shape' holds a string, expected non-negative integers"});
  expectError(with("{'descr': '<f4', 'fortran_order': False, 'shape': "
                   "(99999999999999999999,)}"),
              {"shape dimension 99999999999999999999 overflows int64 (shape "
               "overflow)"});
  expectError(with("{'descr': '<f4', 'fortran_order': False, 'shape': "
                   "(4611686018427387904, 2)}"),
              {"c.npy: shape [4611686018427387904, 2] of fp32 overflows",
               "shape overflow"});
}

TEST(Npy, DataSizeErrors) {
  expectError(
      [] {
        parseNpy(npyFile(1, f32Dict("(2, 3)"), std::string(20, 'x')), "d.npy");
      },
      {"d.npy: truncated data: shape [2, 3] of '<f4' needs 24 bytes after "
       "the 128-byte header, the file has 20"});
  expectError(
      [] {
        parseNpy(npyFile(2, f32Dict("(2,)"), std::string(9, 'x')), "d.npy");
      },
      {"d.npy: 1 unexpected bytes after the data: shape [2] of '<f4' needs "
       "8 bytes"});
}

TEST(Npy, FileErrors) {
  iotest::TempDir tmp;
  expectError([&] { readNpy(tmp.file("none.npy")); },
              {"none.npy: no such file"});
  expectError([&] { readNpy(tmp.path().string()); }, {"not a regular file"});
  iotest::writeBytes(tmp.file("t.npy"),
                     npyFile(1, f32Dict("(4,)"), std::string(8, '\0')));
  expectError([&] { readNpyHeader(tmp.file("t.npy")); },
              {"t.npy: truncated data", "needs 16 bytes", "has 8"});
  expectError([] { npyBytes(HostArray::zeros(DType::F32, {2}), 4); },
              {"version 4 requested"});
  HostArray bad = HostArray::zeros(DType::F32, {2});
  bad.bytes.pop_back();
  expectError([&] { npyBytes(bad); }, {"needs 8 bytes, the array holds 7"});
  expectError([&] { writeNpy(tmp.file("no/such/dir/x.npy"), bad); },
              {"needs 8 bytes"});
  expectError(
      [&] {
        writeNpy(tmp.file("no/such/dir/x.npy"),
                 HostArray::zeros(DType::F32, {2}));
      },
      {"x.npy: cannot write"});
}

TEST(Npy, LargeHeaderUsesVersion2) {
  // A rank-25000 shape of ones: the header exceeds 64 KiB.
  HostArray a;
  a.dtype = DType::F16;
  a.shape.assign(25000, 1);
  a.bytes.assign(2, 0x11);
  std::string b = npyBytes(a);
  EXPECT_EQ(b[6], 2);
  EXPECT_EQ(parseNpy(b, "big.npy").shape.size(), 25000u);
  expectError([&] { npyBytes(a, 1); }, {"does not fit version 1.0"});
}

} // namespace
} // namespace lfc
