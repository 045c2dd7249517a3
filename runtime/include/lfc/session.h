// A session: a compiled plan executed inside an autoregressive video loop, with
// the KV cache the loop needs. The caller's model runs chunk by chunk, pass by
// pass, layer by layer and hands the session each layer's queries and the
// chunk's own keys/values; the session keeps the past frames (a global cache,
// or a rolling window plus sink frames), runs the plan's selection and
// attention over the chunk's logical KV sequence, and commits the chunk's keys
// and values after its cache-refresh pass. Semantics and memory layout:
// docs/session.md. A plain C API over it: lfc/lfc.h.
//
//   lfc::Session s(backend, plan);
//   while (!s.finished()) {
//     for (int pass = 0; pass < s.passes(); ++pass) {
//       s.beginPass(pass);                 // the last pass is the cache
//       refresh for (int layer = 0; layer < s.layers(); ++layer)
//         s.attention(layer, q, k, v, out); // k, v: this chunk's own rows
//     }
//     s.advance();                          // to the next chunk
//   }
#pragma once

#include "lfc/backend.h"
#include "lfc/executor.h"
#include "lfc/plan.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace lfc {

struct SessionOptions {
  int64_t batch = 1;
  /// The CUDA stream (a CUstream) every call of the session is enqueued on;
  /// nullptr: the default stream. The session sets it on the backend at each
  /// call, so sessions with different streams can share a backend (from one
  /// thread at a time). The CPU backend runs synchronously and accepts nullptr
  /// only.
  void *stream = nullptr;
  /// Run the backend's built-in selection and attention with each chunk's
  /// ChunkSelection instead of the kernels the plan lists (Backend::bind's
  /// generic binding): for plans built in memory, without `lfc compile`.
  bool builtinKernels = false;
};

/// Where the KV cache's memory goes (bytes, summed over layers, K and V).
struct CacheMemory {
  /// Frame slots per layer, per K and V: the whole video for a global cache;
  /// for a rolling window, 2 x (sink + window) frames (a mirrored ring, so
  /// every chunk's logical KV sequence is one strided view). keyValueBytes also
  /// counts the rolling window's separate copy of the sink frames.
  int64_t frameSlots = 0;
  bool ring = false;          ///< a rolling window that rolls within the plan
  int64_t keyValueBytes = 0;  ///< K and V storage
  int64_t pooledKeyBytes = 0; ///< pooled-key sums (global caches)
  int64_t keptBlockBytes = 0; ///< kept-block lists
  int64_t total() const {
    return keyValueBytes + pooledKeyBytes + keptBlockBytes;
  }
  /// One line, e.g. "KV cache 5.62 GiB (21 frame slots x 30 layers, K and V,
  /// linear) + pooled keys 12.1 MiB + kept lists 3.4 MiB".
  std::string describe(int layers) const;
};

/// Time spent in the session's calls (CUDA events on the CUDA backend, wall
/// time on the CPU; collected only when enabled with Session::setTiming).
struct SessionTiming {
  double selectMs = 0;    ///< selection (pooling, frame and block top-k)
  double attentionMs = 0; ///< attention kernels
  double cacheMs = 0;     ///< copies into the cache (append, mirror, sink)
  int64_t calls = 0;      ///< attention calls timed
};

/// The time of one attention call (Session::takeCallTimes).
struct CallTime {
  int chunk = 0, pass = 0, layer = 0;
  double cacheMs = 0, selectMs = 0, attentionMs = 0;
};

class Session {
public:
  /// `backend` and `plan` must outlive the session. Allocates the KV cache of
  /// every layer (zeroed) and binds the plan's kernels. Throws lfc::Error.
  Session(Backend &backend, const Plan &plan, SessionOptions options = {});
  ~Session();
  Session(const Session &) = delete;
  Session &operator=(const Session &) = delete;

  const Plan &plan() const { return plan_; }
  Backend &backend() { return backend_; }
  int layers() const { return plan_.geometry.layers; }
  int passes() const { return plan_.geometry.passesPerChunk; }
  int64_t batch() const { return options_.batch; }
  /// The current chunk, 1-based; chunks() + 1 once the last chunk advanced.
  int chunk() const { return chunk_; }
  int chunks() const { return plan_.geometry.chunks; }
  /// The pass begun last (-1 before the chunk's first beginPass).
  int pass() const { return pass_; }
  bool finished() const { return chunk_ > chunks(); }
  /// Query (and the chunk's own key) tokens per call: frames_per_chunk x
  /// tokens_per_frame.
  int64_t chunkTokens() const;
  /// The current chunk's selection (its logical KV sequence's geometry).
  const ChunkSelection &selection() const;

  /// Starts pass `pass` of the current chunk; passes run in order 0, 1, ...,
  /// passes() - 1 and the last one is the cache-refresh pass.
  void beginPass(int pass);
  /// One layer's attention in the current pass. q, out: [batch, chunkTokens,
  /// heads, head_dim]; k, v: the chunk's own keys/values, same shape, in the
  /// backend's memory, any strides (innermost contiguous), the plan's dtype.
  /// k/v are copied into the chunk's slot of the cache unless they already are
  /// that slot (chunkKeys/chunkValues: write the projections there and save
  /// the copy). Attention runs over the logical KV sequence: the visible past
  /// frames, then the chunk's own. In the cache-refresh pass, k/v become the
  /// cache's content for this chunk.
  void attention(int layer, const Tensor4 &q, const Tensor4 &k,
                 const Tensor4 &v, const Tensor4 &out);
  /// Moves to the next chunk; requires the cache-refresh pass to have run for
  /// every layer. With a rolling window this is where the window rolls: no
  /// frame moves, the sink frames are written in front of the new window.
  void advance();

  /// The current chunk's rows in `layer`'s cache: [batch, chunkTokens, heads,
  /// head_dim] views (backend memory).
  Tensor4 chunkKeys(int layer) const;
  Tensor4 chunkValues(int layer) const;
  /// The current chunk's logical KV sequence of `layer` (sink, window or all
  /// past frames, then the chunk): what attention reads.
  Tensor4 keys(int layer) const;
  Tensor4 values(int layer) const;
  /// `layer`'s kept blocks from its last selection (nullptr: none, or the
  /// chunk is dense or static-only on this backend).
  const KeptBlocks *kept(int layer) const;
  /// Whether the current chunk's attention uses kept lists on this backend.
  bool selects() const;

  CacheMemory memory() const;
  /// Starts (on) or stops collecting SessionTiming; on the CUDA backend each
  /// timed call records events, and timing() synchronizes to read them.
  void setTiming(bool on);
  SessionTiming timing();
  /// The calls timed since the last take, in call order (synchronizes).
  std::vector<CallTime> takeCallTimes();
  PlanRunner &runner() { return *runner_; }

private:
  struct Cache;
  struct Timer;
  void checkCall(int layer, const Tensor4 &q, const Tensor4 &k,
                 const Tensor4 &v, const Tensor4 &out) const;
  void commitChunk(int layer);
  /// Throws lfc::Error "<what>: layer L is outside 0..N-1".
  void checkLayer(int layer, const char *what) const;

  Backend &backend_;
  const Plan &plan_;
  SessionOptions options_;
  std::unique_ptr<PlanRunner> runner_;
  std::unique_ptr<Cache> cache_;
  std::unique_ptr<Timer> timer_;
  int chunk_ = 1;
  int pass_ = -1;
  std::vector<int> layerPass_; ///< per layer: the last pass it ran
};

} // namespace lfc
