// Static masks (docs/static-masks.md, normative): one type per term of a
// static mask expression, evaluated as index arithmetic on the query block and
// key block numbers. No table in memory. The CPU backend evaluates the same
// expression from its text (lfc::StaticMask); both must agree bit for bit.
#ifndef LFC_STATIC_MASK_CUH
#define LFC_STATIC_MASK_CUH

namespace lfc {
namespace mask {

/// One query block of one chunk: T = tokensPerFrame, Bq = blockQ, Bk = blockK,
/// lq = F*T query tokens, lk = nf*T key tokens (the logical KV sequence), qb =
/// the query block i. Every count fits in int (the kernels index with 32-bit
/// token counts, at most 2^30).
struct Query {
  int tokensPerFrame, blockQ, blockK, lq, lk, qb;

  /// nf: visible frames.
  __device__ __forceinline__ int frames() const { return lk / tokensPerFrame; }
  /// P = nf - F: past frames.
  __device__ __forceinline__ int past() const {
    return (lk - lq) / tokensPerFrame;
  }
  /// First key token of key block j.
  __device__ __forceinline__ int keyBegin(int j) const { return j * blockK; }
  /// One past the last key token of key block j.
  __device__ __forceinline__ int keyEnd(int j) const {
    const int e = (j + 1) * blockK;
    return e < lk ? e : lk;
  }
};

namespace detail {

__device__ __forceinline__ int imin(int a, int b) { return a < b ? a : b; }
__device__ __forceinline__ int imax(int a, int b) { return a > b ? a : b; }

/// Whether key block j overlaps key tokens [lo, hi) (empty when lo >= hi).
/// Every term's tokens lie inside [0, lk), so the block's end clamped to lk
/// exceeds lo exactly when its unclamped end does.
__device__ __forceinline__ bool overlapsTokens(const Query &q, int j, int lo,
                                               int hi) {
  return lo < hi && q.keyBegin(j) < hi && (j + 1) * q.blockK > lo;
}

/// Whether key block j overlaps frames [a, b).
__device__ __forceinline__ bool overlapsFrames(const Query &q, int j, int a,
                                               int b) {
  return overlapsTokens(q, j, a * q.tokensPerFrame, b * q.tokensPerFrame);
}

} // namespace detail

/// `all`: key tokens [0, lk).
struct All {
  static __device__ __forceinline__ bool overlaps(const Query &, int) {
    return true;
  }
};

/// Whether M is `all` (no static restriction): kernels compile it away.
template <class M> struct IsAll { static constexpr bool value = false; };
template <> struct IsAll<All> { static constexpr bool value = true; };

/// `sink(N)`: frames [0, min(N, P)).
template <int N> struct Sink {
  static_assert(N >= 0, "sink(N): N >= 0");
  static __device__ __forceinline__ bool overlaps(const Query &q, int j) {
    return detail::overlapsFrames(q, j, 0, detail::imin(N, q.past()));
  }
};

/// `near(N)`: frames [max(0, P - N), P).
template <int N> struct Near {
  static_assert(N >= 0, "near(N): N >= 0");
  static __device__ __forceinline__ bool overlaps(const Query &q, int j) {
    const int p = q.past();
    return detail::overlapsFrames(q, j, detail::imax(0, p - N), p);
  }
};

/// `current`: frames [P, nf).
struct Current {
  static __device__ __forceinline__ bool overlaps(const Query &q, int j) {
    return detail::overlapsFrames(q, j, q.past(), q.frames());
  }
};

/// `window_frames(N)`: frames [max(0, P - N), nf).
template <int N> struct WindowFrames {
  static_assert(N >= 0, "window_frames(N): N >= 0");
  static __device__ __forceinline__ bool overlaps(const Query &q, int j) {
    return detail::overlapsFrames(q, j, detail::imax(0, q.past() - N),
                                  q.frames());
  }
};

/// `window_tokens(N)`: tokens [max(0, P*T + i*Bq - N), lk).
template <int N> struct WindowTokens {
  static_assert(N >= 0, "window_tokens(N): N >= 0");
  static __device__ __forceinline__ bool overlaps(const Query &q, int j) {
    // The N tokens before the query block, and the whole current chunk.
    const int chunk = q.lk - q.lq; // P*T
    const int window = chunk + q.qb * q.blockQ - N;
    return detail::overlapsTokens(
        q, j, detail::imax(0, detail::imin(chunk, window)), q.lk);
  }
};

/// `radial(D,W)`: for each past frame f < P at distance d = P - f, the band
/// [f*T + s, f*T + s + w) with w = max(W, T >> min(d / D, 30)), centred on the
/// query block's centre token's position inside its frame and slid to stay
/// inside the frame: s = min(max(sc - w / 2, 0), T - w).
template <int D, int W> struct Radial {
  static_assert(D > 0, "radial(D,W): D > 0");
  static_assert(W >= 0, "radial(D,W): W >= 0");
  static __device__ __forceinline__ bool overlaps(const Query &q, int j) {
    const int t = q.tokensPerFrame, p = q.past();
    const int qBegin = q.qb * q.blockQ;
    const int qEnd = detail::imin(qBegin + q.blockQ, q.lq);
    const int sc = (qBegin + (qEnd - qBegin) / 2) % t;
    const int lo = q.keyBegin(j), hi = q.keyEnd(j);
    // With W <= T (docs/static-masks.md) frame f's band lies inside frame f,
    // so only the past frames the block touches can overlap theirs. (W > T,
    // which the compiler never emits, is evaluated on the same frames as the
    // CPU backend does: lfc::StaticMask::eligible.)
    const int fFirst = lo / t;
    const int fLast = detail::imin((hi - 1) / t, p - 1);
    bool any = false;
    for (int f = fFirst; f <= fLast; ++f) {
      const int d = p - f;
      const int w = detail::imax(W, t >> detail::imin(d / D, 30));
      const int s = detail::imin(detail::imax(sc - w / 2, 0), t - w);
      any |= detail::overlapsTokens(q, j, f * t + s, f * t + s + w);
    }
    return any;
  }
};

/// `frames(a,b,...)`: the listed frames that are < nf (absolute frames of the
/// logical KV sequence).
template <int... F> struct Frames {
  static __device__ __forceinline__ bool overlaps(const Query &q, int j) {
    const int nf = q.frames();
    return (false || ... ||
            (F >= 0 && F < nf && detail::overlapsFrames(q, j, F, F + 1)));
  }
};

/// `union(x,y,...)`: eligible under any operand.
template <class... M> struct Union {
  static_assert(sizeof...(M) >= 2, "union(...) takes two or more operands");
  static __device__ __forceinline__ bool overlaps(const Query &q, int j) {
    return (false || ... || M::overlaps(q, j));
  }
};

/// `restrict(x,y)`: eligible under both (block-level intersection).
template <class A, class B> struct Restrict {
  static __device__ __forceinline__ bool overlaps(const Query &q, int j) {
    return A::overlaps(q, j) && B::overlaps(q, j);
  }
};

} // namespace mask
} // namespace lfc

#endif // LFC_STATIC_MASK_CUH
