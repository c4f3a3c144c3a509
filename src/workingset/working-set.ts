/**
 * workingset: the LRU of inflated super-chunks that reads are served from. Pure, no I/O: the
 * caller supplies the `load` function that reads and inflates one super-chunk.
 *
 * Terms:
 * - *entry*: one inflated super-chunk kept in memory; it costs `data.length` plus a fixed
 *   per-entry overhead against the byte capacity (restic bloblru, DwarFS block_cache).
 * - *pin*: a reader holding an entry (between `acquire` and `release`). A pinned entry is never
 *   evicted, so pinned bytes may exceed the capacity for a while; the surplus is evicted as soon
 *   as the pins are released.
 * - *single-flight*: concurrent misses on one key share one call of `load`. A failed load is not
 *   cached; every waiter of that load gets its error and the next acquire loads again.
 * - *prefetch*: a load started before anyone asks, so a sequential reader finds the next
 *   super-chunk already inflated. Its errors are swallowed (a later acquire reports them).
 *   Until its first acquire a prefetched entry counts as *unused* (`unusedPrefetchBytes`),
 *   which lets a prefetch scheduler (prefetch-queue.ts) stop before it evicts its own work.
 */

import { assert } from "../errors.js";
import { MIB } from "../types.js";

/** Default capacity of a working set: bytes of inflated data kept. */
export const WORKINGSET_DEFAULT_BYTES = 512 * MIB;
/** Default per-entry overhead counted against the capacity (map slot, handle, header). */
export const WORKINGSET_ENTRY_OVERHEAD_BYTES = 512;

/** Options of a WorkingSet. */
export interface WorkingSetOptions {
  /** bytes of inflated data kept, default 512 MiB ({@link WORKINGSET_DEFAULT_BYTES}) */
  capacityBytes: number;
  /** fixed per-entry overhead counted against capacity, default 512 bytes */
  entryOverheadBytes?: number;
}

/** An acquired entry: `data` stays valid until (and after) `release`; copy what you keep long. */
export interface PinnedBuffer {
  readonly data: Buffer;
  /** Unpins the entry; idempotent. */
  release(): void;
}

/** Counters of a WorkingSet, for stats and tests. */
export interface WorkingSetStats {
  /** bytes counted against the capacity (data + overhead of every cached entry) */
  bytes: number;
  entries: number;
  /** acquires served from a cached entry */
  hits: number;
  /** acquires that had to wait for a load (their own or a shared one) */
  misses: number;
  /** calls of the load function (acquire misses and prefetches) */
  loads: number;
  evictions: number;
  /** entries with at least one pin */
  pinned: number;
  /** bytes of cached entries that a prefetch loaded and nobody acquired yet */
  unusedPrefetchBytes: number;
}

interface Entry {
  readonly data: Buffer;
  readonly cost: number;
  pins: number;
  /** false once evicted or cleared: releases no longer touch the accounting */
  cached: boolean;
  /** loaded by a prefetch and not acquired since */
  unused: boolean;
}

/** One load in progress. */
class Flight {
  promise!: Promise<Entry>;
  /** acquires waiting for this load; each gets a pin when it lands */
  waiters = 0;
}

/**
 * Byte-bounded LRU of inflated super-chunks with pins, single-flight loads and prefetch.
 * @example
 * const ws = new WorkingSet({ capacityBytes: 256 * MIB }, (id) => inflateSuperChunk(id));
 * const pin = await ws.acquire(id);
 * try { pin.data.copy(out, 0, start, end); } finally { pin.release(); }
 */
export class WorkingSet<K extends number | string = number> {
  readonly #capacity: number;
  readonly #overhead: number;
  readonly #load: (key: K, prefetch: boolean) => Promise<Buffer>;
  /** cached entries, least recently used first (Map keeps insertion order) */
  readonly #entries = new Map<K, Entry>();
  readonly #flights = new Map<K, Flight>();
  #bytes = 0;
  #unusedBytes = 0;
  #generation = 0;
  #hits = 0;
  #misses = 0;
  #loads = 0;
  #evictions = 0;

  /**
   * @param load reads and inflates one entry; `prefetch` is true for a load started by
   *   `prefetch` (nobody waits for it yet), false for one an acquire waits for.
   */
  constructor(opts: WorkingSetOptions, load: (key: K, prefetch: boolean) => Promise<Buffer>) {
    assert(
      Number.isFinite(opts.capacityBytes) && opts.capacityBytes >= 0,
      "capacityBytes is a non-negative number",
      { capacityBytes: opts.capacityBytes },
    );
    this.#capacity = opts.capacityBytes;
    this.#overhead = opts.entryOverheadBytes ?? WORKINGSET_ENTRY_OVERHEAD_BYTES;
    this.#load = load;
  }

