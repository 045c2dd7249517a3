// The CPU reference backend: hierarchical selection and block-sparse attention
// exactly as docs/selection-semantics.md specifies, multi-threaded with
// std::thread. It is the oracle the CUDA backend is tested against, and the
// backend where no GPU exists.
#include "lfc/half.h"
#include "lfc/runtime.h"
#include "lfc/static_mask.h"
#include "runtime/core/Parallel.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace lfc {
namespace {

float loadElement(const void *base, DType t, int64_t index) {
  uint16_t bits = static_cast<const uint16_t *>(base)[index];
  return t == DType::BF16 ? bf16ToFloat(bits) : halfToFloat(bits);
}

void storeElement(void *base, DType t, int64_t index, float v) {
  static_cast<uint16_t *>(base)[index] =
      t == DType::BF16 ? floatToBf16(v) : floatToHalf(v);
}

// Row `s` of head `h`, batch `b`, converted exactly to fp32.
void loadRow(const Tensor4 &t, int64_t b, int64_t s, int64_t h, float *out) {
  int64_t base = t.offset(b, s, h);
  for (int64_t d = 0; d < t.dim; ++d)
    out[d] = loadElement(t.data, t.dtype, base + d);
}

// The semantics' dot: fmaf in ascending d, so every backend ranks with the same
// bits.
float dotSpec(const float *a, const float *b, int64_t n) {
  float acc = 0.0f;
  for (int64_t d = 0; d < n; ++d)
    acc = std::fmaf(a[d], b[d], acc);
  return acc;
}

// Attention's dot: eight independent accumulators so the compiler can
// vectorize. Unlike selection, attention only promises agreement within a
// tolerance, so the order is free.
float dotFast(const float *a, const float *b, int64_t n) {
  float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t d = 0;
  for (; d + 8 <= n; d += 8)
    for (int l = 0; l < 8; ++l)
      lane[l] += a[d + l] * b[d + l];
  float acc = ((lane[0] + lane[1]) + (lane[2] + lane[3])) +
              ((lane[4] + lane[5]) + (lane[6] + lane[7]));
  for (; d < n; ++d)
    acc += a[d] * b[d];
  return acc;
}

using lfc::detail::parallelFor;

// Ranking order of both top-k stages: higher score first, ties to the lower
// index, NaN last.
struct ScoreOrder {
  const std::vector<float> &score;
  bool operator()(int32_t a, int32_t b) const {
    bool nanA = std::isnan(score[a]), nanB = std::isnan(score[b]);
    if (nanA != nanB)
      return nanB;
    if (!nanA && score[a] != score[b])
      return score[a] > score[b];
    return a < b;
  }
};

// The `k` best of `candidates` by ScoreOrder (all of them when there are at
// most k).
std::vector<int32_t> topK(std::vector<int32_t> candidates,
                          const std::vector<float> &score, int64_t k) {
  if (int64_t(candidates.size()) > k) {
    std::nth_element(candidates.begin(), candidates.begin() + k,
                     candidates.end(), ScoreOrder{score});
    candidates.resize(k);
  }
  return candidates;
}

class CpuPooledKeys final : public PooledKeyCache {
public:
  CpuPooledKeys(int64_t batchSize, int64_t headCount, int64_t headDim,
                int64_t capacity, int keyBlock, int frameTokens)
      : batch(batchSize), heads(headCount), dim(headDim), maxTokens(capacity),
        blockK(keyBlock), tokensPerFrame(frameTokens),
        maxBlocks((capacity + keyBlock - 1) / keyBlock),
        maxFrames((capacity + frameTokens - 1) / frameTokens),
        blockSums(size_t(batch * heads * maxBlocks * dim), 0.0f),
        frameSums(size_t(batch * heads * maxFrames * dim), 0.0f) {}

  int64_t committedTokens() const override { return committed; }
  int64_t bytes() const override {
    return int64_t(blockSums.size() + frameSums.size()) *
           int64_t(sizeof(float));
  }

  float *blockSum(int64_t b, int64_t h, int64_t j) {
    return &blockSums[size_t(((b * heads + h) * maxBlocks + j) * dim)];
  }
  float *frameSum(int64_t b, int64_t h, int64_t f) {
    return &frameSums[size_t(((b * heads + h) * maxFrames + f) * dim)];
  }
  const float *blockSum(int64_t b, int64_t h, int64_t j) const {
    return const_cast<CpuPooledKeys *>(this)->blockSum(b, h, j);
  }
  const float *frameSum(int64_t b, int64_t h, int64_t f) const {
    return const_cast<CpuPooledKeys *>(this)->frameSum(b, h, f);
  }

