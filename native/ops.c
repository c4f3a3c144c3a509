/*
 * libfuse operations: each one runs on a libfuse worker thread, packs its arguments into an
 * sf_req on its own stack, hands it to the JS thread and blocks until JS replies. The caller's
 * uid/gid/pid/umask come from fuse_get_context() and travel with every request.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include "sfuse.h"

static int sf_send(sf_mount *m, sf_req *r) {
  struct fuse_context *fc = fuse_get_context();
  if (fc) {
    r->uid = fc->uid;
    r->gid = fc->gid;
    r->pid = fc->pid;
    r->umask = fc->umask;
  }
  if (r->fi != NULL) r->fh = (double)r->fi->fh;
  r->result = -EIO;
  sem_init(&r->done, 0, 0);
  if (napi_call_threadsafe_function(m->tsfn, r, napi_tsfn_blocking) != napi_ok) {
    sem_destroy(&r->done);
    return -EIO;
  }
  while (sem_wait(&r->done) != 0 && errno == EINTR) {
  }
  sem_destroy(&r->done);
  return r->result;
}

static sf_mount *cur(void) { return (sf_mount *)fuse_get_context()->private_data; }

/* The attributes a change (chmod, chown, utimens, truncate, create) answered with, kept on this
 * thread for the getattr libfuse makes right after it within the same request (SETATTR, or
 * CREATE's lookup of the new name), with the very same path pointer: that getattr is answered
 * here instead of by a second trip to JS. Every
 * request's first step (REQ) clears it; a change sets it only when it succeeded, and a
 * SETATTR whose later step fails makes no getattr, so nothing outlives its request. */
static __thread struct {
  const char *path;
  struct stat st;
  int valid;
} sf_after;

#define REQ(code) \
  sf_req r; memset(&r, 0, sizeof r); r.op = (code); r.path = path; sf_after.valid = 0

/* Sends a change that may answer the attributes after it (sf_after). */
static int sf_send_change(sf_mount *m, sf_req *r) {
  struct stat st;
  r->st = &st;
  int res = sf_send(m, r);
  if (res == 0 && r->stat_given && r->path != NULL) {
    sf_after.st = st;
    sf_after.path = r->path;
    sf_after.valid = 1;
  }
  return res;
}

static int opened_here(sf_mount *m, struct fuse_file_info *fi);
/* getattr with a handle (fstat) goes to JS's fgetattr when it has one, like libfuse 2 did.
 * With the attribute cache, a path's kept attributes answer here (attrcache.c) unless the
 * file is open through a handle of JS's (its writes may be changing them). */
