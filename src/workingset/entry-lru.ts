/**
 * EntryLru: the cached side of a WorkingSet (working-set.ts) — entries in least recently
 * used order, their cost against the byte capacity, pins, and eviction. A pinned entry is
 * never evicted; an entry's memory (a BufferPool slab) goes back to the pool once it is
 * neither cached nor pinned. Loads, and who waits for them, are the WorkingSet's.
 */
import type { BufferPool, Slab } from "./buffer-pool.js";
import type { PinnedBuffer } from "./working-set-types.js";

/** One inflated super-chunk kept in memory (or still pinned after it left the cache). */
export interface Entry {
  readonly data: Buffer;
  /** the pool slab under `data`, given back once the entry is neither cached nor pinned */
  slab: Slab | undefined;
  readonly cost: number;
  pins: number;
  /** false once evicted or cleared: releases no longer touch the accounting */
  cached: boolean;
  /** loaded by a prefetch and not acquired since */
  unused: boolean;
}

/** Byte-bounded LRU of entries with pins. */
export class EntryLru<K> {
  /** cached entries, least recently used first (Map keeps insertion order) */
  readonly #entries = new Map<K, Entry>();
  #bytes = 0;
  #unusedBytes = 0;
  #evictions = 0;

  constructor(
    private readonly capacity: number,
    private readonly pool: BufferPool,
  ) {}

  /** bytes counted against the capacity */
  get bytes(): number {
    return this.#bytes;
  }

  /** bytes of entries a prefetch loaded and nobody acquired yet */
  get unusedBytes(): number {
    return this.#unusedBytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  get evictions(): number {
    return this.#evictions;
  }

  /** Entries with at least one pin. */
  pinnedCount(): number {
    let pinned = 0;
    for (const e of this.#entries.values()) if (e.pins > 0) pinned++;
    return pinned;
  }

  /** The cached entry under `key`, without touching its place in the order. */
  peek(key: K): Entry | undefined {
    return this.#entries.get(key);
  }

  /** Marks the entry used now (most recently used, no longer an unused prefetch) and pins it. */
  use(key: K, entry: Entry): PinnedBuffer {
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    this.markUsed(entry);
    entry.pins++;
    return this.handle(entry);
  }

  /** A prefetched entry was acquired: it stops counting as unused. */
  markUsed(entry: Entry): void {
    if (!entry.unused) return;
    entry.unused = false;
    if (entry.cached) this.#unusedBytes -= entry.cost;
  }

  /** Caches `entry` under `key` as the newest, replacing any older one; evicts to fit. */
  insert(key: K, entry: Entry): void {
    const old = this.#entries.get(key);
    if (old !== undefined) this.#drop(key, old);
    entry.cached = true;
    this.#entries.set(key, entry);
    this.#bytes += entry.cost;
    if (entry.unused) this.#unusedBytes += entry.cost;
    // A fresh unpinned entry (a prefetch) is the newest: evict older ones before it.
    this.#evict();
  }

  /** A handle for one pin already counted in `entry.pins`. */
  handle(entry: Entry): PinnedBuffer {
    let released = false;
    return {
      data: entry.data,
      release: () => {
        if (released) return;
        released = true;
        entry.pins--;
        if (entry.pins === 0 && entry.cached) this.#evict();
        else this.giveBackIfFree(entry);
        // a load waiting for memory may now evict this entry
        if (entry.pins === 0 && this.pool.waiting > 0) this.pool.pump();
      },
    };
  }

  /** Hands an entry's slab back to the pool once it is neither cached nor pinned. */
  giveBackIfFree(entry: Entry): void {
    if (entry.cached || entry.pins > 0 || entry.slab === undefined) return;
    this.pool.giveBack(entry.slab);
    entry.slab = undefined;
  }

  /** Evicts the least recently used unpinned entry; false when every entry is pinned. */
  evictOne(): boolean {
    for (const [key, entry] of this.#entries) {
      if (entry.pins > 0) continue;
      this.#drop(key, entry);
      this.#evictions++;
      return true;
    }
    return false;
  }

  /** Drops the entries whose key `keep` rejects (their pins stay valid); answers how many. */
  retain(keep: (key: K) => boolean): number {
    let dropped = 0;
    for (const [key, entry] of [...this.#entries]) {
      if (keep(key)) continue;
      this.#drop(key, entry);
      dropped++;
    }
    return dropped;
  }

  /** Drops every entry (pins stay valid for their holders). */
  clear(): void {
    for (const e of this.#entries.values()) {
      e.cached = false;
      this.giveBackIfFree(e);
    }
    this.#entries.clear();
    this.#bytes = 0;
    this.#unusedBytes = 0;
  }

  /** Evicts least recently used unpinned entries until the bytes fit the capacity. */
  #evict(): void {
    for (const [key, entry] of this.#entries) {
      if (this.#bytes <= this.capacity) break;
      if (entry.pins > 0) continue;
      this.#drop(key, entry);
      this.#evictions++;
    }
  }

  /** Takes a cached entry out of the map and the accounting (its pins stay valid). */
  #drop(key: K, entry: Entry): void {
    this.#entries.delete(key);
    entry.cached = false;
    this.#bytes -= entry.cost;
    if (entry.unused) this.#unusedBytes -= entry.cost;
    this.giveBackIfFree(entry);
  }
}
