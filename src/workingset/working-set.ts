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
 * - *prefix*: an entry may hold only the first bytes of a super-chunk (the loader decides how
 *   many, at least what was asked). An acquire says how many leading bytes it needs
 *   (`needBytes`); a cached entry that is too short counts as a miss, and the longer load
 *   that follows replaces it.
 * - *prefetch*: a load started before anyone asks, so a sequential reader finds the next
 *   super-chunk already inflated. Its errors are swallowed (a later acquire reports them).
 *   Until its first acquire a prefetched entry counts as *unused* (`unusedPrefetchBytes`),
 *   which lets a prefetch scheduler (prefetch-queue.ts) stop before it evicts its own work.
 *
 * Files: working-set.ts (WorkingSet: acquires and single-flight loads), entry-lru.ts (the
 * cached entries: order, bytes, pins, eviction), working-set-types.ts (the contract's
 * shapes), buffer-pool.ts (the memory loads inflate into), prefetch-queue.ts.
 */

import { assert, InternalError } from "../errors.js";
import { MIB } from "../types.js";
import { BufferPool, type Slab } from "./buffer-pool.js";
import { type Entry, EntryLru } from "./entry-lru.js";
import type {
  Loader,
  PinnedBuffer,
  WorkingSetOptions,
  WorkingSetStats,
} from "./working-set-types.js";

/** Default capacity of a working set: bytes of inflated data kept. */
export const WORKINGSET_DEFAULT_BYTES = 512 * MIB;
/** Default per-entry overhead counted against the capacity (map slot, handle, header). */
export const WORKINGSET_ENTRY_OVERHEAD_BYTES = 512;

/** One load in progress. */
class Flight {
  promise!: Promise<Entry>;
  /** leading bytes this load was asked for */
  need = 0;
  /** acquires waiting for this load; each gets a pin when it lands */
  waiters = 0;
  /** slabs the load took from the pool */
  readonly slabs: Slab[] = [];
  /** set by `retain`: the result answers its waiters but is not cached */
  discard = false;
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
  readonly #load: Loader<K>;
  readonly #pool = new BufferPool();
  readonly #lru: EntryLru<K>;
  readonly #flights = new Map<K, Flight>();
  #generation = 0;
  #hits = 0;
  #misses = 0;
  #loads = 0;
  #prefetchLoads = 0;
  #loadMs = 0;
  #waitMs = 0;

  /**
   * @param load reads and inflates one entry; `prefetch` is true for a load started by
   *   `prefetch` (nobody waits for it yet), false for one an acquire waits for.
   */
  constructor(opts: WorkingSetOptions, load: Loader<K>) {
    assert(
      Number.isFinite(opts.capacityBytes) && opts.capacityBytes >= 0,
      "capacityBytes is a non-negative number",
      { capacityBytes: opts.capacityBytes },
    );
    this.#capacity = opts.capacityBytes;
    this.#overhead = opts.entryOverheadBytes ?? WORKINGSET_ENTRY_OVERHEAD_BYTES;
    this.#load = load;
    this.#lru = new EntryLru(this.#capacity, this.#pool);
  }

  /**
   * Returns the inflated buffer pinned, holding at least its first `needBytes` bytes (default
   * 0: whatever the loader gives); concurrent misses on one key share one load
   * (single-flight); a failed load is not cached and every waiter gets the error.
   */
  async acquire(key: K, needBytes = 0): Promise<PinnedBuffer> {
    const hit = this.tryAcquire(key, needBytes);
    if (hit !== undefined) return hit;
    this.#misses++;
    const t0 = performance.now();
    try {
      return await this.#acquireMissed(key, needBytes);
    } finally {
      this.#waitMs += performance.now() - t0;
    }
  }