static int op_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
  if (sf_after.valid && path != NULL && sf_after.path == path) {
    *st = sf_after.st;
    sf_after.valid = 0;
    return 0;
  }
  sf_mount *m = cur();
  int by_fh = fi != NULL && m->wanted[OP_FGETATTR];
  if (!by_fh && path == NULL) return -ENOENT;
  int cached = m->cfg.attr_cache && path != NULL && (fi == NULL || opened_here(m, fi));
  uint64_t gen = cached ? sf_attrs_gen(&m->attrs) : 0;
  if (cached && sf_attrs_get(&m->attrs, path, st) == 0) return 0;
  REQ(by_fh ? OP_FGETATTR : OP_GETATTR);
  r.st = st;
  r.fi = by_fh ? fi : NULL;
  if (cached) {
    r.attrs = &m->attrs;
    r.attr_gen = gen;
  }
  return sf_send(m, &r);
}
static int op_readlink(const char *path, char *buf, size_t size) {
  REQ(OP_READLINK);
  r.buf = buf;
  r.size = size;
  return sf_send(cur(), &r);
}
static int op_mknod(const char *path, mode_t mode, dev_t rdev) {
  REQ(OP_MKNOD);
  r.n[0] = mode;
  r.n[1] = (int64_t)rdev;
  return sf_send(cur(), &r);
}
static int op_mkdir(const char *path, mode_t mode) {
  REQ(OP_MKDIR);
  r.n[0] = mode;
  return sf_send(cur(), &r);
}
static int op_unlink(const char *path) {
  REQ(OP_UNLINK);
  return sf_send(cur(), &r);
}
static int op_rmdir(const char *path) {
  REQ(OP_RMDIR);
  return sf_send(cur(), &r);
}
/* libfuse: symlink(target, linkpath); JS gets (linkpath, target) */
static int op_symlink(const char *target, const char *path) {
  REQ(OP_SYMLINK);
  r.path2 = target;
  return sf_send(cur(), &r);
}
/* flags: RENAME_NOREPLACE / RENAME_EXCHANGE / RENAME_WHITEOUT, JS decides */
static int op_rename(const char *path, const char *to, unsigned int flags) {
  REQ(OP_RENAME);
  r.path2 = to;
  r.n[0] = flags;
  return sf_send(cur(), &r);
}
static int op_link(const char *path, const char *to) {
  REQ(OP_LINK);
  r.path2 = to;
  return sf_send(cur(), &r);
}
static int op_chmod(const char *path, mode_t mode, struct fuse_file_info *fi) {
  REQ(OP_CHMOD);
  r.n[0] = mode;
  return sf_send_change(cur(), &r);
}
static int op_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi) {
  REQ(OP_CHOWN);
  r.n[0] = uid == (uid_t)-1 ? -1 : (int64_t)uid;
  r.n[1] = gid == (gid_t)-1 ? -1 : (int64_t)gid;
  return sf_send_change(cur(), &r);
}
/* truncate with a handle (ftruncate, O_TRUNC) goes to JS's ftruncate when it has one. */
static int op_truncate(const char *path, off_t size, struct fuse_file_info *fi) {
  sf_mount *m = cur();
  int by_fh = fi != NULL && m->wanted[OP_FTRUNCATE];
  if (!by_fh && path == NULL) return -ENOENT;
  REQ(by_fh ? OP_FTRUNCATE : OP_TRUNCATE);
  r.n[0] = size;
  r.fi = by_fh ? fi : NULL;
  return sf_send_change(m, &r);
}
/* Handle 0 is never one of JS's: it marks an open for reading the binding answered itself. */
static int opened_here(sf_mount *m, struct fuse_file_info *fi) {
  return m->cfg.open_rdonly && fi->fh == 0;
}
static int op_open(const char *path, struct fuse_file_info *fi) {
  sf_mount *m = cur();
  if (m->cfg.open_rdonly && (fi->flags & O_ACCMODE) == O_RDONLY && !(fi->flags & O_TRUNC)) {
    fi->fh = 0;
    return 0;
  }
  REQ(OP_OPEN);
  r.fi = fi;
  return sf_send(cur(), &r);
}
static int op_create(const char *path, mode_t mode, struct fuse_file_info *fi) {
  REQ(OP_CREATE);
  r.n[0] = mode;
  r.fi = fi;
  return sf_send_change(cur(), &r);
}
/* A preloaded file (preload.c) is answered here; the rest go to JS. */
static int op_read(const char *path, char *buf, size_t size, off_t off,
                   struct fuse_file_info *fi) {
  sf_mount *m = cur();
  int n = sf_preload_read(&m->pre, path, buf, size, off);
  if (n >= 0) return n;
  REQ(OP_READ);
  r.buf = buf;
  r.size = size;
  r.n[0] = off;
  r.fi = fi;
  return sf_send(m, &r);
}
static int op_write(const char *path, const char *buf, size_t size, off_t off,
                    struct fuse_file_info *fi) {
  REQ(OP_WRITE);
  r.buf = (char *)buf;
  r.size = size;
  r.n[0] = off;
  r.fi = fi;
  return sf_send(cur(), &r);
}
static int op_statfs(const char *path, struct statvfs *sv) {
  REQ(OP_STATFS);
  r.sv = sv;
  return sf_send(cur(), &r);
}
static int op_flush(const char *path, struct fuse_file_info *fi) {
  if (opened_here(cur(), fi)) return 0;
  REQ(OP_FLUSH);
  r.fi = fi;
  return sf_send(cur(), &r);
}
static int op_release(const char *path, struct fuse_file_info *fi) {
  if (opened_here(cur(), fi)) return 0;
  REQ(OP_RELEASE);
  r.fi = fi;
  return sf_send(cur(), &r);
}
static int op_fsync(const char *path, int datasync, struct fuse_file_info *fi) {
  REQ(OP_FSYNC);
  r.n[0] = datasync;
  r.fi = fi;
  return sf_send(cur(), &r);
}
static sf_dir *dir_of(struct fuse_file_info *fi) { return (sf_dir *)(uintptr_t)fi->fh; }

