// Quality metrics on the host (docs/QUALITY.md): captured softmax mass, output
// error of the kept blocks vs dense, kept-list density, output comparisons,
// sampling, and the rollout accumulator. Double precision throughout,
// multi-threaded with std::thread, deterministic for any thread count (per-row
// results are reduced in row order). evaluate(backend, ...) sends the CPU
// backend here and the CUDA backend to the GPU probe (runtime/cuda/
// QualityProbe.cpp), whose rows and counts become the same metrics below.
#include "lfc/half.h"
#include "lfc/quality.h"
#include "runtime/core/Parallel.h"
#include "runtime/quality/Probe.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <mutex>
#include <numeric>
#include <thread>

namespace lfc::quality {
namespace {

std::string str(int64_t v) { return std::to_string(v); }

double loadElement(const Tensor4 &t, int64_t index) {
  switch (t.dtype) {
  case DType::BF16:
    return bf16ToFloat(static_cast<const uint16_t *>(t.data)[index]);
  case DType::F16:
    return halfToFloat(static_cast<const uint16_t *>(t.data)[index]);
  case DType::F32:
    return static_cast<const float *>(t.data)[index];
  }
  return 0;
}

// `n` elements from `index` on, converted exactly to fp32 (the dtype switch
// outside the loop, so the conversion vectorizes).
void loadRow(const Tensor4 &t, int64_t index, float *out, int64_t n) {
  switch (t.dtype) {
  case DType::BF16: {
    const uint16_t *src = static_cast<const uint16_t *>(t.data) + index;
    for (int64_t d = 0; d < n; ++d)
      out[d] = bf16ToFloat(src[d]);
    return;
  }
  case DType::F16: {
    const uint16_t *src = static_cast<const uint16_t *>(t.data) + index;
    for (int64_t d = 0; d < n; ++d)
      out[d] = halfToFloat(src[d]);
    return;
  }
  case DType::F32: {
    const float *src = static_cast<const float *>(t.data) + index;
    std::copy(src, src + n, out);
    return;
  }
  }
}

unsigned resolveThreads(unsigned threads) {
  return threads ? threads : std::max(1u, std::thread::hardware_concurrency());
}

using lfc::detail::parallelFor;

std::string shapeText(const Tensor4 &t) {
  return "[" + str(t.batch) + ", " + str(t.tokens) + ", " + str(t.heads) +
         ", " + str(t.dim) + "]";
}

void checkView(const Tensor4 &t, const std::string &what, int64_t B, int64_t S,
               int64_t H, int64_t D) {
  if (t.device != Device::Host)
    throw Error(what + ": expected host memory");
  if (!t.data)
    throw Error(what + ": data is null");
  if (t.batch != B || t.tokens != S || t.heads != H || t.dim != D)
    throw Error(what + ": expected [batch, tokens, heads, head_dim] = [" +
                str(B) + ", " + str(S) + ", " + str(H) + ", " + str(D) +
                "], got " + shapeText(t));
}

void checkGrid(const ChunkSelection &sel, const char *what) {
  if (sel.tokensPerFrame <= 0 || sel.framesPerChunk <= 0 ||
      sel.visibleFrames < sel.framesPerChunk || sel.blockQ <= 0 ||
      sel.blockK <= 0)
    throw Error(std::string(what) +
                ": the selection needs tokensPerFrame, framesPerChunk, "
                "blockQ, blockK > 0 and visibleFrames >= framesPerChunk, got " +
                str(sel.tokensPerFrame) + ", " + str(sel.framesPerChunk) +
                ", " + str(sel.blockQ) + ", " + str(sel.blockK) + ", " +
                str(sel.visibleFrames));
}

// The checks both evaluate()s make before looking at any tensor's memory: the
// selection's grid and a non-empty q.
void checkEvaluateShape(const ChunkSelection &sel, const Tensor4 &q) {
  checkGrid(sel, "evaluate");
  if (q.batch <= 0 || q.heads <= 0 || q.dim <= 0)
    throw Error("evaluate: q must have batch, heads and head_dim > 0, got " +
                shapeText(q));
}

void checkScale(double scale) {
  if (!(scale > 0) || !std::isfinite(scale))
    throw Error("evaluate: scale must be a positive finite number, got " +
                std::to_string(scale));
}

// Every row of `kept` in [0, maxKept] entries, strictly ascending, in [0, nkb).
void checkKept(const KeptBlocks &kept, const char *what,
               const ChunkSelection &sel, int64_t B, int64_t H) {
  std::string name = what;
  const int64_t nqb = sel.queryBlocks(), nkb = sel.keyBlocks();
  if (!kept.idx || !kept.cnt)
    throw Error(name + ": idx and cnt must be non-null host arrays");
  if ((B >= 0 && kept.batch != B) || (H >= 0 && kept.heads != H) ||
      kept.queryBlocks != nqb || kept.batch <= 0 || kept.heads <= 0)
    throw Error(name + ": expected [batch, heads, queryBlocks] = [" +
                (B >= 0 ? str(B) : std::string("B")) + ", " +
                (H >= 0 ? str(H) : std::string("H")) + ", " + str(nqb) +
                "], got [" + str(kept.batch) + ", " + str(kept.heads) + ", " +
                str(kept.queryBlocks) + "]");
  for (int64_t r = 0; r < kept.batch * kept.heads * nqb; ++r) {
    int32_t cnt = kept.cnt[r];
    if (cnt < 0 || cnt > kept.maxKept)
      throw Error(name + ": cnt[" + str(r) + "] = " + str(cnt) +
                  " is outside [0, maxKept (" + str(kept.maxKept) + ")]");
    const int32_t *idx = kept.idx + r * kept.maxKept;
    for (int32_t n = 0; n < cnt; ++n)
      if (idx[n] < 0 || idx[n] >= nkb || (n > 0 && idx[n] <= idx[n - 1]))
        throw Error(name + ": row " + str(r) +
                    " must hold strictly ascending key blocks in [0, " +
                    str(nkb) + "), got " + str(idx[n]) + " at position " +
                    str(n));
  }
}

// Sums of rows-weighted kept fractions of one (b, h) from its kept key blocks
// and kept key tokens per query block (`counts(i)` -> {blocks, tokens}):
// {blocks, tokens}. The host and the GPU path both sum through here, so their
// densities are the same bits.
template <class Counts>
std::pair<double, double> densitySumsOf(const ChunkSelection &sel,
                                        Counts counts) {
  const int64_t nqb = sel.queryBlocks(), nkb = sel.keyBlocks();
  const int64_t Lq = sel.queryTokens(), Lk = sel.keyTokens();
  double blocks = 0, tokens = 0;
  for (int64_t i = 0; i < nqb; ++i) {
    int64_t rows = std::min(Lq, (i + 1) * sel.blockQ) - i * sel.blockQ;
    auto [keptBlocks, keptTokens] = counts(i);
    blocks += double(rows) * double(keptBlocks) / double(nkb);
    tokens += double(rows) * double(keptTokens) / double(Lk);
  }
  return {blocks, tokens};
}

// Sums of rows-weighted kept fractions of one (b, h): {blocks, tokens}.
std::pair<double, double> densitySums(const ChunkSelection &sel,
                                      const KeptBlocks &kept, int64_t b,
                                      int64_t h) {
  const int64_t nqb = sel.queryBlocks(), Lk = sel.keyTokens();
  return densitySumsOf(sel, [&](int64_t i) {
    int64_t r = (b * kept.heads + h) * nqb + i;
    int64_t keptTokens = 0;
    for (int32_t n = 0; n < kept.cnt[r]; ++n) {
      int64_t j = kept.idx[r * kept.maxKept + n];
      keptTokens += std::min(Lk, (j + 1) * sel.blockK) - j * sel.blockK;
    }
    return std::pair<int64_t, int64_t>(kept.cnt[r], keptTokens);
  });
}

// a . b with a in double, b converted exactly from fp32; four lanes so the
// compiler vectorizes.
double dot(const double *a, const float *b, int64_t n) {
  double l0 = 0, l1 = 0, l2 = 0, l3 = 0;
  int64_t d = 0;
  for (; d + 4 <= n; d += 4) {
    l0 += a[d] * double(b[d]);
    l1 += a[d + 1] * double(b[d + 1]);
    l2 += a[d + 2] * double(b[d + 2]);
    l3 += a[d + 3] * double(b[d + 3]);
  }
  double acc = (l0 + l1) + (l2 + l3);
  for (; d < n; ++d)
    acc += a[d] * double(b[d]);
  return acc;
}

void axpy(double *y, double a, const float *x, int64_t n) {
  for (int64_t d = 0; d < n; ++d)
    y[d] += a * double(x[d]);
}

ErrorSums rowErrorSums(const double *test, const double *ref, int64_t n) {
  ErrorSums e;
  for (int64_t d = 0; d < n; ++d) {
    double diff = test[d] - ref[d];
    e.errSq += diff * diff;
    e.refSq += ref[d] * ref[d];
    e.testSq += test[d] * test[d];
    e.dot += test[d] * ref[d];
  }
  e.elements = n;
  return e;
}

Summary summarize(const std::vector<const Record *> &records) {
  Summary s;
  s.records = int64_t(records.size());
  double densitySum = 0, tokenSum = 0;
  int64_t densityCount = 0, tokenCount = 0;
  std::vector<double> mass;
  auto addTime = [](double &total, double v) {
    if (std::isnan(v))
      return;
    total = std::isnan(total) ? v : total + v;
  };
  for (const Record *r : records) {
    if (!std::isnan(r->density)) {
      densitySum += r->density;
      ++densityCount;
    }
    if (!std::isnan(r->tokenDensity)) {
      tokenSum += r->tokenDensity;
      ++tokenCount;
    }
    mass.insert(mass.end(), r->mass.begin(), r->mass.end());
    s.error.add(r->error);
    s.measured.add(r->measured);
    addTime(s.selectionMs, r->selectionMs);
    addTime(s.attentionMs, r->attentionMs);
    addTime(s.denseAttentionMs, r->denseAttentionMs);
  }
  if (densityCount)
    s.density = densitySum / double(densityCount);
  if (tokenCount)
    s.tokenDensity = tokenSum / double(tokenCount);
  s.mass = massStats(mass);
  return s;
}

} // namespace

// ---------------------------------------------------------------- sampling

Sample Sample::everyKth(int64_t k, int64_t offset) {
  Sample s;
  s.rows = Rows::Stride;
  s.stride = k;
  s.offset = offset;
  return s;
}

Sample Sample::random(int64_t count, uint64_t seed) {
  Sample s;
  s.rows = Rows::Random;
  s.count = count;
  s.seed = seed;
  return s;
}

Sample Sample::rowList(std::vector<int64_t> rows) {
  Sample s;
  s.rows = Rows::List;
  s.list = std::move(rows);
  return s;
}

uint64_t splitmix64(uint64_t &state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

std::vector<int64_t> sampleRows(const Sample &s, int64_t queryRows) {
  if (queryRows <= 0)
    throw Error("sample: the call has no query rows");
  std::vector<int64_t> rows;
  switch (s.rows) {
  case Sample::Rows::All:
    rows.resize(size_t(queryRows));
    std::iota(rows.begin(), rows.end(), int64_t(0));
    break;
  case Sample::Rows::Stride:
    if (s.stride < 1)
      throw Error("sample: stride must be >= 1, got " + str(s.stride));
    if (s.offset < 0 || s.offset >= queryRows)
      throw Error("sample: offset must be in [0, " + str(queryRows) +
                  "), got " + str(s.offset));
    for (int64_t r = s.offset; r < queryRows; r += s.stride)
      rows.push_back(r);
    break;
  case Sample::Rows::Random: {
    if (s.count < 1)
      throw Error("sample: random row count must be >= 1, got " + str(s.count));
    std::vector<int64_t> all(static_cast<size_t>(queryRows));
    std::iota(all.begin(), all.end(), int64_t(0));
    if (s.count < queryRows) {
      uint64_t state = s.seed;
      for (int64_t i = 0; i < s.count; ++i) {
        uint64_t span = uint64_t(queryRows - i);
        int64_t j = i + int64_t(splitmix64(state) % span);
        std::swap(all[size_t(i)], all[size_t(j)]);
      }
      all.resize(size_t(s.count));
    }
    rows = std::move(all);
    std::sort(rows.begin(), rows.end());
    break;
  }
  case Sample::Rows::List:
    if (s.list.empty())
      throw Error("sample: the row list is empty");
    rows = s.list;
    std::sort(rows.begin(), rows.end());
    rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
    if (rows.front() < 0 || rows.back() >= queryRows)
      throw Error("sample: listed rows must be in [0, " + str(queryRows) +
                  "), got " +
                  str(rows.front() < 0 ? rows.front() : rows.back()));
    break;
  }
  return rows;
}

std::vector<int64_t> sampleHeads(const Sample &s, int64_t heads) {
  if (heads <= 0)
    throw Error("sample: the call has no heads");
  std::vector<int64_t> h = s.heads;
  if (h.empty()) {
    h.resize(size_t(heads));
    std::iota(h.begin(), h.end(), int64_t(0));
    return h;
  }
  std::sort(h.begin(), h.end());
  h.erase(std::unique(h.begin(), h.end()), h.end());
  if (h.front() < 0 || h.back() >= heads)
    throw Error("sample: heads must be in [0, " + str(heads) + "), got " +
                str(h.front() < 0 ? h.front() : h.back()));
  return h;
}

namespace {

std::string ordinal(int64_t k) {
  int64_t m100 = k % 100, m10 = k % 10;
  const char *suffix = "th";
  if (m100 < 11 || m100 > 13)
    suffix = m10 == 1 ? "st" : m10 == 2 ? "nd" : m10 == 3 ? "rd" : "th";
  return str(k) + suffix;
}

std::string preview(const std::vector<int64_t> &v) {
  std::string out;
  for (size_t i = 0; i < v.size() && i < 8; ++i)
    out += (i ? ", " : "") + str(v[i]);
  if (v.size() > 8)
    out += ", ...";
  return out;
}

} // namespace

std::string describe(const Sample &s, int64_t batch, int64_t heads,
                     int64_t queryRows) {
  std::vector<int64_t> rows = sampleRows(s, queryRows);
  std::vector<int64_t> hs = sampleHeads(s, heads);
  std::string of =
      " (" + str(int64_t(rows.size())) + " of " + str(queryRows) + " per head)";
  std::string out = "rows: ";
  switch (s.rows) {
  case Sample::Rows::All:
    out += "all" + of;
    break;
  case Sample::Rows::Stride:
    out += (s.stride == 1 ? std::string("every row")
                          : "every " + ordinal(s.stride)) +
           " from row " + str(s.offset) + of;
    break;
  case Sample::Rows::Random:
    out += "random, seed " + std::to_string(s.seed) + of;
    break;
  case Sample::Rows::List:
    out += "listed (" + preview(rows) + ")" + of;
    break;
  }
  out += "; heads: ";
  if (s.heads.empty())
    out += "all " + str(heads);
  else
    out += str(int64_t(hs.size())) + " of " + str(heads) + " (" + preview(hs) +
           ")";
  out += "; batches: all " + str(batch);
  return out;
}

// ---------------------------------------------------------------- metrics

double ErrorSums::relL2() const {
  if (elements == 0)
    return kNaN;
  if (errSq == 0)
    return 0;
  if (refSq == 0)
    return std::numeric_limits<double>::infinity();
  return std::sqrt(errSq / refSq);
}

double ErrorSums::cosine() const {
  if (elements == 0)
    return kNaN;
  if (testSq == 0 && refSq == 0)
    return 1;
  if (testSq == 0 || refSq == 0)
    return 0;
  return std::clamp(dot / std::sqrt(testSq * refSq), -1.0, 1.0);
}

double percentile(std::vector<double> values, double p) {
  if (values.empty())
    return kNaN;
  std::sort(values.begin(), values.end());
  const int64_t n = int64_t(values.size());
  // p * n / 100 is exact for integer p and any realistic n, so ceil() sees the
  // true rank.
  int64_t rank = int64_t(std::ceil(p * double(n) / 100.0));
  rank = std::clamp<int64_t>(rank, 1, n);
  return values[size_t(rank - 1)];
}

MassStats massStats(const std::vector<double> &values) {
  MassStats m;
  m.rows = int64_t(values.size());
  if (values.empty())
    return m;
  double sum = 0;
  for (double v : values)
    sum += v;
  m.mean = sum / double(values.size());
  m.min = *std::min_element(values.begin(), values.end());
  m.p10 = percentile(values, 10);
  return m;
}

Density keptDensity(const ChunkSelection &sel, const KeptBlocks *kept) {
  if (!kept)
    return {1, 1};
  checkGrid(sel, "keptDensity");
  checkKept(*kept, "keptDensity: kept", sel, -1, -1);
  double blocks = 0, tokens = 0;
  for (int64_t b = 0; b < kept->batch; ++b)
    for (int64_t h = 0; h < kept->heads; ++h) {
      auto [bl, tk] = densitySums(sel, *kept, b, h);
      blocks += bl;
      tokens += tk;
    }
  double rows = double(kept->batch * kept->heads * sel.queryTokens());
  return {blocks / rows, tokens / rows};
}

CallMetrics evaluate(const ChunkSelection &sel, const Tensor4 &q,
                     const Tensor4 &k, const Tensor4 &v, const KeptBlocks *kept,
                     double scale, const Sample &sample, unsigned threads) {
  checkEvaluateShape(sel, q);
  const int64_t B = q.batch, H = q.heads, D = q.dim;
  const int64_t Lq = sel.queryTokens(), Lk = sel.keyTokens();
  checkView(q, "evaluate: q", B, Lq, H, D);
  checkView(k, "evaluate: k", B, Lk, H, D);
  checkView(v, "evaluate: v", B, Lk, H, D);
  checkScale(scale);
  if (kept)
    checkKept(*kept, "evaluate: kept", sel, B, H);
  const std::vector<int64_t> rows = sampleRows(sample, Lq);
  const std::vector<int64_t> heads = sampleHeads(sample, H);
  const int64_t nqb = sel.queryBlocks(), nkb = sel.keyBlocks();
  const int64_t nr = int64_t(rows.size());
  const unsigned nThreads = resolveThreads(threads);

  CallMetrics m;
  m.batch = B;
  m.heads = H;
  m.queryRows = Lq;
  m.keyRows = Lk;
  m.sampledRows = nr;
  m.sampledHeads = int64_t(heads.size());
  Density all = keptDensity(sel, kept);
  m.density = all.blocks;
  m.tokenDensity = all.tokens;

  std::vector<float> kf(size_t(Lk * D)), vf(size_t(Lk * D));
  std::vector<uint8_t> keep(size_t(nqb * nkb), 1);
  std::vector<double> rowMass(static_cast<size_t>(nr));
  std::vector<ErrorSums> rowError(static_cast<size_t>(nr));
  const int64_t convertChunk = 256;
  // Rows per task: up to 8, fewer when that would leave threads idle.
  const int64_t group =
      std::clamp<int64_t>(nr / std::max<int64_t>(1, nThreads), 1, 8);

  for (int64_t b = 0; b < B; ++b)
    for (int64_t h : heads) {
      // K and V of (b, h) in fp32 (exact for bf16/fp16), contiguous.
      parallelFor(nThreads, (Lk + convertChunk - 1) / convertChunk,
                  [&](int64_t c) {
                    for (int64_t s = c * convertChunk;
                         s < std::min(Lk, (c + 1) * convertChunk); ++s) {
                      loadRow(k, k.offset(b, s, h), &kf[size_t(s * D)], D);
                      loadRow(v, v.offset(b, s, h), &vf[size_t(s * D)], D);
                    }
                  });
      if (kept) {
        std::fill(keep.begin(), keep.end(), uint8_t(0));
        for (int64_t i = 0; i < nqb; ++i) {
          int64_t r = (b * H + h) * nqb + i;
          for (int32_t n = 0; n < kept->cnt[r]; ++n)
            keep[size_t(i * nkb + kept->idx[r * kept->maxKept + n])] = 1;
        }
      }

      // Groups of up to 8 sampled rows share one pass over K and V (each key
      // row is reused from cache); every row's arithmetic is the same as
      // alone, so the grouping never changes a bit.
      parallelFor(nThreads, (nr + group - 1) / group, [&](int64_t task) {
        const int64_t t0 = task * group, g = std::min(group, nr - t0);
        std::vector<double> qd(size_t(g * D)), score(size_t(g * Lk)),
            od(size_t(g * D), 0.0), os(size_t(g * D), 0.0);
        std::vector<double> mx(size_t(g),
                               -std::numeric_limits<double>::infinity()),
            total(size_t(g), 0.0), keptSum(size_t(g), 0.0);
        std::vector<const uint8_t *> keptRow(size_t(g), nullptr);
        std::vector<float> qRow(static_cast<size_t>(D));
        for (int64_t r = 0; r < g; ++r) {
          const int64_t row = rows[size_t(t0 + r)];
          loadRow(q, q.offset(b, row, h), qRow.data(), D);
          for (int64_t d = 0; d < D; ++d)
            qd[size_t(r * D + d)] = double(qRow[size_t(d)]);
          if (kept)
            keptRow[size_t(r)] = &keep[size_t(row / sel.blockQ * nkb)];
        }
        for (int64_t n = 0; n < Lk; ++n) {
          const float *kr = &kf[size_t(n * D)];
          for (int64_t r = 0; r < g; ++r) {
            double sc = scale * dot(&qd[size_t(r * D)], kr, D);
            score[size_t(r * Lk + n)] = sc;
            mx[size_t(r)] = std::max(mx[size_t(r)], sc);
          }
        }
        for (int64_t j = 0; j < nkb; ++j)
          for (int64_t n = j * sel.blockK;
               n < std::min(Lk, (j + 1) * sel.blockK); ++n) {
            const float *vr = &vf[size_t(n * D)];
            for (int64_t r = 0; r < g; ++r) {
              double e = std::exp(score[size_t(r * Lk + n)] - mx[size_t(r)]);
              total[size_t(r)] += e;
              axpy(&od[size_t(r * D)], e, vr, D);
              if (keptRow[size_t(r)] && keptRow[size_t(r)][j]) {
                keptSum[size_t(r)] += e;
                axpy(&os[size_t(r * D)], e, vr, D);
              }
            }
          }
        for (int64_t r = 0; r < g; ++r) {
          double *o = &od[size_t(r * D)], *sp = &os[size_t(r * D)];
          if (!kept) { // dense: the same sums, bit for bit
            keptSum[size_t(r)] = total[size_t(r)];
            std::copy(o, o + D, sp);
          }
          const double tot = total[size_t(r)], ks = keptSum[size_t(r)];
          for (int64_t d = 0; d < D; ++d) {
            o[d] /= tot;
            sp[d] = ks > 0 ? sp[d] / ks : 0.0;
          }
          rowMass[size_t(t0 + r)] = ks / tot;
          rowError[size_t(t0 + r)] = rowErrorSums(sp, o, D);
        }
      });

      HeadMetrics hm;
      hm.batch = b;
      hm.head = h;
      for (int64_t t = 0; t < nr; ++t)
        hm.error.add(rowError[size_t(t)]);
      hm.mass = massStats(rowMass);
      if (kept) {
        auto [bl, tk] = densitySums(sel, *kept, b, h);
        hm.density = bl / double(Lq);
        hm.tokenDensity = tk / double(Lq);
      } else {
        hm.density = hm.tokenDensity = 1;
      }
      m.error.add(hm.error);
      m.mass.insert(m.mass.end(), rowMass.begin(), rowMass.end());
      m.perHead.push_back(hm);
    }
  m.massStats = massStats(m.mass);
  return m;
}

CallMetrics evaluate(Backend &backend, const ChunkSelection &sel,
                     const Tensor4 &q, const Tensor4 &k, const Tensor4 &v,
                     const KeptBlocks *kept, float scale,
                     const Sample &sample) {
  if (backend.device() == Device::Host)
    return evaluate(sel, q, k, v, kept, double(scale), sample);
  if (backend.device() != Device::Cuda)
    throw Error("evaluate: backend '" + backend.name() +
                "' keeps its tensors where no quality probe runs");
  checkEvaluateShape(sel, q);
  const int64_t B = q.batch, H = q.heads, D = q.dim;
  const int64_t Lq = sel.queryTokens(), Lk = sel.keyTokens();
  checkScale(scale);
  const std::vector<int64_t> rows = sampleRows(sample, Lq);
  const std::vector<int64_t> heads = sampleHeads(sample, H);
  const int64_t nqb = sel.queryBlocks(), nr = int64_t(rows.size()),
                nh = int64_t(heads.size());
  const detail::DeviceProbe probe =
      detail::probeOnCuda(backend, sel, q, k, v, kept, scale, rows, heads);

  CallMetrics m;
  m.batch = B;
  m.heads = H;
  m.queryRows = Lq;
  m.keyRows = Lk;
  m.sampledRows = nr;
  m.sampledHeads = nh;
  // Density over every (b, h, row), from the kept counts, summed as
  // keptDensity() sums them.
  auto headDensity = [&](int64_t b, int64_t h) {
    const size_t at = size_t((b * H + h) * nqb);
    return densitySumsOf(sel, [&](int64_t i) {
      return std::pair<int64_t, int64_t>(probe.keptBlocks[at + size_t(i)],
                                         probe.keptTokens[at + size_t(i)]);
    });
  };
  if (probe.dense) {
    m.density = m.tokenDensity = 1;
  } else {
    double blocks = 0, tokens = 0;
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < H; ++h) {
        auto [bl, tk] = headDensity(b, h);
        blocks += bl;
        tokens += tk;
      }
    const double all = double(B * H * Lq);
    m.density = blocks / all;
    m.tokenDensity = tokens / all;
  }

  // Mass and error sums from the GPU's rows, per row as evaluate() forms them.
  std::vector<double> rowMass(static_cast<size_t>(nr));
  std::vector<double> od(static_cast<size_t>(D)), os(static_cast<size_t>(D));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t hi = 0; hi < nh; ++hi) {
      HeadMetrics hm;
      hm.batch = b;
      hm.head = heads[size_t(hi)];
      for (int64_t t = 0; t < nr; ++t) {
        const float *rec =
            &probe.rows[size_t(((b * nh + hi) * nr + t) * probe.rowFloats)];
        for (int64_t d = 0; d < D; ++d) {
          od[size_t(d)] = double(rec[d]);
          os[size_t(d)] = double(rec[D + d]);
        }
        rowMass[size_t(t)] = double(rec[2 * D]) / double(rec[2 * D + 1]);
        hm.error.add(rowErrorSums(os.data(), od.data(), D));
      }
      hm.mass = massStats(rowMass);
      if (probe.dense) {
        hm.density = hm.tokenDensity = 1;
      } else {
        auto [bl, tk] = headDensity(b, hm.head);
        hm.density = bl / double(Lq);
        hm.tokenDensity = tk / double(Lq);
      }
      m.error.add(hm.error);
      m.mass.insert(m.mass.end(), rowMass.begin(), rowMass.end());
      m.perHead.push_back(hm);
    }
  m.massStats = massStats(m.mass);
  return m;
}

