// Implementation of the CUDA backend test helpers.
#include "tests/gpu/GpuTestUtil.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

namespace lfc::test {

MirroredTensor::MirroredTensor(DType t, Layout l, int64_t b, int64_t s,
                               int64_t h, int64_t d)
    : dtype(t), layout(l), b(b), s(s), h(h), d(d), host(size_t(b * s * h * d)),
      dev(size_t(b * s * h * d) * 2) {}

Tensor4 MirroredTensor::view(void *p, Device device) const {
  return layout == Layout::BSHD ? Tensor4::bshd(p, dtype, device, b, s, h, d)
                                : Tensor4::bhsd(p, dtype, device, b, s, h, d);
}

uint16_t &MirroredTensor::at(int64_t bi, int64_t si, int64_t hi, int64_t di) {
  Tensor4 t = view(nullptr, Device::Host);
  return host[size_t(t.offset(bi, si, hi) + di)];
}

float MirroredTensor::value(int64_t bi, int64_t si, int64_t hi,
                            int64_t di) const {
  return decode(const_cast<MirroredTensor *>(this)->at(bi, si, hi, di));
}

void MirroredTensor::set(int64_t bi, int64_t si, int64_t hi, int64_t di,
                         float v) {
  at(bi, si, hi, di) = dtype == DType::BF16 ? floatToBf16(v) : floatToHalf(v);
}

std::vector<uint16_t> MirroredTensor::download() const {
  std::vector<uint16_t> out(host.size());
  dev.download(out.data(), out.size() * 2);
  return out;
}

void fillRandom(MirroredTensor &t, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.f, scale);
  for (int64_t bi = 0; bi < t.b; ++bi)
    for (int64_t si = 0; si < t.s; ++si)
      for (int64_t hi = 0; hi < t.h; ++hi)
        for (int64_t di = 0; di < t.d; ++di)
          t.set(bi, si, hi, di, n(rng));
  t.upload();
}

void fillVideoLike(MirroredTensor &t, const VideoLikeSpec &spec, uint32_t seed,
                   bool isKey) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.f, 1.f);
  const int64_t T = spec.tokensPerFrame;
  // A fixed "scene" of 4*T positions, each with a feature vector; frame f sees
  // it shifted.
  std::vector<float> scene(size_t(4 * T * t.d));
  for (float &x : scene)
    x = n(rng);
  for (int64_t bi = 0; bi < t.b; ++bi)
    for (int64_t si = 0; si < t.s; ++si) {
      const int64_t frame = si / T, pos = si % T;
      const int64_t scenePos = (pos + frame * spec.motion) % (4 * T);
      const float gain = isKey && frame < spec.sinkFrames ? spec.sinkGain : 1.f;
      for (int64_t hi = 0; hi < t.h; ++hi)
        for (int64_t di = 0; di < t.d; ++di) {
          const float head = (hi % 2 ? -1.f : 1.f);
          t.set(bi, si, hi, di,
                gain * (head * 0.6f * scene[size_t(scenePos * t.d + di)] +
                        spec.noise * n(rng)));
        }
    }
  t.upload();
}

MirroredKept::MirroredKept(int64_t batch, int64_t heads, int64_t queryBlocks,
                           int64_t maxKept)
    : batch(batch), heads(heads), queryBlocks(queryBlocks), maxKept(maxKept),
      idx(size_t(batch * heads * queryBlocks * maxKept), -1),
      cnt(size_t(batch * heads * queryBlocks), -1), devIdx(idx.size() * 4),
      devCnt(cnt.size() * 4) {
  // Poison: a kernel that forgets a slot or a count is caught by the
  // comparison.
  devIdx.fill(0xEE);
  devCnt.fill(0xEE);
}

KeptBlocks MirroredKept::hostView() {
  return {idx.data(), cnt.data(), batch, heads, queryBlocks, maxKept};
}

KeptBlocks MirroredKept::deviceView() {
  return {static_cast<int32_t *>(devIdx.get()),
          static_cast<int32_t *>(devCnt.get()),
          batch,
          heads,
          queryBlocks,
          maxKept};
}

void MirroredKept::upload() {
  devIdx.upload(idx.data(), idx.size() * 4);
  devCnt.upload(cnt.data(), cnt.size() * 4);
}

void MirroredKept::download() {
  devIdx.download(idx.data(), idx.size() * 4);
  devCnt.download(cnt.data(), cnt.size() * 4);
}

void fillRandomKept(MirroredKept &kept, int64_t keyBlocks, int64_t perRow,
                    uint32_t seed, const std::vector<int64_t> &emptyRows) {
  std::mt19937 rng(seed);
  std::vector<int32_t> all(static_cast<size_t>(keyBlocks));
  const int64_t rows = kept.batch * kept.heads * kept.queryBlocks;
  for (int64_t r = 0; r < rows; ++r) {
    const bool empty =
        std::find(emptyRows.begin(), emptyRows.end(), r) != emptyRows.end();
    const int64_t n = empty ? 0 : perRow;
    std::iota(all.begin(), all.end(), 0);
    std::shuffle(all.begin(), all.end(), rng);
    std::sort(all.begin(), all.begin() + n);
    std::copy(all.begin(), all.begin() + n,
              kept.idx.begin() + r * kept.maxKept);
    kept.cnt[size_t(r)] = int32_t(n);
  }
  kept.upload();
}

/// Expects identical kept lists (counts, and the first `count` indices of every
/// row).
void expectSameKept(const MirroredKept &cpu, const MirroredKept &gpu,
                    const std::string &what) {
  int64_t rowsDiffering = 0;
  std::string first;
  const int64_t rows = cpu.batch * cpu.heads * cpu.queryBlocks;
  for (int64_t r = 0; r < rows; ++r) {
    bool same = cpu.cnt[size_t(r)] == gpu.cnt[size_t(r)];
    for (int64_t n = 0; same && n < cpu.cnt[size_t(r)]; ++n)
      same = cpu.idx[size_t(r * cpu.maxKept + n)] ==
             gpu.idx[size_t(r * gpu.maxKept + n)];
    if (!same && rowsDiffering++ == 0) {
      std::ostringstream os;
      os << "row " << r << ": cpu cnt " << cpu.cnt[size_t(r)] << " gpu cnt "
         << gpu.cnt[size_t(r)] << "; cpu [";
      for (int64_t n = 0; n < std::min<int64_t>(cpu.cnt[size_t(r)], 12); ++n)
        os << cpu.idx[size_t(r * cpu.maxKept + n)] << " ";
      os << "] gpu [";
      for (int64_t n = 0;
           n < std::min<int64_t>(std::max(gpu.cnt[size_t(r)], 0), 12); ++n)
        os << gpu.idx[size_t(r * gpu.maxKept + n)] << " ";
      os << "]";
      first = os.str();
    }
  }
  EXPECT_EQ(rowsDiffering, 0)
      << what << ": of " << rows << " rows; first: " << first;
}

} // namespace lfc::test