/* JS's handle goes into an sf_dir of ours; fi->fh is that sf_dir from here on. Without a JS
 * opendir the directory opens here, with no trip to the JS thread. */
static int op_opendir(const char *path, struct fuse_file_info *fi) {
  sf_mount *m = cur();
  sf_dir *d = calloc(1, sizeof *d);
  if (d == NULL) return -ENOMEM;
  int res = 0;
  if (m->wanted[OP_OPENDIR]) {
    REQ(OP_OPENDIR);
    r.fi = fi;
    res = sf_send(m, &r);
  }
  if (res < 0) {
    free(d);
    return res;
  }
  d->fh = m->wanted[OP_OPENDIR] ? (double)fi->fh : 0;
  fi->fh = (uint64_t)(uintptr_t)d;
  if (m->cfg.cache_readdir) {
    fi->keep_cache = 1;
    fi->cache_readdir = 1;
  }
  sf_dircache_pass(fi); /* libfuse < 3.16 would drop them (dircache.c) */
  return res;
}
/* Offset 0 (open, rewinddir) fetches the listing from JS; every call then feeds libfuse from
 * `off` in offset mode until its buffer is full. With FUSE_READDIR_PLUS and stats from JS the
 * entries carry their attributes (readdirplus), so the kernel needs no lookup per entry. With
 * the listing cache on (the tree cannot change), a listing kept for the path is served
 * instead of asking JS, a listing JS gives is kept, and a rewind reuses the handle's own. */
static int op_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off,
                      struct fuse_file_info *fi, enum fuse_readdir_flags flags) {
  sf_mount *m = cur();
  sf_dir *d = dir_of(fi);
  int caching = path != NULL && __atomic_load_n(&m->listings.budget, __ATOMIC_ACQUIRE) > 0;
  if (d->list == NULL || (off == 0 && !caching)) {
    sf_listing *kept = caching ? sf_lc_get(&m->listings, path) : NULL;
    if (kept != NULL) {
      sf_dir_clear(d);
      d->list = kept;
    } else {
      REQ(OP_READDIR);
      r.fh = d->fh;
      r.dir = d;
      if (m->cfg.attr_cache && path != NULL) {
        r.attrs = &m->attrs;
        r.attr_gen = sf_attrs_gen(&m->attrs);
      }
      int res = sf_send(m, &r);
      if (res < 0) return res;
      if (d->list == NULL) return -EIO;
      if (caching) sf_lc_put(&m->listings, d->list);
    }
    sf_dircache_fetched(d);
  }
  const sf_listing *l = d->list;
  int plus = (flags & FUSE_READDIR_PLUS) && l->st != NULL;
  struct stat st;
  for (uint32_t i = (uint32_t)off; i < l->n; i++) {
    if (l->st != NULL) sf_cstat_to_stat(&l->st[i], &st);
    if (filler(buf, l->names + l->off[i], l->st != NULL ? &st : NULL, (off_t)i + 1,
               plus ? FUSE_FILL_DIR_PLUS : 0) != 0)
      break;
  }
  return 0;
}
static int op_releasedir(const char *path, struct fuse_file_info *fi) {
  sf_mount *m = cur();
  sf_dir *d = dir_of(fi);
  int res = 0;
  if (m->wanted[OP_RELEASEDIR]) {
    REQ(OP_RELEASEDIR);
    r.fh = d->fh;
    res = sf_send(m, &r);
  }
  sf_dir_clear(d);
  free(d);
  return res;
}
static int op_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi) {
  REQ(OP_FSYNCDIR);
  r.n[0] = datasync;
  r.fh = dir_of(fi)->fh;
  return sf_send(cur(), &r);
}
static int op_setxattr(const char *path, const char *name, const char *value, size_t size,
                       int flags) {
  if (cur()->cfg.no_posix_acl && strncmp(name, "system.posix_acl_", 17) == 0) return -EOPNOTSUPP;
  REQ(OP_SETXATTR);
  r.path2 = name;
  r.buf = (char *)value;
  r.size = size;
  r.n[0] = flags;
  return sf_send(cur(), &r);
}
/* Names JS may declare absent from every file (setAbsentXattrs): asked for often, rarely set. */
static const char *const sf_absent_names[] = {
    "security.capability", "security.selinux", "system.posix_acl_access",
    "system.posix_acl_default"};