  const int64_t batch, heads, dim, maxTokens;
  const int blockK, tokensPerFrame;
  const int64_t maxBlocks, maxFrames;
  std::vector<float> blockSums, frameSums;
  int64_t committed = 0;
};

class CpuBackend final : public Backend {
public:
  explicit CpuBackend(unsigned threads)
      : threads_(threads ? threads
                         : std::max(1u, std::thread::hardware_concurrency())) {}

  std::string name() const override {
    return "cpu (reference, " + std::to_string(threads_) + " threads)";
  }
  Device device() const override { return Device::Host; }

  std::unique_ptr<PooledKeyCache>
  createPooledKeys(int64_t batch, int64_t heads, int64_t headDim,
                   int64_t maxTokens, int blockK, int tokensPerFrame) override {
    if (batch <= 0 || heads <= 0 || headDim <= 0 || maxTokens <= 0)
      throw Error("createPooledKeys: batch, heads, headDim and maxTokens must "
                  "be > 0, got " +
                  std::to_string(batch) + ", " + std::to_string(heads) + ", " +
                  std::to_string(headDim) + ", " + std::to_string(maxTokens));
    if (blockK < 16 || blockK > 256 || (blockK & (blockK - 1)))
      throw Error(
          "createPooledKeys: blockK must be a power of two in [16, 256], got " +
          std::to_string(blockK));
    if (tokensPerFrame <= 0)
      throw Error("createPooledKeys: tokensPerFrame must be > 0, got " +
                  std::to_string(tokensPerFrame));
    return std::make_unique<CpuPooledKeys>(batch, heads, headDim, maxTokens,
                                           blockK, tokensPerFrame);
  }

  void commitKeys(PooledKeyCache &cacheBase, const Tensor4 &k,
                  int64_t endToken) override {
    CpuPooledKeys &cache = cpuCache(&cacheBase, "commitKeys");
    if (endToken < cache.committed || endToken > cache.maxTokens ||
        endToken > k.tokens)
      throw Error("commitKeys: endToken must be in [committed (" +
                  std::to_string(cache.committed) + "), min(maxTokens (" +
                  std::to_string(cache.maxTokens) + "), k.tokens (" +
                  std::to_string(k.tokens) + "))], got " +
                  std::to_string(endToken));
    checkInput(k, "commitKeys: k", cache.batch, k.tokens, cache.heads,
               cache.dim);
    const int64_t begin = cache.committed;
    parallelFor(threads_, cache.batch * cache.heads, [&](int64_t bh) {
      int64_t b = bh / cache.heads, h = bh % cache.heads;
      std::vector<float> row(size_t(cache.dim));
      // Ascending rows continue each running sum exactly as pooling from
      // scratch adds them.
      for (int64_t s = begin; s < endToken; ++s) {
        loadRow(k, b, s, h, row.data());
        float *bs = cache.blockSum(b, h, s / cache.blockK);
        float *fs = cache.frameSum(b, h, s / cache.tokensPerFrame);
        for (int64_t d = 0; d < cache.dim; ++d) {
          bs[d] = bs[d] + row[d];
          fs[d] = fs[d] + row[d];
        }
      }
    });
    cache.committed = endToken;
  }

