/* The C API from C: a rollout that checks the session's state and KV cache at
 * every call, the getters, and the error cases. C99, lfc/lfc.h only (compiled
 * with -std=c99 -Wall -Wextra -Werror -pedantic). */
#include "tests/unit/capi/CApiTest.h"

#include "lfc/lfc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

static int check_(int ok, const char *what, const char *file, int line) {
  if (!ok) {
    fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
    ++failures;
  }
  return ok;
}

/* `call` returned `want`, and lfc_last_error() contains `needle` (NULL: any
 * text). */
static int check_status_(lfc_status got, lfc_status want, const char *needle,
                         const char *what, const char *file, int line) {
  if (got != want) {
    fprintf(stderr, "%s:%d: %s returned %s, expected %s (last error: %s)\n",
            file, line, what, lfc_status_name(got), lfc_status_name(want),
            lfc_last_error());
    ++failures;
    return 0;
  }
  if (needle && !strstr(lfc_last_error(), needle)) {
    fprintf(stderr, "%s:%d: %s: last error '%s' does not contain '%s'\n", file,
            line, what, lfc_last_error(), needle);
    ++failures;
    return 0;
  }
  return 1;
}

#define CHECK(cond) check_((cond) ? 1 : 0, #cond, __FILE__, __LINE__)
#define CHECK_OK(call)                                                         \
  check_status_((call), LFC_OK, NULL, #call, __FILE__, __LINE__)
#define CHECK_ERROR(call, status, needle)                                      \
  check_status_((call), (status), (needle), #call, __FILE__, __LINE__)
/* The last error also contains `needle`. */
#define CHECK_MESSAGE(needle)                                                  \
  check_(strstr(lfc_last_error(), (needle)) != NULL,                           \
         "last error contains " #needle, __FILE__, __LINE__)

void capi_fill_bf16(uint16_t *dst, size_t n, uint64_t *state) {
  size_t i;
  for (i = 0; i < n; ++i) {
    uint64_t x = *state;
    uint32_t bits;
    float f;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    x *= UINT64_C(2685821657736338717);
    /* [-2, 2) in steps of 2^-14: exact in fp32, truncated to bf16. */
    f = (float)((int32_t)(x >> 48) - 32768) / 16384.0f;
    memcpy(&bits, &f, sizeof bits);
    dst[i] = (uint16_t)(bits >> 16);
  }
}

/* Element (b, s, h, d) of a bf16 view. */
static uint16_t *at(const lfc_tensor *t, int64_t b, int64_t s, int64_t h,
                    int64_t d) {
  return (uint16_t *)t->data + b * t->stride_b + s * t->stride_s +
         h * t->stride_h + d;
}

/* Which frame of the video logical frame `j` of chunk `chunk`'s KV sequence
 * is: every frame so far while the window has not rolled; once it has, the
 * sink frames, then the last frames. */
static int64_t frame_of(const lfc_plan_geometry *g, const lfc_plan_chunk *c,
                        int64_t j) {
  const int64_t seen = (int64_t)c->index * g->frames_per_chunk;
  if (c->visible_frames == seen || j < g->sink_frames)
    return j;
  return seen - c->visible_frames + j;
}

/* Compares `view` (a logical KV sequence) with the frames it should hold:
 * committed frames from `history` ([frame][B, T, H, D]), the current chunk's
 * from `current` ([B, chunk_tokens, H, D]). Returns the mismatches. */
static int64_t kv_mismatches(const lfc_tensor *view, const lfc_plan_geometry *g,
                             const lfc_plan_chunk *c, int64_t batch,
                             const uint16_t *history, const uint16_t *current) {
  const int64_t T = g->tokens_per_frame, H = g->heads, D = g->head_dim;
  const int64_t F = g->frames_per_chunk, L = g->chunk_tokens;
  const int64_t first_current = (int64_t)c->index * F - F;
  int64_t j, b, t, h, d, bad = 0;
  for (j = 0; j < c->visible_frames; ++j) {
    const int64_t f = frame_of(g, c, j);
    for (b = 0; b < batch; ++b)
      for (t = 0; t < T; ++t)
        for (h = 0; h < H; ++h)
          for (d = 0; d < D; ++d) {
            const uint16_t want =
                f >= first_current
                    ? current[((b * L + (f - first_current) * T + t) * H + h) *
                                  D +
                              d]
                    : history[(((f * batch + b) * T + t) * H + h) * D + d];
            bad += *at(view, b, j * T + t, h, d) != want;
          }
  }
  return bad;
}

/* Copies contiguous BSHD `src` into the view `dst`. */
static void scatter(const lfc_tensor *dst, const uint16_t *src) {
  int64_t b, s, h;
  for (b = 0; b < dst->batch; ++b)
    for (s = 0; s < dst->tokens; ++s)
      for (h = 0; h < dst->heads; ++h)
        memcpy(at(dst, b, s, h, 0),
               src + ((b * dst->tokens + s) * dst->heads + h) * dst->dim,
               (size_t)dst->dim * sizeof *src);
}

static int64_t view_mismatches(const lfc_tensor *view, const uint16_t *src) {
  int64_t b, s, h, bad = 0;
  for (b = 0; b < view->batch; ++b)
    for (s = 0; s < view->tokens; ++s)
      for (h = 0; h < view->heads; ++h)
        bad +=
            memcmp(at(view, b, s, h, 0),
                   src + ((b * view->tokens + s) * view->heads + h) * view->dim,
                   (size_t)view->dim * sizeof *src) != 0;
  return bad;
}

int capi_rollout(capi_rollout_args *a) {
  lfc_plan *plan = NULL;
  lfc_backend *backend = NULL;
  lfc_session *s = NULL;
  lfc_plan_geometry g;
  lfc_plan_chunk *chunks = NULL;
  lfc_cache_memory m;
  lfc_timing timing;
  uint16_t *q = NULL, *k = NULL, *v = NULL, *o = NULL, *hk = NULL, *hv = NULL;
  uint64_t state = a->seed;
  int64_t B = a->batch, L, H, D, T, F, n, frame_elems, slots, max_visible;
  int32_t c, p, l, i32;
  int64_t i64;
  int ring;
  char text[256];

  failures = 0;
  a->written = 0;
  if (!CHECK_OK(lfc_plan_load(a->plan_dir, &plan)))
    return failures;
  if (a->threads == 0)
    CHECK_OK(lfc_backend_create("cpu", &backend));
  else
    CHECK_OK(lfc_backend_create_cpu(a->threads, &backend));
  CHECK_OK(lfc_plan_get_geometry(plan, &g));
  if (!CHECK_OK(lfc_session_create(plan, backend, B, NULL, &s)))
    return failures;
  chunks = malloc((size_t)g.chunks * sizeof *chunks);
  for (c = 1; c <= g.chunks; ++c)
    CHECK_OK(lfc_plan_get_chunk(plan, c, &chunks[c - 1]));
  /* The session holds its own references: release ours now. */
  CHECK_OK(lfc_plan_destroy(plan));
  CHECK_OK(lfc_backend_destroy(backend));
  CHECK_OK(lfc_session_set_timing(s, 1));

  L = g.chunk_tokens;
  H = g.heads;
  D = g.head_dim;
  T = g.tokens_per_frame;
  F = g.frames_per_chunk;
  CHECK(g.dtype == LFC_DTYPE_BF16);
  CHECK_OK(lfc_session_chunk_tokens(s, &i64));
  CHECK(i64 == L);
  CHECK_OK(lfc_session_batch(s, &i64));
  CHECK(i64 == B);

  /* The cache: the whole video for a global cache, a mirrored ring of
   * 2 x (sink + window) frames (plus the sink frames' own copy) when the
   * window rolls within the plan. */
  CHECK_OK(lfc_session_memory(s, &m));
  ring = g.kv_window_frames > 0 &&
         (int64_t)g.chunks * F > (int64_t)g.sink_frames + g.kv_window_frames;
  max_visible = chunks[g.chunks - 1].visible_frames;
  slots =
      ring ? 2 * ((int64_t)g.sink_frames + g.kv_window_frames) : max_visible;
  frame_elems = B * T * H * D;
  CHECK(m.ring == ring);
  CHECK(m.frame_slots == slots);
  CHECK(m.key_value_bytes ==
        2 * (slots + (ring ? g.sink_frames : 0)) * frame_elems * 2 * g.layers);
  CHECK(m.pooled_key_bytes >= 0 && m.kept_block_bytes >= 0);
  CHECK(m.total_bytes ==
        m.key_value_bytes + m.pooled_key_bytes + m.kept_block_bytes);
  CHECK_OK(lfc_session_memory_describe(s, text, sizeof text, NULL));
  CHECK(strstr(text, "KV cache") == text);

  n = B * L * H * D;
  q = malloc((size_t)n * sizeof *q);
  k = malloc((size_t)n * sizeof *k);
  v = malloc((size_t)n * sizeof *v);
  o = malloc((size_t)n * sizeof *o);
  /* Per layer and frame of the video: the keys and values committed. */
  hk = malloc((size_t)(g.layers * g.chunks * F * frame_elems) * sizeof *hk);
  hv = malloc((size_t)(g.layers * g.chunks * F * frame_elems) * sizeof *hv);

  for (c = 1; c <= g.chunks; ++c) {
    const lfc_plan_chunk *ch = &chunks[c - 1];
    CHECK_OK(lfc_session_chunk(s, &i32));
    CHECK(i32 == c);
    CHECK_OK(lfc_session_finished(s, &i32));
    CHECK(i32 == 0);
    for (p = 0; p < g.passes_per_chunk; ++p) {
      CHECK_OK(lfc_session_pass(s, &i32));
      CHECK(i32 == p - 1);
      CHECK_OK(lfc_session_begin_pass(s, p));
      for (l = 0; l < g.layers; ++l) {
        const size_t layer_history = (size_t)(l * g.chunks * F * frame_elems);
        lfc_tensor tq =
            lfc_tensor_bhsd(q, LFC_DTYPE_BF16, LFC_DEVICE_HOST, B, L, H, D);
        lfc_tensor tk =
            lfc_tensor_bshd(k, LFC_DTYPE_BF16, LFC_DEVICE_HOST, B, L, H, D);
        lfc_tensor tv =
            lfc_tensor_bshd(v, LFC_DTYPE_BF16, LFC_DEVICE_HOST, B, L, H, D);
        lfc_tensor to =
            lfc_tensor_bshd(o, LFC_DTYPE_BF16, LFC_DEVICE_HOST, B, L, H, D);
        lfc_tensor ck, cv, keys, values;
        capi_fill_bf16(q, (size_t)n, &state);
        capi_fill_bf16(k, (size_t)n, &state);
        capi_fill_bf16(v, (size_t)n, &state);
        CHECK_OK(lfc_session_chunk_keys(s, l, &ck));
        CHECK_OK(lfc_session_chunk_values(s, l, &cv));
        CHECK(ck.batch == B && ck.tokens == L && ck.heads == H && ck.dim == D &&
              ck.dtype == LFC_DTYPE_BF16 && ck.device == LFC_DEVICE_HOST);
        if (a->zero_copy) {
          /* The projections go straight into the cache. */
          scatter(&ck, k);
          scatter(&cv, v);
          tk = ck;
          tv = cv;
        }
        memset(o, 0, (size_t)n * sizeof *o);
        CHECK_OK(lfc_session_attention(s, l, &tq, &tk, &tv, &to));
        /* The chunk's rows of the cache now hold this call's k and v, and
         * the logical KV sequence is the right frames in order. */
        CHECK(view_mismatches(&ck, k) == 0);
        CHECK(view_mismatches(&cv, v) == 0);
        CHECK_OK(lfc_session_keys(s, l, &keys));
        CHECK_OK(lfc_session_values(s, l, &values));
        CHECK(keys.tokens == ch->key_tokens && values.tokens == ch->key_tokens);
        CHECK(keys.batch == B && keys.heads == H && keys.dim == D);
        CHECK(kv_mismatches(&keys, &g, ch, B, hk + layer_history, k) == 0);
        CHECK(kv_mismatches(&values, &g, ch, B, hv + layer_history, v) == 0);
        if (p == g.passes_per_chunk - 1) {
          /* The cache-refresh pass: these are the chunk's keys and values
           * for every later chunk. */
          int64_t f, b;
          for (f = 0; f < F; ++f)
            for (b = 0; b < B; ++b) {
              const size_t to_at =
                  layer_history +
                  (size_t)((((c - 1) * F + f) * B + b) * T * H * D);
              const size_t from = (size_t)((b * L + f * T) * H * D);
              memcpy(hk + to_at, k + from, (size_t)(T * H * D) * sizeof *k);
              memcpy(hv + to_at, v + from, (size_t)(T * H * D) * sizeof *v);
            }
        }
        if (CHECK(a->written + (size_t)n <= a->capacity)) {
          memcpy(a->outputs + a->written, o, (size_t)n * sizeof *o);
          a->written += (size_t)n;
        }
      }
    }
    CHECK_OK(lfc_session_advance(s));
  }
  CHECK_OK(lfc_session_finished(s, &i32));
  CHECK(i32 == 1);
  CHECK_OK(lfc_session_chunk(s, &i32));
  CHECK(i32 == g.chunks + 1);

  CHECK_OK(lfc_session_timing(s, &timing));
  CHECK(timing.calls == (int64_t)g.chunks * g.passes_per_chunk * g.layers);
  CHECK(timing.attention_ms > 0 && timing.select_ms >= 0 &&
        timing.cache_ms >= 0);

  CHECK_OK(lfc_session_destroy(s));
  free(chunks);
  free(q);
  free(k);
  free(v);
  free(o);
  free(hk);
  free(hv);
  return failures;
}

int capi_basics(const char *plan_dir) {
  static const char *const names[] = {"LFC_OK",
                                      "LFC_ERROR_INVALID_ARGUMENT",
                                      "LFC_ERROR_INVALID_STATE",
                                      "LFC_ERROR_PLAN",
                                      "LFC_ERROR_BACKEND",
                                      "LFC_ERROR_OUT_OF_MEMORY",
                                      "LFC_ERROR_BUFFER_TOO_SMALL",
                                      "LFC_ERROR_INTERNAL"};
  int32_t major = -1, minor = -1, patch = -1;
  lfc_backend *cpu = NULL, *other = NULL;
  lfc_device device = LFC_DEVICE_CUDA;
  lfc_plan *plan = NULL;
  lfc_plan_geometry g;
  lfc_plan_chunk c;
  lfc_tensor t;
  lfc_status st;
  char name[64];
  size_t needed = 0;
  int i;
  uint16_t storage[8];

  failures = 0;
  CHECK(lfc_last_error() != NULL);
  CHECK_OK(lfc_version(&major, &minor, &patch));
  CHECK(major == LFC_VERSION_MAJOR && minor == LFC_VERSION_MINOR &&
        patch == LFC_VERSION_PATCH);
  CHECK_ERROR(lfc_version(&major, NULL, &patch), LFC_ERROR_INVALID_ARGUMENT,
              "lfc_version: minor is null");
  for (i = 0; i < 8; ++i)
    CHECK(strcmp(lfc_status_name((lfc_status)i), names[i]) == 0);
  CHECK(strcmp(lfc_status_name((lfc_status)99), "LFC_ERROR_UNKNOWN") == 0);

  /* Tensor helpers: element strides of BSHD and BHSD. */
  t = lfc_tensor_bshd(storage, LFC_DTYPE_F16, LFC_DEVICE_CUDA, 2, 3, 4, 8);
  CHECK(t.data == (void *)storage && t.dtype == LFC_DTYPE_F16 &&
        t.device == LFC_DEVICE_CUDA);
  CHECK(t.batch == 2 && t.tokens == 3 && t.heads == 4 && t.dim == 8);
  CHECK(t.stride_b == 96 && t.stride_s == 32 && t.stride_h == 8);
  t = lfc_tensor_bhsd(storage, LFC_DTYPE_BF16, LFC_DEVICE_HOST, 2, 3, 4, 8);
  CHECK(t.batch == 2 && t.tokens == 3 && t.heads == 4 && t.dim == 8);
  CHECK(t.stride_b == 96 && t.stride_s == 8 && t.stride_h == 24);

  /* Backends. */
  CHECK_OK(lfc_backend_create("cpu", &cpu));
  CHECK_OK(lfc_backend_device(cpu, &device));
  CHECK(device == LFC_DEVICE_HOST);
  CHECK_OK(lfc_backend_name(cpu, name, sizeof name, &needed));
  CHECK(strncmp(name, "cpu", 3) == 0 && needed == strlen(name) + 1);
  CHECK_OK(lfc_backend_synchronize(cpu));
  CHECK_OK(lfc_backend_destroy(cpu));
  CHECK_OK(lfc_backend_create_cpu(3, &cpu));
  CHECK_OK(lfc_backend_name(cpu, name, sizeof name, NULL));
  CHECK(strstr(name, "3 threads") != NULL);
  /* CUDA: a backend on a GPU machine, else an error saying why not. */
  st = lfc_backend_create("cuda", &other);
  if (st == LFC_OK) {
    CHECK_OK(lfc_backend_device(other, &device));
    CHECK(device == LFC_DEVICE_CUDA);
    CHECK_OK(lfc_backend_destroy(other));
  } else {
    CHECK(st == LFC_ERROR_BACKEND);
    CHECK(other == NULL);
    CHECK_MESSAGE("unavailable");
  }
  CHECK_ERROR(lfc_backend_create("tpu", &other), LFC_ERROR_INVALID_ARGUMENT,
              "lfc_backend_create: kind: unknown backend 'tpu'");
  CHECK(other == NULL);
  CHECK_ERROR(lfc_backend_create(NULL, &other), LFC_ERROR_INVALID_ARGUMENT,
              "lfc_backend_create: kind is null");
  CHECK_ERROR(lfc_backend_create("cpu", NULL), LFC_ERROR_INVALID_ARGUMENT,
              "lfc_backend_create: out is null");
  CHECK_ERROR(lfc_backend_device(NULL, &device), LFC_ERROR_INVALID_ARGUMENT,
              "lfc_backend_device: backend is null");
  CHECK_ERROR(lfc_backend_name(cpu, NULL, 4, NULL), LFC_ERROR_INVALID_ARGUMENT,
              "lfc_backend_name: buf is null");

  /* Plans: the geometry and chunks CApiDriver.cpp wrote. */
  CHECK_ERROR(lfc_plan_load(NULL, &plan), LFC_ERROR_INVALID_ARGUMENT,
              "lfc_plan_load: dir is null");
  CHECK_ERROR(lfc_plan_load("/nonexistent/lfc-capi-plan", &plan),
              LFC_ERROR_PLAN, "/nonexistent/lfc-capi-plan");
  CHECK(plan == NULL);
  if (!CHECK_OK(lfc_plan_load(plan_dir, &plan)))
    return failures;
  CHECK_OK(lfc_plan_get_geometry(plan, &g));
  CHECK(g.layers == 2 && g.heads == 2 && g.head_dim == 16);
  CHECK(g.dtype == LFC_DTYPE_BF16);
  CHECK(g.tokens_per_frame == 40 && g.frames_per_chunk == 2);
  CHECK(g.chunks == 4 && g.passes_per_chunk == 3);
  CHECK(g.kv_window_frames == 0 && g.sink_frames == 1);
  CHECK(g.softmax_scale == 0.25 && g.chunk_tokens == 80);
  CHECK_OK(lfc_plan_get_chunk(plan, 1, &c));
  CHECK(c.index == 1 && c.dense == 1 && c.visible_frames == 2);
  CHECK(c.query_tokens == 80 && c.key_tokens == 80 && c.sparsity == 0);
  CHECK_OK(lfc_plan_get_chunk(plan, 3, &c));
  CHECK(c.index == 3 && c.dense == 0 && c.select_every_pass == 0);
  CHECK(c.visible_frames == 6 && c.key_tokens == 240);
  CHECK(c.block_q == 16 && c.block_k == 16 && c.kept_key_blocks == 5);
  CHECK(c.sink_frames == 1 && c.near_frames == 1 && c.frames_top_k == 3);
  CHECK_OK(lfc_plan_get_chunk(plan, 4, &c));
  CHECK(c.select_every_pass == 1 && c.frames_top_k == 0 &&
        c.kept_key_blocks == 20);
  CHECK_ERROR(lfc_plan_get_chunk(plan, 0, &c), LFC_ERROR_INVALID_ARGUMENT,
              "lfc_plan_get_chunk: chunk 0 is outside 1..4");
  CHECK_ERROR(lfc_plan_get_chunk(plan, 5, &c), LFC_ERROR_INVALID_ARGUMENT,
              "chunk 5 is outside 1..4");
  CHECK_ERROR(lfc_plan_get_geometry(NULL, &g), LFC_ERROR_INVALID_ARGUMENT,
              "lfc_plan_get_geometry: plan is null");
  CHECK_ERROR(lfc_plan_get_geometry(plan, NULL), LFC_ERROR_INVALID_ARGUMENT,
              "lfc_plan_get_geometry: out is null");

  /* Destroying nothing is fine. */
  CHECK_OK(lfc_plan_destroy(NULL));
  CHECK_OK(lfc_backend_destroy(NULL));
  CHECK_OK(lfc_session_destroy(NULL));
  CHECK_OK(lfc_plan_destroy(plan));
  CHECK_OK(lfc_backend_destroy(cpu));
  return failures;
}

/* Runs pass `p` of the current chunk for every layer. */
static void run_pass(lfc_session *s, int32_t p, int32_t layers,
                     const lfc_tensor *q, const lfc_tensor *kv,
                     const lfc_tensor *o) {
  int32_t l;
  CHECK_OK(lfc_session_begin_pass(s, p));
  for (l = 0; l < layers; ++l)
    CHECK_OK(lfc_session_attention(s, l, q, kv, kv, o));
}

int capi_errors(const char *plan_dir) {
  lfc_plan *plan = NULL;
  lfc_backend *cpu = NULL;
  lfc_session *s = NULL;
  lfc_tensor q, k, v, o, bad, view;
  lfc_cache_memory m;
  uint16_t *qb, *kb, *vb, *ob;
  int32_t i32 = -7, c, p;
  int stream_stand_in = 0;
  size_t needed = 0;
  char small[8], *full, saved[512];
  const int64_t n = 80 * 2 * 16;

  failures = 0;
  if (!CHECK_OK(lfc_plan_load(plan_dir, &plan)) ||
      !CHECK_OK(lfc_backend_create_cpu(2, &cpu)))
    return failures;
  qb = calloc((size_t)n, sizeof *qb);
  kb = calloc((size_t)n, sizeof *kb);
  vb = calloc((size_t)n, sizeof *vb);
  ob = calloc((size_t)n, sizeof *ob);
  capi_fill_bf16(qb, (size_t)n, &(uint64_t){1});
  capi_fill_bf16(kb, (size_t)n, &(uint64_t){2});
  capi_fill_bf16(vb, (size_t)n, &(uint64_t){3});
  q = lfc_tensor_bshd(qb, LFC_DTYPE_BF16, LFC_DEVICE_HOST, 1, 80, 2, 16);
  k = lfc_tensor_bshd(kb, LFC_DTYPE_BF16, LFC_DEVICE_HOST, 1, 80, 2, 16);
  v = lfc_tensor_bshd(vb, LFC_DTYPE_BF16, LFC_DEVICE_HOST, 1, 80, 2, 16);
  o = lfc_tensor_bshd(ob, LFC_DTYPE_BF16, LFC_DEVICE_HOST, 1, 80, 2, 16);

  /* Creating a session: null handles and out-pointers, a bad batch, a
   * stream on the CPU. The out-pointer is untouched on failure. */
  CHECK_ERROR(lfc_session_create(NULL, cpu, 1, NULL, &s),
              LFC_ERROR_INVALID_ARGUMENT, "lfc_session_create: plan is null");
  CHECK_ERROR(lfc_session_create(plan, NULL, 1, NULL, &s),
              LFC_ERROR_INVALID_ARGUMENT,
              "lfc_session_create: backend is null");
  CHECK_ERROR(lfc_session_create(plan, cpu, 1, NULL, NULL),
              LFC_ERROR_INVALID_ARGUMENT, "lfc_session_create: out is null");
  CHECK_ERROR(lfc_session_create(plan, cpu, 0, NULL, &s),
              LFC_ERROR_INVALID_ARGUMENT, "batch must be >= 1, got 0");
  CHECK_ERROR(lfc_session_create(plan, cpu, 1, &stream_stand_in, &s),
              LFC_ERROR_INVALID_ARGUMENT, "setStream");
  CHECK(s == NULL);
  if (!CHECK_OK(lfc_session_create(plan, cpu, 1, NULL, &s)))
    return failures;

  /* Null handles and out-pointers name the function and the argument. */
  CHECK_ERROR(lfc_session_attention(NULL, 0, &q, &k, &v, &o),
              LFC_ERROR_INVALID_ARGUMENT,
              "lfc_session_attention: session is null");
  CHECK_ERROR(lfc_session_begin_pass(NULL, 0), LFC_ERROR_INVALID_ARGUMENT,
              "lfc_session_begin_pass: session is null");
  CHECK_ERROR(lfc_session_advance(NULL), LFC_ERROR_INVALID_ARGUMENT,
              "lfc_session_advance: session is null");
  CHECK_ERROR(lfc_session_chunk(NULL, &i32), LFC_ERROR_INVALID_ARGUMENT,
              "lfc_session_chunk: session is null");
  CHECK_ERROR(lfc_session_chunk(s, NULL), LFC_ERROR_INVALID_ARGUMENT,
              "lfc_session_chunk: out is null");
  CHECK_ERROR(lfc_session_pass(s, NULL), LFC_ERROR_INVALID_ARGUMENT,
              "lfc_session_pass: out is null");
  CHECK_ERROR(lfc_session_finished(s, NULL), LFC_ERROR_INVALID_ARGUMENT,
              "lfc_session_finished: out is null");
  CHECK_ERROR(lfc_session_memory(s, NULL), LFC_ERROR_INVALID_ARGUMENT,
              "lfc_session_memory: out is null");
  CHECK_ERROR(lfc_session_timing(s, NULL), LFC_ERROR_INVALID_ARGUMENT,
              "lfc_session_timing: out is null");
  CHECK_ERROR(lfc_session_keys(s, 0, NULL), LFC_ERROR_INVALID_ARGUMENT,
              "lfc_session_keys: out is null");
  CHECK_ERROR(lfc_session_chunk_values(s, 2, &view), LFC_ERROR_INVALID_ARGUMENT,
              "lfc_session_chunk_values: layer 2 is outside 0..1");
  CHECK_ERROR(lfc_session_values(s, -1, &view), LFC_ERROR_INVALID_ARGUMENT,
              "lfc_session_values: layer -1 is outside 0..1");
  CHECK(i32 == -7);

  /* Calls out of order. */
  CHECK_ERROR(lfc_session_attention(s, 0, &q, &k, &v, &o),
              LFC_ERROR_INVALID_STATE, "no pass begun");
  CHECK_ERROR(lfc_session_begin_pass(s, 1), LFC_ERROR_INVALID_STATE,
              "pass 1 of chunk 1 is out of order; the next pass is 0");
  CHECK_ERROR(lfc_session_advance(s), LFC_ERROR_INVALID_STATE,
              "has not run the cache-refresh pass");
  /* A pass the plan does not have is a bad argument. */
  CHECK_ERROR(lfc_session_begin_pass(s, 3), LFC_ERROR_INVALID_ARGUMENT,
              "pass 3");
  CHECK_ERROR(lfc_session_begin_pass(s, -1), LFC_ERROR_INVALID_ARGUMENT,
              "pass -1");
  CHECK_OK(lfc_session_pass(s, &i32));
  CHECK(i32 == -1);
  CHECK_OK(lfc_session_begin_pass(s, 0));

  /* Wrong tensors: the message names the argument and what is expected. */
  bad = q;
  bad.tokens = 79;
  CHECK_ERROR(lfc_session_attention(s, 0, &bad, &k, &v, &o),
              LFC_ERROR_INVALID_ARGUMENT,
              "q: expected shape [batch, tokens, heads, head_dim] = "
              "[1, 80, 2, 16], got [1, 79, 2, 16]");
  CHECK_MESSAGE("Session::attention (chunk 1, pass 0, layer 0)");
  bad = k;
  bad.heads = 1;
  CHECK_ERROR(lfc_session_attention(s, 0, &q, &bad, &v, &o),
              LFC_ERROR_INVALID_ARGUMENT,
              "k: expected shape [batch, tokens, heads, head_dim] = "
              "[1, 80, 2, 16], got [1, 80, 1, 16]");
  bad = v;
  bad.dtype = LFC_DTYPE_F16;
  CHECK_ERROR(lfc_session_attention(s, 0, &q, &k, &bad, &o),
              LFC_ERROR_INVALID_ARGUMENT, "v: expected dtype bf16, got fp16");
  bad = o;
  bad.device = LFC_DEVICE_CUDA;
  CHECK_ERROR(lfc_session_attention(s, 0, &q, &k, &v, &bad),
              LFC_ERROR_INVALID_ARGUMENT,
              "out: expected host memory, got CUDA device memory");
  bad = k;
  bad.stride_s = 33;
  CHECK_ERROR(lfc_session_attention(s, 0, &q, &bad, &v, &o),
              LFC_ERROR_INVALID_ARGUMENT,
              "k: strideS (33 elements) must be a multiple of 8 elements");
  bad = v;
  bad.data = (char *)vb + 2;
  CHECK_ERROR(lfc_session_attention(s, 0, &q, &k, &bad, &o),
              LFC_ERROR_INVALID_ARGUMENT,
              "v: base pointer must be 16-byte aligned");
  bad = q;
  bad.data = NULL;
  CHECK_ERROR(lfc_session_attention(s, 0, &bad, &k, &v, &o),
              LFC_ERROR_INVALID_ARGUMENT, "q: data is null");
  bad = q;
  bad.dtype = 9;
  CHECK_ERROR(lfc_session_attention(s, 0, &bad, &k, &v, &o),
              LFC_ERROR_INVALID_ARGUMENT,
              "lfc_session_attention: q.dtype: unknown dtype 9");
  bad = o;
  bad.device = 5;
  CHECK_ERROR(lfc_session_attention(s, 0, &q, &k, &v, &bad),
              LFC_ERROR_INVALID_ARGUMENT,
              "lfc_session_attention: out.device: unknown device 5");
  CHECK_ERROR(lfc_session_attention(s, 0, NULL, &k, &v, &o),
              LFC_ERROR_INVALID_ARGUMENT, "lfc_session_attention: q is null");
  CHECK_ERROR(lfc_session_attention(s, 0, &q, &k, &v, NULL),
              LFC_ERROR_INVALID_ARGUMENT, "lfc_session_attention: out is null");
  CHECK_ERROR(lfc_session_attention(s, 2, &q, &k, &v, &o),
              LFC_ERROR_INVALID_ARGUMENT, "layer is outside 0..1");
  CHECK_ERROR(lfc_session_attention(s, -1, &q, &k, &v, &o),
              LFC_ERROR_INVALID_ARGUMENT, "layer is outside 0..1");

  /* None of that changed the session: the right call still works, once. */
  CHECK_OK(lfc_session_chunk(s, &i32));
  CHECK(i32 == 1);
  CHECK_OK(lfc_session_pass(s, &i32));
  CHECK(i32 == 0);
  CHECK_OK(lfc_session_attention(s, 0, &q, &k, &v, &o));
  CHECK_ERROR(lfc_session_attention(s, 0, &q, &k, &v, &o),
              LFC_ERROR_INVALID_STATE, "this layer already ran in this pass");
  /* A successful call leaves the last error as it was. */
  strncpy(saved, lfc_last_error(), sizeof saved - 1);
  saved[sizeof saved - 1] = '\0';
  CHECK_OK(lfc_session_attention(s, 1, &q, &k, &v, &o));
  CHECK(strcmp(saved, lfc_last_error()) == 0);

  /* advance before the cache-refresh pass ran for every layer. */
  CHECK_ERROR(lfc_session_advance(s), LFC_ERROR_INVALID_STATE,
              "layer 0 of chunk 1 has not run the cache-refresh pass (pass 2)");
  run_pass(s, 1, 2, &q, &k, &o);
  CHECK_OK(lfc_session_begin_pass(s, 2));
  CHECK_OK(lfc_session_attention(s, 0, &q, &k, &v, &o));
  CHECK_ERROR(lfc_session_advance(s), LFC_ERROR_INVALID_STATE,
              "layer 1 of chunk 1 has not run the cache-refresh pass (pass 2)");
  CHECK_ERROR(lfc_session_begin_pass(s, 3), LFC_ERROR_INVALID_ARGUMENT,
              "the next pass is none (call advance())");
  CHECK_OK(lfc_session_attention(s, 1, &q, &k, &v, &o));
  CHECK_OK(lfc_session_advance(s));
  CHECK_OK(lfc_session_chunk(s, &i32));
  CHECK(i32 == 2);
  CHECK_OK(lfc_session_pass(s, &i32));
  CHECK(i32 == -1);

  /* The rest of the rollout, then every call after the last chunk. */
  for (c = 2; c <= 4; ++c) {
    for (p = 0; p < 3; ++p)
      run_pass(s, p, 2, &q, &k, &o);
    CHECK_OK(lfc_session_advance(s));
  }
  CHECK_OK(lfc_session_finished(s, &i32));
  CHECK(i32 == 1);
  CHECK_ERROR(lfc_session_attention(s, 0, &q, &k, &v, &o),
              LFC_ERROR_INVALID_STATE, "the session has run all 4 chunks");
  CHECK_ERROR(lfc_session_begin_pass(s, 0), LFC_ERROR_INVALID_STATE,
              "the session has run all 4 chunks");
  CHECK_ERROR(lfc_session_begin_pass(s, 9), LFC_ERROR_INVALID_STATE,
              "the session has run all 4 chunks");
  CHECK_ERROR(lfc_session_advance(s), LFC_ERROR_INVALID_STATE,
              "the session has run all 4 chunks");
  /* Views and memory are still there. */
  CHECK_OK(lfc_session_keys(s, 1, &view));
  CHECK(view.tokens == 8 * 40);
  CHECK_OK(lfc_session_memory(s, &m));
  CHECK(m.ring == 0 && m.frame_slots == 8);

  /* String out-parameters: ask for the size, truncate, fit. */
  CHECK_ERROR(lfc_session_memory_describe(s, NULL, 0, &needed),
              LFC_ERROR_BUFFER_TOO_SMALL,
              "lfc_session_memory_describe: the text needs");
  CHECK(needed > sizeof small);
  CHECK_ERROR(lfc_session_memory_describe(s, small, sizeof small, NULL),
              LFC_ERROR_BUFFER_TOO_SMALL, "got 8");
  CHECK(strcmp(small, "KV cach") == 0);
  full = malloc(needed);
  CHECK_OK(lfc_session_memory_describe(s, full, needed, NULL));
  CHECK(strlen(full) + 1 == needed && strncmp(full, "KV cache", 8) == 0);
  free(full);
  CHECK_ERROR(lfc_session_memory_describe(s, NULL, 5, NULL),
              LFC_ERROR_INVALID_ARGUMENT,
              "lfc_session_memory_describe: buf is null but size is 5");

  CHECK_OK(lfc_session_destroy(s));
  CHECK_OK(lfc_plan_destroy(plan));
  CHECK_OK(lfc_backend_destroy(cpu));
  free(qb);
  free(kb);
  free(vb);
  free(ob);
  return failures;
}
