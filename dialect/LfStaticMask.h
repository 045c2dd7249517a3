//===- LfStaticMask.h - static mask expressions of kernel-level lf IR -----===//
//
// The compiler's model of a static mask expression (docs/static-masks.md,
// normative): built by lf-lower-to-kernels from the policy's mask ops, checked
// by the kernel-level verifiers, and spelled two ways: the canonical text of
// the plan manifest and the C++ type of kernels_templates/lfc/static_mask.cuh.
// Never throws.
//
//===----------------------------------------------------------------------===//

#ifndef LFC_DIALECT_LFSTATICMASK_H
#define LFC_DIALECT_LFSTATICMASK_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mlir::lf {

class StaticMaskExpr {
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
  StaticMaskExpr() = default;
  static StaticMaskExpr term(Kind kind, llvm::ArrayRef<int64_t> args = {});
  /// Exactly the given node, unnormalized (what the parser reads).
  static StaticMaskExpr node(Kind kind, llvm::ArrayRef<int64_t> args,
                             std::vector<StaticMaskExpr> operands);
  /// union(...) of `operands`, flattening nested unions and dropping repeats;
  /// one distinct operand is that operand.
  static StaticMaskExpr unionOf(llvm::ArrayRef<StaticMaskExpr> operands);
  static StaticMaskExpr restrictOf(StaticMaskExpr input, StaticMaskExpr domain);

  /// Parses canonical text (the grammar of docs/static-masks.md, which the
  /// runtime's parser reads too). On failure returns std::nullopt and sets
  /// `error` to "column N: expected ..." (1-based). The grammar admits only
  /// canonical spellings, so parse(t)->text() == t.
  static std::optional<StaticMaskExpr> parse(llvm::StringRef text,
                                             std::string &error);

  Kind kind() const { return kind_; }
  llvm::ArrayRef<int64_t> args() const { return args_; }
  const std::vector<StaticMaskExpr> &operands() const { return operands_; }
  bool isAll() const { return kind_ == Kind::All; }

  /// Canonical text: `union(sink(1),current,radial(3,156))`.
  std::string text() const;
  /// C++ type: `lfc::mask::Union<lfc::mask::Sink<1>, lfc::mask::Current,
  /// lfc::mask::Radial<3, 156>>`.
  std::string cppType() const;

  bool operator==(const StaticMaskExpr &other) const {
    return kind_ == other.kind_ && args_ == other.args_ &&
           operands_ == other.operands_;
  }
  bool operator!=(const StaticMaskExpr &other) const {
    return !(*this == other);
  }

private:
  Kind kind_ = Kind::All;
  llvm::SmallVector<int64_t, 2> args_;
  std::vector<StaticMaskExpr> operands_;
};

} // namespace mlir::lf

#endif // LFC_DIALECT_LFSTATICMASK_H