  void select(const ChunkSelection &sel, const Tensor4 &q, const Tensor4 &k,
              const PooledKeyCache *pooledBase, KeptBlocks &kept) override {
    checkSelection(sel);
    const int64_t B = q.batch, H = q.heads, D = q.dim;
    checkInput(q, "select: q", B, sel.queryTokens(), H, D);
    checkTensor(k, "select: k", B, sel.keyTokens(), H, D, q.dtype,
                Device::Host);
    const int64_t nqb = sel.queryBlocks(), nkb = sel.keyBlocks();
    const int64_t budget =
        sel.dense ? nkb : std::min<int64_t>(sel.keptKeyBlocks, nkb);
    checkKept(kept, "select: kept", B, H, nqb, budget);
    const CpuPooledKeys *pooled = nullptr;
    if (pooledBase) {
      pooled = &cpuCache(const_cast<PooledKeyCache *>(pooledBase), "select");
      if (pooled->batch != B || pooled->heads != H || pooled->dim != D ||
          pooled->blockK != sel.blockK ||
          pooled->tokensPerFrame != sel.tokensPerFrame)
        throw Error("select: pooled-key cache was created for batch " +
                    std::to_string(pooled->batch) + ", heads " +
                    std::to_string(pooled->heads) + ", head_dim " +
                    std::to_string(pooled->dim) + ", blockK " +
                    std::to_string(pooled->blockK) + ", tokensPerFrame " +
                    std::to_string(pooled->tokensPerFrame) +
                    "; this call has " + std::to_string(B) + ", " +
                    std::to_string(H) + ", " + std::to_string(D) + ", " +
                    std::to_string(sel.blockK) + ", " +
                    std::to_string(sel.tokensPerFrame));
      if (pooled->committed > sel.keyTokens())
        throw Error("select: pooled-key cache holds " +
                    std::to_string(pooled->committed) +
                    " committed tokens, more than the " +
                    std::to_string(sel.keyTokens()) + " keys of this call");
    }

    if (sel.dense) {
      for (int64_t r = 0; r < B * H * nqb; ++r) {
        for (int64_t j = 0; j < nkb; ++j)
          kept.idx[r * kept.maxKept + j] = int32_t(j);
        kept.cnt[r] = int32_t(nkb);
      }
      return;
    }

    const int64_t T = sel.tokensPerFrame, Lk = sel.keyTokens(),
                  Lq = sel.queryTokens();
    const int64_t nf = sel.visibleFrames, P = nf - sel.framesPerChunk;
    const int64_t sinkEnd = std::min<int64_t>(sel.sinkFrames, P);
    const int64_t nearBegin = std::max<int64_t>(sinkEnd, P - sel.nearFrames);
    const bool frameStage = sel.framesTopK > 0 && P > sel.framesTopK;
    const int64_t middleKeep =
        std::max<int64_t>(0, sel.framesTopK - sinkEnd - (P - nearBegin));
    // The static part of the mask (docs/static-masks.md); null or `all`: no
    // restriction.
    const StaticMask *staticMask = sel.staticMask && !sel.staticMask->isAll()
                                       ? sel.staticMask.get()
                                       : nullptr;

    // Pooled key means depend only on (b, h): computed once, shared by every
    // query block.
    std::vector<float> blockMeans(size_t(B * H * nkb * D)),
        frameMeans(size_t(B * H * nf * D));
    parallelFor(threads_, B * H, [&](int64_t bh) {
      int64_t b = bh / H, h = bh % H;
      std::vector<float> row(static_cast<size_t>(D));
      auto pool = [&](int64_t begin, int64_t end, const float *cached,
                      int64_t cachedEnd, float *mean) {
        std::vector<float> sum(size_t(D), 0.0f);
        int64_t s = begin;
        if (cached && cachedEnd > begin) {
          std::copy(cached, cached + D, sum.begin());
          s = std::min(end, cachedEnd);
        }
        for (; s < end; ++s) {
          loadRow(k, b, s, h, row.data());
          for (int64_t d = 0; d < D; ++d)
            sum[size_t(d)] = sum[size_t(d)] + row[size_t(d)];
        }
        for (int64_t d = 0; d < D; ++d)
          mean[d] = sum[size_t(d)] / float(end - begin);
      };
      const int64_t committed = pooled ? pooled->committed : 0;
      for (int64_t j = 0; j < nkb; ++j)
        pool(j * sel.blockK, std::min((j + 1) * sel.blockK, Lk),
             pooled ? pooled->blockSum(b, h, j) : nullptr, committed,
             &blockMeans[size_t((bh * nkb + j) * D)]);
      if (frameStage)
        for (int64_t f = sinkEnd; f < nearBegin; ++f)
          pool(f * T, (f + 1) * T, pooled ? pooled->frameSum(b, h, f) : nullptr,
               committed, &frameMeans[size_t((bh * nf + f) * D)]);
    });

    parallelFor(threads_, B * H * nqb, [&](int64_t task) {
      int64_t bh = task / nqb, i = task % nqb, b = bh / H, h = bh % H;
      std::vector<float> qMean(static_cast<size_t>(D), 0.0f),
          row(static_cast<size_t>(D));
      int64_t qBegin = i * sel.blockQ, qEnd = std::min(Lq, qBegin + sel.blockQ);
      for (int64_t s = qBegin; s < qEnd; ++s) {
        loadRow(q, b, s, h, row.data());
        for (int64_t d = 0; d < D; ++d)
          qMean[size_t(d)] = qMean[size_t(d)] + row[size_t(d)];
      }
      for (int64_t d = 0; d < D; ++d)
        qMean[size_t(d)] = qMean[size_t(d)] / float(qEnd - qBegin);

      std::vector<char> frameEligible(size_t(nf), 1);
      if (frameStage) {
        std::vector<float> frameScore(size_t(nf), 0.0f);
        std::vector<int32_t> middle;
        for (int64_t f = sinkEnd; f < nearBegin; ++f) {
          frameScore[size_t(f)] =
              dotSpec(qMean.data(), &frameMeans[size_t((bh * nf + f) * D)], D);
          middle.push_back(int32_t(f));
          frameEligible[size_t(f)] = 0;
        }
        for (int32_t f : topK(middle, frameScore, middleKeep))
          frameEligible[size_t(f)] = 1;
      }

      // Eligible: the frame stage AND the static mask allow the block.
      std::vector<int32_t> eligible;
      std::vector<float> blockScore(size_t(nkb), 0.0f);
      for (int64_t j = 0; j < nkb; ++j) {
        int64_t first = j * sel.blockK / T,
                last = (std::min((j + 1) * sel.blockK, Lk) - 1) / T;
        bool ok = false;
        for (int64_t f = first; f <= last && !ok; ++f)
          ok = frameEligible[size_t(f)];
        if (!ok || (staticMask && !staticMask->eligible(sel, i, j)))
          continue;
        eligible.push_back(int32_t(j));
        blockScore[size_t(j)] =
            dotSpec(qMean.data(), &blockMeans[size_t((bh * nkb + j) * D)], D);
      }
      std::vector<int32_t> keep = topK(eligible, blockScore, budget);
      std::sort(keep.begin(), keep.end());
      int64_t rowIndex = (b * H + h) * nqb + i;
      std::copy(keep.begin(), keep.end(), kept.idx + rowIndex * kept.maxKept);
      kept.cnt[rowIndex] = int32_t(keep.size());
    });
  }

