// Static mask expressions (docs/static-masks.md): parsed from a plan's
// manifest and evaluated by the CPU backend; the generated kernels hold the
// same expression as a C++ type (kernels_templates/lfc/static_mask.cuh).
#pragma once

#include "lfc/backend.h"

#include <cstdint>
#include <string>
#include <vector>

namespace lfc {

class StaticMask {
public:
  enum class Kind {
    All,
    Sink,         ///< args: {N}
    Near,         ///< args: {N}
    Current,      ///< no args
    WindowFrames, ///< args: {N}
    WindowTokens, ///< args: {N}
    Radial,       ///< args: {D, W}
    Frames,       ///< args: the frames, ascending and distinct
    Union,        ///< operands: two or more
    Restrict,     ///< operands: exactly two
  };

  /// `all`.
  StaticMask() = default;
  /// Parses canonical text; throws lfc::Error "static mask 'TEXT': column N:
  /// expected ..." on anything else.
  static StaticMask parse(const std::string &text);

  Kind kind() const { return kind_; }
  const std::vector<int64_t> &args() const { return args_; }
  const std::vector<StaticMask> &operands() const { return operands_; }
  bool isAll() const { return kind_ == Kind::All; }

  /// The canonical text (parse(m.text()) == m).
  std::string text() const;
  /// The C++ type of kernels_templates/lfc/static_mask.cuh, e.g.
  /// "lfc::mask::Union<lfc::mask::Sink<1>, lfc::mask::Current>".
  std::string cppType() const;

  /// The first radial term whose narrowest band W is wider than a frame of
  /// `tokensPerFrame` tokens, or nullptr: W <= tokens_per_frame keeps every
  /// band inside its frame (docs/static-masks.md), which the plan loader and
  /// checkSelection require.
  const StaticMask *radialWiderThan(int64_t tokensPerFrame) const;

  /// Whether key block `j` is eligible for query block `qb` of a chunk with
  /// `sel`'s geometry (docs/static-masks.md), in integer arithmetic that agrees
  /// bit for bit with kernels_templates/lfc/static_mask.cuh. Needs W <=
  /// sel.tokensPerFrame for every radial term (checkSelection checks it); a key
  /// block past the last one is never eligible.
  bool eligible(const ChunkSelection &sel, int64_t qb, int64_t j) const;
  /// The eligible key blocks of query block `qb`, ascending: the kept list a
  /// static-only chunk's attention walks (its kernel keeps no list).
  std::vector<int32_t> eligibleBlocks(const ChunkSelection &sel,
                                      int64_t qb) const;

  bool operator==(const StaticMask &o) const {
    return kind_ == o.kind_ && args_ == o.args_ && operands_ == o.operands_;
  }
  bool operator!=(const StaticMask &o) const { return !(*this == o); }

private:
  Kind kind_ = Kind::All;
  std::vector<int64_t> args_;
  std::vector<StaticMask> operands_;
};

} // namespace lfc