  async #acquireMissed(key: K, needBytes: number): Promise<PinnedBuffer> {
    for (;;) {
      const current = this.#flights.get(key);
      if (current !== undefined && current.need < needBytes) {
        // a shorter load is in flight: let it land, then load what this reader needs
        await current.promise.catch(() => undefined);
        const later = this.#tryPin(key, needBytes);
        if (later !== undefined) return later;
        continue;
      }
      const flight = current ?? this.#startLoad(key, false, needBytes);
      // The pin is taken for this waiter when the load lands, before anything can evict it.
      flight.waiters++;
      const entry = await flight.promise;
      const pin = this.#lru.handle(entry);
      if (entry.data.length >= needBytes) return pin;
      pin.release();
      throw new InternalError("working set load returned fewer bytes than asked", {
        key,
        needBytes,
        got: entry.data.length,
      });
    }
  }

  /**
   * The cached entry pinned, synchronously, or undefined when it is not cached or holds fewer
   * than `needBytes` leading bytes (nothing is loaded then, and no miss is counted): lets a
   * reader skip a promise on the hit path.
   */
  tryAcquire(key: K, needBytes = 0): PinnedBuffer | undefined {
    const pin = this.#tryPin(key, needBytes);
    if (pin !== undefined) this.#hits++;
    return pin;
  }

  /** tryAcquire without counting a hit. */
  #tryPin(key: K, needBytes: number): PinnedBuffer | undefined {
    const cached = this.#lru.peek(key);
    if (cached === undefined || cached.data.length < needBytes) return undefined;
    return this.#lru.use(key, cached);
  }

  /** True when `key` is cached or being loaded (with at least `needBytes` leading bytes). */
  has(key: K, needBytes = 0): boolean {
    const e = this.#lru.peek(key);
    if (e !== undefined && e.data.length >= needBytes) return true;
    return this.#flights.has(key);
  }

  /**
   * Starts a load in the background if not present (prefetch) with at least `needBytes`
   * leading bytes. The promise settles when that load does (at once when there is nothing to
   * do); it never rejects.
   */
  prefetch(key: K, needBytes = 0): Promise<void> {
    if (this.has(key, needBytes)) return Promise.resolve();
    return this.#startLoad(key, true, needBytes).promise.then(
      () => {},
      () => {},
    );
  }

  /** Counters and current size. */
  stats(): WorkingSetStats {
    return {
      capacityBytes: this.#capacity,
      bytes: this.#lru.bytes,
      entries: this.#lru.size,
      hits: this.#hits,
      misses: this.#misses,
      loads: this.#loads,
      prefetchLoads: this.#prefetchLoads,
      loadMs: this.#loadMs,
      waitMs: this.#waitMs,
      evictions: this.#lru.evictions,
      pinned: this.#lru.pinnedCount(),
      unusedPrefetchBytes: this.#lru.unusedBytes,
    };
  }

  /**
   * Drops every cached entry. Buffers still pinned stay valid for their holders; loads in flight
   * still answer their waiters but are not cached.
   */
  clear(): void {
    this.#lru.clear();
    this.#generation++;
  }

  /**
   * Drops the cached entries whose key `keep` rejects (pins on them stay valid for their
   * holders); loads in flight for such keys still answer their waiters but are not cached,
   * and later acquires start a new load. Nothing under a rejected key is served from what
   * was cached or loading before. Answers how many cached entries were dropped.
   */
  retain(keep: (key: K) => boolean): number {
    const dropped = this.#lru.retain(keep);
    for (const [key, flight] of [...this.#flights]) {
      if (keep(key)) continue;
      flight.discard = true;
      this.#flights.delete(key);
    }
    return dropped;
  }

  /** Bytes the working set may hold (its capacity). */
  get capacityBytes(): number {
    return this.#capacity;
  }

  #startLoad(key: K, prefetch: boolean, needBytes: number): Flight {
    this.#loads++;
    if (prefetch) this.#prefetchLoads++;
    const flight = new Flight();
    flight.need = needBytes;
    this.#flights.set(key, flight);
    flight.promise = this.#runLoad(key, flight, prefetch);
    return flight;
  }

  /**
   * Runs one load. On success the entry is built pinned once per waiter (so nothing can evict
   * it before they resume) and cached, unless `clear` ran meanwhile. A failure caches nothing.
   */
  async #runLoad(key: K, flight: Flight, prefetch: boolean): Promise<Entry> {
    const generation = this.#generation;
    const t0 = performance.now();
    try {
      const data = await this.#load(key, prefetch, flight.need, (size, slab) =>
        this.#take(flight, size, slab),
      );
      const slab = flight.slabs.find((x) => x === data.buffer);
      const cost = (slab?.byteLength ?? data.length) + this.#overhead;
      const unused = prefetch && flight.waiters === 0;
      const entry: Entry = { data, slab, cost, pins: flight.waiters, cached: false, unused };
      this.#settle(flight, slab);
      if (generation === this.#generation && !flight.discard) this.#lru.insert(key, entry);
      else this.#lru.giveBackIfFree(entry);
      return entry;
    } catch (err) {
      this.#settle(flight, undefined);
      throw err;
    } finally {
      this.#loadMs += performance.now() - t0;
      if (this.#flights.get(key) === flight) this.#flights.delete(key);
    }
  }

  /** A buffer for a load, from the pool, within the capacity as far as eviction allows. */
  async #take(flight: Flight, size: number, slabBytes?: number): Promise<Buffer> {
    const buf = await this.#pool.take(size, this.#capacity, () => this.#lru.evictOne(), slabBytes);
    flight.slabs.push(this.#pool.slabOf(buf)!);
    return buf;
  }

  /** A load ended: the slabs it took, but the one its entry `kept`, go back to the pool. */
  #settle(flight: Flight, kept: Slab | undefined): void {
    for (const slab of flight.slabs) if (slab !== kept) this.#pool.giveBack(slab);
    flight.slabs.length = 0;
  }
}
