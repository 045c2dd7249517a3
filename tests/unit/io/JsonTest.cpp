// The strict JSON parser of runtime/io/ (safetensors headers, trace.json):
// every value kind and escape, and each class of error with its location.
#include "IoTestUtil.h"

#include "runtime/io/Json.h"

namespace lfc {
namespace {

using io_detail::JsonValue;
using io_detail::parseJson;
using iotest::expectError;
using Kind = JsonValue::Kind;

TEST(Json, ParsesEveryKind) {
  JsonValue v = parseJson(
      " {\"a\": [1, -2.5e+3, 0, 1E2], \"b\": {\"c\": true, \"d\": false},"
      " \"e\": null, \"f\": \"x\", \"g\": [], \"h\": {}}\n\t\r ",
      "doc");
  ASSERT_EQ(v.kind, Kind::Object);
  ASSERT_EQ(v.members.size(), 6u);
  EXPECT_EQ(v.members[0].first, "a"); // order kept
  const JsonValue &a = *v.find("a");
  ASSERT_EQ(a.items.size(), 4u);
  EXPECT_EQ(a.items[1].text, "-2.5e+3");
  uint64_t u = 0;
  EXPECT_TRUE(a.items[0].asUint(u));
  EXPECT_EQ(u, 1u);
  EXPECT_FALSE(a.items[1].asUint(u));
  EXPECT_FALSE(a.items[3].asUint(u)); // 1E2 is not written as an integer
  EXPECT_TRUE(v.find("b")->find("c")->boolean);
  EXPECT_EQ(v.find("b")->find("d")->kind, Kind::Bool);
  EXPECT_EQ(v.find("e")->kind, Kind::Null);
  EXPECT_EQ(v.find("f")->text, "x");
  EXPECT_EQ(v.find("g")->kind, Kind::Array);
  EXPECT_EQ(v.find("h")->kind, Kind::Object);
  EXPECT_EQ(v.find("zz"), nullptr);
  EXPECT_EQ(v.find("f")->offset, v.find("f")->offset); // recorded
  EXPECT_EQ(parseJson("18446744073709551615", "n").asUint(u), true);
  EXPECT_EQ(u, 18446744073709551615ull);
  EXPECT_FALSE(parseJson("18446744073709551616", "n").asUint(u));
}

TEST(Json, StringEscapesAndUtf8) {
  JsonValue v = parseJson(
      R"("q\"\\\/\b\f\n\r\t\u0041\u00e9\u20ac\ud83d\ude00 raw é")", "s");
  EXPECT_EQ(v.text, "q\"\\/\b\f\n\r\tA\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
                    " raw \xc3\xa9");
  EXPECT_EQ(io_detail::jsonQuote("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
}

TEST(Json, ErrorsNameTheLocation) {
  expectError([] { parseJson("{\"a\": 1,\n \"b\": 2,}", "t.json"); },
              {"t.json: JSON error at line 2, column 9 (byte 17)",
               "expected '\"' starting an object key, got '}'"});
  expectError([] { parseJson("", "e"); },
              {"expected a JSON value, got end of input"});
  expectError([] { parseJson("[1 2]", "e"); },
              {"expected ',' or ']' after an array element, got '2'"});
  expectError([] { parseJson("{\"a\" 1}", "e"); },
              {"expected ':' after object key \"a\""});
  expectError([] { parseJson("{\"a\": 1 \"b\": 2}", "e"); },
              {"expected ',' or '}' after an object member"});
  expectError([] { parseJson("{\"a\": 1, \"a\": 2}", "e"); },
              {"duplicate object key \"a\"", "column 10"});
  expectError([] { parseJson("[1,]", "e"); }, {"expected a JSON value"});
  expectError([] { parseJson("// c\n1", "e"); }, {"expected a JSON value"});
  expectError([] { parseJson("1 2", "e"); },
              {"unexpected '2' after the JSON value"});
  expectError([] { parseJson("tru", "e"); }, {"expected a JSON value"});
}

TEST(Json, NumberErrors) {
  expectError([] { parseJson("012", "e"); }, {"leading zeros"});
  expectError([] { parseJson("-", "e"); }, {"expected a digit in a number"});
  expectError([] { parseJson("1.", "e"); }, {"digit after '.'"});
  expectError([] { parseJson("1e+", "e"); }, {"exponent"});
  expectError([] { parseJson("+1", "e"); }, {"expected a JSON value"});
  expectError([] { parseJson(".5", "e"); }, {"expected a JSON value"});
}

TEST(Json, StringErrors) {
  expectError([] { parseJson("\"abc", "e"); }, {"unterminated string"});
  expectError([] { parseJson("\"a\nb\"", "e"); },
              {"control character (byte 0x0a) in a string"});
  expectError([] { parseJson(R"("\x")", "e"); },
              {"invalid escape: backslash followed by 'x'"});
  expectError([] { parseJson(R"("\u12G4")", "e"); },
              {"expected a hex digit in a \\u escape, got 'G'"});
  expectError([] { parseJson(R"("\u12")", "e"); }, {"hex digit"});
  expectError([] { parseJson(R"("\ude00")", "e"); }, {"lone low surrogate"});
  expectError([] { parseJson(R"("\ud83dx")", "e"); },
              {"high surrogate \\u escape not followed by a low surrogate"});
  expectError([] { parseJson(R"("\ud83d\u0041")", "e"); },
              {"not followed by a low surrogate"});
  expectError([] { parseJson("\"\xff\"", "e"); },
              {"invalid UTF-8 (byte 0xff)"});
  expectError([] { parseJson("\"\xc0\xaf\"", "e"); }, {"invalid UTF-8"});
  expectError([] { parseJson("\"\xe0\x80\xaf\"", "e"); }, {"overlong"});
  expectError([] { parseJson("\"\xed\xa0\x80\"", "e"); }, {"surrogate"});
  expectError([] { parseJson("\"\xc3\"", "e"); },
              {"invalid UTF-8 continuation"});
  expectError([] { parseJson("\"\xf0\x9f\"", "e"); },
              {"truncated UTF-8 sequence"});
}

TEST(Json, DepthIsBounded) {
  EXPECT_NO_THROW(parseJson(std::string(64, '[') + std::string(64, ']'), "d"));
  expectError(
      [] {
        parseJson(std::string(100000, '[') + std::string(100000, ']'), "d");
      },
      {"nesting deeper than 64"});
  // So is the number of values (the default bound is kJsonMaxValues).
  EXPECT_NO_THROW(parseJson("[0, 0, [0, 0]]", "m", 6));
  expectError([] { parseJson("[0, 0, [0, 0, 0]]", "m", 6); },
              {"column 15 (byte 14): more than 6 JSON values"});
}

} // namespace
} // namespace lfc
