// Fuzzes the .npy, .safetensors and trace.json parsers with thousands of
// mutated files (fixed seed, bounded time): each must parse into a consistent
// array or throw lfc::Error; any other exception (bad_alloc, out_of_range,
// length_error) or a crash fails the test. LFC_IO_FUZZ_SCALE=N runs N times as
// many iterations (a longer soak, e.g. under sanitizers).
#include "IoTestUtil.h"

#include <chrono>
#include <cstdlib>

namespace lfc {
namespace {

// One random edit of `s`: bit flips, interesting bytes, truncation,
// insertion, duplication, or a rewritten length field.
void mutate(std::string &s, std::mt19937 &rng, size_t headerEnd) {
  auto pick = [&](size_t n) { return n ? size_t(rng() % n) : 0; };
  // Half of the edits land in the header, where the parsing happens.
  auto pos = [&]() {
    return (rng() % 2 && headerEnd) ? pick(std::min(headerEnd, s.size()))
                                    : pick(s.size());
  };
  static const char kInteresting[] = {
      '\0', '\xff', '(', ')', ',',    '-',    '9', '0', '[',
      ']',  '{',    '}', '"', '\'',   '\\',   ':', ' ', '\n',
      'L',  'T',    'e', '.', '\x80', '\xc3', 'u'};
  switch (rng() % 8) {
  case 0:
    if (!s.empty())
      s[pos()] ^= char(1u << (rng() % 8));
    break;
  case 1:
    if (!s.empty())
      s[pos()] = kInteresting[pick(sizeof kInteresting)];
    break;
  case 2:
    s.resize(pick(s.size() + 1));
    break;
  case 3: {
    std::string ins(1 + pick(8), '\0');
    for (char &c : ins)
      c = kInteresting[pick(sizeof kInteresting)];
    s.insert(pos(), ins);
    break;
  }
  case 4:
    if (!s.empty()) {
      size_t a = pos(), n = 1 + pick(16);
      s.insert(pos(), s.substr(a, n));
    }
    break;
  case 5:
    if (!s.empty())
      s.erase(pos(), 1 + pick(8));
    break;
  case 6: { // a length field (npy bytes 8..11, safetensors 0..7)
    static const uint64_t kLens[] = {
        0, 1, 7, 8, 63, 64, 0xffff, 0x10000, 0xffffffff, 0xffffffffffffffffull};
    uint64_t v = kLens[pick(sizeof kLens / sizeof kLens[0])];
    size_t at = s.size() > 12 && s[0] == '\x93' ? 8 : 0;
    for (size_t i = 0; i < 8 && at + i < s.size(); ++i)
      s[at + i] = char((v >> (8 * i)) & 0xff);
    break;
  }
  default: // a digit replaced by a large number
    for (size_t i = pos(); i < s.size() && i < headerEnd; ++i)
      if (s[i] >= '0' && s[i] <= '9') {
        s.replace(i, 1, rng() % 2 ? "99999999999999999999" : "4611686018427");
        break;
      }
    break;
  }
}

int scale() {
  const char *e = std::getenv("LFC_IO_FUZZ_SCALE");
  return e && std::atoi(e) > 0 ? std::atoi(e) : 1;
}

template <class Fn>
void fuzz(const std::vector<std::pair<std::string, size_t>> &seeds,
          int iterations, uint32_t seed, Fn parse, int &accepted,
          int &rejected) {
  std::mt19937 rng(seed);
  iterations *= scale();
  for (int it = 0; it < iterations; ++it) {
    const auto &[base, headerEnd] = seeds[size_t(it) % seeds.size()];
    std::string s = base;
    const int edits = 1 + int(rng() % 4);
    for (int e = 0; e < edits; ++e)
      mutate(s, rng, headerEnd);
    try {
      parse(s);
      ++accepted;
    } catch (const Error &) {
      ++rejected;
    } catch (const std::exception &e) {
      ADD_FAILURE() << "iteration " << it << ": non-lfc exception " << e.what();
      return;
    }
  }
}

TEST(Fuzz, NpyParser) {
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::pair<std::string, size_t>> seeds;
  uint32_t seed = 7;
  for (DType t : {DType::BF16, DType::F16, DType::F32})
    for (int v : {1, 2, 3})
      for (const std::vector<int64_t> &shape :
           {std::vector<int64_t>{2, 3}, std::vector<int64_t>{1, 2, 2, 4},
            std::vector<int64_t>{}}) {
        HostArray a = iotest::randomArray(t, shape, seed++);
        std::string b = npyBytes(a, v);
        seeds.emplace_back(b, b.size() - a.bytes.size());
      }
  int ok = 0, bad = 0;
  fuzz(
      seeds, 6000, 12345,
      [](const std::string &s) {
        HostArray a = parseNpy(s, "fuzz.npy");
        // A file that parses is self-consistent.
        ASSERT_EQ(int64_t(a.bytes.size()), a.elements() * dtypeSize(a.dtype));
      },
      ok, bad);
  EXPECT_GT(ok, 50);              // the fuzzer keeps some files valid...
  EXPECT_GT(bad, 3000 * scale()); // ...and breaks most
  EXPECT_LT(std::chrono::steady_clock::now() - t0,
            std::chrono::seconds(60 * scale()));
}

TEST(Fuzz, SafetensorsParser) {
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::pair<std::string, size_t>> seeds;
  for (uint32_t k = 0; k < 4; ++k) {
    std::map<std::string, HostArray> ts;
    ts["c001_p00_l000_q"] = iotest::randomArray(DType::BF16, {1, 2, 2, 2}, k);
    ts["b\\u00e9"] = iotest::randomArray(DType::F16, {3}, k + 10);
    ts["s"] = iotest::randomArray(DType::F32, {}, k + 20);
    if (k % 2)
      ts["e"] = HostArray::zeros(DType::F32, {0, 2});
    std::string b = safetensorsBytes(
        ts, k < 2 ? std::map<std::string, std::string>{}
                  : std::map<std::string, std::string>{{"lfc_trace", "{}"}});
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i)
      n = n << 8 | uint8_t(b[size_t(i)]);
    seeds.emplace_back(b, size_t(8 + n));
  }
  int ok = 0, bad = 0;
  fuzz(
      seeds, 6000, 777,
      [](const std::string &s) {
        SafetensorsFile f = SafetensorsFile::parse(s, "fuzz.safetensors");
        for (const std::string &n : f.names()) {
          HostArray a = f.get(n);
          ASSERT_EQ(int64_t(a.bytes.size()), a.elements() * dtypeSize(a.dtype));
        }
      },
      ok, bad);
  EXPECT_GT(ok, 50);
  EXPECT_GT(bad, 3000 * scale());
  EXPECT_LT(std::chrono::steady_clock::now() - t0,
            std::chrono::seconds(60 * scale()));
}

TEST(Fuzz, TraceJson) {
  // Mutated trace.json files over a valid one-call .npy trace.
  const auto t0 = std::chrono::steady_clock::now();
  iotest::TempDir tmp;
  const std::string json =
      "{\"format\": \"lfc-trace\", \"version\": 1, \"dtype\": \"bf16\", "
      "\"batch\": 1, \"heads\": 1, \"head_dim\": 8, \"tokens_per_frame\": 2, "
      "\"frames_per_chunk\": 1, \"chunks\": 1, \"passes_per_chunk\": 1, "
      "\"layers\": 1, \"kv_window_frames\": 0, \"sink_frames\": 0, "
      "\"recorded\": {\"chunks\": [1], \"passes\": [0], \"layers\": [0], "
      "\"outputs\": false}, \"model\": \"m\\u00e9\"}";
  for (char r : {'q', 'k', 'v'})
    writeNpy(tmp.file(std::string("c001_p00_l000_") + r + ".npy"),
             HostArray::zeros(DType::BF16, {1, 2, 1, 8}));
  iotest::writeBytes(tmp.file("trace.json"), json);
  EXPECT_EQ(TraceReader(tmp.path().string()).calls().size(), 1u);
  int ok = 0, bad = 0;
  fuzz(
      {{json, json.size()}}, 1500, 99,
      [&](const std::string &s) {
        iotest::writeBytes(tmp.file("trace.json"), s);
        TraceReader r(tmp.path().string());
        for (const TraceCall &c : r.calls())
          r.load(c);
      },
      ok, bad);
  EXPECT_GE(ok, 5); // edits of values, not syntax, keep a few valid
  EXPECT_GT(bad, 700 * scale());
  EXPECT_LT(std::chrono::steady_clock::now() - t0,
            std::chrono::seconds(60 * scale()));
}

} // namespace
} // namespace lfc
