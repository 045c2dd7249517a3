/* lfc.h: the plain C API of the lfc runtime, for C and for other languages
 * (Python ctypes/cffi, Rust bindgen, ...). It wraps lfc::Session
 * (lfc/session.h): load a compiled plan, create a backend, and run the plan's
 * sparse attention inside an autoregressive video loop with its KV cache.
 * Ownership, thread safety, error handling and a complete example:
 * docs/c-api.md.
 *
 * Conventions:
 *  - Every function returns an lfc_status and writes results through
 *    out-pointers, except lfc_last_error, lfc_status_name and the tensor
 *    helpers lfc_tensor_bshd / lfc_tensor_bhsd, which cannot fail.
 *  - On failure the out-pointers are left unchanged (but for the truncated
 *    text and `needed` of LFC_ERROR_BUFFER_TOO_SMALL) and lfc_last_error()
 *    returns a message for the calling thread. A null handle or a null
 *    out-pointer is LFC_ERROR_INVALID_ARGUMENT, with a message naming the
 *    function and the argument.
 *  - No C++ exception ever leaves a function of this header.
 *  - Handles are opaque. lfc_*_destroy(NULL) does nothing and returns LFC_OK.
 *  - Valid C99 and C++; the layout of every struct is fixed (int32_t, int64_t,
 *    double and pointers only), so bindings can mirror it field by field.
 */
#ifndef LFC_LFC_H
#define LFC_LFC_H

#include <stddef.h>
#include <stdint.h>

/* The version of this header; lfc_version() returns the library's (the
 * project version in the top-level CMakeLists.txt). */
#define LFC_VERSION_MAJOR 0
#define LFC_VERSION_MINOR 1
#define LFC_VERSION_PATCH 0

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Status and errors --------------------------------------------------- */

typedef enum lfc_status {
  LFC_OK = 0,
  /* A null handle or pointer, a value out of range, a tensor of the wrong
   * shape, dtype, device or strides. */
  LFC_ERROR_INVALID_ARGUMENT = 1,
  /* A call out of order: attention before begin_pass, advance before the
   * cache-refresh pass ran for every layer, anything after the last chunk. */
  LFC_ERROR_INVALID_STATE = 2,
  /* The plan directory could not be loaded or failed validation. */
  LFC_ERROR_PLAN = 3,
  /* The backend failed or is unavailable: CUDA driver, NVRTC or kernel launch
   * errors. */
  LFC_ERROR_BACKEND = 4,
  /* Host or device memory ran out. */
  LFC_ERROR_OUT_OF_MEMORY = 5,
  /* A caller's string buffer was too small; it holds the truncated text. */
  LFC_ERROR_BUFFER_TOO_SMALL = 6,
  /* Anything else (a bug in lfc). */
  LFC_ERROR_INTERNAL = 7
} lfc_status;

/* The message of the calling thread's last failure: the runtime's error text,
 * which names the argument or kernel and what was expected. "" before any
 * failure; valid until the thread's next failing call. Successful calls leave
 * it unchanged. Never NULL. */
const char *lfc_last_error(void);

/* "LFC_OK", "LFC_ERROR_INVALID_ARGUMENT", ...; "LFC_ERROR_UNKNOWN" for a value
 * that is not a status. Never NULL. */
const char *lfc_status_name(lfc_status status);

/* The library's version. */
lfc_status lfc_version(int32_t *major, int32_t *minor, int32_t *patch);

/* ---- Tensors ------------------------------------------------------------- */

/* Values of lfc_tensor.dtype. */
typedef enum lfc_dtype {
  LFC_DTYPE_BF16 = 0,
  LFC_DTYPE_F16 = 1,
  LFC_DTYPE_F32 = 2
} lfc_dtype;

/* Values of lfc_tensor.device. */
typedef enum lfc_device { LFC_DEVICE_HOST = 0, LFC_DEVICE_CUDA = 1 } lfc_device;

/* A 4-D [batch, tokens, heads, dim] view: a pointer and element strides, no
 * ownership (lfc::Tensor4). The innermost dimension is contiguous (stride 1);
 * the base pointer and the three outer strides must be 16-byte multiples.
 * BSHD and BHSD are both expressible. */
typedef struct lfc_tensor {
  void *data;
  int32_t dtype;  /* an lfc_dtype */
  int32_t device; /* an lfc_device */
  int64_t batch, tokens, heads, dim;
  int64_t stride_b, stride_s, stride_h; /* in elements */
} lfc_tensor;

/* A contiguous [b, s, h, d] view. */
lfc_tensor lfc_tensor_bshd(void *data, lfc_dtype dtype, lfc_device device,
                           int64_t b, int64_t s, int64_t h, int64_t d);
