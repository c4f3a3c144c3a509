/*
 * The kernel's directory cache on libfuse before 3.16. Those versions' high-level opendir
 * answers the kernel with the low-level file info it was handed, not with the one our opendir
 * filled, so the `cache_readdir` and `keep_cache` bits op_opendir sets never reach the kernel
 * and every readdir of every open is a round trip (libfuse 3.16 passes the bits on itself).
 * sf_dircache_hook wraps the session's low-level opendir: the wrapper notes that file info
 * for its own thread while libfuse's opendir runs, and sf_dircache_pass (called by op_opendir,
 * on the same thread, before libfuse answers) copies the bits there.
 * The session is libfuse's private structure, so the hook is placed only on the versions
 * whose layout is written below (3.10 to 3.15), and only when the fields in front of the op
 * table hold what the public API says they hold (the session's fd, the mountpoint). Otherwise
 * nothing changes: directories are read as before, without the kernel's cache.
 */
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

typedef void (*ll_opendir_fn)(fuse_req_t, fuse_ino_t, struct fuse_file_info *);

/* libfuse's own low-level opendir (one per process: every session of a version has it). */
static ll_opendir_fn lib_opendir;
/* The low-level file info of the opendir this thread is answering, or NULL. */
static __thread struct fuse_file_info *answering;

static void hooked_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *llfi) {
  answering = llfi;
  lib_opendir(req, ino, llfi);
  answering = NULL;
}

void sf_dircache_pass(const struct fuse_file_info *fi) {
  if (answering == NULL) return;
  answering->keep_cache = fi->keep_cache;
  answering->cache_readdir = fi->cache_readdir;
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

int sf_dircache_hook(struct fuse *f, const char *mountpoint) {
  if (fuse_version() >= 316) return 1; /* the library passes the bits on */
  struct fuse_lowlevel_ops *op = ops_of(fuse_get_session(f), mountpoint);
  if (op == NULL || op->opendir == NULL || op->readdir == NULL || op->releasedir == NULL)
    return 0;
  if (op->opendir == hooked_opendir) return 1;
  ll_opendir_fn none = NULL;
  /* the first mount of the process records libfuse's opendir; later ones find the same */
  __atomic_compare_exchange_n(&lib_opendir, &none, op->opendir, 0, __ATOMIC_ACQ_REL,
                              __ATOMIC_ACQUIRE);
  if (__atomic_load_n(&lib_opendir, __ATOMIC_ACQUIRE) != op->opendir) return 0;
  op->opendir = hooked_opendir;
  return 1;
}
