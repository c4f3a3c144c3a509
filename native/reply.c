/*
 * Decoding JS answers into libfuse's memory (and directory listings into sf_dir). Runs on the JS thread while the FUSE thread that
 * owns the memory is blocked waiting, so writing into it here is safe. A malformed answer
 * becomes -EIO, never a crash.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "sfuse.h"

static const double *f64_array(napi_env env, napi_value v, size_t min, size_t *len_out) {
  bool is = false;
  napi_typedarray_type t;
  size_t len;
  void *data;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return NULL;
  if (napi_get_typedarray_info(env, v, &t, &len, &data, NULL, NULL) != napi_ok) return NULL;
  if (t != napi_float64_array || len < min) return NULL;
  if (len_out) *len_out = len;
  return data;
}

static void fill_cstat(sf_cstat *c, const double *d);

/* A getattr answer: the same fields a listing keeps (fill_cstat), as a struct stat. */
static void fill_stat(struct stat *st, const double *d) {
  sf_cstat c;
  fill_cstat(&c, d);
  sf_cstat_to_stat(&c, st);
}

static int decode_statfs(napi_env env, sf_req *r, napi_value payload) {
  const double *d = f64_array(env, payload, SV_FIELDS, NULL);
  if (d == NULL) return -EIO;
  struct statvfs *sv = r->sv;
  memset(sv, 0, sizeof *sv);
  sv->f_bsize = (unsigned long)d[SV_BSIZE];
  sv->f_frsize = (unsigned long)d[SV_FRSIZE];
  sv->f_blocks = (fsblkcnt_t)d[SV_BLOCKS];
  sv->f_bfree = (fsblkcnt_t)d[SV_BFREE];
  sv->f_bavail = (fsblkcnt_t)d[SV_BAVAIL];
  sv->f_files = (fsfilcnt_t)d[SV_FILES];
  sv->f_ffree = (fsfilcnt_t)d[SV_FFREE];
  sv->f_favail = (fsfilcnt_t)d[SV_FAVAIL];
  sv->f_fsid = (unsigned long)d[SV_FSID];
  sv->f_flag = (unsigned long)d[SV_FLAG];
  sv->f_namemax = (unsigned long)d[SV_NAMEMAX];
  return 0;
}

/* Bytes of a Buffer; NULL when `v` is not one. */
static const char *buffer_bytes(napi_env env, napi_value v, size_t *len) {
  bool is = false;
  void *data = NULL;
  if (napi_is_buffer(env, v, &is) != napi_ok || !is) return NULL;
  if (napi_get_buffer_info(env, v, &data, len) != napi_ok) return NULL;
  return data ? data : "";
}

/* Copies a Buffer or string into `dst` (capacity cap) and NUL-terminates; -1 when too long. */
static int copy_name(napi_env env, napi_value v, char *dst, size_t cap) {
  size_t len;
  const char *p = buffer_bytes(env, v, &len);
  if (p != NULL) {
    if (len >= cap || memchr(p, 0, len)) return -1;
    memcpy(dst, p, len);
    dst[len] = 0;
    return 0;
  }
  if (napi_get_value_string_utf8(env, v, dst, cap, &len) != napi_ok || len >= cap - 1) return -1;
  return 0;
}

void sf_dir_clear(sf_dir *d) {
  sf_listing_unref(d->list);
  d->list = NULL;
}

static void fill_cstat(sf_cstat *c, const double *d) {
  c->ino = (uint64_t)d[ST_INO];
  c->mode = (uint32_t)d[ST_MODE];
  c->nlink = (uint32_t)d[ST_NLINK];
  c->uid = (uint32_t)d[ST_UID];
  c->gid = (uint32_t)d[ST_GID];
  c->rdev = (uint64_t)d[ST_RDEV];
  c->size = (uint64_t)d[ST_SIZE];
  c->blocks = (uint64_t)d[ST_BLOCKS];
  c->blksize = (uint32_t)d[ST_BLKSIZE];
  c->atime_s = (int64_t)d[ST_ATIME_S];
  c->atime_ns = (uint32_t)d[ST_ATIME_NS];
  c->mtime_s = (int64_t)d[ST_MTIME_S];
  c->mtime_ns = (uint32_t)d[ST_MTIME_NS];
  c->ctime_s = (int64_t)d[ST_CTIME_S];
  c->ctime_ns = (uint32_t)d[ST_CTIME_NS];
}

/* The names of a readdir answer back to back, each NUL-terminated, with their offsets. */
typedef struct name_run {
  char *bytes;
  size_t len, cap;
  uint32_t *off;
} name_run;

static int collect_names(napi_env env, napi_value names, uint32_t n, name_run *run) {
  char name[1024];
  run->off = malloc(((size_t)n + 1) * sizeof *run->off);
  if (run->off == NULL) return -ENOMEM;
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    if (napi_get_element(env, names, i, &v) != napi_ok) return -EIO;
    if (copy_name(env, v, name, sizeof name) != 0) return -EIO;
    size_t len = strlen(name) + 1;
    if (run->len + len > run->cap) {
      size_t cap = run->cap ? run->cap * 2 : 4096;
      while (cap < run->len + len) cap *= 2;
      char *b = realloc(run->bytes, cap);
      if (b == NULL) return -ENOMEM;
      run->bytes = b;
      run->cap = cap;
    }
    run->off[i] = (uint32_t)run->len;
    memcpy(run->bytes + run->len, name, len);
    run->len += len;
  }
  run->off[n] = (uint32_t)run->len;
  return 0;
}