OutputComparison compareOutputs(const Tensor4 &test, const Tensor4 &reference,
                                const Sample &sample, unsigned threads) {
  const int64_t B = reference.batch, S = reference.tokens, H = reference.heads,
                D = reference.dim;
  if (B <= 0 || S <= 0 || H <= 0 || D <= 0)
    throw Error("compareOutputs: reference must have a non-empty shape, got " +
                shapeText(reference));
  checkView(reference, "compareOutputs: reference", B, S, H, D);
  checkView(test, "compareOutputs: test", B, S, H, D);
  const std::vector<int64_t> rows = sampleRows(sample, S);
  const std::vector<int64_t> heads = sampleHeads(sample, H);
  const int64_t nr = int64_t(rows.size()), nh = int64_t(heads.size());
  std::vector<ErrorSums> rowError(size_t(B * nh * nr));
  parallelFor(resolveThreads(threads), B * nh * nr, [&](int64_t task) {
    int64_t b = task / (nh * nr), h = heads[size_t(task / nr % nh)],
            row = rows[size_t(task % nr)];
    std::vector<double> t(static_cast<size_t>(D)), r(static_cast<size_t>(D));
    int64_t tb = test.offset(b, row, h), rb = reference.offset(b, row, h);
    for (int64_t d = 0; d < D; ++d) {
      t[size_t(d)] = loadElement(test, tb + d);
      r[size_t(d)] = loadElement(reference, rb + d);
    }
    rowError[size_t(task)] = rowErrorSums(t.data(), r.data(), D);
  });
  OutputComparison c;
  c.sampledRows = nr;
  c.sampledHeads = nh;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t hi = 0; hi < nh; ++hi) {
      OutputComparison::Head head;
      head.batch = b;
      head.head = heads[size_t(hi)];
      for (int64_t t = 0; t < nr; ++t)
        head.error.add(rowError[size_t((b * nh + hi) * nr + t)]);
      c.error.add(head.error);
      c.perHead.push_back(head);
    }
  return c;
}

