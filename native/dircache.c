/*
 * The kernel's directory caches under libfuse's high-level API, by wrapping a few of the
 * session's low-level directory ops. Two things libfuse does not do for a path file system:
 * 1. Before 3.16, its opendir answers the kernel with the low-level file info it was handed,
 *    not the one our opendir filled, so the `keep_cache` and `cache_readdir` bits never reach
 *    the kernel (3.16 passes them on). The wrapper notes that file info for its thread while
 *    libfuse's opendir runs; sf_dircache_pass (op_opendir, same thread) copies the bits there.
 * 2. On a mount whose tree cannot change and whose directories need no JS to open (read-only,
 *    cache_readdir, no JS opendir) and a kernel that offers FUSE_CAP_NO_OPENDIR_SUPPORT, the
 *    first OPENDIR is answered ENOSYS: the kernel then opens every directory itself, with
 *    keep_cache and cache_readdir, and sends no OPENDIR or RELEASEDIR again. A READDIR then
 *    comes with no handle (fh 0), which libfuse's readdir cannot serve: the wrapper makes a
 *    directory handle for that one request and frees it after (op_readdir finds the listing
 *    by path). FSYNCDIR and directory ioctls with no handle get one whose handle is 0.
 * Both need libfuse's private structures: the session (to reach its op table) and the
 * directory handle. Their layouts are written below for 3.10 to 3.15; the wrappers go in only
 * on those versions, and only when the fields in front of the op table hold what the public
 * API says they hold (fuse_session_fd, the mountpoint). Otherwise nothing changes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <fuse_lowlevel.h>
#include "sfuse.h"

/* The start of struct fuse_session in libfuse 3.13-3.15 (3.10-3.12: without `io`). */
typedef struct {
  char *mountpoint;
  volatile int exited;
  int fd;
  void *io;
  void *mo;
  int debug;
  int deny_others;
  struct fuse_lowlevel_ops op;
} session_313;
typedef struct {
  char *mountpoint;
  volatile int exited;
  int fd;
  void *mo;
  int debug;
  int deny_others;
  struct fuse_lowlevel_ops op;
} session_310;

/* libfuse's struct fuse_dh (lib/fuse.c), the same from 3.10 to 3.17. */
typedef struct {
  pthread_mutex_t lock;
  struct fuse *fuse;
  fuse_req_t req;
  char *contents;
  void *first;
  void **last;
  unsigned len;
  unsigned size;
  unsigned needlen;
  int filled;
  uint64_t fh;
  int error;
  fuse_ino_t nodeid;
} lib_dh;

typedef void (*opendir_fn)(fuse_req_t, fuse_ino_t, struct fuse_file_info *);
typedef void (*readdir_fn)(fuse_req_t, fuse_ino_t, size_t, off_t, struct fuse_file_info *);
typedef void (*fsyncdir_fn)(fuse_req_t, fuse_ino_t, int, struct fuse_file_info *);
typedef void (*ioctl_fn)(fuse_req_t, fuse_ino_t, unsigned int, void *, struct fuse_file_info *,
                         unsigned, const void *, size_t, size_t);

/* libfuse's own low-level ops (one library per process: every session has the same); the
 * lock also guards the tables below. */
static struct {
  opendir_fn opendir;
  readdir_fn readdir, readdirplus;
  fsyncdir_fn fsyncdir;
  ioctl_fn ioctl;
} lib;
static pthread_mutex_t lib_lock = PTHREAD_MUTEX_INITIALIZER;

/* The mounts wrapped, by their libfuse handle (a session's user data). */
#define MAX_MOUNTS 64
static sf_mount *mounts[MAX_MOUNTS];

/* The low-level file info of the opendir this thread is answering, or NULL. */
static __thread struct fuse_file_info *answering;
/* A directory handle whose own handle is 0, for requests that come without one. */
static lib_dh no_handle;

static sf_mount *mount_of(fuse_req_t req) {
  struct fuse *f = fuse_req_userdata(req);
  sf_mount *found = NULL;
  pthread_mutex_lock(&lib_lock);
  for (int i = 0; i < MAX_MOUNTS && found == NULL; i++)
    if (mounts[i] != NULL && mounts[i]->fuse == f) found = mounts[i];
  pthread_mutex_unlock(&lib_lock);
  return found;
}

static void w_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *llfi) {
  answering = llfi;
  lib.opendir(req, ino, llfi);
  answering = NULL;
}

