/*
 * superchunk native FUSE binding (libfuse 3 high-level API, N-API). Exports:
 *   mount(mountpoint, args[], wantedOps[], dispatch, pathBuffers) -> mount handle (external)
 *   reply(mount, id, result, payload?, extra?) -> boolean (false: stale or duplicate id)
 *   invalidate(mount, path) -> boolean   drop the kernel's attrs and pages of path (inval.c)
 *   invalidateBarrier(mount, token) -> boolean   JS hears OP_INVALIDATED(token) once the
 *                                        paths queued before are handed to the kernel
 *   setAbsentXattrs(mount, names[])      getxattr of these names answered ENODATA without
 *                                        JS (ops.c: capabilities, SELinux, ACLs)
 *   setListingCache(mount, bytes), listingCacheStats(mount)   readdir without JS (listing.c)
 *   preload(mount, path, data), preloadLimit(mount, bytes), preloadStats(mount)
 *                                        files read ahead, answered without JS (preload.c)
 *   kernelDirCache(mount) -> boolean   opendir's cache bits reach the kernel (dircache.c)
 *   dirOpensInKernel(mount) -> boolean  the kernel opens directories without a request
 *   lazyUnmount(mountpoint, cb(errno))   umount2(MNT_DETACH) off the JS thread
 *   UTIME_NOW, UTIME_OMIT
 * The loop runs fuse_loop_mt on a thread of its own; when it ends (unmounted by us or from
 * outside) the thread unmounts/destroys the libfuse handle, sends OP_EXIT to JS and releases
 * the threadsafe function, so the process may exit.
 */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/mount.h>
#include "sfuse.h"

/* libfuse 2 had no cap on worker threads; libfuse 3's default of 10 would bound the requests
 * JS can have in flight, so the cap is raised well above what a mount sees. */
#define LOOP_MAX_THREADS 256

static void *loop_main(void *arg) {
  sf_mount *m = arg;
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals stay with Node's threads */
  struct fuse_loop_config *lc = fuse_loop_cfg_create();
  fuse_loop_cfg_set_idle_threads(lc, 10);
  fuse_loop_cfg_set_max_threads(lc, LOOP_MAX_THREADS);
  m->loop_result = fuse_loop_mt(m->fuse, lc);
  fuse_loop_cfg_destroy(lc);
  sf_dircache_forget(m);
  sf_inval_stop(m);
  fuse_unmount(m->fuse); /* unmounts if still mounted */
  fuse_destroy(m->fuse); /* calls the destroy op (through JS) */
  m->fuse = NULL;
  sf_lc_clear(&m->listings); /* no readdir can come any more */
  sf_preload_end(&m->pre);
  sf_attrs_end(&m->attrs);
  m->exit_req.op = OP_EXIT;
  __atomic_store_n(&m->loop_done, 1, __ATOMIC_RELEASE);
  napi_call_threadsafe_function(m->tsfn, &m->exit_req, napi_tsfn_blocking);
  napi_release_threadsafe_function(m->tsfn, napi_tsfn_release);
  return NULL;
}

/* tsfn finalizer (JS thread): normally the loop thread is done and is reaped here. At an
 * environment teardown with the mount still live, the thread is left running (never joined:
 * that would hang the exit), and the mount memory is leaked on purpose. */
static void tsfn_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  sf_mount *m = data;
  if (!__atomic_load_n(&m->loop_done, __ATOMIC_ACQUIRE)) {
    if (m->thread_started) pthread_detach(m->thread);
    m->thread_started = 0;
    return;
  }
  if (m->thread_started) pthread_join(m->thread, NULL);
  m->thread_started = 0;
  m->closed = 1;
}

/* external finalizer (GC): the handle is unreachable, so no reply can come any more. */
static void mount_free(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  sf_mount *m = data;
  if (!m->closed) return; /* still serving: leak rather than free live memory */
  sf_lc_destroy(&m->listings);
  pthread_mutex_destroy(&m->pre.lock);
  free(m->slots);
  free(m->free_idx);
  free(m->conn_opts);
  free(m->mountpoint);
  free(m);
}