  /**
   * Returns the inflated buffer pinned; concurrent misses on one key share one load
   * (single-flight); a failed load is not cached and every waiter gets the error.
   */
  async acquire(key: K): Promise<PinnedBuffer> {
    const hit = this.tryAcquire(key);
    if (hit !== undefined) return hit;
    this.#misses++;
    const flight = this.#flights.get(key) ?? this.#startLoad(key, false);
    // The pin is taken for this waiter when the load lands, before anything can evict it.
    flight.waiters++;
    const entry = await flight.promise;
    return this.#handle(entry);
  }

  /**
   * The cached entry pinned, synchronously, or undefined when it is not cached (nothing is
   * loaded then, and no miss is counted): lets a reader skip a promise on the hit path.
   */
  tryAcquire(key: K): PinnedBuffer | undefined {
    const cached = this.#entries.get(key);
    if (cached === undefined) return undefined;
    this.#hits++;
    this.#touch(key, cached);
    this.#markUsed(cached);
    return this.#pin(cached);
  }

  /** True when `key` is cached or being loaded. */
  has(key: K): boolean {
    return this.#entries.has(key) || this.#flights.has(key);
  }

  /**
   * Starts a load in the background if not present (prefetch). The promise settles when
   * that load does (at once when there is nothing to do); it never rejects.
   */
  prefetch(key: K): Promise<void> {
    if (this.#entries.has(key) || this.#flights.has(key)) return Promise.resolve();
    return this.#startLoad(key, true).promise.then(
      () => {},
      () => {},
    );
  }

  /** Counters and current size. */
  stats(): WorkingSetStats {
    let pinned = 0;
    for (const e of this.#entries.values()) if (e.pins > 0) pinned++;
    return {
      bytes: this.#bytes,
      entries: this.#entries.size,
      hits: this.#hits,
      misses: this.#misses,
      loads: this.#loads,
      evictions: this.#evictions,
      pinned,
      unusedPrefetchBytes: this.#unusedBytes,
    };
  }

  /**
   * Drops every cached entry. Buffers still pinned stay valid for their holders; loads in flight
   * still answer their waiters but are not cached.
   */
  clear(): void {
    for (const e of this.#entries.values()) e.cached = false;
    this.#entries.clear();
    this.#bytes = 0;
    this.#unusedBytes = 0;
    this.#generation++;
  }

  /** Bytes the working set may hold (its capacity). */
  get capacityBytes(): number {
    return this.#capacity;
  }

  #startLoad(key: K, prefetch: boolean): Flight {
    this.#loads++;
    const flight = new Flight();
    this.#flights.set(key, flight);
    flight.promise = this.#runLoad(key, flight, prefetch);
    return flight;
  }

  #markUsed(entry: Entry): void {
    if (!entry.unused) return;
    entry.unused = false;
    if (entry.cached) this.#unusedBytes -= entry.cost;
  }

  /**
   * Runs one load. On success the entry is built pinned once per waiter (so nothing can evict
   * it before they resume) and cached, unless `clear` ran meanwhile. A failure caches nothing.
   */
  async #runLoad(key: K, flight: Flight, prefetch: boolean): Promise<Entry> {
    const generation = this.#generation;
    try {
      const data = await this.#load(key, prefetch);
      const cost = data.length + this.#overhead;
      const unused = prefetch && flight.waiters === 0;
      const entry: Entry = { data, cost, pins: flight.waiters, cached: false, unused };
      if (generation === this.#generation) this.#insert(key, entry);
      return entry;
    } finally {
      if (this.#flights.get(key) === flight) this.#flights.delete(key);
    }
  }

  #insert(key: K, entry: Entry): void {
    entry.cached = true;
    this.#entries.set(key, entry);
    this.#bytes += entry.cost;
    if (entry.unused) this.#unusedBytes += entry.cost;
    // A fresh unpinned entry (a prefetch) is the newest: evict older ones before it.
    this.#evict();
  }

  #touch(key: K, entry: Entry): void {
    this.#entries.delete(key);
    this.#entries.set(key, entry);
  }

  #pin(entry: Entry): PinnedBuffer {
    entry.pins++;
    return this.#handle(entry);
  }

  /** A handle for one pin already counted in `entry.pins`. */
  #handle(entry: Entry): PinnedBuffer {
    let released = false;
    return {
      data: entry.data,
      release: () => {
        if (released) return;
        released = true;
        entry.pins--;
        if (entry.pins === 0 && entry.cached) this.#evict();
      },
    };
  }

  /** Evicts least recently used unpinned entries until the bytes fit the capacity. */
  #evict(): void {
    if (this.#bytes <= this.#capacity) return;
    for (const [key, entry] of this.#entries) {
      if (this.#bytes <= this.#capacity) return;
      if (entry.pins > 0) continue;
      this.#entries.delete(key);
      entry.cached = false;
      this.#bytes -= entry.cost;
      if (entry.unused) this.#unusedBytes -= entry.cost;
      this.#evictions++;
    }
  }
}