/* A contiguous [b, h, s, d] buffer viewed as [b, s, h, d]. */
lfc_tensor lfc_tensor_bhsd(void *data, lfc_dtype dtype, lfc_device device,
                           int64_t b, int64_t s, int64_t h, int64_t d);

/* ---- Backends ------------------------------------------------------------ */

typedef struct lfc_backend lfc_backend;

/* kind: "cpu" (the CPU reference backend), "cuda" (the CUDA backend, or
 * LFC_ERROR_BACKEND saying why it is unavailable; never a fallback), or "auto"
 * / "" ($LFC_BACKEND if set, else CUDA when available, else CPU). */
lfc_status lfc_backend_create(const char *kind, lfc_backend **out);
/* The CPU reference backend with `threads` worker threads (0: one per
 * hardware thread). Results do not depend on the thread count. */
lfc_status lfc_backend_create_cpu(uint32_t threads, lfc_backend **out);
/* Releases the caller's reference; sessions created on the backend keep it
 * alive until they are destroyed. */
lfc_status lfc_backend_destroy(lfc_backend *backend);
/* Where the backend's tensors live: LFC_DEVICE_HOST (CPU) or LFC_DEVICE_CUDA.
 */
lfc_status lfc_backend_device(const lfc_backend *backend, lfc_device *out);
/* The backend's name ("cpu", "cuda (NVIDIA H200, sm_90a)", ...), copied into
 * `buf` as for lfc_session_memory_describe. */
lfc_status lfc_backend_name(const lfc_backend *backend, char *buf, size_t size,
                            size_t *needed);
/* Waits for all work queued on the backend (no-op on the CPU). */
lfc_status lfc_backend_synchronize(lfc_backend *backend);

/* ---- Plans --------------------------------------------------------------- */

typedef struct lfc_plan lfc_plan;

/* The model and rollout geometry of a plan (plan.toml [geometry]). */
typedef struct lfc_plan_geometry {
  int32_t layers;
  int32_t heads;
  int32_t head_dim;
  int32_t dtype; /* an lfc_dtype: the attention inputs' and output's */
  int32_t tokens_per_frame;
  int32_t frames_per_chunk;
  int32_t chunks;
  int32_t passes_per_chunk;
  int32_t kv_window_frames; /* 0: global cache; else the rolling window */
  int32_t sink_frames;      /* kept when the window rolls */
  double softmax_scale;
  int64_t chunk_tokens; /* frames_per_chunk * tokens_per_frame */
} lfc_plan_geometry;

/* One chunk of a plan (plan.toml [[chunks]]). */
typedef struct lfc_plan_chunk {
  int32_t index;             /* 1-based */
  int32_t dense;             /* 1: every key block kept, no selection */
  int32_t select_every_pass; /* 1: refresh "every_pass"; 0: "per_chunk" */
  int32_t visible_frames;    /* frames of the logical KV sequence */
  int32_t sink_frames;       /* frame classes of the frame stage */
  int32_t near_frames;
  int32_t frames_top_k; /* 0: no frame stage */
  int32_t block_q;
  int32_t block_k;
  int32_t kept_key_blocks; /* the budget per query block */
  int64_t query_tokens;
  int64_t key_tokens; /* visible_frames * tokens_per_frame */
  double sparsity;
} lfc_plan_chunk;

/* Loads and validates `dir`/plan.toml and every file it names
 * (docs/plan-format.md). LFC_ERROR_PLAN names the file and field. */
lfc_status lfc_plan_load(const char *dir, lfc_plan **out);
/* Releases the caller's reference; sessions created from the plan keep it
 * alive until they are destroyed. */
lfc_status lfc_plan_destroy(lfc_plan *plan);
lfc_status lfc_plan_get_geometry(const lfc_plan *plan, lfc_plan_geometry *out);
/* Chunk `chunk`, 1-based, in [1, geometry.chunks]. */
lfc_status lfc_plan_get_chunk(const lfc_plan *plan, int32_t chunk,
                              lfc_plan_chunk *out);

/* ---- Sessions ------------------------------------------------------------ */

typedef struct lfc_session lfc_session;

/* Where the KV cache's memory goes (bytes, summed over layers, K and V). */
typedef struct lfc_cache_memory {
  /* Frame slots per layer, per K and V: the whole video for a global cache;
   * for a rolling window, 2 x (sink + window) frames plus the sink frames. */
  int64_t frame_slots;
  int64_t ring; /* 1: a rolling window that rolls within the plan */
  int64_t key_value_bytes;
  int64_t pooled_key_bytes;
  int64_t kept_block_bytes;
  int64_t total_bytes; /* the sum of the three */
} lfc_cache_memory;

