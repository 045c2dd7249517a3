// A brute-force, token-level oracle of docs/static-masks.md, independent of
// lfc::StaticMask::eligible: each term becomes the explicit set of key token
// indices the doc's table defines, and a key block is eligible under a term
// iff one of its tokens is in the set; union and restrict combine blocks.
// Written from the doc's formulas with plain loops and divisions (no shifts, no
// range arithmetic), so that it shares no code and few idioms with the
// implementation.
#pragma once

#include "lfc/backend.h"
#include "lfc/static_mask.h"

#include <cstdint>
#include <vector>

namespace lfc::test {

/// The key tokens of one term (not union/restrict) for query block `i`, as a
/// membership vector of Lk entries.
inline std::vector<char>
oracleTermTokens(const StaticMask &m, const ChunkSelection &sel, int64_t i) {
  const int64_t T = sel.tokensPerFrame, nf = sel.visibleFrames,
                F = sel.framesPerChunk;
  const int64_t P = nf - F, Lk = nf * T, Lq = F * T;
  const std::vector<int64_t> &a = m.args();
  std::vector<char> in(size_t(Lk), 0);
  for (int64_t t = 0; t < Lk; ++t) {
    const int64_t f = t / T; // the frame of key token t
    bool member = false;
    switch (m.kind()) {
    case StaticMask::Kind::All:
      member = true;
      break;
    case StaticMask::Kind::Sink: // frames [0, min(N, P))
      member = f < P && f < a[0];
      break;
    case StaticMask::Kind::Near: // frames [max(0, P - N), P)
      member = f < P && f >= P - a[0];
      break;
    case StaticMask::Kind::Current: // frames [P, nf)
      member = f >= P;
      break;
    case StaticMask::Kind::WindowFrames: // frames [max(0, P - N), nf)
      member = f >= P - a[0];
      break;
    case StaticMask::Kind::WindowTokens:
      // The N tokens before the query block, and the whole current chunk.
      member = t >= P * T + i * sel.blockQ - a[0] || f >= P;
      break;
    case StaticMask::Kind::Radial: {
      if (f >= P)
        break;
      const int64_t D = a[0], W = a[1];
      const int64_t d = P - f;
      int64_t halvings = d / D;
      if (halvings > 30)
        halvings = 30;
      int64_t width = T;
      for (int64_t h = 0; h < halvings; ++h)
        width = width / 2;
      if (width < W)
        width = W;
      const int64_t qFirst = i * sel.blockQ;
      const int64_t qEnd =
          (i + 1) * sel.blockQ < Lq ? (i + 1) * sel.blockQ : Lq;
      const int64_t centre = qFirst + (qEnd - qFirst) / 2;
      const int64_t sc = centre % T;
      int64_t start = sc - width / 2;
      if (start < 0)
        start = 0;
      if (start > T - width)
        start = T - width;
      const int64_t pos = t - f * T; // position inside frame f
      member = pos >= start && pos < start + width;
      break;
    }
    case StaticMask::Kind::Frames:
      for (int64_t listed : a)
        member = member || listed == f;
      break;
    case StaticMask::Kind::Union:
    case StaticMask::Kind::Restrict:
      break; // combined per block, never per token
    }
    in[size_t(t)] = member;
  }
  return in;
}

/// Whether key block `j` is eligible for query block `i` under `m`.
inline bool oracleEligible(const StaticMask &m, const ChunkSelection &sel,
                           int64_t i, int64_t j) {
  if (m.kind() == StaticMask::Kind::Union) {
    for (const StaticMask &o : m.operands())
      if (oracleEligible(o, sel, i, j))
        return true;
    return false;
  }
  if (m.kind() == StaticMask::Kind::Restrict)
    return oracleEligible(m.operands()[0], sel, i, j) &&
           oracleEligible(m.operands()[1], sel, i, j);
  std::vector<char> in = oracleTermTokens(m, sel, i);
  for (int64_t t = j * sel.blockK;
       t < (j + 1) * sel.blockK && t < int64_t(in.size()); ++t)
    if (in[size_t(t)])
      return true;
  return false;
}

/// The eligibility table [query block][key block] of `m`, computing each
/// term's token set once per query block.
inline std::vector<std::vector<char>>
oracleEligibility(const StaticMask &m, const ChunkSelection &sel) {
  const int64_t nqb = sel.queryBlocks(), nkb = sel.keyBlocks();
  std::vector<std::vector<char>> out(size_t(nqb),
                                     std::vector<char>(size_t(nkb), 0));
  if (m.kind() == StaticMask::Kind::Union ||
      m.kind() == StaticMask::Kind::Restrict) {
    const bool isUnion = m.kind() == StaticMask::Kind::Union;
    std::vector<std::vector<std::vector<char>>> parts;
    for (const StaticMask &o : m.operands())
      parts.push_back(oracleEligibility(o, sel));
    for (int64_t i = 0; i < nqb; ++i)
      for (int64_t j = 0; j < nkb; ++j) {
        bool any = false, every = true;
        for (const auto &p : parts) {
          any = any || p[size_t(i)][size_t(j)];
          every = every && p[size_t(i)][size_t(j)];
        }
        out[size_t(i)][size_t(j)] = isUnion ? any : every;
      }
    return out;
  }
  // Only window_tokens and radial depend on the query block.
  const bool perQueryBlock = m.kind() == StaticMask::Kind::WindowTokens ||
                             m.kind() == StaticMask::Kind::Radial;
  std::vector<char> in;
  for (int64_t i = 0; i < nqb; ++i) {
    if (perQueryBlock || i == 0)
      in = oracleTermTokens(m, sel, i);
    for (int64_t t = 0; t < int64_t(in.size()); ++t)
      if (in[size_t(t)])
        out[size_t(i)][size_t(t / sel.blockK)] = 1;
  }
  return out;
}

} // namespace lfc::test
