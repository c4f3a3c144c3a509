/*
 * superchunk native FUSE binding: shared declarations.
 *
 * Model: every libfuse 3 high-level (path) op runs on a libfuse worker thread (fuse_loop_mt on
 * a thread of our own). The op packs its arguments into an sf_req on its stack, queues it on a
 * napi_threadsafe_function and waits on the request's semaphore. On the JS thread, call_js
 * registers the request in the mount's slot table (id = generation << 16 | index), calls the
 * JS dispatcher, and JS later calls reply(mount, id, result, payload, extra), which decodes the
 * payload straight into libfuse's memory (stat, statvfs, read buffer, dir filler, ...), detaches
 * any Buffer view of libfuse memory, and posts the semaphore. The slot table is only touched on
 * the JS thread, so it needs no lock; a stale or duplicate reply is refused, never a crash.
 * Directory handles are ours (sf_dir): JS's listing is fetched once per rewind and served from
 * C in offset mode, which is what lets libfuse send readdirplus entries (ino, attrs) to the
 * kernel; on a mount whose tree cannot change, listings are also kept by path (listing.c). Cache invalidations JS asks for run on a thread of their own (never a libfuse
 * worker, never the JS thread), since the kernel may wait on a request JS has not answered.
 */
#ifndef SFUSE_H
#define SFUSE_H

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 312
#endif
#include <fuse.h>
#include <node_api.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <sys/statvfs.h>

/* Op codes shared with src/fuse/native-ops.ts (keep in sync). */
enum sf_op {
  OP_INIT = 0, OP_DESTROY, OP_GETATTR, OP_FGETATTR, OP_READLINK, OP_MKNOD, OP_MKDIR,
  OP_UNLINK, OP_RMDIR, OP_SYMLINK, OP_RENAME, OP_LINK, OP_CHMOD, OP_CHOWN, OP_TRUNCATE,
  OP_FTRUNCATE, OP_OPEN, OP_CREATE, OP_READ, OP_WRITE, OP_STATFS, OP_FLUSH, OP_RELEASE,
  OP_FSYNC, OP_OPENDIR, OP_READDIR, OP_RELEASEDIR, OP_FSYNCDIR, OP_SETXATTR, OP_GETXATTR,
  OP_LISTXATTR, OP_REMOVEXATTR, OP_ACCESS, OP_UTIMENS, OP_FALLOCATE,
  OP_COUNT,
  OP_EXIT = 100, /* not a FUSE op: the loop has ended, sent once */
  OP_INVALIDATED = 101 /* not a FUSE op: the invalidation queue reached a barrier (n[0]: token) */
};

/* Layout of the Float64Array JS answers getattr with. */
enum { ST_INO, ST_MODE, ST_NLINK, ST_UID, ST_GID, ST_RDEV, ST_SIZE, ST_BLOCKS, ST_BLKSIZE,
       ST_ATIME_S, ST_ATIME_NS, ST_MTIME_S, ST_MTIME_NS, ST_CTIME_S, ST_CTIME_NS, ST_FIELDS };
/* Layout of the Float64Array JS answers statfs with. */
enum { SV_BSIZE, SV_FRSIZE, SV_BLOCKS, SV_BFREE, SV_BAVAIL, SV_FILES, SV_FFREE, SV_FAVAIL,
       SV_FSID, SV_FLAG, SV_NAMEMAX, SV_FIELDS };
/* Bits of the `extra` answer of open/create/opendir. */
enum { OPEN_DIRECT_IO = 1, OPEN_KEEP_CACHE = 2, OPEN_NONSEEKABLE = 4, OPEN_CACHE_DIR = 8 };

typedef struct sf_req {
  int op;
  const char *path;  /* may be NULL (unlinked open file) */
  const char *path2; /* rename/link target, symlink target, xattr name */
  struct fuse_file_info *fi;
  struct stat *st;
  struct statvfs *sv;
  char *buf;         /* read, readlink, getxattr, listxattr: output; write, setxattr: input */
  size_t size;
  int64_t n[4];      /* op-specific numbers: mode, rdev, flags, offsets, uid/gid, ... */
  struct timespec tv[2];
  double fh;         /* the handle JS chose (for directories: sf_dir.fh, not fi->fh) */
  struct sf_dir *dir; /* readdir: where the listing goes */
  uid_t uid;
  gid_t gid;
  pid_t pid;
  mode_t umask;
  int result;
  int stat_given;    /* a change (chmod, chown, utimens, truncate, create) answered r->st too */
  struct sf_attrs *attrs; /* getattr, readdir: where the answer's attributes are kept, or NULL */
  uint64_t attr_gen;      /* the generation of `attrs` the request was sent in */
  sem_t done;
} sf_req;

/* An entry's attributes as a listing keeps them (88 bytes rather than struct stat's 144). */
typedef struct sf_cstat {
  uint64_t ino, size, blocks, rdev;
  int64_t atime_s, mtime_s, ctime_s;
  uint32_t atime_ns, mtime_ns, ctime_ns, mode, nlink, uid, gid, blksize;
} sf_cstat;