static char *get_string(napi_env env, napi_value v) {
  size_t len;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return NULL;
  char *s = malloc(len + 1);
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  return s;
}

static int build_args(napi_env env, napi_value arr, struct fuse_args *args) {
  uint32_t n;
  bool is = false;
  if (napi_is_array(env, arr, &is) != napi_ok || !is) return -1;
  napi_get_array_length(env, arr, &n);
  fuse_opt_add_arg(args, "superchunk");
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    napi_get_element(env, arr, i, &v);
    char *s = get_string(env, v);
    if (s == NULL) return -1;
    fuse_opt_add_arg(args, s);
    free(s);
  }
  return 0;
}

static int wanted_ops(napi_env env, napi_value arr, uint8_t *wanted) {
  uint32_t n;
  bool is = false;
  memset(wanted, 0, OP_COUNT);
  if (napi_is_array(env, arr, &is) != napi_ok || !is) return -1;
  napi_get_array_length(env, arr, &n);
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    uint32_t op;
    napi_get_element(env, arr, i, &v);
    if (napi_get_value_uint32(env, v, &op) != napi_ok || op >= OP_COUNT) return -1;
    wanted[op] = 1;
  }
  return 0;
}

static napi_value fail(napi_env env, const char *code, const char *msg) {
  napi_throw_error(env, code, msg);
  return NULL;
}

/* Options that are fuse_config fields in libfuse 3 (no parser of its own takes them), and the
 * binding's own (cache_readdir, no_posix_acl, open_rdonly, attr_cache). */
static const struct fuse_opt cfg_opts[] = {
  {"use_ino", offsetof(sf_cfg, use_ino), 1},
  {"direct_io", offsetof(sf_cfg, direct_io), 1},
  {"hard_remove", offsetof(sf_cfg, hard_remove), 1},
  {"cache_readdir", offsetof(sf_cfg, cache_readdir), 1},
  {"no_posix_acl", offsetof(sf_cfg, no_posix_acl), 1},
  {"open_rdonly", offsetof(sf_cfg, open_rdonly), 1},
  {"attr_cache", offsetof(sf_cfg, attr_cache), 1},
  FUSE_OPT_END
};

/* Options parsed, fuse_new + fuse_mount; on failure undoes what was done and returns -1. */
/* The value of `max_read=` among the -o options, left in place for the mount; 0 if absent. */
static unsigned find_max_read(const struct fuse_args *args) {
  unsigned v = 0;
  for (int i = 0; i < args->argc; i++) {
    const char *p = args->argv[i];
    while ((p = strstr(p, "max_read=")) != NULL) {
      if (p == args->argv[i] || p[-1] == ',') sscanf(p + 9, "%u", &v);
      p += 9;
    }
  }
  return v;
}

static int start_fuse(sf_mount *m, struct fuse_args *args) {
  m->cfg.max_read = find_max_read(args);
  if (fuse_opt_parse(args, &m->cfg, cfg_opts, NULL) != 0) return -1;
  m->conn_opts = fuse_parse_conn_info_opts(args); /* max_write=, async_read, ... */
  if (m->conn_opts == NULL) return -1;
  m->fuse = fuse_new(args, &m->ops, sizeof m->ops, m);
  if (m->fuse == NULL) return -1;
  if (fuse_mount(m->fuse, m->mountpoint) != 0) {
    fuse_destroy(m->fuse);
    m->fuse = NULL;
    return -1;
  }
  m->dircache = sf_dircache_hook(m);
  return 0;
}

