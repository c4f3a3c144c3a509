/*
 * libfuse operations: each one runs on a libfuse worker thread, packs its arguments into an
 * sf_req on its own stack, hands it to the JS thread and blocks until JS replies. The caller's
 * uid/gid/pid/umask come from fuse_get_context() and travel with every request.
 */
#include <errno.h>
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

#define REQ(code) sf_req r; memset(&r, 0, sizeof r); r.op = (code); r.path = path

static int op_getattr(const char *path, struct stat *st) {
  REQ(OP_GETATTR);
  r.st = st;
  return sf_send(cur(), &r);
}
static int op_fgetattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
  REQ(OP_FGETATTR);
  r.st = st;
  r.fi = fi;
  return sf_send(cur(), &r);
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
static int op_rename(const char *path, const char *to) {
  REQ(OP_RENAME);
  r.path2 = to;
  return sf_send(cur(), &r);
}
static int op_link(const char *path, const char *to) {
  REQ(OP_LINK);
  r.path2 = to;
  return sf_send(cur(), &r);
}
static int op_chmod(const char *path, mode_t mode) {
  REQ(OP_CHMOD);
  r.n[0] = mode;
  return sf_send(cur(), &r);
}
static int op_chown(const char *path, uid_t uid, gid_t gid) {
  REQ(OP_CHOWN);
  r.n[0] = uid == (uid_t)-1 ? -1 : (int64_t)uid;
  r.n[1] = gid == (gid_t)-1 ? -1 : (int64_t)gid;
  return sf_send(cur(), &r);
}
static int op_truncate(const char *path, off_t size) {
  REQ(OP_TRUNCATE);
  r.n[0] = size;
  return sf_send(cur(), &r);
}
static int op_ftruncate(const char *path, off_t size, struct fuse_file_info *fi) {
  REQ(OP_FTRUNCATE);
  r.n[0] = size;
  r.fi = fi;
  return sf_send(cur(), &r);
}
static int op_open(const char *path, struct fuse_file_info *fi) {
  REQ(OP_OPEN);
  r.fi = fi;
  return sf_send(cur(), &r);
}
static int op_create(const char *path, mode_t mode, struct fuse_file_info *fi) {
  REQ(OP_CREATE);
  r.n[0] = mode;
  r.fi = fi;
  return sf_send(cur(), &r);
}
static int op_read(const char *path, char *buf, size_t size, off_t off,
                   struct fuse_file_info *fi) {
  REQ(OP_READ);
  r.buf = buf;
  r.size = size;
  r.n[0] = off;
  r.fi = fi;
  return sf_send(cur(), &r);
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
  REQ(OP_FLUSH);
  r.fi = fi;
  return sf_send(cur(), &r);
}
static int op_release(const char *path, struct fuse_file_info *fi) {
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
static int op_opendir(const char *path, struct fuse_file_info *fi) {
  REQ(OP_OPENDIR);
  r.fi = fi;
  return sf_send(cur(), &r);
}
/* Whole directory in one answer (offset 0 mode): libfuse buffers and pages it. */
static int op_readdir(const char *path, void *dirbuf, fuse_fill_dir_t filler, off_t off,
                      struct fuse_file_info *fi) {
  (void)off;
  REQ(OP_READDIR);
  r.dirbuf = dirbuf;
  r.filler = filler;
  r.fi = fi;
  return sf_send(cur(), &r);
}
static int op_releasedir(const char *path, struct fuse_file_info *fi) {
  REQ(OP_RELEASEDIR);
  r.fi = fi;
  return sf_send(cur(), &r);
}
static int op_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi) {
  REQ(OP_FSYNCDIR);
  r.n[0] = datasync;
  r.fi = fi;
  return sf_send(cur(), &r);
}
static int op_setxattr(const char *path, const char *name, const char *value, size_t size,
                       int flags) {
  REQ(OP_SETXATTR);
  r.path2 = name;
  r.buf = (char *)value;
  r.size = size;
  r.n[0] = flags;
  return sf_send(cur(), &r);
}
static int op_getxattr(const char *path, const char *name, char *value, size_t size) {
  REQ(OP_GETXATTR);
  r.path2 = name;
  r.buf = value;
  r.size = size;
  return sf_send(cur(), &r);
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
static int op_utimens(const char *path, const struct timespec tv[2]) {
  REQ(OP_UTIMENS);
  r.tv[0] = tv[0];
  r.tv[1] = tv[1];
  return sf_send(cur(), &r);
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

/* INIT: fuse_new's user_data (the mount) becomes the private data of every later op. */
static void *op_init(struct fuse_conn_info *conn) {
  sf_mount *m = cur();
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
 * NULL, so libfuse answers ENOSYS or its documented fallback. init/destroy are always set. */
void sf_fill_operations(struct fuse_operations *o, const uint8_t *w) {
  memset(o, 0, sizeof *o);
  o->init = op_init;
  o->destroy = op_destroy;
  o->flag_utime_omit_ok = 1;
  /* handle ops may get a NULL path (a file unlinked while open, with hard_remove) */
  o->flag_nullpath_ok = 1;
#define SET(code, field, fn) if (w[code]) o->field = fn
  SET(OP_GETATTR, getattr, op_getattr);
  SET(OP_FGETATTR, fgetattr, op_fgetattr);
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
  SET(OP_FTRUNCATE, ftruncate, op_ftruncate);
  SET(OP_OPEN, open, op_open);
  SET(OP_CREATE, create, op_create);
  SET(OP_READ, read, op_read);
  SET(OP_WRITE, write, op_write);
  SET(OP_STATFS, statfs, op_statfs);
  SET(OP_FLUSH, flush, op_flush);
  SET(OP_RELEASE, release, op_release);
  SET(OP_FSYNC, fsync, op_fsync);
  SET(OP_OPENDIR, opendir, op_opendir);
  SET(OP_READDIR, readdir, op_readdir);
  SET(OP_RELEASEDIR, releasedir, op_releasedir);
  SET(OP_FSYNCDIR, fsyncdir, op_fsyncdir);
  SET(OP_SETXATTR, setxattr, op_setxattr);
  SET(OP_GETXATTR, getxattr, op_getxattr);
  SET(OP_LISTXATTR, listxattr, op_listxattr);
  SET(OP_REMOVEXATTR, removexattr, op_removexattr);
  SET(OP_ACCESS, access, op_access);
  SET(OP_UTIMENS, utimens, op_utimens);
  SET(OP_FALLOCATE, fallocate, op_fallocate);
#undef SET
}