/* A directory's listing as JS gave it (listing.c): one allocation, shared by reference count
 * between the handles reading it and the listing cache; read-only once built. */
typedef struct sf_listing {
  struct sf_listing *hnext, *prev, *next; /* cache: hash chain, LRU list (cache lock) */
  uint64_t hash;
  size_t bytes;   /* the allocation's size */
  int refs;       /* atomic */
  uint32_t n;
  uint32_t keylen;
  sf_cstat *st;   /* n stats, NULL when JS gave none */
  uint32_t *off;  /* n + 1 offsets into names: name i is names + off[i], NUL-terminated */
  char *names;
  char *key;      /* the directory's path */
} sf_listing;

/* The mount's listing cache (listing.c): off while budget is 0. */
typedef struct sf_lcache {
  pthread_mutex_t lock;
  size_t budget;  /* bytes: listings plus the hash table */
  size_t bytes, count, entries;
  sf_listing **buckets;
  size_t nbuckets;
  sf_listing *head, *tail; /* most recently used first */
  size_t peak_bytes, peak_entries; /* the most held at once */
  uint64_t hits, misses, evictions;
} sf_lcache;

/* One open directory: JS's handle and, once read, its listing. */
typedef struct sf_dir {
  double fh;
  sf_listing *list;
  /* a directory the kernel opened itself: where dircache.c keeps its listing (else NULL) */
  const void *unopened;
} sf_dir;

/* A path whose kernel caches are to be dropped (queued for the invalidation thread). */
typedef struct sf_inval {
  struct sf_inval *next;
  double token; /* barrier: no path; JS hears OP_INVALIDATED with this token once reached */
  int barrier;
  char path[];
} sf_inval;

/* libfuse 3 settings JS gives as `-o` options but that live in fuse_config, not the parser. */
typedef struct sf_cfg {
  int use_ino, direct_io, hard_remove;
  /* `-o cache_readdir` (the binding's own): every directory opens with keep_cache and
   * cache_readdir, so the kernel may serve later readdirs from its cached listing */
  int cache_readdir;
  /* `-o no_posix_acl` (the binding's own): setxattr of a system.posix_acl_* name answers
   * EOPNOTSUPP here (the store keeps no ACLs; cp -a and friends then use chmod) */
  int no_posix_acl;
  /* `-o open_rdonly` (the binding's own): an open for reading only (no O_TRUNC) answers here
   * with handle 0 and no trip to JS; its reads come to JS with handle 0 (resolved by path)
   * and its release and flush answer here too */
  int open_rdonly;
  /* `-o attr_cache` (the binding's own): getattr answers and listings' attributes are kept
   * by path and answer later getattrs until JS drops them (attrcache.c) */
  int attr_cache;
  /* `-o max_read=N`: a mount option the kernel gets, which libfuse 3 also wants in
   * conn->max_read at init (it refuses the session when the two differ); 0 when absent */
  unsigned max_read;
} sf_cfg;

/* Files JS has read ahead of the kernel, answered on the libfuse thread (preload.c). */
#define SF_PRELOAD_BUCKETS 4096
typedef struct sf_preload {
  pthread_mutex_t lock;
  struct sf_pre *buckets[SF_PRELOAD_BUCKETS];
  struct sf_pre *oldest, *newest;
  size_t bytes;
  size_t limit; /* 0: off */
  int ended;    /* the loop has ended: nothing is kept any more */
  uint64_t served, served_bytes, added, dropped;
} sf_preload;

/* Attributes kept by path (attrcache.c). */
#define SF_ATTR_BUCKETS 8192
#define SF_ATTR_MAX 65536
typedef struct sf_attrs {
  pthread_mutex_t lock;
  struct sf_attr *buckets[SF_ATTR_BUCKETS];
  size_t count;  /* read without the lock as a hint */
  uint64_t gen;  /* bumped by every drop (atomic) */
  uint64_t hits, peak, drops;
} sf_attrs;

typedef struct sf_slot {
  sf_req *req;
  napi_ref view; /* Buffer view of libfuse memory (read/write/setxattr), detached on reply */
  uint16_t gen;
} sf_slot;

typedef struct sf_mount {
  napi_threadsafe_function tsfn;
  pthread_t thread;
  int thread_started;
  struct fuse *fuse;
  char *mountpoint;
  sf_cfg cfg;
  struct fuse_conn_info_opts *conn_opts;
  uint8_t wanted[OP_COUNT];
  pthread_t inval_thread;
  int inval_started;
  pthread_mutex_t inval_lock;
  pthread_cond_t inval_cond;
  sf_inval *inval_head, **inval_tail;
  int inval_stop;
  uint64_t invalidated; /* paths handed to fuse_invalidate_path (for tests) */
  /* bit i set: no file holds the xattr sf_absent_names[i] (JS says so), so a getxattr of it
   * (the kernel's kill-privileges check before every write, `ls -l` asking for ACLs and
   * SELinux labels) is answered ENODATA here, without a round trip to JS */
  volatile unsigned absent;
  sf_lcache listings; /* listings served without JS once the tree cannot change */
  sf_preload pre;
  sf_attrs attrs;
  int path_buffers; /* 1: paths reach JS as Buffers (raw bytes); 0: UTF-8 strings */
  int dircache;     /* 1: opendir's cache bits reach the kernel (dircache.c) */
  int dir_wrapped;  /* 1: the kernel may open directories itself (dircache.c wrapped and
                     * registered the mount: no JS opendir, listings cached by the kernel) */
  int dir_opens_in_kernel; /* 1 from init: the kernel opens directories itself (atomic) */
  int loop_result;
  int loop_done;    /* set by the loop thread once it has torn libfuse down */
  int closed;       /* the threadsafe function has been finalized after the loop ended */
  struct fuse_operations ops;
  sf_req exit_req;
  sf_slot *slots;   /* JS thread only */
  uint32_t nslots;
  uint32_t *free_idx;
  uint32_t nfree;
} sf_mount;

