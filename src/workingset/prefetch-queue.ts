/**
 * PrefetchQueue: the scheduler of a WorkingSet's background loads. Readers push the keys
 * they expect to need, in the order they will need them; the queue starts them in that
 * order, at most `maxInFlight` at a time, so the inflate threads stay busy while a load a
 * reader waits for never sits behind a long backlog. It starts nothing while the entries
 * prefetched and not yet used fill `maxUnusedFraction` of the capacity, so a prefetch never
 * evicts what an earlier prefetch brought in for the same reader.
 */
import { assert } from "../errors.js";
import { MIB } from "../types.js";
import type { WorkingSet } from "./working-set.js";

/** Options of a PrefetchQueue. */
export interface PrefetchQueueOptions {
  /** loads started by the queue and not finished, at most; default 2 */
  maxInFlight?: number;
  /** keys waiting to start, at most; further keys are dropped until it drains; default 256 */
  maxQueued?: number;
  /** share of the capacity that prefetched, not yet used entries may fill; default 0.5 */
  maxUnusedFraction?: number;
  /** size assumed for an entry before any is cached; default 4 MiB */
  entryBytesGuess?: number;
}

const DEFAULT_MAX_IN_FLIGHT = 2;
const DEFAULT_MAX_QUEUED = 256;
const DEFAULT_MAX_UNUSED_FRACTION = 0.5;
const DEFAULT_ENTRY_BYTES_GUESS = 4 * MIB;

/**
 * Ordered, bounded, deduplicated background loads into a WorkingSet.
 * @example
 * const q = new PrefetchQueue(ws, { maxInFlight: 2 });
 * q.push([12, 13, 40]); // loads 12 and 13 now, 40 when one of them lands
 */
export class PrefetchQueue<K extends number | string = number> {
  readonly #ws: WorkingSet<K>;
  readonly #maxInFlight: number;
  readonly #maxQueued: number;
  readonly #maxUnused: number;
  readonly #guess: number;
  /** keys waiting, oldest first; `#queued` mirrors it for dedup, with the bytes each needs */
  #pending: K[] = [];
  readonly #queued = new Map<K, number>();
  #inFlight = 0;
  #closed = false;

  constructor(ws: WorkingSet<K>, opts: PrefetchQueueOptions = {}) {
    this.#ws = ws;
    this.#maxInFlight = opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    this.#maxQueued = opts.maxQueued ?? DEFAULT_MAX_QUEUED;
    this.#maxUnused = ws.capacityBytes * (opts.maxUnusedFraction ?? DEFAULT_MAX_UNUSED_FRACTION);
    this.#guess = opts.entryBytesGuess ?? DEFAULT_ENTRY_BYTES_GUESS;
    assert(this.#maxInFlight >= 1, "maxInFlight >= 1", { maxInFlight: this.#maxInFlight });
  }

  /** Keys waiting to start. */
  get pending(): number {
    return this.#pending.length;
  }

  /** Loads started by the queue and not finished. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Appends `keys` (in order) that are neither waiting nor cached nor loading, up to
   * `maxQueued` waiting in all, and starts what it may. `needBytes` says how many leading
   * bytes of each will be read (default 0: whatever the loader gives; see WorkingSet).
   * Returns how many were appended.
   */
  push(keys: Iterable<K>, needBytes?: (key: K) => number): number {
    let added = 0;
    for (const key of keys) {
      if (this.#closed || this.#pending.length >= this.#maxQueued) break;
      const need = needBytes?.(key) ?? 0;
      const queued = this.#queued.get(key);
      if (queued !== undefined) {
        if (need > queued) this.#queued.set(key, need);
        continue;
      }
      if (this.#ws.has(key, need)) continue;
      this.#queued.set(key, need);
      this.#pending.push(key);
      added++;
    }
    this.#pump();
    return added;
  }

  /** Drops every waiting key and stops starting loads; loads in flight finish. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#pending = [];
    this.#queued.clear();
  }

  /** Starts waiting keys while under the in-flight and unused-bytes bounds. */
  #pump(): void {
    while (this.#pending.length > 0 && this.#inFlight < this.#maxInFlight && this.#roomFor()) {
      const key = this.#pending.shift()!;
      const need = this.#queued.get(key) ?? 0;
      this.#queued.delete(key);
      if (this.#ws.has(key, need)) continue;
      this.#inFlight++;
      this.#ws.prefetch(key, need).then(() => {
        this.#inFlight--;
        this.#pump();
      });
    }
  }

  /** True when one more load fits the unused-prefetch budget (loads in flight counted too). */
  #roomFor(): boolean {
    const s = this.#ws.stats();
    const entry = s.entries > 0 ? s.bytes / s.entries : this.#guess;
    return s.unusedPrefetchBytes + (this.#inFlight + 1) * entry <= this.#maxUnused;
  }
}
