/* The C half of the C API tests (CApiTest.c, C99, lfc/lfc.h only), called
 * from the GoogleTest driver (CApiDriver.cpp), which writes the plan
 * directories and runs the same rollouts through lfc::Session. Each function
 * returns the number of failed checks and prints every failure on stderr. */
#ifndef LFC_TESTS_UNIT_CAPI_CAPITEST_H
#define LFC_TESTS_UNIT_CAPI_CAPITEST_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Deterministic bf16 inputs, shared by the C and the C++ rollouts: `n`
 * values in [-2, 2) from the generator state `state` (xorshift64*). */
void capi_fill_bf16(uint16_t *dst, size_t n, uint64_t *state);

/* What the C rollout does and checks. */
typedef struct capi_rollout_args {
  const char *plan_dir;
  int64_t batch;
  uint64_t seed;
  /* 1: write each layer's k/v into lfc_session_chunk_keys/values and pass
   * those views (no copy); 0: pass separate buffers. */
  int zero_copy;
  /* 0: lfc_backend_create("cpu"); else lfc_backend_create_cpu(threads). */
  uint32_t threads;
  /* Where every attention call's output goes, in loop order (chunk, pass,
   * layer), each [batch, chunk_tokens, heads, head_dim] contiguous bf16. */
  uint16_t *outputs;
  size_t capacity; /* elements */
  size_t written;  /* set: elements written */
} capi_rollout_args;

/* The loop, for each call in order (chunk, pass, layer): q, k, v from
 * capi_fill_bf16 in that order, q laid out BHSD, k, v and out BSHD; the plan
 * and backend handles are released right after the session is created. Checks
 * the session's state, its logical KV sequence (lfc_session_keys/values)
 * against the keys and values the rollout committed, the cache memory and the
 * timing. */
int capi_rollout(capi_rollout_args *args);

/* Version, status names, tensor helpers, backends, plan getters. */
int capi_basics(const char *plan_dir);

/* Error cases on the plan in `plan_dir` (a global cache of 2 layers, 2 heads,
 * head_dim 16, 2 frames x 40 tokens per chunk, 3 passes, 4 chunks). */
int capi_errors(const char *plan_dir);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif
