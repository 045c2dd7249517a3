// Quality of a sparsity policy, measured on attention itself (DESIGN.md
// section 6): captured softmax mass, the attention output under the kept blocks
// vs dense (relative L2 error, cosine similarity), the density of the kept
// list, and the error carried through a rollout; collected per call by a
// QualityAccumulator and written as report.json + SVG pictures + a terminal
// summary. Every definition, the sampling rules and the report schema:
// docs/QUALITY.md (normative).
#pragma once

#include "lfc/backend.h"
#include "lfc/plan.h"
#include "lfc/tensor.h"

#include <cstdint>
#include <iosfwd>
#include <limits>
#include <map>
#include <string>
#include <vector>

namespace lfc::quality {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ---------------------------------------------------------------- sampling

/// Which query rows and heads a metric call evaluates (every batch always is).
/// A full call at the reference shape is ~10^12 multiply-adds, so reports
/// normally evaluate a sample; the report states it (describe()).
struct Sample {
  enum class Rows {
    All,    ///< every query row
    Stride, ///< rows offset, offset + stride, offset + 2*stride, ... < Lq
    Random, ///< `count` distinct rows drawn with `seed` (docs/QUALITY.md)
    List,   ///< exactly the rows in `list`
  };
  Rows rows = Rows::All;
  int64_t stride = 1;
  int64_t offset = 0;
  int64_t count = 0;
  uint64_t seed = 0;
  std::vector<int64_t> list;
  /// Heads evaluated; empty: all heads.
  std::vector<int64_t> heads;

  static Sample all() { return {}; }
  static Sample everyKth(int64_t k, int64_t offset = 0);
  static Sample random(int64_t count, uint64_t seed);
  static Sample rowList(std::vector<int64_t> rows);
  Sample &withHeads(std::vector<int64_t> h) {
    heads = std::move(h);
    return *this;
  }
};

/// The query rows `s` evaluates out of `queryRows`, ascending and distinct.
/// Random: a partial Fisher-Yates shuffle of [0, queryRows) driven by
/// splitmix64(seed), `count` steps, then sorted (all rows when count >=
/// queryRows). Throws lfc::Error on an empty or out-of-range sample.
std::vector<int64_t> sampleRows(const Sample &s, int64_t queryRows);
/// The heads `s` evaluates out of `heads`, ascending and distinct.
std::vector<int64_t> sampleHeads(const Sample &s, int64_t heads);
/// One line naming the sample, e.g. "rows: every 8th from row 0 (585 of 4680);
/// heads: all 12; batches: all 1".
std::string describe(const Sample &s, int64_t batch, int64_t heads,
                     int64_t queryRows);
/// One splitmix64 step (Steele, Lea, Flood 2014): advances `state`, returns
/// the next 64-bit output.
uint64_t splitmix64(uint64_t &state);

// ---------------------------------------------------------------- metrics

/// Sums over the elements of an output comparison (test vs reference); every
/// aggregate (per head, call, chunk, layer, rollout) adds these sums, so the
/// aggregated relative L2 and cosine are those of the concatenated elements.
struct ErrorSums {
  double errSq = 0;  ///< sum (test - ref)^2
  double refSq = 0;  ///< sum ref^2
  double testSq = 0; ///< sum test^2
  double dot = 0;    ///< sum test * ref
  int64_t elements = 0;

  void add(const ErrorSums &o) {
    errSq += o.errSq;
    refSq += o.refSq;
    testSq += o.testSq;
    dot += o.dot;
    elements += o.elements;
  }
  /// sqrt(errSq / refSq); 0 when errSq == 0; +inf when refSq == 0 < errSq; NaN
  /// when there are no elements.
  double relL2() const;
  /// dot / sqrt(testSq * refSq) clamped to [-1, 1]; 1 when both are zero, 0
  /// when exactly one is; NaN when there are no elements.
  double cosine() const;
};

/// Captured-mass statistics over a set of rows.
struct MassStats {
  int64_t rows = 0;
  double mean = kNaN, min = kNaN, p10 = kNaN;
};

/// Nearest-rank percentile: the ceil(p/100 * n)-th smallest value (the minimum
/// for p <= 100/n); NaN when empty.
double percentile(std::vector<double> values, double p);
MassStats massStats(const std::vector<double> &values);

/// Per (batch, head) results of evaluate().
struct HeadMetrics {
  int64_t batch = 0, head = 0;
  MassStats mass;
  ErrorSums error;            ///< sparse (kept blocks) vs dense output
  double density = kNaN;      ///< kept key blocks / key blocks, over all rows
  double tokenDensity = kNaN; ///< kept key tokens / key tokens, over all rows
};

/// Results of one attention call (one chunk, pass, layer).
struct CallMetrics {
  int64_t batch = 0, heads = 0, queryRows = 0, keyRows = 0;
  int64_t sampledRows = 0;  ///< rows evaluated per (batch, head)
  int64_t sampledHeads = 0; ///< heads evaluated per batch
  /// Captured mass per evaluated row, ordered batch, sampled head, row.
  std::vector<double> mass;
  MassStats massStats;
  ErrorSums error;                  ///< over every evaluated (b, h, row, d)
  double density = kNaN;            ///< over ALL (b, h, row): exact, cheap
  double tokenDensity = kNaN;       ///< over ALL (b, h, row)
  std::vector<HeadMetrics> perHead; ///< sampled (b, h), batch-major