  void attention(const ChunkSelection &sel, const Tensor4 &q, const Tensor4 &k,
                 const Tensor4 &v, const KeptBlocks *kept, const Tensor4 &o,
                 float scale) override {
    checkSelection(sel);
    const int64_t B = q.batch, H = q.heads, D = q.dim;
    checkInput(q, "attention: q", B, sel.queryTokens(), H, D);
    checkTensor(k, "attention: k", B, sel.keyTokens(), H, D, q.dtype,
                Device::Host);
    checkTensor(v, "attention: v", B, sel.keyTokens(), H, D, q.dtype,
                Device::Host);
    checkTensor(o, "attention: o", B, sel.queryTokens(), H, D, q.dtype,
                Device::Host);
    if (!(scale > 0) || !std::isfinite(scale))
      throw Error("attention: scale must be a positive finite number, got " +
                  std::to_string(scale));
    const int64_t nqb = sel.queryBlocks(), nkb = sel.keyBlocks();
    const int64_t Lq = sel.queryTokens(), Lk = sel.keyTokens();
    if (kept) {
      checkKept(*kept, "attention: kept", B, H, nqb, 0);
      for (int64_t r = 0; r < B * H * nqb; ++r) {
        int32_t cnt = kept->cnt[r];
        if (cnt < 0 || cnt > kept->maxKept)
          throw Error("attention: kept.cnt[" + std::to_string(r) + "] = " +
                      std::to_string(cnt) + " is outside [0, maxKept (" +
                      std::to_string(kept->maxKept) + ")]");
        const int32_t *idx = kept->idx + r * kept->maxKept;
        for (int32_t n = 0; n < cnt; ++n)
          if (idx[n] < 0 || idx[n] >= nkb || (n > 0 && idx[n] <= idx[n - 1]))
            throw Error("attention: kept.idx row " + std::to_string(r) +
                        " must hold strictly ascending key blocks in [0, " +
                        std::to_string(nkb) + "), got " +
                        std::to_string(idx[n]) + " at position " +
                        std::to_string(n));
      }
    }

    parallelFor(threads_, B * H * nqb, [&](int64_t task) {
      int64_t bh = task / nqb, i = task % nqb, b = bh / H, h = bh % H;
      std::vector<int64_t>
          keys; // kept key token ranges, flattened [begin, end) pairs
      if (kept) {
        int64_t r = (b * H + h) * nqb + i;
        for (int32_t n = 0; n < kept->cnt[r]; ++n) {
          int64_t j = kept->idx[r * kept->maxKept + n];
          keys.push_back(j * sel.blockK);
          keys.push_back(std::min((j + 1) * sel.blockK, Lk));
        }
      } else {
        keys = {0, Lk};
      }
      std::vector<float> kf, vf;
      for (size_t p = 0; p < keys.size(); p += 2)
        for (int64_t s = keys[p]; s < keys[p + 1]; ++s) {
          kf.resize(kf.size() + size_t(D));
          vf.resize(vf.size() + size_t(D));
          loadRow(k, b, s, h, &kf[kf.size() - size_t(D)]);
          loadRow(v, b, s, h, &vf[vf.size() - size_t(D)]);
        }
      const int64_t nk = int64_t(kf.size()) / D;
      std::vector<float> qRow(static_cast<size_t>(D)),
          p(static_cast<size_t>(nk)), acc(static_cast<size_t>(D));
      int64_t qBegin = i * sel.blockQ, qEnd = std::min(Lq, qBegin + sel.blockQ);
      for (int64_t s = qBegin; s < qEnd; ++s) {
        std::fill(acc.begin(), acc.end(), 0.0f);
        if (nk > 0) {
          loadRow(q, b, s, h, qRow.data());
          float maxScore = -INFINITY;
          for (int64_t n = 0; n < nk; ++n) {
            p[size_t(n)] = scale * dotFast(qRow.data(), &kf[size_t(n * D)], D);
            maxScore = std::max(maxScore, p[size_t(n)]);
          }
          float denom = 0.0f;
          for (int64_t n = 0; n < nk; ++n) {
            p[size_t(n)] = std::exp(p[size_t(n)] - maxScore);
            denom += p[size_t(n)];
          }
          for (int64_t n = 0; n < nk; ++n) {
            const float *vr = &vf[size_t(n * D)];
            for (int64_t d = 0; d < D; ++d)
              acc[size_t(d)] += p[size_t(n)] * vr[d];
          }
          for (int64_t d = 0; d < D; ++d)
            acc[size_t(d)] /= denom;
        }
        int64_t base = o.offset(b, s, h);
        for (int64_t d = 0; d < D; ++d)
          storeElement(o.data, o.dtype, base + d, acc[size_t(d)]);
      }
    });
  }

