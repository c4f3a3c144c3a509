/*
 * JS-thread half of a request: register it in the slot table, call the JS dispatcher with
 * (op, id, uid, gid, pid, umask, path, a, b, c, d, e), and finish it when JS replies.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "sfuse.h"

#define ARGC 12

static napi_value num(napi_env env, double v) {
  napi_value out;
  napi_create_double(env, v, &out);
  return out;
}

static napi_value path_value(napi_env env, sf_mount *m, const char *p) {
  napi_value out;
  if (p == NULL) {
    napi_get_null(env, &out);
  } else if (m->path_buffers) {
    napi_create_buffer_copy(env, strlen(p), p, NULL, &out);
  } else {
    napi_create_string_utf8(env, p, NAPI_AUTO_LENGTH, &out);
  }
  return out;
}

static napi_value str_value(napi_env env, const char *p) {
  napi_value out;
  napi_create_string_utf8(env, p ? p : "", NAPI_AUTO_LENGTH, &out);
  return out;
}

static uint32_t slot_add(sf_mount *m, sf_req *r) {
  uint32_t idx;
  if (m->nfree > 0) {
    idx = m->free_idx[--m->nfree];
  } else {
    uint32_t n = m->nslots ? m->nslots * 2 : 64;
    if (n > 65536) return UINT32_MAX;
    m->slots = realloc(m->slots, n * sizeof *m->slots);
    m->free_idx = realloc(m->free_idx, n * sizeof *m->free_idx);
    memset(m->slots + m->nslots, 0, (n - m->nslots) * sizeof *m->slots);
    for (uint32_t i = n; i > m->nslots + 1; i--) m->free_idx[m->nfree++] = i - 1;
    idx = m->nslots;
    m->nslots = n;
  }
  sf_slot *s = &m->slots[idx];
  s->req = r;
  s->view = NULL;
  s->gen = (uint16_t)(s->gen + 1);
  return ((uint32_t)s->gen << 16) | idx;
}

/* The live slot for `id`, or NULL when it was already answered (stale or duplicate reply). */
static sf_slot *slot_get(sf_mount *m, uint32_t id) {
  uint32_t idx = id & 0xffff;
  if (idx >= m->nslots) return NULL;
  sf_slot *s = &m->slots[idx];
  if (s->req == NULL || s->gen != (uint16_t)(id >> 16)) return NULL;
  return s;
}

/* A Buffer over libfuse memory for the request; detached when the request is finished. */
static napi_value view_of(napi_env env, sf_slot *s, char *data, size_t size) {
  napi_value out;
  if (size == 0 || data == NULL) {
    napi_create_buffer(env, 0, NULL, &out);
    return out;
  }
  napi_create_external_buffer(env, size, data, NULL, NULL, &out);
  napi_create_reference(env, out, 1, &s->view);
  return out;
}

static void detach_view(napi_env env, sf_slot *s) {
  if (s->view == NULL) return;
  napi_value buf, ab;
  if (napi_get_reference_value(env, s->view, &buf) == napi_ok && buf != NULL &&
      napi_get_typedarray_info(env, buf, NULL, NULL, NULL, &ab, NULL) == napi_ok) {
    napi_detach_arraybuffer(env, ab);
  }
  napi_delete_reference(env, s->view);
  s->view = NULL;
}

/* Ends request `id` with `result`: drops the views, frees the slot, wakes the FUSE thread. */
void sf_finish(napi_env env, sf_mount *m, uint32_t id, int result) {
  sf_slot *s = slot_get(m, id);
  if (s == NULL) return;
  sf_req *r = s->req;
  detach_view(env, s);
  s->req = NULL;
  m->free_idx[m->nfree++] = id & 0xffff;
  r->result = result;
  sem_post(&r->done);
}

static double fh_of(sf_req *r) { return r->fh; }

