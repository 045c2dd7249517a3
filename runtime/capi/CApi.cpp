// The C API (lfc/lfc.h) over lfc::Session, lfc::Plan and lfc::Backend.
//
// Every entry point runs its body inside guarded(): C-layer checks throw
// ApiError with the status they mean, the runtime throws lfc::Error, and
// nothing escapes. An lfc::Error keeps its text; its status comes from the
// call's classifier, which looks at the arguments and the session's state
// (which a rejected call leaves as it was), since the runtime's Error has no
// category: a bad argument, a call out of order, or else a failure of the
// backend itself.
#include "lfc/lfc.h"

#include "lfc/runtime.h"
#include "lfc/session.h"

#include <algorithm>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

struct lfc_backend {
  std::shared_ptr<lfc::Backend> backend;
};

struct lfc_plan {
  std::shared_ptr<const lfc::Plan> plan;
};

struct lfc_session {
  // Declared before the session, so that they outlive it.
  std::shared_ptr<lfc::Backend> backend;
  std::shared_ptr<const lfc::Plan> plan;
  std::unique_ptr<lfc::Session> session;
  /// Per layer, the last pass whose attention succeeded in the current chunk
  /// (-1: none): mirrors the session's own bookkeeping, to tell a call out of
  /// order from another failure.
  std::vector<int> layerPass;
};

