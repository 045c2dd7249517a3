//===- MaskForm.h - lf-lower-to-kernels' reading of the selected mask -----===//
//
// Decision 1 of lf-lower-to-kernels (docs/lowering.md): the form of a
// specialized policy's selected mask (static mask, frame stage, block stage),
// exposed so that other tools (lfc explain) see exactly the static mask the
// plan gets, without lowering to kernels. Defined in LowerToKernels.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef LFC_COMPILER_PASSES_MASKFORM_H
#define LFC_COMPILER_PASSES_MASKFORM_H

#include "dialect/LfOps.h"
#include "dialect/LfStaticMask.h"

#include "mlir/Support/LogicalResult.h"

#include <cstdint>

namespace mlir::lf {

/// What the selection of every chunk is made of.
struct MaskForm {
  /// The static part (docs/static-masks.md); `all` when there is none.
  StaticMaskExpr staticMask;
  /// The frame stage (docs/selection-semantics.md step 3); all 0 without one.
  int64_t sinkFrames = 0, nearFrames = 0, framesTopK = 0;
  /// An lf.block_topk selects the kept blocks last.
  bool blockStage = false;
};

/// The form of `policy`'s selected mask, as lf-lower-to-kernels lowers it.
/// `policy` must be specialized (lf-resolve-growth, lf-specialize-chunks);
/// otherwise, or when the mask has no kernel lowering, emits an error at the
/// op that does not fit and fails.
FailureOr<MaskForm> analyzeMaskForm(PolicyOp policy);

/// The static mask lf-lower-to-kernels writes for `chunk` (`lf.plan.chunk`'s
/// `static_mask`): `all` for a dense chunk, else the form's.
inline StaticMaskExpr chunkStaticMask(const MaskForm &form, ChunkOp chunk) {
  return chunk.getDense() ? StaticMaskExpr() : form.staticMask;
}

} // namespace mlir::lf

#endif // LFC_COMPILER_PASSES_MASKFORM_H
