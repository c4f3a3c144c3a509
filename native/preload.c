/*
 * Preloaded files: whole files JS has already read (through its checked read path) and hands
 * over before the kernel asks, so the READs of a tree walk are answered here, on the libfuse
 * thread, without a trip to the JS thread. Keyed by the path libfuse passes; an entry goes
 * once a read reaches its end (the kernel keeps the pages from then on). When the limit is
 * reached, entries unread for a second (a walk that went elsewhere) make room, oldest first;
 * fresher ones are kept and the new file refused, which stops the walk handing them over
 * until the reader catches up. On a mount whose files can change, JS drops every entry
 * (a limit of 0) before it answers a change.
 *   preload(mount, path, data) -> boolean   false: off, full, too big, or the mount has ended
 *   preloadLimit(mount, bytes)              bytes kept at most; 0 turns it off and drops all
 *   preloadStats(mount) -> [reads served, bytes served, files preloaded, files dropped unread]
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "sfuse.h"

/* An entry unread for this long may make room for a new one. */
#define STALE_NS 1000000000ull

typedef struct sf_pre {
  struct sf_pre *chain;       /* same bucket */
  struct sf_pre *older, *newer; /* age list */
  uint64_t hash;
  uint64_t born; /* CLOCK_MONOTONIC ns when handed over */
  size_t size; /* file bytes, at data */
  size_t plen;
  char *data;
  char path[]; /* plen bytes, then the file's bytes */
} sf_pre;

void sf_preload_init(sf_preload *p) {
  pthread_mutex_init(&p->lock, NULL);
  memset(p->buckets, 0, sizeof p->buckets);
}

static sf_pre **slot_of(sf_preload *p, uint64_t h, const char *path, size_t plen) {
  sf_pre **at = &p->buckets[h & (SF_PRELOAD_BUCKETS - 1)];
  while (*at != NULL &&
         ((*at)->hash != h || (*at)->plen != plen || memcmp((*at)->path, path, plen) != 0))
    at = &(*at)->chain;
  return at;
}

/* Unlinks and frees the entry at *at (lock held). */
static void drop(sf_preload *p, sf_pre **at) {
  sf_pre *e = *at;
  *at = e->chain;
  if (e->older) e->older->newer = e->newer; else p->oldest = e->newer;
  if (e->newer) e->newer->older = e->older; else p->newest = e->older;
  p->bytes -= e->size;
  free(e);
}

static void drop_oldest(sf_preload *p) {
  sf_pre *e = p->oldest;
  drop(p, slot_of(p, e->hash, e->path, e->plen));
  p->dropped++;
}

/* Drops every entry (lock held). */
static void clear(sf_preload *p) {
  while (p->oldest != NULL) drop_oldest(p);
}

void sf_preload_end(sf_preload *p) {
  pthread_mutex_lock(&p->lock);
  p->limit = 0;
  p->ended = 1;
  clear(p);
  pthread_mutex_unlock(&p->lock);
}