ErrorSums compareArrays(const float *test, const float *reference, int64_t n) {
  if (n < 0 || (n > 0 && (!test || !reference)))
    throw Error("compareArrays: need two non-null arrays and n >= 0");
  ErrorSums e;
  for (int64_t i = 0; i < n; ++i) {
    double t = test[i], r = reference[i], diff = t - r;
    e.errSq += diff * diff;
    e.refSq += r * r;
    e.testSq += t * t;
    e.dot += t * r;
  }
  e.elements = n;
  return e;
}

ErrorSums compareArrays(const double *test, const double *reference,
                        int64_t n) {
  if (n < 0 || (n > 0 && (!test || !reference)))
    throw Error("compareArrays: need two non-null arrays and n >= 0");
  return rowErrorSums(test, reference, n);
}

// ---------------------------------------------------------------- rollout

MaskSnapshot MaskSnapshot::capture(const ChunkSelection &sel,
                                   const KeptBlocks *kept, int64_t b, int64_t h,
                                   int chunk, int pass, int layer) {
  checkGrid(sel, "MaskSnapshot::capture");
  MaskSnapshot m;
  m.chunk = chunk;
  m.pass = pass;
  m.layer = layer;
  m.batch = b;
  m.head = h;
  m.tokensPerFrame = sel.tokensPerFrame;
  m.framesPerChunk = sel.framesPerChunk;
  m.visibleFrames = sel.visibleFrames;
  m.blockQ = sel.blockQ;
  m.blockK = sel.blockK;
  m.queryBlocks = sel.queryBlocks();
  m.keyBlocks = sel.keyBlocks();
  m.kept.resize(size_t(m.queryBlocks));
  if (!kept) {
    for (auto &row : m.kept) {
      row.resize(size_t(m.keyBlocks));
      std::iota(row.begin(), row.end(), 0);
    }
    return m;
  }
  checkKept(*kept, "MaskSnapshot::capture: kept", sel, -1, -1);
  if (b < 0 || b >= kept->batch || h < 0 || h >= kept->heads)
    throw Error("MaskSnapshot::capture: (batch, head) = (" + str(b) + ", " +
                str(h) + ") is outside the kept list's [" + str(kept->batch) +
                ", " + str(kept->heads) + "]");
  for (int64_t i = 0; i < m.queryBlocks; ++i) {
    int64_t r = (b * kept->heads + h) * m.queryBlocks + i;
    const int32_t *idx = kept->idx + r * kept->maxKept;
    m.kept[size_t(i)].assign(idx, idx + kept->cnt[r]);
  }
  return m;
}

