/*
 * Directory listings in C: one allocation per listing (header, compact stats, name offsets,
 * the names back to back, the directory's path), shared by reference count between the open
 * handles reading it and the mount's listing cache. The cache keeps the listings JS gave for
 * a mount whose tree cannot change (JS turns it on with setListingCache), keyed by the
 * directory's path, so a later opendir/readdir of that path is served here without a trip
 * to JS. It is bounded in bytes (the allocations' sizes plus its hash table); the least
 * recently used listing goes first. One mutex guards the table and the LRU list; a listing's
 * count is atomic, so a handle may drop its listing on any thread.
 */
#include <stdlib.h>
#include <string.h>
#include "sfuse.h"

static size_t align8(size_t n) { return (n + 7) & ~(size_t)7; }

sf_listing *sf_listing_new(uint32_t n, int with_st, size_t name_bytes, const char *key) {
  size_t keylen = key ? strlen(key) : 0;
  size_t st_at = align8(sizeof(sf_listing));
  size_t off_at = st_at + (with_st ? (size_t)n * sizeof(sf_cstat) : 0);
  size_t names_at = off_at + ((size_t)n + 1) * sizeof(uint32_t);
  size_t key_at = names_at + name_bytes;
  size_t bytes = key_at + keylen + 1;
  char *p = malloc(bytes);
  if (p == NULL) return NULL;
  sf_listing *l = (sf_listing *)p;
  memset(l, 0, sizeof *l);
  l->refs = 1;
  l->n = n;
  l->bytes = bytes;
  l->st = with_st ? (sf_cstat *)(p + st_at) : NULL;
  l->off = (uint32_t *)(p + off_at);
  l->names = p + names_at;
  l->key = p + key_at;
  l->keylen = (uint32_t)keylen;
  if (keylen) memcpy(l->key, key, keylen);
  l->key[keylen] = 0;
  l->off[0] = 0;
  return l;
}

void sf_listing_unref(sf_listing *l) {
  if (l != NULL && __atomic_sub_fetch(&l->refs, 1, __ATOMIC_ACQ_REL) == 0) free(l);
}

static void listing_ref(sf_listing *l) { __atomic_add_fetch(&l->refs, 1, __ATOMIC_RELAXED); }
sf_listing *sf_listing_ref(sf_listing *l) {
  if (l != NULL) listing_ref(l);
  return l;
}

void sf_cstat_to_stat(const sf_cstat *c, struct stat *st) {
  memset(st, 0, sizeof *st);
  st->st_ino = (ino_t)c->ino;
  st->st_mode = (mode_t)c->mode;
  st->st_nlink = (nlink_t)c->nlink;
  st->st_uid = (uid_t)c->uid;
  st->st_gid = (gid_t)c->gid;
  st->st_rdev = (dev_t)c->rdev;
  st->st_size = (off_t)c->size;
  st->st_blocks = (blkcnt_t)c->blocks;
  st->st_blksize = (blksize_t)c->blksize;
  st->st_atim.tv_sec = (time_t)c->atime_s;
  st->st_atim.tv_nsec = (long)c->atime_ns;
  st->st_mtim.tv_sec = (time_t)c->mtime_s;
  st->st_mtim.tv_nsec = (long)c->mtime_ns;
  st->st_ctim.tv_sec = (time_t)c->ctime_s;
  st->st_ctim.tv_nsec = (long)c->ctime_ns;
}

uint64_t sf_path_hash(const char *s, size_t len) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
  return h;
}

void sf_lc_init(sf_lcache *c) {
  memset(c, 0, sizeof *c);
  pthread_mutex_init(&c->lock, NULL);
}

static size_t table_bytes(const sf_lcache *c) { return c->nbuckets * sizeof *c->buckets; }

static void lru_unlink(sf_lcache *c, sf_listing *l) {
  if (l->prev) l->prev->next = l->next;
  else c->head = l->next;
  if (l->next) l->next->prev = l->prev;
  else c->tail = l->prev;
  l->prev = l->next = NULL;
}

static void lru_push_front(sf_lcache *c, sf_listing *l) {
  l->prev = NULL;
  l->next = c->head;
  if (c->head) c->head->prev = l;
  c->head = l;
  if (c->tail == NULL) c->tail = l;
}

/* Takes `l` out of the table and the LRU list and drops the cache's reference. Lock held. */
static void lc_remove(sf_lcache *c, sf_listing *l) {
  sf_listing **pp = &c->buckets[l->hash & (c->nbuckets - 1)];
  while (*pp != l) pp = &(*pp)->hnext;
  *pp = l->hnext;
  lru_unlink(c, l);
  c->bytes -= l->bytes;
  c->entries -= l->n;
  c->count--;
  sf_listing_unref(l);
}

static void lc_evict_to(sf_lcache *c, size_t budget) {
  while (c->tail != NULL && c->bytes + table_bytes(c) > budget) {
    lc_remove(c, c->tail);
    c->evictions++;
  }
}

/* Doubles the table once it holds more listings than buckets. Lock held. */
static void lc_grow(sf_lcache *c) {
  size_t n = c->nbuckets ? c->nbuckets * 2 : 256;
  sf_listing **b = calloc(n, sizeof *b);
  if (b == NULL) return;
  for (size_t i = 0; i < c->nbuckets; i++) {
    for (sf_listing *l = c->buckets[i], *next; l != NULL; l = next) {
      next = l->hnext;
      l->hnext = b[l->hash & (n - 1)];
      b[l->hash & (n - 1)] = l;
    }
  }
  free(c->buckets);
  c->buckets = b;
  c->nbuckets = n;
}