static int start_loop(napi_env env, sf_mount *m, napi_value dispatch) {
  napi_value name;
  napi_create_string_utf8(env, "superchunk-fuse", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, dispatch, NULL, name, 0, 1, m, tsfn_finalize, m,
                                      sf_call_js, &m->tsfn) != napi_ok)
    return -1;
  if (pthread_create(&m->thread, NULL, loop_main, m) != 0) {
    napi_release_threadsafe_function(m->tsfn, napi_tsfn_abort);
    return -1;
  }
  m->thread_started = 1;
  return 0;
}

static napi_value js_mount(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5], out;
  uint8_t wanted[OP_COUNT];
  bool pathbuf = false;
  struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 5) return fail(env, "E_USAGE", "mount(mountpoint, args, ops, dispatch, pathBuffers)");
  sf_mount *m = calloc(1, sizeof *m);
  sf_lc_init(&m->listings);
  sf_preload_init(&m->pre);
  sf_attrs_init(&m->attrs);
  m->mountpoint = get_string(env, argv[0]);
  napi_get_value_bool(env, argv[4], &pathbuf);
  m->path_buffers = pathbuf;
  if (m->mountpoint == NULL || build_args(env, argv[1], &args) != 0 ||
      wanted_ops(env, argv[2], wanted) != 0) {
    fuse_opt_free_args(&args);
    free(m->mountpoint);
    free(m);
    return fail(env, "E_USAGE", "mount: bad arguments");
  }
  sf_fill_operations(&m->ops, wanted);
  memcpy(m->wanted, wanted, OP_COUNT);
  int rc = start_fuse(m, &args);
  fuse_opt_free_args(&args);
  if (rc == 0) sf_inval_start(m);
  if (rc != 0 || start_loop(env, m, argv[3]) != 0) {
    if (rc == 0) {
      sf_inval_stop(m);
      fuse_unmount(m->fuse);
      fuse_destroy(m->fuse);
    }
    free(m->conn_opts);
    free(m->mountpoint);
    free(m);
    return fail(env, "E_MOUNT", "fuse_mount/fuse_new failed (see stderr for libfuse's reason)");
  }
  napi_create_external(env, m, mount_free, NULL, &out);
  return out;
}

typedef struct umount_work {
  napi_async_work work;
  napi_ref cb;
  char *mountpoint;
  int err;
} umount_work;

static void umount_exec(napi_env env, void *data) {
  (void)env;
  umount_work *w = data;
  w->err = umount2(w->mountpoint, MNT_DETACH) == 0 ? 0 : errno;
}

static void umount_done(napi_env env, napi_status status, void *data) {
  umount_work *w = data;
  napi_value cb, undef, arg, exc;
  (void)status;
  napi_get_reference_value(env, w->cb, &cb);
  napi_get_undefined(env, &undef);
  napi_create_int32(env, w->err, &arg);
  if (napi_call_function(env, undef, cb, 1, &arg, NULL) != napi_ok)
    napi_get_and_clear_last_exception(env, &exc);
  napi_delete_reference(env, w->cb);
  napi_delete_async_work(env, w->work);
  free(w->mountpoint);
  free(w);
}

/* lazyUnmount(mountpoint, cb(errno)): umount2(MNT_DETACH) on the libuv pool; errno 0 = done. */
static napi_value js_lazy_unmount(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], name;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  umount_work *w = calloc(1, sizeof *w);
  w->mountpoint = argc == 2 ? get_string(env, argv[0]) : NULL;
  if (w->mountpoint == NULL) {
    free(w);
    return fail(env, "E_USAGE", "lazyUnmount(mountpoint, cb)");
  }
  napi_create_reference(env, argv[1], 1, &w->cb);
  napi_create_string_utf8(env, "superchunk-umount", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, umount_exec, umount_done, w, &w->work);
  napi_queue_async_work(env, w->work);
  return NULL;
}

/* The mount handle that is a call's only argument; NULL (an E_USAGE error thrown) otherwise. */
static sf_mount *mount_arg(napi_env env, napi_callback_info info, const char *usage) {
  size_t argc = 1;
  napi_value argv[1];
  sf_mount *m = NULL;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_external(env, argv[0], (void **)&m) != napi_ok || m == NULL) {
    fail(env, "E_USAGE", usage);
    return NULL;
  }
  return m;
}

