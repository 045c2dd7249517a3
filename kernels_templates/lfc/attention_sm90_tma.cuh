// Hopper (sm_90a) warp-specialized block-sparse attention: a producer warp
// loads Q, K and V tiles with TMA into an mbarrier ring, and two consumer
// warpgroups run FlashAttention-3's schedule (ping-pong between the
// warpgroups, softmax of tile t overlapping the PV MMA of tile t - 1), on a
// persistent grid whose last wave of items may be split in key halves.
#ifndef LFC_ATTENTION_SM90_TMA_CUH
#define LFC_ATTENTION_SM90_TMA_CUH

#include "lfc/attention_sm90.cuh"
#include "lfc/tma_abi.h"

namespace lfc {

namespace sm90 {

/// One TMA box (64 head-dim columns x the map's rows) into 128B-swizzled
/// shared memory; completes `bytes` on `bar`. Rows outside the tensor arrive as
/// zeros, so ragged tails need no special load.
__device__ __forceinline__ void tmaLoad(unsigned dst, const LfcTmaMap *map,
                                        int col, int row, int head, int batch,
                                        unsigned bar) {
  asm volatile(
      "cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::"
      "complete_tx::bytes [%0], [%1, {%2, %3, %4, %5}], [%6];" ::"r"(dst),
      "l"(reinterpret_cast<unsigned long long>(map)), "r"(col), "r"(row),
      "r"(head), "r"(batch), "r"(bar)
      : "memory");
}

__device__ __forceinline__ void prefetchTmaMap(const LfcTmaMap *map) {
  asm volatile("prefetch.tensormap [%0];" ::"l"(
                   reinterpret_cast<unsigned long long>(map))
               : "memory");
}

/// The producer's arrival on a "full" barrier, announcing the bytes its TMA
/// copies will complete.
__device__ __forceinline__ void mbarArriveExpectTx(unsigned bar,
                                                   unsigned bytes) {
  asm volatile("{ .reg .b64 st; mbarrier.arrive.expect_tx.shared::cta.b64 st, "
               "[%0], %1; }" ::"r"(bar),
               "r"(bytes)
               : "memory");
}

/// Makes mbarrier.init visible to the TMA unit (the async proxy).
__device__ __forceinline__ void fenceMbarInit() {
  asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
}

__device__ __forceinline__ void namedSync(int id, int threads) {
  asm volatile("bar.sync %0, %1;" ::"r"(id), "r"(threads) : "memory");
}
__device__ __forceinline__ void namedArrive(int id, int threads) {
  asm volatile("bar.arrive %0, %1;" ::"r"(id), "r"(threads) : "memory");
}

template <int N> __device__ __forceinline__ void waitGroup() {
  asm volatile("wgmma.wait_group.sync.aligned %0;" ::"n"(N) : "memory");
}

/// Pins accumulator registers at this point of the program: the compiler may
/// not move their reads or writes across an asynchronous MMA's issue or wait.
template <int N> __device__ __forceinline__ void fenceRegs(float (&r)[N][4]) {
#pragma unroll
  for (int i = 0; i < N; ++i)
    asm volatile(""
                 : "+f"(r[i][0]), "+f"(r[i][1]), "+f"(r[i][2]),
                   "+f"(r[i][3])::"memory");
}

} // namespace sm90

/// kTileQ = 128 (two consumer warpgroups of 64 query rows), kTileK 64 or 128,
/// kStages K and kStages V stages; C::kWarps counts the 8 consumer warps, the
/// producer warpgroup comes on top.
template <class C, int kStages> struct Sm90TmaLaunch {
  static constexpr int kThreads = C::kThreads + 128;
  static constexpr int kSmemBytes =
      (C::kTileQ + 2 * kStages * C::kTileK) * C::kHeadDim * 2 + 1024;
};

template <class C, int kStages>
__device__ __forceinline__ void
blockSparseAttentionSm90Tma(const LfcAttnParams &p,
                            const LfcAttnTmaParams &maps) {
  using T = typename C::Elem;
  constexpr int D = C::kHeadDim, TK = C::kTileK, TQ = C::kTileQ, NT = TK / 8,
                DT = D / 8;
  static_assert(kStages >= 2 && kStages <= 4, "2 to 4 K/V stages");
  static_assert(TQ == 128 && C::kWarps == 8,
                "two consumer warpgroups of 64 query rows");
  static_assert(TK == 64 || TK == 128, "key tiles of 64 or 128 rows");
  constexpr unsigned kQBytes = TQ * D * 2, kKVBytes = TK * D * 2;
  // Consumer warpgroups hand the tensor cores to each other through named
  // barriers 1 and 2 (0 is __syncthreads); each has both warpgroups' threads.
  // Barriers 3 and 4 sync one consumer warpgroup (the split-item merge).
  constexpr int kSchedThreads = 256;

  extern __shared__ __align__(1024) unsigned char smemRaw[];
  const unsigned rawAddr = smemAddr(smemRaw);
  const unsigned sQ = (rawAddr + 1023u) & ~1023u;
  unsigned char *smem = smemRaw + (sQ - rawAddr);
  const unsigned sK0 = sQ + kQBytes;
  const unsigned sV0 = sK0 + kStages * kKVBytes;

  // qFull, qEmpty, then per stage: kFull, vFull, kEmpty, vEmpty.
  __shared__ __align__(8) unsigned long long bars[2 + 4 * kStages];
  const unsigned qFull = smemAddr(bars), qEmpty = qFull + 8u;
  auto kFull = [&](int s) { return qFull + 8u * (2 + s); };
  auto vFull = [&](int s) { return qFull + 8u * (2 + kStages + s); };
  auto kEmpty = [&](int s) { return qFull + 8u * (2 + 2 * kStages + s); };
  auto vEmpty = [&](int s) { return qFull + 8u * (2 + 3 * kStages + s); };
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int warpGroup = warp / 4;

  /// One unit of work: a whole item (query tile, head, batch), or one half of
  /// a split item's key tiles.
  struct Unit {
    int item, half, b, h, q0, firstTile, numTiles;
    detail::KeyTiles<C> tiles; ///< of the whole item
  };
  // warpWide: the 32 lanes of a consumer warp build the unit together (a
  // static mask's tiles are then counted and walked warp-cooperatively); the
  // producer's single thread builds it alone.
  auto unitAt = [&](int unit, bool warpWide) {
    Unit u;
    u.item = unit;
    u.half = -1;
    if (unit >= maps.wholeItems) {
      u.item = maps.wholeItems + (unit - maps.wholeItems) / 2;
      u.half = (unit - maps.wholeItems) % 2;
    }
    u.b = u.item / (maps.queryTiles * p.heads);
    u.h = u.item / maps.queryTiles % p.heads;
    u.q0 = u.item % maps.queryTiles * TQ;
    u.tiles = detail::KeyTiles<C>(p, u.b, u.h, u.q0, warpWide);
    const int allTiles = u.tiles.count;
    u.firstTile = u.half == 1 ? allTiles / 2 : 0;
    u.numTiles = u.half == 0 ? allTiles / 2 : allTiles - u.firstTile;
    return u;
  };
  auto tileStart = [&](const Unit &u, int t) {
    return u.tiles.start(u.firstTile + t);
  };
  // The consumers need a tile's first key row only for the mask past lk.
  auto maskStart = [&](const Unit &u, int t) {
    return u.tiles.maskStart(u.firstTile + t);
  };
  const int units = maps.wholeItems + 2 * maps.splitItems;

  if (threadIdx.x == 0) {
    sm90::mbarInit(qFull, 1);
    // One arrival per consumer warp, after its last read of the Q tile (its
    // MMAs and the output staged there).
    sm90::mbarInit(qEmpty, 8);
    for (int s = 0; s < kStages; ++s) {
      sm90::mbarInit(kFull(s), 1);
      sm90::mbarInit(vFull(s), 1);
      // One arrival per consumer warp, after its wgmma reads are waited for.
      sm90::mbarInit(kEmpty(s), 8);
      sm90::mbarInit(vEmpty(s), 8);
    }
    sm90::fenceMbarInit();
  }
  __syncthreads();

  // The CTA walks units blockIdx.x, + gridDim.x, ... (a grid of one CTA per
  // SM is persistent: the next unit's Q and first tiles load while the
  // consumers finish the current one). K/V stages and phases run on across
  // units.
  if (warpGroup == 0) {
    // Producer: one thread issues every copy; the warpgroup gives its
    // registers to the consumers.
    asm volatile("setmaxnreg.dec.sync.aligned.u32 24;" ::: "memory");
    // A static mask's tiles are counted and walked by the whole producer warp
    // (one mask evaluation per lane per 32 key blocks); a single thread
    // walking every key block serially delayed the copies measurably. Lane 0
    // issues every copy either way.
    constexpr bool kWarpProducer = C::kMask == MaskMode::Static;
    if (warp == 0 && (kWarpProducer || lane == 0)) {
      const bool issuer = !kWarpProducer || lane == 0;
      if (issuer) {
        sm90::prefetchTmaMap(&maps.q);
        sm90::prefetchTmaMap(&maps.k);
        sm90::prefetchTmaMap(&maps.v);
      }
      int g = 0; // tiles issued so far
      int n = 0; // units so far
      for (int unit = blockIdx.x; unit < units; unit += gridDim.x, ++n) {
        const Unit u = unitAt(unit, /*warpWide=*/kWarpProducer);
        auto loadQ = [&] {
          if (n > 0)
            sm90::mbarWait(qEmpty, (n - 1) & 1);
          // Lanes leave a wait together: none may fall two phases behind.
          if (kWarpProducer)
            __syncwarp();
          if (issuer) {
            sm90::mbarArriveExpectTx(qFull, kQBytes);
#pragma unroll
            for (int cb = 0; cb < D / 64; ++cb)
              sm90::tmaLoad(sQ + cb * TQ * 128, &maps.q, cb * 64, u.q0, u.h,
                            u.b, qFull);
          }
        };
        // The first tiles go out before the Q tile, which waits for the
        // previous unit's output to leave it: they load during that epilogue.
        const int early = u.numTiles < kStages ? u.numTiles : kStages;
        if (early == 0)
          loadQ();
        for (int t = 0; t < u.numTiles; ++t, ++g) {
          const int s = g % kStages, use = g / kStages;
          const int k0 = tileStart(u, t);
          // K before V: QK^T of tile t starts as soon as its K lands.
          if (use > 0)
            sm90::mbarWait(kEmpty(s), (use - 1) & 1);
          if (kWarpProducer)
            __syncwarp();
          if (issuer) {
            sm90::mbarArriveExpectTx(kFull(s), kKVBytes);
#pragma unroll
            for (int cb = 0; cb < D / 64; ++cb)
              sm90::tmaLoad(sK0 + s * kKVBytes + cb * TK * 128, &maps.k,
                            cb * 64, k0, u.h, u.b, kFull(s));
          }
          if (use > 0)
            sm90::mbarWait(vEmpty(s), (use - 1) & 1);
          if (kWarpProducer)
            __syncwarp();
          if (issuer) {
            sm90::mbarArriveExpectTx(vFull(s), kKVBytes);
#pragma unroll
            for (int cb = 0; cb < D / 64; ++cb)
              sm90::tmaLoad(sV0 + s * kKVBytes + cb * TK * 128, &maps.v,
                            cb * 64, k0, u.h, u.b, vFull(s));
          }
          if (t + 1 == early)
            loadQ();
        }
      }
    }
    return;
  }

  asm volatile("setmaxnreg.inc.sync.aligned.u32 240;" ::: "memory");
  const int cw = warpGroup - 1; // consumer warpgroup 0 or 1
  const int schedMine = 1 + cw, schedOther = 2 - cw;
  const unsigned sQGroup = sQ + cw * 64 * 128;
  __shared__ int arrivedBefore[2];

  float acc[DT][4];
  float rowMax[2], rowSum[2];
  // exp2 of (previous max - new max) per row, applied to acc just before the
  // next PV MMA: acc is still being written by the previous one when the
  // softmax that produces it runs.
  float pendingScale[2];
  float s[NT][4];
#pragma unroll
  for (int n = 0; n < NT; ++n)
    s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.f;
  unsigned pa[TK / 16][4];

  // g: the CTA-wide index of a tile, which picks its stage and phase.
  auto issueQK = [&](int g) {
    const int st = g % kStages;
    const unsigned sK = sK0 + st * kKVBytes;
    sm90::mbarWait(kFull(st), (g / kStages) & 1);
    sm90::issueQK<T, D, TQ, TK>(s, sQGroup, sK);
  };
  auto issuePV = [&](int g) {
    const int st = g % kStages;
    const unsigned sV = sV0 + st * kKVBytes;
#pragma unroll
    for (int i = 0; i < DT; ++i) {
      acc[i][0] *= pendingScale[0];
      acc[i][1] *= pendingScale[0];
      acc[i][2] *= pendingScale[1];
      acc[i][3] *= pendingScale[1];
    }
    sm90::mbarWait(vFull(st), (g / kStages) & 1);
    sm90::fence();
#pragma unroll
    for (int ks = 0; ks < TK / 16; ++ks)
      sm90::Wgmma<T>::pv(acc, pa[ks],
                         sm90::descriptor(sV + ks * 16 * 128, TK * 128, 1024));
    sm90::commit();
  };
  auto release = [&](unsigned bar) {
    __syncwarp();
    if (lane == 0)
      sm90::mbarArrive(bar);
  };
  auto softmax = [&](int k0) {
    // The output rescale is deferred (applied after the previous tile's PV
    // completes), so it is kept in pendingScale.
    detail::onlineSoftmaxStep<NT>(s, rowMax, rowSum, pendingScale, k0, TK, p.lk,
                                  lane, p.scaleLog2);
  };
  auto pack = [&] {
#pragma unroll
    for (int ks = 0; ks < TK / 16; ++ks) {
      pa[ks][0] = packPair<T>(s[2 * ks][0], s[2 * ks][1]);
      pa[ks][1] = packPair<T>(s[2 * ks][2], s[2 * ks][3]);
      pa[ks][2] = packPair<T>(s[2 * ks + 1][0], s[2 * ks + 1][1]);
      pa[ks][3] = packPair<T>(s[2 * ks + 1][2], s[2 * ks + 1][3]);
    }
  };

  int g = 0; // tiles consumed so far
  int n = 0; // units so far
  for (int unit = blockIdx.x; unit < units; unit += gridDim.x, ++n) {
    const Unit u = unitAt(unit, /*warpWide=*/true);
    const int numTiles = u.numTiles;
#pragma unroll
    for (int i = 0; i < DT; ++i)
      acc[i][0] = acc[i][1] = acc[i][2] = acc[i][3] = 0.f;
    rowMax[0] = rowMax[1] = negInf();
    rowSum[0] = rowSum[1] = 0.f;
    pendingScale[0] = pendingScale[1] = 1.f;

    sm90::mbarWait(qFull, n & 1);
    if (numTiles > 0) {
      // Warpgroup 0 issues first. Each warpgroup waits for its turn before
      // issuing its MMAs and hands the turn over right after, so one's softmax
      // runs while the other's MMAs hold the tensor cores. Warpgroup 1 skips
      // its last hand-over: every arrival is matched by a wait within the
      // unit.
      if (cw == 1)
        sm90::namedArrive(schedOther, kSchedThreads);
      sm90::namedSync(schedMine, kSchedThreads);
      issueQK(g);
      if (!(cw == 1 && numTiles == 1))
        sm90::namedArrive(schedOther, kSchedThreads);
      const int k00 = maskStart(u, 0);
      sm90::waitGroup<0>();
      sm90::fenceRegs(s);
      release(kEmpty(g % kStages));
      softmax(k00);
      pack();
      for (int t = 1; t < numTiles; ++t) {
        const int k0 = maskStart(u, t);
        sm90::namedSync(schedMine, kSchedThreads);
        issueQK(g + t);
        issuePV(g + t - 1);
        if (!(cw == 1 && t == numTiles - 1))
          sm90::namedArrive(schedOther, kSchedThreads);
        sm90::waitGroup<1>();
        sm90::fenceRegs(s);
        release(kEmpty((g + t) % kStages));
        softmax(k0);
        sm90::waitGroup<0>();
        sm90::fenceRegs(acc);
        release(vEmpty((g + t - 1) % kStages));
        pack();
      }
      issuePV(g + numTiles - 1);
      sm90::waitGroup<0>();
      sm90::fenceRegs(acc);
      release(vEmpty((g + numTiles - 1) % kStages));
      g += numTiles;
    }

    float rowTotal[2];
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      float l = rowSum[r];
      l += __shfl_xor_sync(0xffffffffu, l, 1);
      l += __shfl_xor_sync(0xffffffffu, l, 2);
      rowTotal[r] = l;
    }

    bool writeOut = true;
    if (u.half >= 0) {
      // Both halves publish their unnormalized rows; the second to arrive
      // merges the other's into its registers and writes the output. Each
      // thread reads back exactly the registers its counterpart wrote, so the
      // layout is [value][thread] (coalesced) and no shared memory is needed.
      constexpr int kFloats = LFC_TMA_PARTIAL_FLOATS(D);
      static_assert(kFloats == DT * 4 + 4, "partial layout");
      const int tid = threadIdx.x % 128;
      const int slot = (u.item - maps.wholeItems) * 2 + cw;
      float *mine =
          maps.partial + ((long long)slot * 2 + u.half) * kFloats * 128;
      const float *other =
          maps.partial + ((long long)slot * 2 + (u.half ^ 1)) * kFloats * 128;
#pragma unroll
      for (int i = 0; i < DT; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j)
          __stcg(mine + (i * 4 + j) * 128 + tid, acc[i][j]);
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        __stcg(mine + (DT * 4 + r) * 128 + tid, rowMax[r]);
        __stcg(mine + (DT * 4 + 2 + r) * 128 + tid, rowTotal[r]);
      }
      __threadfence();
      sm90::namedSync(3 + cw, 128);
      if (tid == 0) {
        arrivedBefore[cw] = atomicAdd(maps.counters + slot, 1);
        if (arrivedBefore[cw] == 1)
          maps.counters[slot] = 0; // ready for the next launch
      }
      sm90::namedSync(3 + cw, 128);
      writeOut = arrivedBefore[cw] != 0;
      if (writeOut) {
        __threadfence();
#pragma unroll
        for (int r = 0; r < 2; ++r) {
          const float otherMax = __ldcg(other + (DT * 4 + r) * 128 + tid);
          const float otherTotal = __ldcg(other + (DT * 4 + 2 + r) * 128 + tid);
          const float m = fmaxf(rowMax[r], otherMax);
          // A half that saw no key has max -inf and weight exp2(-inf) = 0;
          // with both empty the row stays 0 and is written as zeros.
          const float base = m == negInf() ? 0.f : m * p.scaleLog2;
          const float wMine = exp2Approx(rowMax[r] * p.scaleLog2 - base);
          const float wOther = exp2Approx(otherMax * p.scaleLog2 - base);
          rowTotal[r] = rowTotal[r] * wMine + otherTotal * wOther;
#pragma unroll
          for (int i = 0; i < DT; ++i) {
            acc[i][2 * r] =
                acc[i][2 * r] * wMine +
                __ldcg(other + (i * 4 + 2 * r) * 128 + tid) * wOther;
            acc[i][2 * r + 1] =
                acc[i][2 * r + 1] * wMine +
                __ldcg(other + (i * 4 + 2 * r + 1) * 128 + tid) * wOther;
          }
        }
      }
    }