double MaskSnapshot::cellDensity() const {
  if (queryBlocks <= 0 || keyBlocks <= 0)
    return kNaN;
  int64_t cells = 0;
  for (const auto &row : kept)
    cells += int64_t(row.size());
  return double(cells) / double(queryBlocks * keyBlocks);
}

Record &QualityAccumulator::add(Record r) {
  records_.push_back(std::move(r));
  return records_.back();
}

Record &QualityAccumulator::add(int chunk, int pass, int layer,
                                const CallMetrics &m, double selectionMs,
                                double attentionMs, double denseAttentionMs) {
  Record r;
  r.chunk = chunk;
  r.pass = pass;
  r.layer = layer;
  r.density = m.density;
  r.tokenDensity = m.tokenDensity;
  r.mass = m.mass;
  r.error = m.error;
  r.selectionMs = selectionMs;
  r.attentionMs = attentionMs;
  r.denseAttentionMs = denseAttentionMs;
  return add(std::move(r));
}

void QualityAccumulator::setCarried(int chunk, const ErrorSums &e) {
  carried_[chunk] = e;
}

void QualityAccumulator::carry(int chunk, const Tensor4 &sparse,
                               const Tensor4 &dense, unsigned threads) {
  setCarried(chunk,
             compareOutputs(sparse, dense, Sample::all(), threads).error);
}