static napi_value js_kernel_dir_cache(napi_env env, napi_callback_info info) {
  sf_mount *m = mount_arg(env, info, "kernelDirCache(mount)");
  napi_value r;
  if (m == NULL) return NULL;
  napi_get_boolean(env, m->dircache != 0, &r);
  return r;
}

static napi_value js_dir_opens_in_kernel(napi_env env, napi_callback_info info) {
  sf_mount *m = mount_arg(env, info, "dirOpensInKernel(mount)");
  napi_value r;
  if (m == NULL) return NULL;
  napi_get_boolean(env, __atomic_load_n(&m->dir_opens_in_kernel, __ATOMIC_ACQUIRE) != 0, &r);
  return r;
}

/* Gives free memory inside and at the top of glibc's heaps back to the system (malloc_trim):
 * a mount calls it now and then while it serves, so what its caches freed stops counting in
 * its resident size. */
static napi_value js_trim_heap(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value r;
  napi_get_boolean(env, malloc_trim(0) == 1, &r);
  return r;
}

static void export_fn(napi_env env, napi_value exports, const char *name, napi_callback fn) {
  napi_value f;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, NULL, &f);
  napi_set_named_property(env, exports, name, f);
}

static void export_int(napi_env env, napi_value exports, const char *name, int64_t v) {
  napi_value n;
  napi_create_int64(env, v, &n);
  napi_set_named_property(env, exports, name, n);
}

/* Allocations of this size and above get pages of their own (glibc's mmap threshold, fixed
 * rather than rising with each free): a mount's working-set slabs (V8 backing stores of a MiB
 * and more) then return to the system when dropped, instead of fragmenting the heap, which
 * held some 70 MiB beyond the working set after a tar of a kernel tree. */
#define MMAP_THRESHOLD_BYTES (1 << 20)

NAPI_MODULE_INIT() {
  /* the binding loads in a process that serves a mount, or packs (fixAllocatorThreshold) */
  mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES);
  export_fn(env, exports, "mount", js_mount);
  export_fn(env, exports, "reply", sf_js_reply);
  export_fn(env, exports, "invalidate", sf_js_invalidate);
  export_fn(env, exports, "invalidateBarrier", sf_js_invalidate_barrier);
  export_fn(env, exports, "setAbsentXattrs", sf_js_set_absent_xattrs);
  export_fn(env, exports, "setListingCache", sf_js_set_listing_cache);
  export_fn(env, exports, "listingCacheStats", sf_js_listing_cache_stats);
  export_fn(env, exports, "preload", sf_js_preload);
  export_fn(env, exports, "preloadLimit", sf_js_preload_limit);
  export_fn(env, exports, "preloadStats", sf_js_preload_stats);
  export_fn(env, exports, "dropAttrs", sf_js_drop_attrs);
  export_fn(env, exports, "attrStats", sf_js_attr_stats);
  export_fn(env, exports, "kernelDirCache", js_kernel_dir_cache);
  export_fn(env, exports, "dirOpensInKernel", js_dir_opens_in_kernel);
  export_fn(env, exports, "lazyUnmount", js_lazy_unmount);
  export_fn(env, exports, "trimHeap", js_trim_heap);
  export_int(env, exports, "UTIME_NOW", UTIME_NOW);
  export_int(env, exports, "UTIME_OMIT", UTIME_OMIT);
  export_int(env, exports, "CACHE_READDIR", 1); /* takes the `cache_readdir` option */
  export_int(env, exports, "NO_POSIX_ACL", 1);  /* takes the `no_posix_acl` option */
  export_int(env, exports, "OPEN_RDONLY", 1);   /* takes the `open_rdonly` option */
  export_int(env, exports, "ATTR_CACHE", 1);    /* takes the `attr_cache` option */
  return exports;
}
