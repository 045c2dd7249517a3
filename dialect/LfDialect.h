//===- LfDialect.h - the lf dialect and its !lf.mask type ----------------===//

#ifndef LFC_DIALECT_LFDIALECT_H
#define LFC_DIALECT_LFDIALECT_H

#include "mlir/IR/Dialect.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/Types.h"

#include "dialect/LfDialect.h.inc"

#define GET_TYPEDEF_CLASSES
#include "dialect/LfTypes.h.inc"

#endif // LFC_DIALECT_LFDIALECT_H