void QualityAccumulator::carry(int chunk, const float *sparse,
                               const float *dense, int64_t n) {
  setCarried(chunk, compareArrays(sparse, dense, n));
}

void QualityAccumulator::addMask(MaskSnapshot m) {
  masks_.push_back(std::move(m));
}

std::vector<Summary> QualityAccumulator::chunks() const {
  std::map<int, std::vector<const Record *>> byChunk;
  for (const Record &r : records_)
    byChunk[r.chunk].push_back(&r);
  for (const auto &c : carried_)
    byChunk[c.first];
  std::vector<Summary> out;
  for (const auto &[chunk, recs] : byChunk) {
    Summary s = summarize(recs);
    s.key = chunk;
    auto it = carried_.find(chunk);
    if (it != carried_.end())
      s.carried = it->second;
    out.push_back(s);
  }
  return out;
}

std::vector<Summary> QualityAccumulator::layers() const {
  std::map<int, std::vector<const Record *>> byLayer;
  for (const Record &r : records_)
    byLayer[r.layer].push_back(&r);
  std::vector<Summary> out;
  for (const auto &[layer, recs] : byLayer) {
    Summary s = summarize(recs);
    s.key = layer;
    out.push_back(s);
  }
  return out;
}

Summary QualityAccumulator::totals() const {
  std::vector<const Record *> all;
  for (const Record &r : records_)
    all.push_back(&r);
  Summary s = summarize(all);
  if (!carried_.empty())
    s.carried = carried_.rbegin()->second;
  return s;
}

std::vector<double> budgetDensity(const Plan &plan) {
  std::vector<double> out;
  for (const PlanChunk &c : plan.chunks) {
    const ChunkSelection &sel = c.selection;
    int64_t nkb = sel.keyBlocks();
    if (sel.dense || nkb <= 0)
      out.push_back(1.0);
    else
      out.push_back(double(std::min<int64_t>(sel.keptKeyBlocks, nkb)) /
                    double(nkb));
  }
  return out;
}

ReportInfo reportInfo(const Plan &plan, const std::string &backend,
                      const Sample &sample, int64_t batch) {
  ReportInfo info;
  info.policy = plan.source.empty() ? plan.name : plan.source;
  info.plan = plan.name;
  info.backend = backend;
  info.geometry = plan.geometry;
  info.batch = batch;
  info.sample = sample;
  info.plannedDensity = budgetDensity(plan);
  return info;
}

} // namespace lfc::quality
