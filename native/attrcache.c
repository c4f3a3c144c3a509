/*
 * Attributes kept by path (`-o attr_cache`, the binding's own; read-write mounts): what JS
 * answered a getattr with, and what its listings carried, answer later getattrs of the same
 * path on the libfuse thread without a trip to JS. The kernel keeps attributes itself for
 * attr_timeout, but on a writable mount it drops a file's atime after every read
 * (fuse_invalidate_atime), so a reader's next stat (tar's, after each file) would otherwise
 * cost a round trip each.
 *
 * JS drops everything (dropAttrs) before it handles any request that may change anything,
 * and again once an asynchronous change has finished. Every request that may keep an answer
 * notes the generation it was sent in; a drop starts a new one, and an answer sent in an
 * older generation is not kept (it may have been computed before the change). Keeping and
 * dropping both run on the JS thread; looking up runs on libfuse's, under the lock.
 *   dropAttrs(mount)
 *   attrStats(mount) -> [getattrs answered here, the most attributes kept at once, drops]
 */
#include <stdlib.h>
#include <string.h>
#include "sfuse.h"

typedef struct sf_attr {
  struct sf_attr *chain;
  uint64_t hash;
  sf_cstat st;
  size_t plen;
  char path[]; /* plen bytes, NUL-terminated */
} sf_attr;

void sf_attrs_init(sf_attrs *a) {
  memset(a, 0, sizeof *a);
  pthread_mutex_init(&a->lock, NULL);
  a->gen = 1;
}

/* Frees every entry (lock held); stops at the last one, so a drop of a few costs a few. */
static void clear(sf_attrs *a) {
  size_t left = a->count;
  for (size_t i = 0; left > 0 && i < SF_ATTR_BUCKETS; i++) {
    for (sf_attr *e = a->buckets[i], *next; e != NULL; e = next, left--) {
      next = e->chain;
      free(e);
    }
    a->buckets[i] = NULL;
  }
  a->count = 0;
}

void sf_attrs_end(sf_attrs *a) {
  pthread_mutex_lock(&a->lock);
  clear(a);
  __atomic_add_fetch(&a->gen, 1, __ATOMIC_ACQ_REL);
  pthread_mutex_unlock(&a->lock);
}

uint64_t sf_attrs_gen(sf_attrs *a) { return __atomic_load_n(&a->gen, __ATOMIC_ACQUIRE); }

static sf_attr **slot_of(sf_attrs *a, uint64_t h, const char *path, size_t plen) {
  sf_attr **at = &a->buckets[h % SF_ATTR_BUCKETS];
  while (*at != NULL &&
         !((*at)->hash == h && (*at)->plen == plen && memcmp((*at)->path, path, plen) == 0))
    at = &(*at)->chain;
  return at;
}

int sf_attrs_get(sf_attrs *a, const char *path, struct stat *st) {
  if (path == NULL || __atomic_load_n(&a->count, __ATOMIC_RELAXED) == 0) return -1;
  size_t plen = strlen(path);
  uint64_t h = sf_path_hash(path, plen);
  int found = -1;
  pthread_mutex_lock(&a->lock);
  sf_attr *e = *slot_of(a, h, path, plen);
  if (e != NULL) {
    sf_cstat_to_stat(&e->st, st);
    a->hits++;
    found = 0;
  }
  pthread_mutex_unlock(&a->lock);
  return found;
}

/* Keeps `st` for the path of `plen` bytes (lock held). */
static void put(sf_attrs *a, const char *path, size_t plen, const sf_cstat *st) {
  uint64_t h = sf_path_hash(path, plen);
  sf_attr **at = slot_of(a, h, path, plen);
  if (*at != NULL) {
    (*at)->st = *st;
    return;
  }
  if (a->count >= SF_ATTR_MAX) clear(a);
  sf_attr *e = malloc(sizeof *e + plen + 1);
  if (e == NULL) return;
  e->chain = NULL;
  e->hash = h;
  e->st = *st;
  e->plen = plen;
  memcpy(e->path, path, plen);
  e->path[plen] = 0;
  *slot_of(a, h, path, plen) = e;
  __atomic_store_n(&a->count, a->count + 1, __ATOMIC_RELAXED);
  if (a->count > a->peak) a->peak = a->count;
}

void sf_attrs_put(sf_attrs *a, uint64_t gen, const char *path, const sf_cstat *st) {
  if (path == NULL) return;
  pthread_mutex_lock(&a->lock);
  if (gen == a->gen) put(a, path, strlen(path), st);
  pthread_mutex_unlock(&a->lock);
}

void sf_attrs_put_listing(sf_attrs *a, uint64_t gen, const sf_listing *l) {
  if (l->st == NULL) return;
  size_t dlen = strlen(l->key);
  if (dlen == 1 && l->key[0] == '/') dlen = 0; /* the root: "/name", not "//name" */
  char *path = NULL;
  size_t cap = 0;
  pthread_mutex_lock(&a->lock);
  for (uint32_t i = 0; gen == a->gen && i < l->n; i++) {
    const char *name = l->names + l->off[i];
    size_t nlen = strlen(name);
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) continue;
    if (dlen + 1 + nlen + 1 > cap) {
      cap = (dlen + 1 + nlen + 1) * 2;
      char *p = realloc(path, cap);
      if (p == NULL) break;
      path = p;
    }
    memcpy(path, l->key, dlen);
    path[dlen] = '/';
    memcpy(path + dlen + 1, name, nlen + 1);
    put(a, path, dlen + 1 + nlen, &l->st[i]);
  }
  pthread_mutex_unlock(&a->lock);
  free(path);
}

/* The mount of a call taking only it, or NULL with `usage` thrown. */
static sf_attrs *attrs_arg(napi_env env, napi_callback_info info, const char *usage) {
  size_t argc = 1;
  napi_value argv[1];
  void *ext = NULL;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 1 || napi_get_value_external(env, argv[0], &ext) != napi_ok || ext == NULL) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  return &((sf_mount *)ext)->attrs;
}

napi_value sf_js_drop_attrs(napi_env env, napi_callback_info info) {
  sf_attrs *a = attrs_arg(env, info, "dropAttrs(mount)");
  if (a == NULL) return NULL;
  pthread_mutex_lock(&a->lock);
  __atomic_add_fetch(&a->gen, 1, __ATOMIC_ACQ_REL);
  if (a->count > 0) {
    clear(a);
    a->drops++;
  }
  pthread_mutex_unlock(&a->lock);
  return NULL;
}

napi_value sf_js_attr_stats(napi_env env, napi_callback_info info) {
  sf_attrs *a = attrs_arg(env, info, "attrStats(mount)");
  if (a == NULL) return NULL;
  pthread_mutex_lock(&a->lock);
  double figures[3] = {(double)a->hits, (double)a->peak, (double)a->drops};
  pthread_mutex_unlock(&a->lock);
  return sf_numbers(env, figures, 3);
}