/* The opendir of a mount whose directories the kernel may open itself: looks the mount up
 * only until the kernel has taken that over (then no OPENDIR comes any more). */
static void w_opendir_in_kernel(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *llfi) {
  sf_mount *m = mount_of(req);
  if (m != NULL && __atomic_load_n(&m->dir_opens_in_kernel, __ATOMIC_ACQUIRE)) {
    fuse_reply_err(req, ENOSYS); /* the kernel opens directories itself from now on */
    return;
  }
  w_opendir(req, ino, llfi);
}

void sf_dircache_pass(const struct fuse_file_info *fi) {
  if (answering == NULL) return;
  answering->keep_cache = fi->keep_cache;
  answering->cache_readdir = fi->cache_readdir;
}

/* The listings of the last few directories read without a handle, so a listing read in
 * several requests is fetched once even when the binding's listing cache cannot keep it. */
#define RECENT 8
static struct {
  struct fuse *f;
  fuse_ino_t ino;
  sf_listing *list;
} recent[RECENT];
static unsigned recent_next;

static sf_listing *recent_get(struct fuse *f, fuse_ino_t ino) {
  sf_listing *l = NULL;
  pthread_mutex_lock(&lib_lock);
  for (int i = 0; i < RECENT && l == NULL; i++)
    if (recent[i].list != NULL && recent[i].f == f && recent[i].ino == ino)
      l = sf_listing_ref(recent[i].list);
  pthread_mutex_unlock(&lib_lock);
  return l;
}

static void recent_put(struct fuse *f, fuse_ino_t ino, sf_listing *l) {
  sf_listing *old = NULL;
  pthread_mutex_lock(&lib_lock);
  int at = -1;
  for (int i = 0; i < RECENT && at < 0; i++)
    if (recent[i].list != NULL && recent[i].f == f && recent[i].ino == ino) at = i;
  if (at < 0) at = (int)(recent_next++ % RECENT);
  old = recent[at].list;
  recent[at].f = f;
  recent[at].ino = ino;
  recent[at].list = sf_listing_ref(l);
  pthread_mutex_unlock(&lib_lock);
  sf_listing_unref(old);
}

/* Which directory an unopened request reads (sf_dir.unopened). */
typedef struct {
  struct fuse *f;
  fuse_ino_t ino;
} unopened_dir;

/* A listing fetched for an unopened request is kept before the reply goes out: the kernel
 * may send the reading's next request, on another thread, as soon as it has the reply. */
void sf_dircache_fetched(const sf_dir *d) {
  const unopened_dir *u = d->unopened;
  if (u != NULL && d->list != NULL) recent_put(u->f, u->ino, d->list);
}

/* A READDIR(PLUS) of a directory the kernel opened itself: a handle for this request, with
 * the listing an earlier request of the same reading fetched (offset 0 fetches it anew). */
static void unopened(readdir_fn fn, fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                     struct fuse_file_info *llfi) {
  struct fuse *f = fuse_req_userdata(req);
  sf_dir *d = calloc(1, sizeof *d);
  lib_dh *dh = calloc(1, sizeof *dh);
  if (d == NULL || dh == NULL) {
    free(d);
    free(dh);
    fuse_reply_err(req, ENOMEM);
    return;
  }
  if (off > 0) d->list = recent_get(f, ino);
  const unopened_dir u = {f, ino};
  d->unopened = &u;
  pthread_mutex_init(&dh->lock, NULL);
  dh->fuse = f;
  dh->nodeid = ino;
  dh->fh = (uint64_t)(uintptr_t)d;
  struct fuse_file_info fi = *llfi;
  fi.fh = (uint64_t)(uintptr_t)dh;
  fn(req, ino, size, off, &fi);
  /* op_readdir gives every entry an offset, so libfuse keeps no entry list (dh->first) */
  free(dh->contents);
  pthread_mutex_destroy(&dh->lock);
  free(dh);
  sf_dir_clear(d);
  free(d);
}

static void w_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                      struct fuse_file_info *llfi) {
  if (llfi->fh == 0) unopened(lib.readdir, req, ino, size, off, llfi);
  else lib.readdir(req, ino, size, off, llfi);
}

static void w_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                          struct fuse_file_info *llfi) {
  if (llfi->fh == 0) unopened(lib.readdirplus, req, ino, size, off, llfi);
  else lib.readdirplus(req, ino, size, off, llfi);
}