#define SF_ABSENT_COUNT (sizeof sf_absent_names / sizeof sf_absent_names[0])

static int op_getxattr(const char *path, const char *name, char *value, size_t size) {
  sf_mount *m = cur();
  unsigned absent = m->absent;
  for (unsigned i = 0; absent != 0 && i < SF_ABSENT_COUNT; i++) {
    if ((absent & (1u << i)) && strcmp(name, sf_absent_names[i]) == 0) return -ENODATA;
  }
  REQ(OP_GETXATTR);
  r.path2 = name;
  r.buf = value;
  r.size = size;
  return sf_send(m, &r);
}

/* setAbsentXattrs(mount, names[]): the xattrs no file holds (of sf_absent_names; others are
 * ignored), answered ENODATA without JS from now on; JS calls it again, without a name, before
 * it stores an xattr of that name. */
napi_value sf_js_set_absent_xattrs(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  void *ext = NULL;
  uint32_t n = 0;
  bool is_array = false;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || napi_get_value_external(env, argv[0], &ext) != napi_ok ||
      napi_is_array(env, argv[1], &is_array) != napi_ok || !is_array) {
    napi_throw_type_error(env, NULL, "setAbsentXattrs(mount, names)");
    return NULL;
  }
  napi_get_array_length(env, argv[1], &n);
  unsigned mask = 0;
  for (uint32_t j = 0; j < n; j++) {
    napi_value v;
    char name[64];
    size_t len = 0;
    if (napi_get_element(env, argv[1], j, &v) != napi_ok ||
        napi_get_value_string_utf8(env, v, name, sizeof name, &len) != napi_ok) {
      continue;
    }
    for (unsigned i = 0; i < SF_ABSENT_COUNT; i++) {
      if (strcmp(name, sf_absent_names[i]) == 0) mask |= 1u << i;
    }
  }
  ((sf_mount *)ext)->absent = mask;
  __sync_synchronize();
  return NULL;
}
static int op_listxattr(const char *path, char *list, size_t size) {
  REQ(OP_LISTXATTR);
  r.buf = list;
  r.size = size;
  return sf_send(cur(), &r);
}
static int op_removexattr(const char *path, const char *name) {
  REQ(OP_REMOVEXATTR);
  r.path2 = name;
  return sf_send(cur(), &r);
}
static int op_access(const char *path, int mask) {
  REQ(OP_ACCESS);
  r.n[0] = mask;
  return sf_send(cur(), &r);
}
static int op_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi) {
  REQ(OP_UTIMENS);
  r.tv[0] = tv[0];
  r.tv[1] = tv[1];
  return sf_send_change(cur(), &r);
}
static int op_fallocate(const char *path, int mode, off_t off, off_t len,
                        struct fuse_file_info *fi) {
  REQ(OP_FALLOCATE);
  r.n[0] = mode;
  r.n[1] = off;
  r.n[2] = len;
  r.fi = fi;
  return sf_send(cur(), &r);
}