namespace {

static_assert(sizeof(lfc_tensor) == 72, "lfc_tensor layout");
static_assert(sizeof(lfc_plan_geometry) == 56, "lfc_plan_geometry layout");
static_assert(sizeof(lfc_plan_chunk) == 64, "lfc_plan_chunk layout");
static_assert(sizeof(lfc_cache_memory) == 48, "lfc_cache_memory layout");
static_assert(sizeof(lfc_timing) == 32, "lfc_timing layout");

thread_local std::string tlsError;
/// Set when the message itself could not be stored.
thread_local const char *tlsFixedError = nullptr;

void setError(const char *message) noexcept {
  try {
    tlsError = message;
    tlsFixedError = nullptr;
  } catch (...) {
    tlsFixedError = "lfc: out of memory while recording an error message";
  }
}

lfc_status fail(lfc_status status, const char *message) noexcept {
  setError(message);
  return status;
}

/// A failure found by the C layer itself.
struct ApiError {
  lfc_status status;
  std::string message;
};

[[noreturn]] void raise(lfc_status status, std::string message) {
  throw ApiError{status, std::move(message)};
}

template <class T>
void needPointer(const T *p, const char *function, const char *name) {
  if (!p)
    raise(LFC_ERROR_INVALID_ARGUMENT,
          std::string(function) + ": " + name + " is null");
}

bool mentionsOutOfMemory(const std::string &m) {
  for (const char *s : {"OUT_OF_MEMORY", "out of memory", "out of host memory",
                        "out of device memory"})
    if (m.find(s) != std::string::npos)
      return true;
  return false;
}

/// Runs `body` (returns lfc_status); maps every exception to a status and the
/// thread's last error. `classify` (returns lfc_status) names the status of an
/// lfc::Error; it runs inside the handler and must not throw.
template <class Body, class Classify>
lfc_status guardedBy(Body &&body, Classify &&classify) noexcept {
  try {
    return body();
  } catch (const ApiError &e) {
    return fail(e.status, e.message.c_str());
  } catch (const lfc::Error &e) {
    lfc_status status = LFC_ERROR_INTERNAL;
    try {
      status =
          mentionsOutOfMemory(e.what()) ? LFC_ERROR_OUT_OF_MEMORY : classify();
    } catch (...) {
    }
    return fail(status, e.what());
  } catch (const std::bad_alloc &) {
    return fail(LFC_ERROR_OUT_OF_MEMORY, "lfc: out of host memory");
  } catch (const std::exception &e) {
    return fail(LFC_ERROR_INTERNAL, e.what());
  } catch (...) {
    return fail(LFC_ERROR_INTERNAL, "lfc: unknown exception");
  }
}

/// guardedBy() where every lfc::Error means `onError`.
template <class Body>
lfc_status guarded(Body &&body, lfc_status onError) noexcept {
  return guardedBy(std::forward<Body>(body), [onError] { return onError; });
}

/// Copies `text` into the caller's buffer (lfc_session_memory_describe's
/// rules).
lfc_status copyText(const std::string &text, char *buf, size_t size,
                    size_t *needed, const char *function) {
  if (!buf && size > 0)
    raise(LFC_ERROR_INVALID_ARGUMENT, std::string(function) +
                                          ": buf is null but size is " +
                                          std::to_string(size));
  if (needed)
    *needed = text.size() + 1;
  if (size == 0)
    return fail(LFC_ERROR_BUFFER_TOO_SMALL,
                (std::string(function) + ": the text needs " +
                 std::to_string(text.size() + 1) + " bytes, got 0")
                    .c_str());
  const size_t n = std::min(text.size(), size - 1);
  std::memcpy(buf, text.data(), n);
  buf[n] = '\0';
  if (n < text.size())
    return fail(LFC_ERROR_BUFFER_TOO_SMALL,
                (std::string(function) + ": the text needs " +
                 std::to_string(text.size() + 1) + " bytes, got " +
                 std::to_string(size))
                    .c_str());
  return LFC_OK;
}

int32_t fromDType(lfc::DType t) {
  switch (t) {
  case lfc::DType::BF16:
    return LFC_DTYPE_BF16;
  case lfc::DType::F16:
    return LFC_DTYPE_F16;
  case lfc::DType::F32:
    return LFC_DTYPE_F32;
  }
  return -1;
}

int32_t fromDevice(lfc::Device d) {
  return d == lfc::Device::Cuda ? LFC_DEVICE_CUDA : LFC_DEVICE_HOST;
}

lfc_tensor fromTensor(const lfc::Tensor4 &t) {
  lfc_tensor c;
  c.data = t.data;
  c.dtype = fromDType(t.dtype);
  c.device = fromDevice(t.device);
  c.batch = t.batch;
  c.tokens = t.tokens;
  c.heads = t.heads;
  c.dim = t.dim;
  c.stride_b = t.strideB;
  c.stride_s = t.strideS;
  c.stride_h = t.strideH;
  return c;
}

lfc::Tensor4 toTensor(const lfc_tensor *t, const char *function,
                      const char *name) {
  needPointer(t, function, name);
  lfc::Tensor4 r;
  switch (t->dtype) {
  case LFC_DTYPE_BF16:
    r.dtype = lfc::DType::BF16;
    break;
  case LFC_DTYPE_F16:
    r.dtype = lfc::DType::F16;
    break;
  case LFC_DTYPE_F32:
    r.dtype = lfc::DType::F32;
    break;
  default:
    raise(LFC_ERROR_INVALID_ARGUMENT,
          std::string(function) + ": " + name + ".dtype: unknown dtype " +
              std::to_string(t->dtype) +
              " (expected LFC_DTYPE_BF16 (0), LFC_DTYPE_F16 (1) or "
              "LFC_DTYPE_F32 (2))");
  }
  switch (t->device) {
  case LFC_DEVICE_HOST:
    r.device = lfc::Device::Host;
    break;
  case LFC_DEVICE_CUDA:
    r.device = lfc::Device::Cuda;
    break;
  default:
    raise(LFC_ERROR_INVALID_ARGUMENT,
          std::string(function) + ": " + name + ".device: unknown device " +
              std::to_string(t->device) +
              " (expected LFC_DEVICE_HOST (0) or LFC_DEVICE_CUDA (1))");
  }
  r.data = t->data;
  r.batch = t->batch;
  r.tokens = t->tokens;
  r.heads = t->heads;
  r.dim = t->dim;
  r.strideB = t->stride_b;
  r.strideS = t->stride_s;
  r.strideH = t->stride_h;
  return r;
}

void checkLayer(const lfc_session *s, int32_t layer, const char *function) {
  if (layer < 0 || layer >= s->session->layers())
    raise(LFC_ERROR_INVALID_ARGUMENT,
          std::string(function) + ": layer " + std::to_string(layer) +
              " is outside 0.." + std::to_string(s->session->layers() - 1));
}

/// One of the session's cache views, by accessor.
lfc_status sessionView(const lfc_session *session, int32_t layer,
                       lfc_tensor *out, const char *function,
                       lfc::Tensor4 (lfc::Session::*view)(int) const) {
  return guarded(
      [&] {
        needPointer(session, function, "session");
        needPointer(out, function, "out");
        checkLayer(session, layer, function);
        *out = fromTensor((session->session.get()->*view)(layer));
        return LFC_OK;
      },
      LFC_ERROR_INTERNAL);
}

} // namespace