    if (writeOut) {
      // Normalize (an empty row has sum 0 and is written as zeros) and stage
      // this warp's 16 rows in its own rows of the Q tile (no other warp reads
      // them, and its MMAs are done) for 16-byte global stores.
      float inv[2];
#pragma unroll
      for (int r = 0; r < 2; ++r)
        inv[r] = rowTotal[r] > 0.f ? 1.f / rowTotal[r] : 0.f;
      const int warpRow0 = cw * 64 + (warp % 4) * 16;
      const int rowA = warpRow0 + lane / 4;
      const unsigned off = (lane % 4) * 4;
#pragma unroll
      for (int i = 0; i < DT; ++i) {
        *reinterpret_cast<unsigned *>(smem + sm90::tileOffset<TQ>(rowA, i) +
                                      off) =
            packPair<T>(acc[i][0] * inv[0], acc[i][1] * inv[0]);
        *reinterpret_cast<unsigned *>(smem + sm90::tileOffset<TQ>(rowA + 8, i) +
                                      off) =
            packPair<T>(acc[i][2] * inv[1], acc[i][3] * inv[1]);
      }
      __syncwarp();
      unsigned short *oBase = static_cast<unsigned short *>(p.o) +
                              u.b * p.oStrideB + u.h * p.oStrideH;
      for (int i = lane; i < 16 * C::kChunks; i += 32) {
        const int r = warpRow0 + i / C::kChunks, c = i % C::kChunks;
        if (u.q0 + r < p.lq) {
          const uint4 val = *reinterpret_cast<const uint4 *>(
              smem + sm90::tileOffset<TQ>(r, c));
          *reinterpret_cast<uint4 *>(
              oBase + (long long)(u.q0 + r) * p.oStrideS + c * 8) = val;
        }
      }
    }
    // The next unit's Q arrives through the async proxy into the rows this
    // warp just wrote and read through the generic one.
    sm90::fenceProxyAsync();
    release(qEmpty);
  }
}

} // namespace lfc

#endif // LFC_ATTENTION_SM90_TMA_CUH
