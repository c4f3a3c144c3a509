/*
 * Kernel cache invalidation: JS queues paths (invalidate(mount, path)); a thread of the mount's
 * own hands each to fuse_invalidate_path, which drops the kernel's attributes and cached pages
 * of the node libfuse has for that path (nothing when the kernel holds none). It must not run
 * on a libfuse worker or the JS thread: the kernel may wait, for the page locks, on a request
 * only JS can answer. The queue is drained and the thread joined before libfuse is destroyed.
 * A barrier (invalidateBarrier(mount, token)) tells JS, through the mount's threadsafe
 * function, that every path queued before it has been handed to the kernel; JS waits for it
 * before answering a request whose effects the kernel must see at once.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "sfuse.h"

static void *inval_main(void *arg) {
  sf_mount *m = arg;
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, NULL);
  pthread_mutex_lock(&m->inval_lock);
  for (;;) {
    while (m->inval_head == NULL && !m->inval_stop) pthread_cond_wait(&m->inval_cond, &m->inval_lock);
    sf_inval *q = m->inval_head;
    m->inval_head = NULL;
    m->inval_tail = &m->inval_head;
    int stop = m->inval_stop;
    pthread_mutex_unlock(&m->inval_lock);
    while (q != NULL) {
      sf_inval *next = q->next;
      if (q->barrier) {
        sf_req *r = calloc(1, sizeof *r);
        if (r != NULL) {
          r->op = OP_INVALIDATED;
          r->n[0] = (int64_t)q->token;
          if (napi_call_threadsafe_function(m->tsfn, r, napi_tsfn_blocking) != napi_ok) free(r);
        }
      } else if (!stop && fuse_invalidate_path(m->fuse, q->path) == 0) {
        __atomic_add_fetch(&m->invalidated, 1, __ATOMIC_RELAXED);
      }
      free(q);
      q = next;
    }
    pthread_mutex_lock(&m->inval_lock);
    if (stop) break;
  }
  pthread_mutex_unlock(&m->inval_lock);
  return NULL;
}

void sf_inval_start(sf_mount *m) {
  pthread_mutex_init(&m->inval_lock, NULL);
  pthread_cond_init(&m->inval_cond, NULL);
  m->inval_tail = &m->inval_head;
  m->inval_started = pthread_create(&m->inval_thread, NULL, inval_main, m) == 0;
}

/* Called by the loop thread once the loop has ended, before fuse_destroy. */
void sf_inval_stop(sf_mount *m) {
  if (!m->inval_started) return;
  pthread_mutex_lock(&m->inval_lock);
  m->inval_stop = 1;
  pthread_cond_signal(&m->inval_cond);
  pthread_mutex_unlock(&m->inval_lock);
  pthread_join(m->inval_thread, NULL);
  m->inval_started = 0;
}

/* invalidate(mount, path: Buffer | string) -> boolean: queued (false once the loop ended). */
napi_value sf_js_invalidate(napi_env env, napi_callback_info info) {
  size_t argc = 2, len = 0;
  napi_value argv[2], out;
  void *ext = NULL, *data = NULL;
  bool is = false, queued = false;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || napi_get_value_external(env, argv[0], &ext) != napi_ok) {
    napi_throw_type_error(env, NULL, "invalidate(mount, path)");
    return NULL;
  }
  sf_mount *m = ext;
  sf_inval *q = NULL;
  if (napi_is_buffer(env, argv[1], &is) == napi_ok && is) {
    napi_get_buffer_info(env, argv[1], &data, &len);
    q = malloc(sizeof *q + len + 1);
    if (q != NULL && len > 0) memcpy(q->path, data, len);
  } else if (napi_get_value_string_utf8(env, argv[1], NULL, 0, &len) == napi_ok) {
    q = malloc(sizeof *q + len + 1);
    if (q != NULL) napi_get_value_string_utf8(env, argv[1], q->path, len + 1, &len);
  }
  if (q != NULL) {
    q->path[len] = 0;
    q->next = NULL;
    q->barrier = 0;
    pthread_mutex_lock(&m->inval_lock);
    if (m->inval_started && !m->inval_stop && memchr(q->path, 0, len) == NULL) {
      *m->inval_tail = q;
      m->inval_tail = &q->next;
      pthread_cond_signal(&m->inval_cond);
      queued = true;
      q = NULL;
    }
    pthread_mutex_unlock(&m->inval_lock);
    free(q);
  }
  napi_get_boolean(env, queued, &out);
  return out;
}

/* invalidateBarrier(mount, token: number) -> boolean: queued (false once the loop ended). */
napi_value sf_js_invalidate_barrier(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], out;
  void *ext = NULL;
  double token = 0;
  bool queued = false;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || napi_get_value_external(env, argv[0], &ext) != napi_ok ||
      napi_get_value_double(env, argv[1], &token) != napi_ok) {
    napi_throw_type_error(env, NULL, "invalidateBarrier(mount, token)");
    return NULL;
  }
  sf_mount *m = ext;
  sf_inval *q = calloc(1, sizeof *q + 1);
  if (q != NULL) {
    q->barrier = 1;
    q->token = token;
    pthread_mutex_lock(&m->inval_lock);
    if (m->inval_started && !m->inval_stop) {
      *m->inval_tail = q;
      m->inval_tail = &q->next;
      pthread_cond_signal(&m->inval_cond);
      queued = true;
      q = NULL;
    }
    pthread_mutex_unlock(&m->inval_lock);
    free(q);
  }
  napi_get_boolean(env, queued, &out);
  return out;
}