  double relL2() const { return error.relL2(); }
  double cosine() const { return error.cosine(); }
};

/// Evaluates one call in double precision on the host, per (batch, head, query
/// row) of `sample`: the captured softmax mass of the kept blocks, the output
/// over the kept blocks vs the dense output, and the kept list's density.
/// q: [B, Lq, H, D], k and v: [B, Lk, H, D] (the logical KV sequence), host
/// memory, bf16/fp16/fp32, any strides (innermost contiguous); `sel` gives
/// Lq, Lk and the block grid (docs/selection-semantics.md). `kept`: host
/// memory, nullptr = dense. `scale`: the softmax scale (> 0). `threads` 0:
/// std::thread::hardware_concurrency(). Deterministic for any thread count.
CallMetrics evaluate(const ChunkSelection &sel, const Tensor4 &q,
                     const Tensor4 &k, const Tensor4 &v, const KeptBlocks *kept,
                     double scale, const Sample &sample = Sample{},
                     unsigned threads = 0);

/// evaluate() for tensors in `backend`'s memory (docs/QUALITY.md, "On the
/// GPU"). CPU backend: exactly evaluate() (host tensors and kept list; nullptr
/// = dense). CUDA backend: q, k, v and `kept` in device memory (bf16/fp16,
/// head_dim 64 or 128); the sampled rows and heads run on the GPU in fp32 and
/// only their results and the kept counts come back. `kept` as the CUDA
/// backend's select writes it, or nullptr: the chunk's static mask when it is
/// neither dense nor without one (a static-only chunk, whose GPU attention has
/// no kept list), else dense — as CudaBackend::attention reads nullptr. Same
/// CallMetrics fields; density exact (the same sums as keptDensity()), mass
/// and error within the documented fp32 tolerance. Throws lfc::Error naming the
/// argument and the expected device/shape, or the kernel on a JIT or launch
/// failure.
CallMetrics evaluate(Backend &backend, const ChunkSelection &sel,
                     const Tensor4 &q, const Tensor4 &k, const Tensor4 &v,
                     const KeptBlocks *kept, float scale,
                     const Sample &sample = Sample{});

/// The density of a kept list alone (no Q/K/V): {blocks, tokens}, mean over
/// every (b, h, query row); {1, 1} for nullptr (dense).
struct Density {
  double blocks = kNaN, tokens = kNaN;
};
Density keptDensity(const ChunkSelection &sel, const KeptBlocks *kept);

/// Two given outputs (e.g. the GPU's sparse output vs the dense reference),
/// compared over the rows and heads of `sample`.
struct OutputComparison {
  int64_t sampledRows = 0, sampledHeads = 0;
  ErrorSums error;
  struct Head {
    int64_t batch = 0, head = 0;
    ErrorSums error;
  };
  std::vector<Head> perHead; ///< sampled (b, h), batch-major
  double relL2() const { return error.relL2(); }
  double cosine() const { return error.cosine(); }
};
/// `test` and `reference`: host tensors of equal shape (dtypes may differ).
OutputComparison compareOutputs(const Tensor4 &test, const Tensor4 &reference,
                                const Sample &sample = Sample{},
                                unsigned threads = 0);
/// Flat arrays of n elements.
ErrorSums compareArrays(const float *test, const float *reference, int64_t n);
ErrorSums compareArrays(const double *test, const double *reference, int64_t n);

// ---------------------------------------------------------------- rollout

/// One attention call of a rollout.
struct Record {
  int chunk = 0; ///< 1-based
  int pass = 0;  ///< 0-based
  int layer = 0; ///< 0-based
  double density = kNaN;
  double tokenDensity = kNaN;
  std::vector<double> mass; ///< captured mass per evaluated row
  ErrorSums error;          ///< evaluate(): kept blocks vs dense, exact
  /// Optional: the backend's output vs its dense output (compareOutputs);
  /// elements == 0: not measured.
  ErrorSums measured;
  double selectionMs = kNaN;      ///< NaN: not timed
  double attentionMs = kNaN;      ///< NaN: not timed
  double denseAttentionMs = kNaN; ///< the dense baseline's attention
  MassStats massStats() const { return quality::massStats(mass); }
};

/// The kept list of one (batch, head) of one call, for the mask heatmap.
struct MaskSnapshot {
  int chunk = 0, pass = 0, layer = 0;
  int64_t batch = 0, head = 0;
  int tokensPerFrame = 0, framesPerChunk = 0, visibleFrames = 0;
  int blockQ = 0, blockK = 0;
  int64_t queryBlocks = 0, keyBlocks = 0;
  std::vector<std::vector<int32_t>> kept; ///< per query block, ascending

  /// Copies the rows of (b, h) from `kept` (host memory; nullptr: dense).
  static MaskSnapshot capture(const ChunkSelection &sel, const KeptBlocks *kept,
                              int64_t b, int64_t h, int chunk, int pass,
                              int layer);
  /// Kept cells / (queryBlocks * keyBlocks).
  double cellDensity() const;
};

/// An aggregate over records (a chunk, a layer, or the whole rollout).
struct Summary {
  int key = -1; ///< the chunk or layer index; -1 for totals
  int64_t records = 0;
  double density = kNaN;      ///< mean over records
  double tokenDensity = kNaN; ///< mean over records
  MassStats mass;             ///< over the union of the records' rows
  ErrorSums error;            ///< sums over the records
  ErrorSums measured;         ///< sums over records that have it
  double selectionMs = kNaN;  ///< sums over timed records; NaN: none timed
  double attentionMs = kNaN;
  double denseAttentionMs = kNaN;
  /// Chunks: that chunk's carried error; totals: the last chunk's (the end of
  /// the rollout); layers: none. elements == 0: none.
  ErrorSums carried;
};

/// Collects records over a rollout, the carried error per chunk and mask
/// snapshots; summarizes per chunk, per layer and in total.
class QualityAccumulator {
public:
  /// Appends a record; the reference stays valid until the next add().
  Record &add(Record r);
  Record &add(int chunk, int pass, int layer, const CallMetrics &m,
              double selectionMs = kNaN, double attentionMs = kNaN,
              double denseAttentionMs = kNaN);
  /// The carried error at the end of `chunk`: the relative L2 (and cosine) of
  /// a final quantity of the sparse rollout vs the dense rollout (e.g. the
  /// last layer's hidden state). Replaces an earlier value for `chunk`.
  void setCarried(int chunk, const ErrorSums &e);
  void carry(int chunk, const Tensor4 &sparse, const Tensor4 &dense,
             unsigned threads = 0);
  void carry(int chunk, const float *sparse, const float *dense, int64_t n);
  void addMask(MaskSnapshot m);

  const std::vector<Record> &records() const { return records_; }
  const std::map<int, ErrorSums> &carried() const { return carried_; }
  const std::vector<MaskSnapshot> &masks() const { return masks_; }

  /// One summary per chunk that has a record or a carried error, ascending.
  std::vector<Summary> chunks() const;
  /// One summary per layer that has a record, ascending.
  std::vector<Summary> layers() const;
  Summary totals() const;

private:
  std::vector<Record> records_;
  std::map<int, ErrorSums> carried_;
  std::vector<MaskSnapshot> masks_;
};

// ---------------------------------------------------------------- report

/// What the report says about the run besides the records.
struct ReportInfo {
  std::string policy;  ///< policy name or file
  std::string plan;    ///< plan name
  std::string backend; ///< Backend::name()
  PlanGeometry geometry;
  int64_t batch = 1;
  Sample sample; ///< the sample every evaluate() call used
  /// Budget density per chunk (index chunk - 1), drawn next to the measured
  /// density; empty: none. budgetDensity(plan) computes it.
  std::vector<double> plannedDensity;
};

/// Per chunk of `plan`: 1 for dense chunks, else min(K, key blocks) / key
/// blocks (the budget; a static mask may keep fewer).
std::vector<double> budgetDensity(const Plan &plan);
/// What a report says about a run of `plan` on `backend` over `sample`: the
/// policy (the plan's source, else its name), the plan, the geometry and the
/// budget density per chunk.
ReportInfo reportInfo(const Plan &plan, const std::string &backend,
                      const Sample &sample, int64_t batch = 1);

/// report.json's text (schema: docs/QUALITY.md).
std::string reportJson(const ReportInfo &info, const QualityAccumulator &acc);
/// The pictures' SVG text.
std::string densitySvg(const ReportInfo &info, const QualityAccumulator &acc);
std::string qualitySvg(const ReportInfo &info, const QualityAccumulator &acc);
std::string carriedSvg(const ReportInfo &info, const QualityAccumulator &acc);
std::string maskHeatmapSvg(const MaskSnapshot &m);
/// "mask_c<chunk>_p<pass>_l<layer>_b<batch>_h<head>.svg".
std::string maskFileName(const MaskSnapshot &m);

/// Creates `dir` and writes report.json, density.svg, quality.svg,
/// carried.svg and one heatmap per mask snapshot; returns the paths written.
/// Throws lfc::Error naming the file on failure.
std::vector<std::string> writeReport(const std::string &dir,
                                     const ReportInfo &info,
                                     const QualityAccumulator &acc);

/// The terminal summary: a per-chunk table and the totals.
void printSummary(std::ostream &os, const ReportInfo &info,
                  const QualityAccumulator &acc);

} // namespace lfc::quality