sf_listing *sf_lc_get(sf_lcache *c, const char *path) {
  if (__atomic_load_n(&c->budget, __ATOMIC_ACQUIRE) == 0) return NULL;
  size_t len = strlen(path);
  uint64_t h = sf_path_hash(path, len);
  sf_listing *found = NULL;
  pthread_mutex_lock(&c->lock);
  if (c->nbuckets > 0) {
    for (sf_listing *l = c->buckets[h & (c->nbuckets - 1)]; l != NULL; l = l->hnext) {
      if (l->hash == h && l->keylen == len && memcmp(l->key, path, len) == 0) {
        found = l;
        break;
      }
    }
  }
  if (found != NULL) {
    listing_ref(found);
    lru_unlink(c, found);
    lru_push_front(c, found);
    c->hits++;
  } else {
    c->misses++;
  }
  pthread_mutex_unlock(&c->lock);
  return found;
}

void sf_lc_put(sf_lcache *c, sf_listing *l) {
  pthread_mutex_lock(&c->lock);
  size_t budget = c->budget;
  if (budget == 0 || l->bytes > budget / 2 || l->prev || l->next || c->head == l) {
    pthread_mutex_unlock(&c->lock); /* off, too big to keep, or already kept */
    return;
  }
  if (c->count >= c->nbuckets) lc_grow(c);
  if (c->nbuckets == 0) {
    pthread_mutex_unlock(&c->lock);
    return;
  }
  l->hash = sf_path_hash(l->key, l->keylen);
  sf_listing **pp = &c->buckets[l->hash & (c->nbuckets - 1)];
  for (sf_listing *o = *pp; o != NULL; o = o->hnext) {
    if (o->hash == l->hash && o->keylen == l->keylen && memcmp(o->key, l->key, l->keylen) == 0) {
      lc_remove(c, o); /* a listing of the same path read meanwhile: the newer one stays */
      break;
    }
  }
  listing_ref(l);
  l->hnext = c->buckets[l->hash & (c->nbuckets - 1)];
  c->buckets[l->hash & (c->nbuckets - 1)] = l;
  lru_push_front(c, l);
  c->bytes += l->bytes;
  c->count++;
  c->entries += l->n;
  lc_evict_to(c, budget);
  if (c->bytes + table_bytes(c) > c->peak_bytes) c->peak_bytes = c->bytes + table_bytes(c);
  if (c->entries > c->peak_entries) c->peak_entries = c->entries;
  pthread_mutex_unlock(&c->lock);
}

/* Drops every listing and the table (not counted as evictions). Lock held. */
static void lc_drop_all(sf_lcache *c) {
  while (c->tail != NULL) lc_remove(c, c->tail);
  free(c->buckets);
  c->buckets = NULL;
  c->nbuckets = 0;
}

void sf_lc_set_budget(sf_lcache *c, size_t budget) {
  pthread_mutex_lock(&c->lock);
  __atomic_store_n(&c->budget, budget, __ATOMIC_RELEASE);
  if (budget == 0) lc_drop_all(c);
  else lc_evict_to(c, budget);
  pthread_mutex_unlock(&c->lock);
}

void sf_lc_clear(sf_lcache *c) {
  pthread_mutex_lock(&c->lock);
  lc_drop_all(c);
  pthread_mutex_unlock(&c->lock);
}

void sf_lc_destroy(sf_lcache *c) {
  sf_lc_clear(c);
  pthread_mutex_destroy(&c->lock);
}

/* setListingCache(mount, bytes): keep listings up to `bytes` (0: off, all dropped). JS turns
 * it on only for a mount whose tree cannot change. */
napi_value sf_js_set_listing_cache(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  void *ext = NULL;
  double bytes = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || napi_get_value_external(env, argv[0], &ext) != napi_ok ||
      napi_get_value_double(env, argv[1], &bytes) != napi_ok || !(bytes >= 0)) {
    napi_throw_type_error(env, NULL, "setListingCache(mount, bytes)");
    return NULL;
  }
  sf_lc_set_budget(&((sf_mount *)ext)->listings, (size_t)bytes);
  return NULL;
}

static void set_num(napi_env env, napi_value obj, const char *name, double v) {
  napi_value n;
  napi_create_double(env, v, &n);
  napi_set_named_property(env, obj, name, n);
}

/* listingCacheStats(mount) -> {budget, bytes, listings, entries, peakBytes, peakEntries, hits,
 * misses, evictions} */
napi_value sf_js_listing_cache_stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  void *ext = NULL;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_external(env, argv[0], &ext) != napi_ok) {
    napi_throw_type_error(env, NULL, "listingCacheStats(mount)");
    return NULL;
  }
  sf_lcache *c = &((sf_mount *)ext)->listings;
  napi_create_object(env, &out);
  pthread_mutex_lock(&c->lock);
  set_num(env, out, "budget", (double)c->budget);
  set_num(env, out, "bytes", (double)(c->bytes + table_bytes(c)));
  set_num(env, out, "listings", (double)c->count);
  set_num(env, out, "entries", (double)c->entries);
  set_num(env, out, "peakBytes", (double)c->peak_bytes);
  set_num(env, out, "peakEntries", (double)c->peak_entries);
  set_num(env, out, "hits", (double)c->hits);
  set_num(env, out, "misses", (double)c->misses);
  set_num(env, out, "evictions", (double)c->evictions);
  pthread_mutex_unlock(&c->lock);
  return out;
}