  void copy(const Tensor4 &dst, const Tensor4 &src) override {
    checkTensor(src, "copy: src", src.batch, src.tokens, src.heads, src.dim,
                src.dtype, Device::Host);
    checkTensor(dst, "copy: dst", src.batch, src.tokens, src.heads, src.dim,
                src.dtype, Device::Host);
    const size_t row = size_t(src.dim) * size_t(dtypeSize(src.dtype));
    auto *d = static_cast<char *>(dst.data);
    const auto *s = static_cast<const char *>(src.data);
    const int64_t es = dtypeSize(src.dtype);
    for (int64_t b = 0; b < src.batch; ++b)
      for (int64_t t = 0; t < src.tokens; ++t)
        for (int64_t h = 0; h < src.heads; ++h)
          std::memmove(d + dst.offset(b, t, h) * es,
                       s + src.offset(b, t, h) * es, row);
  }

private:
  static CpuPooledKeys &cpuCache(PooledKeyCache *cache, const char *what) {
    auto *cpu = dynamic_cast<CpuPooledKeys *>(cache);
    if (!cpu)
      throw Error(std::string(what) + ": the pooled-key cache was created by "
                                      "another backend; create it with "
                                      "this backend's createPooledKeys");
    return *cpu;
  }

  static void checkInput(const Tensor4 &t, const char *what, int64_t B,
                         int64_t S, int64_t H, int64_t D) {
    if (t.dtype == DType::F32)
      throw Error(std::string(what) +
                  ": expected dtype bf16 or fp16, got fp32");
    checkTensor(t, what, B, S, H, D, t.dtype, Device::Host);
  }

  static void checkKept(const KeptBlocks &kept, const char *what, int64_t B,
                        int64_t H, int64_t nqb, int64_t minCapacity) {
    std::string name = what;
    if (!kept.idx || !kept.cnt)
      throw Error(name + ": idx and cnt must be non-null host arrays");
    if (kept.batch != B || kept.heads != H || kept.queryBlocks != nqb)
      throw Error(name + ": expected [batch, heads, queryBlocks] = [" +
                  std::to_string(B) + ", " + std::to_string(H) + ", " +
                  std::to_string(nqb) + "], got [" +
                  std::to_string(kept.batch) + ", " +
                  std::to_string(kept.heads) + ", " +
                  std::to_string(kept.queryBlocks) + "]");
    if (kept.maxKept < std::max<int64_t>(minCapacity, 1))
      throw Error(name + ": maxKept must be >= " +
                  std::to_string(std::max<int64_t>(minCapacity, 1)) +
                  " (the budget, or key blocks when dense), got " +
                  std::to_string(kept.maxKept));
  }

  unsigned threads_;
};

} // namespace

std::unique_ptr<Backend> createCpuBackend(unsigned threads) {
  return std::make_unique<CpuBackend>(threads);
}

} // namespace lfc