int sf_preload_read(sf_preload *p, const char *path, char *buf, size_t size, off_t off) {
  if (path == NULL || __atomic_load_n(&p->limit, __ATOMIC_RELAXED) == 0) return -1;
  size_t plen = strlen(path);
  uint64_t h = sf_path_hash(path, plen);
  int n = -1;
  pthread_mutex_lock(&p->lock);
  sf_pre **at = slot_of(p, h, path, plen);
  sf_pre *e = *at;
  if (e != NULL) {
    size_t from = off < 0 ? 0 : (size_t)off;
    size_t take = from >= e->size ? 0 : e->size - from;
    if (take > size) take = size;
    memcpy(buf, e->data + from, take);
    n = (int)take;
    p->served++;
    p->served_bytes += take;
    if (from + take >= e->size) drop(p, at);
  }
  pthread_mutex_unlock(&p->lock);
  return n;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Makes room for `size` more bytes from stale entries (lock held); false when it cannot. */
static bool make_room(sf_preload *p, size_t size) {
  uint64_t now = now_ns();
  while (p->bytes + size > p->limit) {
    if (p->oldest == NULL || now - p->oldest->born < STALE_NS) return false;
    drop_oldest(p);
  }
  return true;
}

static sf_preload *preload_of(napi_env env, napi_value v) {
  void *ext = NULL;
  if (napi_get_value_external(env, v, &ext) != napi_ok || ext == NULL) return NULL;
  return &((sf_mount *)ext)->pre;
}

static napi_value boolean(napi_env env, bool b) {
  napi_value out;
  napi_get_boolean(env, b, &out);
  return out;
}

napi_value sf_js_preload(napi_env env, napi_callback_info info) {
  size_t argc = 3, plen = 0, size = 0;
  napi_value argv[3];
  void *path = NULL, *data = NULL;
  bool a = false, b = false;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  sf_preload *p = argc == 3 ? preload_of(env, argv[0]) : NULL;
  if (p == NULL || napi_is_buffer(env, argv[1], &a) != napi_ok || !a ||
      napi_is_buffer(env, argv[2], &b) != napi_ok || !b) {
    napi_throw_type_error(env, NULL, "preload(mount, path, data)");
    return NULL;
  }
  napi_get_buffer_info(env, argv[1], &path, &plen);
  napi_get_buffer_info(env, argv[2], &data, &size);
  if (plen == 0 || memchr(path, 0, plen) != NULL) return boolean(env, false);
  pthread_mutex_lock(&p->lock);
  sf_pre *e = NULL;
  uint64_t h = sf_path_hash(path, plen);
  if (!p->ended && size <= p->limit && size <= (size_t)INT32_MAX) {
    sf_pre **at = slot_of(p, h, path, plen);
    if (*at != NULL) drop(p, at);
    if (make_room(p, size)) e = malloc(sizeof *e + plen + size);
  }
  if (e != NULL) {
    e->born = now_ns();
    e->hash = h;
    e->plen = plen;
    e->size = size;
    memcpy(e->path, path, plen);
    e->data = e->path + plen;
    if (size > 0) memcpy(e->data, data, size);
    e->chain = p->buckets[h & (SF_PRELOAD_BUCKETS - 1)];
    p->buckets[h & (SF_PRELOAD_BUCKETS - 1)] = e;
    e->older = p->newest;
    e->newer = NULL;
    if (p->newest) p->newest->newer = e; else p->oldest = e;
    p->newest = e;
    p->bytes += size;
    p->added++;
  }
  pthread_mutex_unlock(&p->lock);
  return boolean(env, e != NULL);
}

napi_value sf_js_preload_limit(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  double bytes = -1;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  sf_preload *p = argc == 2 ? preload_of(env, argv[0]) : NULL;
  if (p == NULL || napi_get_value_double(env, argv[1], &bytes) != napi_ok || !(bytes >= 0)) {
    napi_throw_type_error(env, NULL, "preloadLimit(mount, bytes)");
    return NULL;
  }
  pthread_mutex_lock(&p->lock);
  if (!p->ended) {
    __atomic_store_n(&p->limit, (size_t)bytes, __ATOMIC_RELAXED);
    while (p->bytes > p->limit) drop_oldest(p);
  }
  pthread_mutex_unlock(&p->lock);
  return NULL;
}

napi_value sf_js_preload_stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  sf_preload *p = argc == 1 ? preload_of(env, argv[0]) : NULL;
  if (p == NULL) {
    napi_throw_type_error(env, NULL, "preloadStats(mount)");
    return NULL;
  }
  pthread_mutex_lock(&p->lock);
  double figures[4] = {(double)p->served, (double)p->served_bytes, (double)p->added,
                       (double)p->dropped};
  pthread_mutex_unlock(&p->lock);
  return sf_numbers(env, figures, 4);
}

napi_value sf_numbers(napi_env env, const double *values, uint32_t n) {
  napi_value out, v;
  napi_create_array_with_length(env, n, &out);
  for (uint32_t i = 0; i < n; i++) {
    napi_create_double(env, values[i], &v);
    napi_set_element(env, out, i, v);
  }
  return out;
}
