// .safetensors: round trips, hand-built files with known values, metadata,
// and every header and offset error with its message.
#include "IoTestUtil.h"

#include <cmath>

namespace lfc {
namespace {

using iotest::expectError;
using iotest::le;

std::string stFile(const std::string &header, const std::string &data) {
  return le(header.size(), 8) + header + data;
}

TEST(Safetensors, RoundTripAllDtypesWithMetadata) {
  iotest::TempDir tmp;
  std::map<std::string, HostArray> ts;
  ts["a_bf16"] = iotest::randomArray(DType::BF16, {2, 3, 4, 8}, 1);
  ts["b_f16"] = iotest::randomArray(DType::F16, {5}, 2);
  ts["c_f32"] = iotest::randomArray(DType::F32, {3, 2}, 3);
  ts["d_scalar"] = iotest::randomArray(DType::F32, {}, 4);
  ts["e_empty"] = HostArray::zeros(DType::BF16, {0, 4});
  ts["weird \"name\"\n\xc3\xa9"] = iotest::randomArray(DType::F16, {1}, 5);
  const std::map<std::string, std::string> meta = {{"format", "pt"},
                                                   {"k\"ey", "v\\al"}};
  const std::string path = tmp.file("t.safetensors");
  writeSafetensors(path, ts, meta);
  const std::string bytes = safetensorsBytes(ts, meta);
  for (int fromFile = 0; fromFile < 2; ++fromFile) {
    SafetensorsFile f = fromFile ? SafetensorsFile::open(path)
                                 : SafetensorsFile::parse(bytes, "mem");
    std::vector<std::string> names;
    for (const auto &kv : ts)
      names.push_back(kv.first);
    EXPECT_EQ(f.names(), names);
    EXPECT_EQ(f.metadata(), meta);
    for (const auto &[name, a] : ts) {
      SCOPED_TRACE(name);
      HostArray b = f.get(name);
      EXPECT_EQ(b.dtype, a.dtype);
      EXPECT_EQ(b.shape, a.shape);
      EXPECT_EQ(b.bytes, a.bytes);
      EXPECT_EQ(f.entry(name).end - f.entry(name).begin, a.bytes.size());
    }
  }
  // The JSON header is padded with spaces to a multiple of 8 bytes.
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i)
    n = n << 8 | uint8_t(bytes[size_t(i)]);
  EXPECT_EQ(n % 8, 0u);
  EXPECT_EQ(bytes[8 + n - 1] == ' ' || bytes[8 + n - 1] == '}', true);
  EXPECT_EQ(bytes[8], '{');
}

TEST(Safetensors, HandBuiltKnownValues) {
  // Tensors in an order other than the header's, one name with escapes, one
  // zero-size tensor; metadata with a non-string value (ignored).
  const std::string header =
      R"({"__metadata__":{"format":"pt","n":3},)"
      R"("w\u00e9":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},)"
      R"("h" : {"shape":[1,1],"dtype":"F16","data_offsets":[2,4]},)"
      R"("b":{"data_offsets":[0,2],"dtype":"BF16","shape":[]},)"
      R"("z":{"dtype":"F32","shape":[0,7],"data_offsets":[12,12]}}   )";
  // b: bf16 -1.5 = 0xbfc0; h: fp16 0.25 = 0x3400; w: 2.0 = 0x40000000,
  // -0.125 = 0xbe000000.
  const std::string data =
      le(0xbfc0, 2) + le(0x3400, 2) + le(0x40000000, 4) + le(0xbe000000, 4);
  SafetensorsFile f = SafetensorsFile::parse(stFile(header, data), "k.st");
  EXPECT_EQ(f.names(), (std::vector<std::string>{"b", "h", "w\xc3\xa9", "z"}));
  EXPECT_EQ(f.metadata(),
            (std::map<std::string, std::string>{{"format", "pt"}}));
  HostArray b = f.get("b");
  EXPECT_EQ(b.dtype, DType::BF16);
  EXPECT_TRUE(b.shape.empty());
  EXPECT_EQ(b.at(0), -1.5f);
  HostArray h = f.get("h");
  EXPECT_EQ(h.shape, (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(h.at(0), 0.25f);
  HostArray w = f.get("w\xc3\xa9");
  EXPECT_EQ(w.at(0), 2.0f);
  EXPECT_EQ(w.at(1), -0.125f);
  EXPECT_EQ(f.get("z").bytes.size(), 0u);
  EXPECT_TRUE(f.contains("h"));
  EXPECT_FALSE(f.contains("__metadata__"));
  expectError([&] { f.get("q"); },
              {"k.st: tensor \"q\": no such tensor (the file holds \"b\", "
               "\"h\", \"w\xc3\xa9\", \"z\")"});
}

TEST(Safetensors, StructureErrors) {
  expectError([] { SafetensorsFile::parse("abc", "s.st"); },
              {"s.st: too short for a .safetensors file (3 bytes"});
  expectError([] { SafetensorsFile::parse(le(100, 8) + "{}", "s.st"); },
              {"s.st: truncated header: its length field says 100 bytes, "
               "only 2 bytes follow it"});
  expectError([] { SafetensorsFile::parse(stFile("[]", ""), "s.st"); },
              {"s.st: header: expected a JSON object of tensors, got array"});
  expectError([] { SafetensorsFile::parse(stFile("{\"a\":1,}", ""), "s.st"); },
              {"s.st: header: JSON error at line 1, column 8 (byte 7)"});
  expectError([] { SafetensorsFile::parse(stFile("", ""), "s.st"); },
              {"s.st: header: JSON error", "got end of input"});
  expectError(
      [] {
        SafetensorsFile::parse(stFile(R"({"__metadata__":[]})", ""), "s.st");
      },
      {"__metadata__ must be an object of strings, got array"});
  iotest::TempDir tmp;
  expectError([&] { SafetensorsFile::open(tmp.file("x.safetensors")); },
              {"x.safetensors: no such file"});
}

TEST(Safetensors, EntryErrors) {
  auto one = [](const std::string &entry, size_t dataBytes = 16) {
    return [entry, dataBytes] {
      SafetensorsFile::parse(
          stFile("{\"t\":" + entry + "}", std::string(dataBytes, '\0')),
          "e.st");
    };
  };
  expectError(one("3"), {"e.st: tensor \"t\": expected an object with dtype, "
                         "shape and data_offsets, got number"});
  expectError(one(R"({"dtype":"F32","shape":[1]})"),
              {"tensor \"t\": missing key \"data_offsets\""});
  expectError(one(R"({"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":0})"),
              {"tensor \"t\": unknown key \"x\" (expected dtype, shape, "
               "data_offsets)"});
  expectError(one(R"({"dtype":"F64","shape":[1],"data_offsets":[0,8]})"),
              {"tensor \"t\": unsupported dtype \"F64\"; supported: BF16, "
               "F16, F32"});
  expectError(one(R"({"dtype":5,"shape":[1],"data_offsets":[0,8]})"),
              {"dtype must be a string, got number"});
  expectError(one(R"({"dtype":"F32","shape":3,"data_offsets":[0,4]})"),
              {"shape must be an array of non-negative integers, got number"});
  expectError(one(R"({"dtype":"F32","shape":[-1],"data_offsets":[0,4]})"),
              {"shape must be an array of non-negative integers, got -1"});
  expectError(one(R"({"dtype":"F32","shape":[1.0],"data_offsets":[0,4]})"),
              {"got 1.0"});
  expectError(
      one(R"({"dtype":"F32","shape":[9223372036854775808],"data_offsets":[0,4]})"),
      {"shape dimension 9223372036854775808 overflows int64"});
  expectError(
      one(R"({"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]})"),
      {"e.st: tensor \"t\": shape [4611686018427387904, 4] of fp32 "
       "overflows",
       "shape overflow"});
  expectError(one(R"({"dtype":"F32","shape":[1],"data_offsets":[0]})"),
              {"data_offsets must be [begin, end], two non-negative "
               "integers"});
  expectError(one(R"({"dtype":"F32","shape":[1],"data_offsets":[8,4]})"),
              {"data_offsets [8, 4] end before they begin"});
  expectError(one(R"({"dtype":"F32","shape":[2],"data_offsets":[12,20]})"),
              {"e.st: tensor \"t\": data_offsets [12, 20] out of range: the "
               "data section holds 16 bytes"});
  expectError(one(R"({"dtype":"F16","shape":[2,3],"data_offsets":[0,16]})"),
              {"data_offsets [0, 16] span 16 bytes, but shape [2, 3] of F16 "
               "needs 12"});
}

TEST(Safetensors, OverlapAndDuplicates) {
  expectError(
      [] {
        SafetensorsFile::parse(
            stFile(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                   R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                   std::string(12, '\0')),
            "o.st");
      },
      {"o.st: tensors \"a\" [0, 8) and \"b\" [4, 12) overlap in the data "
       "section"});
  expectError(
      [] {
        SafetensorsFile::parse(
            stFile(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                   R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                   std::string(8, '\0')),
            "d.st");
      },
      {"d.st: header: JSON error", "duplicate object key \"a\""});
  // Touching ranges and zero-size tensors anywhere are fine.
  EXPECT_NO_THROW(SafetensorsFile::parse(
      stFile(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
             R"("e":{"dtype":"F32","shape":[0],"data_offsets":[2,2]},)"
             R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
             std::string(8, '\0')),
      "ok.st"));
}

TEST(Safetensors, WriterErrors) {
  std::map<std::string, HostArray> ts;
  ts["__metadata__"] = HostArray::zeros(DType::F32, {1});
  expectError([&] { safetensorsBytes(ts); }, {"\"__metadata__\" is reserved"});
  ts.clear();
  ts["x"] = HostArray::zeros(DType::F32, {2});
  ts["x"].bytes.resize(3);
  expectError([&] { safetensorsBytes(ts); },
              {"tensor \"x\": shape [2] needs 8 bytes, the array holds 3"});
}

} // namespace
} // namespace lfc