/* Time spent in the session's calls since timing was enabled. */
typedef struct lfc_timing {
  double select_ms;    /* selection (pooling, frame and block top-k) */
  double attention_ms; /* attention kernels */
  double cache_ms;     /* copies into the cache */
  int64_t calls;       /* attention calls timed */
} lfc_timing;

/* A session runs `plan` on `backend` for `batch` (>= 1) sequences, starting
 * at chunk 1. `stream`: the CUstream every call is enqueued on (NULL: the
 * default stream; the CPU backend accepts NULL only). Allocates the KV cache
 * of every layer, zeroed, and binds (on CUDA: JIT-compiles) the plan's
 * kernels. The session holds references to plan and backend. */
lfc_status lfc_session_create(lfc_plan *plan, lfc_backend *backend,
                              int64_t batch, void *stream, lfc_session **out);
lfc_status lfc_session_destroy(lfc_session *session);

/* Starts pass `pass` (0-based) of the current chunk; passes run in order and
 * the last one (passes_per_chunk - 1) is the cache-refresh pass. */
lfc_status lfc_session_begin_pass(lfc_session *session, int32_t pass);
/* One layer's attention in the current pass. q, out: [batch, chunk_tokens,
 * heads, head_dim]; k, v: the chunk's own keys and values, same shape; all in
 * the backend's memory and the plan's dtype, any strides (innermost
 * contiguous). k/v are copied into the chunk's slot of the cache unless they
 * are that slot already (lfc_session_chunk_keys/values). */
lfc_status lfc_session_attention(lfc_session *session, int32_t layer,
                                 const lfc_tensor *q, const lfc_tensor *k,
                                 const lfc_tensor *v, const lfc_tensor *out);
/* Moves to the next chunk; the cache-refresh pass must have run for every
 * layer. */
lfc_status lfc_session_advance(lfc_session *session);

/* The current chunk, 1-based; chunks + 1 once the last chunk advanced. */
lfc_status lfc_session_chunk(const lfc_session *session, int32_t *out);
/* The pass begun last in the current chunk; -1 before its first begin_pass. */
lfc_status lfc_session_pass(const lfc_session *session, int32_t *out);
/* 1 once the last chunk advanced, else 0. */
lfc_status lfc_session_finished(const lfc_session *session, int32_t *out);
lfc_status lfc_session_batch(const lfc_session *session, int64_t *out);
/* Query (and the chunk's own key) tokens per call. */
lfc_status lfc_session_chunk_tokens(const lfc_session *session, int64_t *out);

/* Views into `layer`'s KV cache (backend memory, owned by the session; valid
 * until the session is destroyed, their content changes with every call).
 * chunk_keys/chunk_values: the current chunk's rows, [batch, chunk_tokens,
 * heads, head_dim]; write a layer's projections there and pass the views as
 * k/v to save a copy. keys/values: the current chunk's logical KV sequence
 * (sink, window or all past frames, then the chunk), what attention reads.
 * Once the session finished they show the last chunk's. */
lfc_status lfc_session_chunk_keys(const lfc_session *session, int32_t layer,
                                  lfc_tensor *out);
lfc_status lfc_session_chunk_values(const lfc_session *session, int32_t layer,
                                    lfc_tensor *out);
lfc_status lfc_session_keys(const lfc_session *session, int32_t layer,
                            lfc_tensor *out);
lfc_status lfc_session_values(const lfc_session *session, int32_t layer,
                              lfc_tensor *out);

lfc_status lfc_session_memory(const lfc_session *session,
                              lfc_cache_memory *out);
/* One line describing the cache's memory, e.g. "KV cache 6.03 GiB (21 frame
 * slots x 30 layers, global) + ...". String out-parameters work alike: at most
 * `size` bytes including the terminating NUL are written to `buf` (which may
 * be NULL when size is 0); `needed` (may be NULL) receives the full length
 * plus 1. A text that does not fit is truncated (still NUL-terminated when
 * size > 0) and LFC_ERROR_BUFFER_TOO_SMALL returned. */
lfc_status lfc_session_memory_describe(const lfc_session *session, char *buf,
                                       size_t size, size_t *needed);

/* Starts (on != 0) or stops collecting timing. */
lfc_status lfc_session_set_timing(lfc_session *session, int32_t on);
/* The timing collected so far (synchronizes on the CUDA backend). */
lfc_status lfc_session_timing(lfc_session *session, lfc_timing *out);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* LFC_LFC_H */
