// PolicySpec -> policy-level lf IR (docs/dialect-contract.md), located at the
// TOML source.
#include "compiler/frontend/EmitLf.h"

#include "dialect/LfDialect.h"
#include "dialect/LfOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"

namespace lfc::frontend {

mlir::Location toLocation(const SourceLoc &loc, mlir::MLIRContext &context) {
  return mlir::FileLineColLoc::get(&context, loc.file, loc.line, loc.column);
}

namespace {

class Emitter {
public:
  Emitter(const PolicySpec &spec, mlir::MLIRContext &context)
      : spec(spec), context(context), builder(&context) {}

  mlir::OwningOpRef<mlir::ModuleOp> run();

private:
  const PolicySpec &spec;
  mlir::MLIRContext &context;
  mlir::OpBuilder builder;

  mlir::Location loc(const SourceLoc &source) {
    return toLocation(source, context);
  }
  mlir::IntegerAttr i64(int64_t value) {
    return builder.getI64IntegerAttr(value);
  }
  mlir::FloatAttr f64(double value) { return builder.getF64FloatAttr(value); }
  mlir::StringAttr str(const std::string &value) {
    return builder.getStringAttr(value);
  }

  void emitGeometry();
  void emitGrowth();
  void emitSelect();
  mlir::Value emitMask(const MaskSpec &mask,
                       const std::vector<mlir::Value> &values);
};

mlir::OwningOpRef<mlir::ModuleOp> Emitter::run() {
  SourceLoc fileStart{spec.file, 1, 1};
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::ModuleOp::create(loc(fileStart));
  builder.setInsertionPointToEnd(module->getBody());
  auto policy = builder.create<mlir::lf::PolicyOp>(loc(fileStart), spec.name);
  builder.setInsertionPointToEnd(&policy.getBody().emplaceBlock());
  emitGeometry();
  if (spec.hasGrowth)
    emitGrowth();
  emitSelect();
  return module;
}

void Emitter::emitGeometry() {
  const GeometrySpec &g = spec.geometry;
  builder.create<mlir::lf::GeometryOp>(
      loc(g.loc), i64(g.layers.value), i64(g.heads.value), i64(g.headDim.value),
      str(g.dtype.value), i64(g.tokensPerFrame.value),
      i64(g.framesPerChunk.value), i64(g.chunks.value),
      i64(g.passesPerChunk.value), i64(g.kvWindowFrames.value),
      i64(g.sinkFrames.value));
}

void Emitter::emitGrowth() {
  const GrowthSpec &growth = spec.growth;
  switch (growth.kind.value) {
  case GrowthKind::ChunkAware:
    builder.create<mlir::lf::GrowthChunkAwareOp>(
        loc(growth.loc), f64(growth.target.value), f64(growth.base.value));
    return;
  case GrowthKind::Constant:
    builder.create<mlir::lf::GrowthConstantOp>(loc(growth.loc),
                                               f64(growth.sparsity.value));
    return;
  case GrowthKind::Explicit: {
    std::vector<double> values;
    for (const Located<double> &value : growth.values)
      values.push_back(value.value);
    builder.create<mlir::lf::GrowthExplicitOp>(
        loc(growth.loc), builder.getDenseF64ArrayAttr(values));
    return;
  }
  }
}

void Emitter::emitSelect() {
  const SelectSpec &select = spec.select;
  auto selectOp = builder.create<mlir::lf::SelectOp>(
      loc(select.loc), i64(select.blockQ.value), i64(select.blockK.value),
      str(select.refresh.value));
  mlir::OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(&selectOp.getBody().emplaceBlock());
  std::vector<mlir::Value> values;
  for (const MaskSpec &mask : select.masks)
    values.push_back(emitMask(mask, values));
  const MaskSpec &output = select.masks[select.output];
  builder.create<mlir::lf::YieldOp>(loc(output.loc), values[select.output]);
}

mlir::Value Emitter::emitMask(const MaskSpec &mask,
                              const std::vector<mlir::Value> &values) {
  mlir::Type maskType = mlir::lf::MaskType::get(&context);
  mlir::Location where = loc(mask.loc);
  std::vector<mlir::Value> operands;
  for (size_t index : mask.operands)
    operands.push_back(values[index]);
  auto intOf = [&](const char *name) {
    return i64(mask.findAttr(name)->intValue);
  };
  auto floatOf = [&](const char *name) {
    return f64(mask.findAttr(name)->floatValue);
  };
  auto stringOf = [&](const char *name) {
    return str(mask.findAttr(name)->stringValue);
  };
  auto optionalInt = [&](const char *name) -> mlir::IntegerAttr {
    const MaskAttr *attr = mask.findAttr(name);
    return attr ? i64(attr->intValue) : mlir::IntegerAttr();
  };
  switch (mask.kind.value) {
  case MaskOpKind::SinkFrames:
    return builder.create<mlir::lf::SinkFramesOp>(where, maskType,
                                                  intOf("count"));
  case MaskOpKind::NearFrames:
    return builder.create<mlir::lf::NearFramesOp>(where, maskType,
                                                  intOf("count"));
  case MaskOpKind::CurrentChunk:
    return builder.create<mlir::lf::CurrentChunkOp>(where, maskType);
  case MaskOpKind::SlidingWindow:
    return builder.create<mlir::lf::SlidingWindowOp>(
        where, maskType, optionalInt("frames"), optionalInt("tokens"));
  case MaskOpKind::Radial:
    return builder.create<mlir::lf::RadialOp>(
        where, maskType, intOf("decay_frames"), floatOf("min_density"));
  case MaskOpKind::FrameTopK:
    return builder.create<mlir::lf::FrameTopkOp>(where, maskType, operands,
                                                 intOf("k"), stringOf("score"));
  case MaskOpKind::BlockTopK: {
    const MaskAttr *density = mask.findAttr("density");
    return builder.create<mlir::lf::BlockTopkOp>(
        where, maskType, operands[0], stringOf("budget"),
        density ? f64(density->floatValue) : mlir::FloatAttr(),
        stringOf("score"));
  }
  case MaskOpKind::MassThreshold:
    return builder.create<mlir::lf::MassThresholdOp>(
        where, maskType, operands[0], floatOf("mass"), stringOf("score"));
  case MaskOpKind::Union:
    return builder.create<mlir::lf::UnionOp>(where, maskType, operands);
  case MaskOpKind::Restrict:
    return builder.create<mlir::lf::RestrictOp>(where, maskType, operands[0],
                                                operands[1]);
  }
  return {};
}

} // namespace

mlir::OwningOpRef<mlir::ModuleOp> emitLf(const PolicySpec &spec,
                                         mlir::MLIRContext &context) {
  return Emitter(spec, context).run();
}

} // namespace lfc::frontend