/* The whole listing, as one sf_listing, into the request's sf_dir; the FUSE thread then feeds
 * libfuse from it (and may keep it in the mount's listing cache). */
static int decode_readdir(napi_env env, sf_req *r, napi_value names, napi_value stats) {
  bool is = false;
  uint32_t n;
  size_t nst = 0;
  if (napi_is_array(env, names, &is) != napi_ok || !is) return -EIO;
  napi_get_array_length(env, names, &n);
  const double *st = f64_array(env, stats, 0, &nst);
  if (st != NULL && nst < (size_t)n * ST_FIELDS) st = NULL;
  name_run run = {0};
  int res = collect_names(env, names, n, &run);
  sf_listing *l = NULL;
  if (res == 0) l = sf_listing_new(n, st != NULL, run.len, r->path ? r->path : "");
  if (res == 0 && l == NULL) res = -ENOMEM;
  if (res == 0) {
    memcpy(l->off, run.off, ((size_t)n + 1) * sizeof *run.off);
    if (run.len) memcpy(l->names, run.bytes, run.len);
    for (uint32_t i = 0; st != NULL && i < n; i++) fill_cstat(&l->st[i], st + (size_t)i * ST_FIELDS);
    sf_dir_clear(r->dir);
    r->dir->list = l;
    if (r->attrs != NULL) sf_attrs_put_listing(r->attrs, r->attr_gen, l);
  }
  free(run.bytes);
  free(run.off);
  return res;
}

/* readlink: NUL-terminated, truncated to the buffer as readlink(2) via FUSE expects. */
static int decode_readlink(napi_env env, sf_req *r, napi_value v) {
  size_t len;
  const char *p = buffer_bytes(env, v, &len);
  char *tmp = NULL;
  if (p == NULL) {
    if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return -EIO;
    tmp = malloc(len + 1);
    napi_get_value_string_utf8(env, v, tmp, len + 1, &len);
    p = tmp;
  }
  if (r->size == 0) return -EIO;
  size_t n = len < r->size - 1 ? len : r->size - 1;
  memcpy(r->buf, p, n);
  r->buf[n] = 0;
  free(tmp);
  return 0;
}

/* getxattr/listxattr: size 0 asks for the length; ERANGE when the buffer is too small. */
static int decode_xattr(napi_env env, sf_req *r, napi_value v) {
  size_t len;
  const char *p = buffer_bytes(env, v, &len);
  if (p == NULL) return -EIO;
  if (len > INT32_MAX) return -E2BIG;
  if (r->size == 0) return (int)len;
  if (len > r->size) return -ERANGE;
  memcpy(r->buf, p, len);
  return (int)len;
}

/* `extra`: the open bits, or (a create's answer) a Float64Array of the bits then the new
 * file's stat, kept for the getattr libfuse makes right after the create (sf_after). */
static int decode_open(napi_env env, sf_req *r, napi_value fh, napi_value extra) {
  double d = 0;
  int32_t bits = 0;
  if (napi_get_value_double(env, fh, &d) == napi_ok && d >= 0) r->fi->fh = (uint64_t)d;
  const double *withStat = f64_array(env, extra, 1 + ST_FIELDS, NULL);
  if (withStat != NULL) {
    bits = (int32_t)withStat[0];
    if (r->op == OP_CREATE && r->st != NULL) {
      fill_stat(r->st, withStat + 1);
      r->stat_given = 1;
    }
  } else if (napi_get_value_int32(env, extra, &bits) != napi_ok) {
    return 0;
  }
  r->fi->direct_io = (bits & OPEN_DIRECT_IO) ? 1 : 0;
  r->fi->keep_cache = (bits & OPEN_KEEP_CACHE) ? 1 : 0;
  r->fi->nonseekable = (bits & OPEN_NONSEEKABLE) ? 1 : 0;
  r->fi->cache_readdir = (bits & OPEN_CACHE_DIR) ? 1 : 0;
  return 0;
}

/* Applies a JS answer to the request; returns the result libfuse gets. */
int sf_decode_reply(napi_env env, sf_req *r, int result, napi_value payload, napi_value extra) {
  if (result < 0) return result;
  switch (r->op) {
    case OP_GETATTR: case OP_FGETATTR: {
      const double *d = f64_array(env, payload, ST_FIELDS, NULL);
      if (d == NULL) return -EIO;
      sf_cstat c;
      fill_cstat(&c, d);
      sf_cstat_to_stat(&c, r->st);
      if (r->attrs != NULL) sf_attrs_put(r->attrs, r->attr_gen, r->path, &c);
      return 0;
    }
    case OP_CHMOD: case OP_CHOWN: case OP_UTIMENS: case OP_TRUNCATE: case OP_FTRUNCATE: {
      /* the attributes after the change, when JS gives them (sf_after in ops.c) */
      const double *d = f64_array(env, payload, ST_FIELDS, NULL);
      if (d == NULL || r->st == NULL) return 0;
      fill_stat(r->st, d);
      r->stat_given = 1;
      return 0;
    }
    case OP_STATFS: return decode_statfs(env, r, payload);
    case OP_READDIR: return decode_readdir(env, r, payload, extra);
    case OP_READLINK: return decode_readlink(env, r, payload);
    case OP_GETXATTR: case OP_LISTXATTR: return decode_xattr(env, r, payload);
    case OP_OPEN: case OP_CREATE: case OP_OPENDIR: return decode_open(env, r, payload, extra);
    case OP_READ: case OP_WRITE: return (size_t)result > r->size ? -EIO : result;
    default: return 0;
  }
}