/* ops.c */
void sf_fill_operations(struct fuse_operations *ops, const uint8_t *wanted);
napi_value sf_js_set_absent_xattrs(napi_env env, napi_callback_info info);

/* listing.c */
uint64_t sf_path_hash(const char *s, size_t len); /* FNV-1a, shared with preload.c */
sf_listing *sf_listing_new(uint32_t n, int with_st, size_t name_bytes, const char *key);
void sf_listing_unref(sf_listing *l);
sf_listing *sf_listing_ref(sf_listing *l); /* another reference to l (NULL stays NULL) */
void sf_cstat_to_stat(const sf_cstat *c, struct stat *st);
void sf_lc_init(sf_lcache *c);
sf_listing *sf_lc_get(sf_lcache *c, const char *path); /* a new reference, or NULL */
void sf_lc_put(sf_lcache *c, sf_listing *l);            /* keeps a reference of its own */
void sf_lc_set_budget(sf_lcache *c, size_t budget);     /* 0: off, everything dropped */
void sf_lc_clear(sf_lcache *c);                         /* drops every listing, budget kept */
void sf_lc_destroy(sf_lcache *c);
napi_value sf_js_set_listing_cache(napi_env env, napi_callback_info info);
napi_value sf_js_listing_cache_stats(napi_env env, napi_callback_info info);
/* preload.c */
void sf_preload_init(sf_preload *p);
/* Answers a read from a preloaded file: bytes copied, or -1 when `path` is not preloaded. */
int sf_preload_read(sf_preload *p, const char *path, char *buf, size_t size, off_t off);
/* The loop has ended: drops every file and refuses new ones. */
void sf_preload_end(sf_preload *p);
napi_value sf_js_preload(napi_env env, napi_callback_info info);
napi_value sf_js_preload_limit(napi_env env, napi_callback_info info);
napi_value sf_js_preload_stats(napi_env env, napi_callback_info info);
napi_value sf_numbers(napi_env env, const double *values, uint32_t n); /* a JS array of them */

/* attrcache.c */
void sf_attrs_init(sf_attrs *a);
void sf_attrs_end(sf_attrs *a); /* the loop has ended: drops everything */
uint64_t sf_attrs_gen(sf_attrs *a);
/* Fills `st` from the attributes kept for `path`: 0, or -1 when none are. */
int sf_attrs_get(sf_attrs *a, const char *path, struct stat *st);
/* Keeps attributes sent in generation `gen` (JS thread), unless a drop came since. */
void sf_attrs_put(sf_attrs *a, uint64_t gen, const char *path, const sf_cstat *st);
void sf_attrs_put_listing(sf_attrs *a, uint64_t gen, const sf_listing *l);
napi_value sf_js_drop_attrs(napi_env env, napi_callback_info info);
napi_value sf_js_attr_stats(napi_env env, napi_callback_info info);

/* dircache.c */
/* Wraps the session's low-level directory ops once mounted: 1 when opendir's keep_cache and
 * cache_readdir bits reach the kernel. */
int sf_dircache_hook(sf_mount *m);
void sf_dircache_pass(const struct fuse_file_info *fi); /* from op_opendir, on its thread */
void sf_dircache_init(sf_mount *m, const struct fuse_conn_info *conn); /* from op_init */
void sf_dircache_forget(sf_mount *m); /* the loop has ended */
void sf_dircache_fetched(const sf_dir *d); /* op_readdir has a listing, before it replies */

/* inval.c */
void sf_inval_start(sf_mount *m);
void sf_inval_stop(sf_mount *m);
napi_value sf_js_invalidate(napi_env env, napi_callback_info info);
napi_value sf_js_invalidate_barrier(napi_env env, napi_callback_info info);

/* dispatch.c (JS thread) */
void sf_call_js(napi_env env, napi_value cb, void *ctx, void *data);
napi_value sf_js_reply(napi_env env, napi_callback_info info);
void sf_finish(napi_env env, sf_mount *m, uint32_t id, int result);

/* reply.c (JS thread) */
int sf_decode_reply(napi_env env, sf_req *r, int result, napi_value payload, napi_value extra);
void sf_dir_clear(sf_dir *d);

#endif