/* INIT: fuse_new's user_data (the mount) becomes the private data of every later op. The
 * settings libfuse 3 keeps in fuse_config and the connection options are applied here. */
static void *op_init(struct fuse_conn_info *conn, struct fuse_config *cfg) {
  sf_mount *m = cur();
  cfg->use_ino = m->cfg.use_ino;
  cfg->direct_io = m->cfg.direct_io;
  cfg->hard_remove = m->cfg.hard_remove;
  cfg->nullpath_ok = 0; /* handle ops get the path; NULL only when libfuse has none left */
  if (m->conn_opts != NULL) fuse_apply_conn_info_opts(m->conn_opts, conn);
  if (m->cfg.max_read > 0) conn->max_read = m->cfg.max_read;
  /* writes arrive in libfuse's own buffer (a view for JS), not through a pipe and a copy */
  conn->want &= ~(unsigned)FUSE_CAP_SPLICE_READ;
  sf_dircache_init(m, conn); /* directories opened by the kernel itself, where it can */
  sf_req r;
  memset(&r, 0, sizeof r);
  r.op = OP_INIT;
  r.n[0] = conn->proto_major;
  r.n[1] = conn->proto_minor;
  r.n[2] = conn->max_write;
  r.n[3] = conn->max_readahead;
  sf_send(m, &r);
  return m;
}
static void op_destroy(void *pd) {
  sf_req r;
  memset(&r, 0, sizeof r);
  r.op = OP_DESTROY;
  sf_send((sf_mount *)pd, &r);
}

/* Fills `ops` with the trampolines of the ops JS implements (wanted[op] != 0); the rest stay
 * NULL, so libfuse answers ENOSYS or its documented fallback. init/destroy are always set;
 * fgetattr/ftruncate are getattr/truncate with a handle in libfuse 3. */
void sf_fill_operations(struct fuse_operations *o, const uint8_t *w) {
  memset(o, 0, sizeof *o);
  o->init = op_init;
  o->destroy = op_destroy;
#define SET(code, field, fn) if (w[code]) o->field = fn
  SET(OP_GETATTR, getattr, op_getattr);
  SET(OP_READLINK, readlink, op_readlink);
  SET(OP_MKNOD, mknod, op_mknod);
  SET(OP_MKDIR, mkdir, op_mkdir);
  SET(OP_UNLINK, unlink, op_unlink);
  SET(OP_RMDIR, rmdir, op_rmdir);
  SET(OP_SYMLINK, symlink, op_symlink);
  SET(OP_RENAME, rename, op_rename);
  SET(OP_LINK, link, op_link);
  SET(OP_CHMOD, chmod, op_chmod);
  SET(OP_CHOWN, chown, op_chown);
  SET(OP_TRUNCATE, truncate, op_truncate);
  if (w[OP_FTRUNCATE]) o->truncate = op_truncate;
  SET(OP_OPEN, open, op_open);
  SET(OP_CREATE, create, op_create);
  SET(OP_READ, read, op_read);
  SET(OP_WRITE, write, op_write);
  SET(OP_STATFS, statfs, op_statfs);
  SET(OP_FLUSH, flush, op_flush);
  SET(OP_RELEASE, release, op_release);
  SET(OP_FSYNC, fsync, op_fsync);
  SET(OP_READDIR, readdir, op_readdir);
  if (w[OP_READDIR]) { /* our sf_dir lives from opendir to releasedir */
    o->opendir = op_opendir;
    o->releasedir = op_releasedir;
  }
  if (w[OP_READDIR]) SET(OP_FSYNCDIR, fsyncdir, op_fsyncdir);
  SET(OP_SETXATTR, setxattr, op_setxattr);
  SET(OP_GETXATTR, getxattr, op_getxattr);
  SET(OP_LISTXATTR, listxattr, op_listxattr);
  SET(OP_REMOVEXATTR, removexattr, op_removexattr);
  SET(OP_ACCESS, access, op_access);
  SET(OP_UTIMENS, utimens, op_utimens);
  SET(OP_FALLOCATE, fallocate, op_fallocate);
#undef SET
}
