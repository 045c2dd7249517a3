//===- LfDialect.cpp - registration of the lf dialect, its type and ops ---===//

#include "dialect/LfDialect.h"
#include "dialect/LfOps.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::lf;

#include "dialect/LfDialect.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "dialect/LfTypes.cpp.inc"

void LfDialect::initialize() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "dialect/LfTypes.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "dialect/LfOps.cpp.inc"
      >();
}
