//===- LfOps.h - operations of the lf dialect ----------------------------===//

#ifndef LFC_DIALECT_LFOPS_H
#define LFC_DIALECT_LFOPS_H

#include "dialect/LfDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "dialect/LfOps.h.inc"

namespace mlir::lf {
/// True when `mask` statically keeps every key block of every query block:
/// an `lf.frames` naming every visible frame of its chunk, a frame-based
/// `lf.sliding_window` reaching back past the oldest visible frame, or a
/// union with such an operand. Conservative: false means "not known".
bool coversEveryKey(Value mask);

/// Number of past frames `mask` keeps when that is known from the op alone
/// (`lf.sink_frames`, `lf.near_frames`, `lf.frames`, frame-based
/// `lf.sliding_window`); std::nullopt otherwise.
std::optional<int64_t> staticFrameCount(Value mask);
} // namespace mlir::lf

#endif // LFC_DIALECT_LFOPS_H
