// PolicySpec: a validated TOML policy as plain C++ values, each tagged with its
// source position.
#ifndef LFC_COMPILER_FRONTEND_POLICYSPEC_H
#define LFC_COMPILER_FRONTEND_POLICYSPEC_H

#include <cstdint>
#include <string>
#include <vector>

namespace lfc::frontend {

/// A position in a policy file. Line and column are 1-based; 0 means "unknown"
/// and is only used for diagnostics that are not about the file's contents
/// (cannot open it).
struct SourceLoc {
  std::string file;
  unsigned line = 0;
  unsigned column = 0;
};

/// A value together with the place in the policy that set it. Values that took
/// their default point at the table that would have held them, so errors still
/// land somewhere the user can see.
template <typename T> struct Located {
  T value{};
  SourceLoc loc;
};

/// One error found in a policy, printed as `FILE:LINE:COL: error: MESSAGE`.
struct Diagnostic {
  SourceLoc loc;
  std::string message;
};

/// Formats a diagnostic the way compilers do (`FILE:LINE:COL: error: MESSAGE`).
std::string formatDiagnostic(const Diagnostic &diag);

struct GeometrySpec {
  SourceLoc loc; // the [geometry] header
  Located<int64_t> layers;
  Located<int64_t> heads;
  Located<int64_t> headDim;
  Located<std::string> dtype; // "bf16" or "f16", the dialect's spellings
  Located<int64_t> tokensPerFrame;
  Located<int64_t> framesPerChunk;
  Located<int64_t> chunks;
  Located<int64_t> passesPerChunk;
  Located<int64_t> kvWindowFrames; // 0 = global cache
  Located<int64_t> sinkFrames;

  /// Frames of the logical KV sequence of chunk `index` (1-based): the whole
  /// past with a global cache, else the sink frames plus the last
  /// `kvWindowFrames` frames.
  int64_t visibleFrames(int64_t index) const;
};

enum class GrowthKind { ChunkAware, Constant, Explicit };

struct GrowthSpec {
  SourceLoc loc; // the [growth] header
  Located<GrowthKind> kind;
  Located<double> target;              // chunk_aware
  Located<double> base;                // chunk_aware
  Located<double> sparsity;            // constant
  std::vector<Located<double>> values; // explicit: one per chunk
};

/// The mask building blocks of the lf dialect (docs/dialect-contract.md), one
/// per op.
enum class MaskOpKind {
  SinkFrames,
  NearFrames,
  CurrentChunk,
  SlidingWindow,
  Radial,
  FrameTopK,
  BlockTopK,
  MassThreshold,
  Union,
  Restrict,
};

/// The TOML spelling of a mask op (`sink_frames`, `block_topk`, ...).
const char *maskOpName(MaskOpKind kind);

/// An attribute of a mask op. Exactly one of the value fields is meaningful, by
/// `type`.
struct MaskAttr {
  enum class Type { Int, Float, String };
  std::string name; // the dialect attribute name, which is also the TOML key
  Type type = Type::Int;
  int64_t intValue = 0;
  double floatValue = 0.0;
  std::string stringValue;
  SourceLoc loc;
};

/// One named mask: an lf mask op with its operands (earlier masks) and
/// attributes.
struct MaskSpec {
  SourceLoc loc; // the entry (its [[select.mask]] header or inline table)
  Located<std::string> name;
  Located<MaskOpKind> kind;
  std::vector<Located<std::string>> operandNames;
  std::vector<size_t>
      operands; // indices into SelectSpec::masks, all smaller than this one's
  std::vector<MaskAttr> attrs;

  const MaskAttr *findAttr(const std::string &attrName) const;
};

struct SelectSpec {
  SourceLoc loc; // the [select] header
  Located<int64_t> blockQ;
  Located<int64_t> blockK;
  Located<std::string> refresh; // "every_pass" or "per_chunk"
  /// Masks in definition order; the shorthand (`frames`/`blocks`) is expanded
  /// into the same list, so the IR emitter sees a single form.
  std::vector<MaskSpec> masks;
  size_t output = 0; // index into masks: the mask the policy yields
};

struct PolicySpec {
  std::string name; // the file's stem, a valid symbol name
  std::string file;
  GeometrySpec geometry;
  bool hasGrowth = false;
  GrowthSpec growth;
  SelectSpec select;
};

} // namespace lfc::frontend

#endif // LFC_COMPILER_FRONTEND_POLICYSPEC_H