/* Fills argv[7..11] (a..e) for op-specific arguments. */
static void op_args(napi_env env, sf_mount *m, sf_slot *s, sf_req *r, napi_value *a) {
  switch (r->op) {
    case OP_INIT:
      for (int i = 0; i < 4; i++) a[i] = num(env, (double)r->n[i]);
      break;
    case OP_FGETATTR: case OP_FLUSH: case OP_READDIR: case OP_RELEASEDIR:
      a[0] = num(env, fh_of(r));
      break;
    case OP_READLINK: case OP_LISTXATTR:
      a[0] = num(env, (double)r->size);
      break;
    case OP_MKNOD: case OP_CHOWN:
      a[0] = num(env, (double)r->n[0]);
      a[1] = num(env, (double)r->n[1]);
      break;
    case OP_MKDIR: case OP_CHMOD: case OP_TRUNCATE: case OP_ACCESS:
      a[0] = num(env, (double)r->n[0]);
      break;
    case OP_SYMLINK: case OP_LINK:
      a[0] = path_value(env, m, r->path2);
      break;
    case OP_RENAME:
      a[0] = path_value(env, m, r->path2);
      a[1] = num(env, (double)r->n[0]);
      break;
    case OP_FTRUNCATE:
      a[0] = num(env, (double)r->n[0]);
      a[1] = num(env, fh_of(r));
      break;
    case OP_OPEN: case OP_OPENDIR:
      a[0] = num(env, r->fi->flags);
      break;
    case OP_CREATE:
      a[0] = num(env, (double)r->n[0]);
      a[1] = num(env, r->fi->flags);
      break;
    case OP_READ: case OP_WRITE:
      a[0] = num(env, fh_of(r));
      a[1] = view_of(env, s, r->buf, r->size);
      a[2] = num(env, (double)r->n[0]);
      break;
    case OP_RELEASE:
      a[0] = num(env, fh_of(r));
      a[1] = num(env, r->fi->flags);
      break;
    case OP_FSYNC: case OP_FSYNCDIR:
      a[0] = num(env, (double)r->n[0]);
      a[1] = num(env, fh_of(r));
      break;
    case OP_SETXATTR:
      a[0] = str_value(env, r->path2);
      a[1] = view_of(env, s, r->buf, r->size);
      a[2] = num(env, (double)r->n[0]);
      break;
    case OP_GETXATTR:
      a[0] = str_value(env, r->path2);
      a[1] = num(env, (double)r->size);
      break;
    case OP_REMOVEXATTR:
      a[0] = str_value(env, r->path2);
      break;
    case OP_UTIMENS:
      a[0] = num(env, (double)r->tv[0].tv_sec);
      a[1] = num(env, (double)r->tv[0].tv_nsec);
      a[2] = num(env, (double)r->tv[1].tv_sec);
      a[3] = num(env, (double)r->tv[1].tv_nsec);
      break;
    case OP_FALLOCATE:
      a[0] = num(env, (double)r->n[0]);
      a[1] = num(env, (double)r->n[1]);
      a[2] = num(env, (double)r->n[2]);
      a[3] = num(env, fh_of(r));
      break;
    default:
      break;
  }
}

static void call_exit(napi_env env, napi_value cb, sf_mount *m) {
  napi_value argv[2], undef, exc;
  napi_get_undefined(env, &undef);
  argv[0] = num(env, OP_EXIT);
  argv[1] = num(env, m->loop_result);
  if (napi_call_function(env, undef, cb, 2, argv, NULL) != napi_ok)
    napi_get_and_clear_last_exception(env, &exc);
}

/* threadsafe-function callback: runs on the JS thread for each queued request. */
void sf_call_js(napi_env env, napi_value cb, void *ctx, void *data) {
  sf_mount *m = ctx;
  sf_req *r = data;
  if (r->op == OP_INVALIDATED) { /* heap-allocated by the invalidation thread */
    napi_value argv[2], undef, exc;
    if (env != NULL && cb != NULL) {
      napi_get_undefined(env, &undef);
      argv[0] = num(env, OP_INVALIDATED);
      argv[1] = num(env, (double)r->n[0]);
      if (napi_call_function(env, undef, cb, 2, argv, NULL) != napi_ok)
        napi_get_and_clear_last_exception(env, &exc);
    }
    free(r);
    return;
  }
  if (env == NULL || cb == NULL) { /* environment shutting down: never leave a thread waiting */
    if (r->op != OP_EXIT) {
      r->result = -EIO;
      sem_post(&r->done);
    }
    return;
  }
  if (r->op == OP_EXIT) return call_exit(env, cb, m);
  uint32_t id = slot_add(m, r);
  if (id == UINT32_MAX) {
    r->result = -EIO;
    sem_post(&r->done);
    return;
  }
  napi_value argv[ARGC], undef, exc;
  napi_get_undefined(env, &undef);
  for (int i = 0; i < ARGC; i++) argv[i] = undef;
  argv[0] = num(env, r->op);
  argv[1] = num(env, id);
  argv[2] = num(env, r->uid);
  argv[3] = num(env, r->gid);
  argv[4] = num(env, r->pid);
  argv[5] = num(env, r->umask);
  if (r->op != OP_INIT && r->op != OP_DESTROY) argv[6] = path_value(env, m, r->path);
  op_args(env, m, slot_get(m, id), r, argv + 7);
  if (napi_call_function(env, undef, cb, ARGC, argv, NULL) != napi_ok) {
    napi_get_and_clear_last_exception(env, &exc);
    sf_finish(env, m, id, -EIO); /* no-op when JS already replied */
  }
}

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

/* reply(mount, id, result, payload?, extra?): answers a request; true when it was live. */
napi_value sf_js_reply(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5], out;
  void *ext;
  uint32_t id;
  int32_t result;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3 || napi_get_value_external(env, argv[0], &ext) != napi_ok ||
      napi_get_value_uint32(env, argv[1], &id) != napi_ok ||
      napi_get_value_int32(env, argv[2], &result) != napi_ok)
    return throw_type(env, "reply(mount, id, result, payload?, extra?)");
  sf_mount *m = ext;
  sf_slot *s = slot_get(m, id);
  if (s == NULL) {
    napi_get_boolean(env, false, &out);
    return out;
  }
  napi_value undef;
  napi_get_undefined(env, &undef);
  result = sf_decode_reply(env, s->req, result, argc > 3 ? argv[3] : undef,
                           argc > 4 ? argv[4] : undef);
  sf_finish(env, m, id, result);
  napi_get_boolean(env, true, &out);
  return out;
}