static void w_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *llfi) {
  struct fuse_file_info fi = *llfi;
  if (fi.fh == 0) fi.fh = (uint64_t)(uintptr_t)&no_handle;
  lib.fsyncdir(req, ino, datasync, &fi);
}

static void w_ioctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd, void *arg,
                    struct fuse_file_info *llfi, unsigned flags, const void *in, size_t insz,
                    size_t outsz) {
  struct fuse_file_info fi = *llfi;
  if ((flags & FUSE_IOCTL_DIR) && fi.fh == 0) fi.fh = (uint64_t)(uintptr_t)&no_handle;
  lib.ioctl(req, ino, cmd, arg, &fi, flags, in, insz, outsz);
}

static struct fuse_lowlevel_ops *ops_of(struct fuse_session *se, const char *mountpoint) {
  int v = fuse_version();
  int fd = fuse_session_fd(se);
  if (v >= 313 && v <= 315) {
    session_313 *s = (session_313 *)se;
    if (s->fd == fd && s->mountpoint != NULL && strcmp(s->mountpoint, mountpoint) == 0)
      return &s->op;
  } else if (v >= 310 && v <= 312) {
    session_310 *s = (session_310 *)se;
    if (s->fd == fd && s->mountpoint != NULL && strcmp(s->mountpoint, mountpoint) == 0)
      return &s->op;
  }
  return NULL;
}

/* Records libfuse's ops the first time; 0 when `op` holds others (not libfuse's own). */
static int note_lib(const struct fuse_lowlevel_ops *op) {
  if (lib.opendir == NULL) {
    lib.opendir = op->opendir;
    lib.readdir = op->readdir;
    lib.readdirplus = op->readdirplus;
    lib.fsyncdir = op->fsyncdir;
    lib.ioctl = op->ioctl;
  }
  return lib.opendir == op->opendir && lib.readdir == op->readdir &&
         lib.readdirplus == op->readdirplus && lib.fsyncdir == op->fsyncdir &&
         lib.ioctl == op->ioctl;
}

int sf_dircache_hook(sf_mount *m) {
  if (fuse_version() >= 316) return 1; /* the library passes the bits on itself */
  struct fuse_lowlevel_ops *op = ops_of(fuse_get_session(m->fuse), m->mountpoint);
  if (op == NULL || op->opendir == NULL || op->readdir == NULL || op->readdirplus == NULL ||
      op->fsyncdir == NULL || op->ioctl == NULL)
    return 0;
  /* only a mount with no JS opendir and kernel-cached listings may have the kernel open
   * its directories; the others get the opendir that passes the bits on, and no lookup */
  int eligible = m->cfg.cache_readdir && !m->wanted[OP_OPENDIR];
  int slot = -1, hooked = 0;
  pthread_mutex_lock(&lib_lock);
  for (int i = 0; eligible && i < MAX_MOUNTS && slot < 0; i++)
    if (mounts[i] == NULL) slot = i;
  if (note_lib(op)) {
    hooked = 1;
    op->opendir = w_opendir;
    if (slot >= 0) {
      mounts[slot] = m;
      op->opendir = w_opendir_in_kernel;
      op->readdir = w_readdir;
      op->readdirplus = w_readdirplus;
      op->fsyncdir = w_fsyncdir;
      op->ioctl = w_ioctl;
      m->dir_wrapped = 1;
    }
  }
  pthread_mutex_unlock(&lib_lock);
  return hooked;
}

void sf_dircache_forget(sf_mount *m) {
  sf_listing *drop[RECENT] = {0};
  pthread_mutex_lock(&lib_lock);
  for (int i = 0; i < MAX_MOUNTS; i++)
    if (mounts[i] == m) mounts[i] = NULL;
  for (int i = 0; i < RECENT; i++) {
    if (recent[i].f != m->fuse) continue;
    drop[i] = recent[i].list;
    recent[i].list = NULL;
    recent[i].f = NULL;
  }
  pthread_mutex_unlock(&lib_lock);
  for (int i = 0; i < RECENT; i++) sf_listing_unref(drop[i]);
}

void sf_dircache_init(sf_mount *m, const struct fuse_conn_info *conn) {
  int in_kernel = m->dir_wrapped && (conn->capable & FUSE_CAP_NO_OPENDIR_SUPPORT) != 0;
  __atomic_store_n(&m->dir_opens_in_kernel, in_kernel, __ATOMIC_RELEASE);
}
