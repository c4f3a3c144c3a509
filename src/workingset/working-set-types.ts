/**
 * The shapes of a WorkingSet's contract (working-set.ts): the loader it calls, its
 * options, the pinned buffer an acquire answers, and its counters.
 */

/**
 * Reads and inflates one entry: at least its first `needBytes` bytes (more is fine, the
 * whole super-chunk always is). `prefetch` is true for a load started by `prefetch`.
 * `alloc(size, slabBytes)` gives a buffer from the working set's pool to inflate into (shared
 * memory an inflate thread can write), over memory of at least `slabBytes` (the whole
 * super-chunk's size, so that memory serves any later load too); a loader that returns such a buffer lets the working set reuse
 * it after eviction and count it against the capacity while the load runs.
 */
export type Loader<K> = (
  key: K,
  prefetch: boolean,
  needBytes: number,
  alloc: (size: number, slabBytes?: number) => Promise<Buffer>,
) => Promise<Buffer>;

/** Options of a WorkingSet. */
export interface WorkingSetOptions {
  /** bytes of inflated data kept, default 512 MiB (WORKINGSET_DEFAULT_BYTES, working-set.ts) */
  capacityBytes: number;
  /** fixed per-entry overhead counted against capacity, default 512 bytes */
  entryOverheadBytes?: number;
}

/**
 * An acquired entry: `data` is valid until `release` (its memory is reused after eviction);
 * copy out what you keep.
 */
export interface PinnedBuffer {
  readonly data: Buffer;
  /** Unpins the entry; idempotent. */
  release(): void;
}

/** Counters of a WorkingSet, for stats and tests. */
export interface WorkingSetStats {
  /** bytes the working set may hold */
  capacityBytes: number;
  /** bytes counted against the capacity (data + overhead of every cached entry) */
  bytes: number;
  entries: number;
  /** acquires served from a cached entry */
  hits: number;
  /** acquires that had to wait for a load (their own or a shared one) */
  misses: number;
  /** calls of the load function (acquire misses and prefetches) */
  loads: number;
  /** of those, the prefetches */
  prefetchLoads: number;
  /** sum of the loads' durations, ms (loads overlap: this can exceed the wall time) */
  loadMs: number;
  /** sum of the time acquire misses waited for a load, ms */
  waitMs: number;
  evictions: number;
  /** entries with at least one pin */
  pinned: number;
  /** bytes of cached entries that a prefetch loaded and nobody acquired yet */
  unusedPrefetchBytes: number;
}