extern "C" {

const char *lfc_last_error(void) {
  return tlsFixedError ? tlsFixedError : tlsError.c_str();
}

const char *lfc_status_name(lfc_status status) {
  switch (status) {
  case LFC_OK:
    return "LFC_OK";
  case LFC_ERROR_INVALID_ARGUMENT:
    return "LFC_ERROR_INVALID_ARGUMENT";
  case LFC_ERROR_INVALID_STATE:
    return "LFC_ERROR_INVALID_STATE";
  case LFC_ERROR_PLAN:
    return "LFC_ERROR_PLAN";
  case LFC_ERROR_BACKEND:
    return "LFC_ERROR_BACKEND";
  case LFC_ERROR_OUT_OF_MEMORY:
    return "LFC_ERROR_OUT_OF_MEMORY";
  case LFC_ERROR_BUFFER_TOO_SMALL:
    return "LFC_ERROR_BUFFER_TOO_SMALL";
  case LFC_ERROR_INTERNAL:
    return "LFC_ERROR_INTERNAL";
  }
  return "LFC_ERROR_UNKNOWN";
}

lfc_status lfc_version(int32_t *major, int32_t *minor, int32_t *patch) {
  return guarded(
      [&] {
        needPointer(major, "lfc_version", "major");
        needPointer(minor, "lfc_version", "minor");
        needPointer(patch, "lfc_version", "patch");
        *major = LFC_VERSION_MAJOR;
        *minor = LFC_VERSION_MINOR;
        *patch = LFC_VERSION_PATCH;
        return LFC_OK;
      },
      LFC_ERROR_INTERNAL);
}

lfc_tensor lfc_tensor_bshd(void *data, lfc_dtype dtype, lfc_device device,
                           int64_t b, int64_t s, int64_t h, int64_t d) {
  lfc_tensor t;
  t.data = data;
  t.dtype = dtype;
  t.device = device;
  t.batch = b;
  t.tokens = s;
  t.heads = h;
  t.dim = d;
  t.stride_b = s * h * d;
  t.stride_s = h * d;
  t.stride_h = d;
  return t;
}

lfc_tensor lfc_tensor_bhsd(void *data, lfc_dtype dtype, lfc_device device,
                           int64_t b, int64_t s, int64_t h, int64_t d) {
  lfc_tensor t = lfc_tensor_bshd(data, dtype, device, b, s, h, d);
  t.stride_b = h * s * d;
  t.stride_s = d;
  t.stride_h = s * d;
  return t;
}

// ---- Backends
// ----------------------------------------------------------------

lfc_status lfc_backend_create(const char *kind, lfc_backend **out) {
  return guarded(
      [&] {
        const char *fn = "lfc_backend_create";
        needPointer(kind, fn, "kind");
        needPointer(out, fn, "out");
        const std::string k = kind;
        lfc::BackendKind bk;
        if (k.empty() || k == "auto")
          bk = lfc::BackendKind::Auto;
        else if (k == "cpu")
          bk = lfc::BackendKind::Cpu;
        else if (k == "cuda")
          bk = lfc::BackendKind::Cuda;
        else
          raise(LFC_ERROR_INVALID_ARGUMENT,
                std::string(fn) + ": kind: unknown backend '" + k +
                    "' (expected \"cpu\", \"cuda\" or \"auto\")");
        auto h = std::make_unique<lfc_backend>();
        h->backend = lfc::createBackend(bk);
        *out = h.release();
        return LFC_OK;
      },
      // "auto" reads $LFC_BACKEND, whose value may be wrong; everything else
      // is the backend being unavailable.
      LFC_ERROR_BACKEND);
}

lfc_status lfc_backend_create_cpu(uint32_t threads, lfc_backend **out) {
  return guarded(
      [&] {
        needPointer(out, "lfc_backend_create_cpu", "out");
        auto h = std::make_unique<lfc_backend>();
        h->backend = lfc::createCpuBackend(threads);
        *out = h.release();
        return LFC_OK;
      },
      LFC_ERROR_BACKEND);
}

lfc_status lfc_backend_destroy(lfc_backend *backend) {
  return guarded(
      [&] {
        delete backend;
        return LFC_OK;
      },
      LFC_ERROR_BACKEND);
}

lfc_status lfc_backend_device(const lfc_backend *backend, lfc_device *out) {
  return guarded(
      [&] {
        needPointer(backend, "lfc_backend_device", "backend");
        needPointer(out, "lfc_backend_device", "out");
        *out = lfc_device(fromDevice(backend->backend->device()));
        return LFC_OK;
      },
      LFC_ERROR_BACKEND);
}

lfc_status lfc_backend_name(const lfc_backend *backend, char *buf, size_t size,
                            size_t *needed) {
  return guarded(
      [&] {
        needPointer(backend, "lfc_backend_name", "backend");
        return copyText(backend->backend->name(), buf, size, needed,
                        "lfc_backend_name");
      },
      LFC_ERROR_BACKEND);
}

lfc_status lfc_backend_synchronize(lfc_backend *backend) {
  return guarded(
      [&] {
        needPointer(backend, "lfc_backend_synchronize", "backend");
        backend->backend->synchronize();
        return LFC_OK;
      },
      LFC_ERROR_BACKEND);
}

// ---- Plans
// -------------------------------------------------------------------

lfc_status lfc_plan_load(const char *dir, lfc_plan **out) {
  return guarded(
      [&] {
        needPointer(dir, "lfc_plan_load", "dir");
        needPointer(out, "lfc_plan_load", "out");
        auto h = std::make_unique<lfc_plan>();
        h->plan = std::make_shared<const lfc::Plan>(lfc::loadPlan(dir));
        *out = h.release();
        return LFC_OK;
      },
      LFC_ERROR_PLAN);
}

lfc_status lfc_plan_destroy(lfc_plan *plan) {
  return guarded(
      [&] {
        delete plan;
        return LFC_OK;
      },
      LFC_ERROR_INTERNAL);
}

lfc_status lfc_plan_get_geometry(const lfc_plan *plan, lfc_plan_geometry *out) {
  return guarded(
      [&] {
        needPointer(plan, "lfc_plan_get_geometry", "plan");
        needPointer(out, "lfc_plan_get_geometry", "out");
        const lfc::PlanGeometry &g = plan->plan->geometry;
        lfc_plan_geometry r;
        r.layers = g.layers;
        r.heads = g.heads;
        r.head_dim = g.headDim;
        r.dtype = fromDType(g.dtype);
        r.tokens_per_frame = g.tokensPerFrame;
        r.frames_per_chunk = g.framesPerChunk;
        r.chunks = g.chunks;
        r.passes_per_chunk = g.passesPerChunk;
        r.kv_window_frames = g.kvWindowFrames;
        r.sink_frames = g.sinkFrames;
        r.softmax_scale = double(g.softmaxScale);
        r.chunk_tokens = int64_t(g.framesPerChunk) * g.tokensPerFrame;
        *out = r;
        return LFC_OK;
      },
      LFC_ERROR_INTERNAL);
}

lfc_status lfc_plan_get_chunk(const lfc_plan *plan, int32_t chunk,
                              lfc_plan_chunk *out) {
  return guarded(
      [&] {
        const char *fn = "lfc_plan_get_chunk";
        needPointer(plan, fn, "plan");
        needPointer(out, fn, "out");
        const lfc::Plan &p = *plan->plan;
        if (chunk < 1 || chunk > int32_t(p.chunks.size()))
          raise(LFC_ERROR_INVALID_ARGUMENT,
                std::string(fn) + ": chunk " + std::to_string(chunk) +
                    " is outside 1.." + std::to_string(p.chunks.size()));
        const lfc::PlanChunk &c = p.chunks[size_t(chunk - 1)];
        const lfc::ChunkSelection &s = c.selection;
        lfc_plan_chunk r;
        r.index = c.index;
        r.dense = s.dense;
        r.select_every_pass = c.selectEveryPass;
        r.visible_frames = s.visibleFrames;
        r.sink_frames = s.sinkFrames;
        r.near_frames = s.nearFrames;
        r.frames_top_k = s.framesTopK;
        r.block_q = s.blockQ;
        r.block_k = s.blockK;
        r.kept_key_blocks = s.keptKeyBlocks;
        r.query_tokens = s.queryTokens();
        r.key_tokens = s.keyTokens();
        r.sparsity = c.sparsity;
        *out = r;
        return LFC_OK;
      },
      LFC_ERROR_INTERNAL);
}

// ---- Sessions
// ----------------------------------------------------------------

lfc_status lfc_session_create(lfc_plan *plan, lfc_backend *backend,
                              int64_t batch, void *stream, lfc_session **out) {
  return guardedBy(
      [&] {
        const char *fn = "lfc_session_create";
        needPointer(plan, fn, "plan");
        needPointer(backend, fn, "backend");
        needPointer(out, fn, "out");
        auto h = std::make_unique<lfc_session>();
        h->backend = backend->backend;
        h->plan = plan->plan;
        lfc::SessionOptions options;
        options.batch = batch;
        options.stream = stream;
        h->session =
            std::make_unique<lfc::Session>(*h->backend, *h->plan, options);
        h->layerPass.assign(size_t(h->session->layers()), -1);
        *out = h.release();
        return LFC_OK;
      },
      [&] {
        // The session rejects a batch below 1 and a stream on a backend
        // without streams; a plan whose chunks contradict its geometry; else
        // allocating the cache or binding the kernels failed.
        if (batch < 1 ||
            (stream && backend->backend->device() == lfc::Device::Host))
          return LFC_ERROR_INVALID_ARGUMENT;
        const lfc::Plan &p = *plan->plan;
        if (p.chunks.empty() || int(p.chunks.size()) != p.geometry.chunks)
          return LFC_ERROR_PLAN;
        return LFC_ERROR_BACKEND;
      });
}

lfc_status lfc_session_destroy(lfc_session *session) {
  return guarded(
      [&] {
        delete session;
        return LFC_OK;
      },
      LFC_ERROR_BACKEND);
}

lfc_status lfc_session_begin_pass(lfc_session *session, int32_t pass) {
  return guardedBy(
      [&] {
        needPointer(session, "lfc_session_begin_pass", "session");
        session->session->beginPass(pass);
        return LFC_OK;
      },
      [&] {
        // A pass no chunk has is a bad argument; a real pass at the wrong
        // time (out of order, or after the last chunk) a call out of order.
        const lfc::Session &s = *session->session;
        if ((pass < 0 || pass >= s.passes()) && !s.finished())
          return LFC_ERROR_INVALID_ARGUMENT;
        return LFC_ERROR_INVALID_STATE;
      });
}

lfc_status lfc_session_attention(lfc_session *session, int32_t layer,
                                 const lfc_tensor *q, const lfc_tensor *k,
                                 const lfc_tensor *v, const lfc_tensor *out) {
  lfc::Tensor4 tq, tk, tv, to;
  return guardedBy(
      [&] {
        const char *fn = "lfc_session_attention";
        needPointer(session, fn, "session");
        tq = toTensor(q, fn, "q");
        tk = toTensor(k, fn, "k");
        tv = toTensor(v, fn, "v");
        to = toTensor(out, fn, "out");
        session->session->attention(layer, tq, tk, tv, to);
        session->layerPass[size_t(layer)] = session->session->pass();
        return LFC_OK;
      },
      [&] {
        // The order of lfc::Session's own checks: the session's state, the
        // layer, the layer's pass, the tensors; what passes them all and
        // still fails is the backend.
        lfc::Session &s = *session->session;
        if (s.finished() || s.pass() < 0)
          return LFC_ERROR_INVALID_STATE;
        if (layer < 0 || layer >= s.layers())
          return LFC_ERROR_INVALID_ARGUMENT;
        if (session->layerPass[size_t(layer)] >= s.pass())
          return LFC_ERROR_INVALID_STATE;
        const lfc::PlanGeometry &g = s.plan().geometry;
        for (const lfc::Tensor4 *t : {&tq, &tk, &tv, &to}) {
          try {
            lfc::checkTensor(*t, "", s.batch(), s.chunkTokens(), g.heads,
                             g.headDim, g.dtype, s.backend().device());
          } catch (const lfc::Error &) {
            return LFC_ERROR_INVALID_ARGUMENT;
          }
        }
        return LFC_ERROR_BACKEND;
      });
}

lfc_status lfc_session_advance(lfc_session *session) {
  return guardedBy(
      [&] {
        needPointer(session, "lfc_session_advance", "session");
        session->session->advance();
        std::fill(session->layerPass.begin(), session->layerPass.end(), -1);
        return LFC_OK;
      },
      [&] {
        const lfc::Session &s = *session->session;
        if (s.finished())
          return LFC_ERROR_INVALID_STATE;
        for (int p : session->layerPass)
          if (p != s.passes() - 1)
            return LFC_ERROR_INVALID_STATE;
        return LFC_ERROR_BACKEND;
      });
}

lfc_status lfc_session_chunk(const lfc_session *session, int32_t *out) {
  return guarded(
      [&] {
        needPointer(session, "lfc_session_chunk", "session");
        needPointer(out, "lfc_session_chunk", "out");
        *out = session->session->chunk();
        return LFC_OK;
      },
      LFC_ERROR_INTERNAL);
}

lfc_status lfc_session_pass(const lfc_session *session, int32_t *out) {
  return guarded(
      [&] {
        needPointer(session, "lfc_session_pass", "session");
        needPointer(out, "lfc_session_pass", "out");
        *out = session->session->pass();
        return LFC_OK;
      },
      LFC_ERROR_INTERNAL);
}

lfc_status lfc_session_finished(const lfc_session *session, int32_t *out) {
  return guarded(
      [&] {
        needPointer(session, "lfc_session_finished", "session");
        needPointer(out, "lfc_session_finished", "out");
        *out = session->session->finished() ? 1 : 0;
        return LFC_OK;
      },
      LFC_ERROR_INTERNAL);
}

lfc_status lfc_session_batch(const lfc_session *session, int64_t *out) {
  return guarded(
      [&] {
        needPointer(session, "lfc_session_batch", "session");
        needPointer(out, "lfc_session_batch", "out");
        *out = session->session->batch();
        return LFC_OK;
      },
      LFC_ERROR_INTERNAL);
}

lfc_status lfc_session_chunk_tokens(const lfc_session *session, int64_t *out) {
  return guarded(
      [&] {
        needPointer(session, "lfc_session_chunk_tokens", "session");
        needPointer(out, "lfc_session_chunk_tokens", "out");
        *out = session->session->chunkTokens();
        return LFC_OK;
      },
      LFC_ERROR_INTERNAL);
}

lfc_status lfc_session_chunk_keys(const lfc_session *session, int32_t layer,
                                  lfc_tensor *out) {
  return sessionView(session, layer, out, "lfc_session_chunk_keys",
                     &lfc::Session::chunkKeys);
}

lfc_status lfc_session_chunk_values(const lfc_session *session, int32_t layer,
                                    lfc_tensor *out) {
  return sessionView(session, layer, out, "lfc_session_chunk_values",
                     &lfc::Session::chunkValues);
}

lfc_status lfc_session_keys(const lfc_session *session, int32_t layer,
                            lfc_tensor *out) {
  return sessionView(session, layer, out, "lfc_session_keys",
                     &lfc::Session::keys);
}

lfc_status lfc_session_values(const lfc_session *session, int32_t layer,
                              lfc_tensor *out) {
  return sessionView(session, layer, out, "lfc_session_values",
                     &lfc::Session::values);
}

lfc_status lfc_session_memory(const lfc_session *session,
                              lfc_cache_memory *out) {
  return guarded(
      [&] {
        needPointer(session, "lfc_session_memory", "session");
        needPointer(out, "lfc_session_memory", "out");
        const lfc::CacheMemory m = session->session->memory();
        lfc_cache_memory r;
        r.frame_slots = m.frameSlots;
        r.ring = m.ring ? 1 : 0;
        r.key_value_bytes = m.keyValueBytes;
        r.pooled_key_bytes = m.pooledKeyBytes;
        r.kept_block_bytes = m.keptBlockBytes;
        r.total_bytes = m.total();
        *out = r;
        return LFC_OK;
      },
      LFC_ERROR_INTERNAL);
}

lfc_status lfc_session_memory_describe(const lfc_session *session, char *buf,
                                       size_t size, size_t *needed) {
  return guarded(
      [&] {
        needPointer(session, "lfc_session_memory_describe", "session");
        const lfc::Session &s = *session->session;
        return copyText(s.memory().describe(s.layers()), buf, size, needed,
                        "lfc_session_memory_describe");
      },
      LFC_ERROR_INTERNAL);
}

lfc_status lfc_session_set_timing(lfc_session *session, int32_t on) {
  return guarded(
      [&] {
        needPointer(session, "lfc_session_set_timing", "session");
        session->session->setTiming(on != 0);
        return LFC_OK;
      },
      LFC_ERROR_BACKEND);
}

lfc_status lfc_session_timing(lfc_session *session, lfc_timing *out) {
  return guarded(
      [&] {
        needPointer(session, "lfc_session_timing", "session");
        needPointer(out, "lfc_session_timing", "out");
        const lfc::SessionTiming t = session->session->timing();
        lfc_timing r;
        r.select_ms = t.selectMs;
        r.attention_ms = t.attentionMs;
        r.cache_ms = t.cacheMs;
        r.calls = t.calls;
        *out = r;
        return LFC_OK;
      },
      LFC_ERROR_BACKEND);
}

} // extern "C"
