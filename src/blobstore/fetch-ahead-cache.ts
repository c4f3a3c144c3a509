/**
 * FetchAheadCache: the memory of a FetchAheadBlobStore (fetch-ahead.ts). It keeps one slot
 * per object hinted, being fetched, held unread or kept after a read, starts fetches of
 * hinted objects up to a concurrency bound, and keeps every slot with a fetch within a
 * byte bound: room is made by dropping what was read longest ago, then objects held unread
 * for `staleMs`; when nothing can go, fetching ahead waits until reads take what is held.
 * A fetch ahead that fails is forgotten (its read then goes to the store itself).
 */

/** Options of a FetchAheadBlobStore. */
export interface FetchAheadOptions {
  /** fetches ahead running at once, at most; default 16 */
  concurrency?: number;
  /** bytes held, being fetched ahead, or kept after a read, at most; default 32 MiB */
  maxBytes?: number;
  /** hinted keys waiting to start, at most; further hints are dropped; default 1024 */
  maxPending?: number;
  /** ms after which an object held unread may be dropped for newer hints; default 5000 */
  staleMs?: number;
}

/** An object a reader expects to need: its key and its length in bytes. */
export interface FetchHint {
  readonly key: string;
  readonly bytes: number;
}

/** What fetching ahead did so far. */
export interface FetchAheadStats {
  /** fetches ahead started */
  started: number;
  /** reads answered from bytes fetched ahead (or joined to their fetch) */
  hits: number;
  /** reads answered from an object kept after an earlier read */
  reused: number;
  /** objects fetched ahead and dropped unread (room for newer hints, or closed) */
  wasted: number;
  /** fetches ahead that failed (the reads then went to the store themselves) */
  failed: number;
}

const DEFAULT_CONCURRENCY = 16;
const DEFAULT_MAX_BYTES = 32 * 1024 * 1024;
const DEFAULT_MAX_PENDING = 1024;
const DEFAULT_STALE_MS = 5000;

/**
 * One object: hinted and waiting (no fetch), being fetched, held unread (data, not read),
 * or kept after a read (data, read). Every slot with a fetch counts `bytes` against the bound.
 */
interface Slot {
  bytes: number;
  /** set once started; resolves to the bytes, or undefined when the fetch failed */
  fetch?: Promise<Buffer | undefined>;
  data?: Buffer;
  /** when the bytes arrived (ms, performance.now) */
  since?: number;
  /** a read took it */
  read?: boolean;
}

/** Fetches one whole object; the inner store's `get`. */
export type FetchObject = (key: string) => Promise<Buffer>;

/** Slots of fetched-ahead and kept objects, bounded by bytes. */
export class FetchAheadCache {
  readonly #fetch: FetchObject;
  readonly #concurrency: number;
  readonly #maxBytes: number;
  readonly #maxPending: number;
  readonly #staleMs: number;
  /** every object hinted or kept; a read moves its slot to the end (Map order: oldest first) */
  readonly #slots = new Map<string, Slot>();
  /** keys hinted and not started, oldest first */
  #pending: string[] = [];
  #running = 0;
  /** bytes of slots with a fetch (running, held, or kept) */
  #bytes = 0;
  #closed = false;
  readonly #stats: FetchAheadStats = { started: 0, hits: 0, reused: 0, wasted: 0, failed: 0 };

  constructor(fetch: FetchObject, opts: FetchAheadOptions = {}) {
    this.#fetch = fetch;
    this.#concurrency = Math.max(1, opts.concurrency ?? DEFAULT_CONCURRENCY);
    this.#maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    this.#maxPending = opts.maxPending ?? DEFAULT_MAX_PENDING;
    this.#staleMs = opts.staleMs ?? DEFAULT_STALE_MS;
  }

  /**
   * Objects about to be read, in the order they will be; keys already hinted or kept keep
   * their place. Answers how many were added.
   */
  hint(items: Iterable<FetchHint>): number {
    let added = 0;
    for (const { key, bytes } of items) {
      if (this.#closed || this.#pending.length >= this.#maxPending) break;
      if (this.#slots.has(key) || bytes > this.#maxBytes) continue;
      this.#slots.set(key, { bytes });
      this.#pending.push(key);
      added++;
    }
    this.#pump();
    return added;
  }

  /** Drops every hint and everything held or kept. */
  clear(): void {
    this.#pending = [];
    for (const [key, slot] of this.#slots) {
      if (slot.fetch !== undefined && !slot.read) this.#stats.wasted++;
      this.#drop(key, slot);
    }
  }

  /** Takes no more hints and drops everything held (idempotent). */
  close(): void {
    this.#closed = true;
    this.clear();
  }

  stats(): FetchAheadStats {
    return { ...this.#stats };
  }

  /** The whole object: from a slot when fetched ahead or kept, else fetched now (and kept). */
  async read(key: string): Promise<Buffer> {
    return (await this.#take(key)) ?? (await this.#readThrough(key));
  }

  /**
   * Fetches `key` now, and keeps it when room can be made without dropping
   * unread objects. While it runs, hints of the key and other reads of it join it.
   */
  async #readThrough(key: string): Promise<Buffer> {
    // a hint may have started a fetch of it while the caller waited
    const joined = await this.#take(key);
    if (joined !== undefined) return joined;
    const read = this.#fetch(key);
    if (this.#closed || this.#slots.has(key)) return read;
    const slot: Slot = { bytes: 0, read: true };
    slot.fetch = read.then(
      (data) => {
        if (this.#slots.get(key) !== slot) return data;
        if (this.#makeRoom(data.length, false)) {
          slot.bytes = data.length;
          this.#bytes += data.length;
          slot.data = data;
          slot.since = performance.now();
        } else this.#drop(key, slot);
        return data;
      },
      () => {
        this.#drop(key, slot);
        return undefined;
      },
    );
    this.#slots.set(key, slot);
    return read;
  }

  /** The object's bytes when fetched ahead or kept (joining a running fetch), else undefined. */
  async #take(key: string): Promise<Buffer | undefined> {
    const slot = this.#slots.get(key);
    if (slot === undefined) return undefined;
    if (slot.fetch === undefined) {
      // hinted, not started: the caller reads it now, so fetching it ahead is moot
      this.#drop(key, slot);
      return undefined;
    }
    const wasRead = slot.read === true;
    slot.read = true;
    // the most recently read goes last, so room is made from the others first
    this.#slots.delete(key);
    this.#slots.set(key, slot);
    const data = slot.data ?? (await slot.fetch);
    if (data !== undefined) this.#stats[wasRead ? "reused" : "hits"]++;
    this.#pump();
    return data;
  }

  /** A hint or copy that is no longer true (the object is being replaced or deleted). */
  forget(key: string): void {
    const slot = this.#slots.get(key);
    if (slot !== undefined) this.#drop(key, slot);
  }

  /** Removes a slot, releasing its bytes; a waiting key is skipped when its turn comes. */
  #drop(key: string, slot: Slot): void {
    if (this.#slots.get(key) !== slot) return;
    this.#slots.delete(key);
    if (slot.fetch !== undefined) this.#bytes -= slot.bytes;
  }

  /** Starts waiting hints while under the concurrency and byte bounds. */
  #pump(): void {
    while (!this.#closed && this.#pending.length > 0 && this.#running < this.#concurrency) {
      const key = this.#pending[0]!;
      const slot = this.#slots.get(key);
      if (slot === undefined || slot.fetch !== undefined) {
        this.#pending.shift();
        continue;
      }
      if (!this.#makeRoom(slot.bytes, true)) return;
      this.#pending.shift();
      this.#start(key, slot);
    }
  }

  /**
   * Drops objects already read (longest ago first), then with `dropStale` objects held
   * unread for `staleMs`, until `bytes` more fit; false when they still do not.
   */
  #makeRoom(bytes: number, dropStale: boolean): boolean {
    const fits = () => this.#bytes + bytes <= this.#maxBytes;
    for (const [key, slot] of this.#slots) {
      if (fits()) return true;
      if (slot.read && slot.data !== undefined) this.#drop(key, slot);
    }
    if (!dropStale) return fits();
    const staleBefore = performance.now() - this.#staleMs;
    for (const [key, slot] of this.#slots) {
      if (fits()) return true;
      if (slot.read || slot.since === undefined || slot.since > staleBefore) continue;
      this.#stats.wasted++;
      this.#drop(key, slot);
    }
    return fits();
  }

  #start(key: string, slot: Slot): void {
    this.#running++;
    this.#bytes += slot.bytes;
    this.#stats.started++;
    slot.fetch = this.#fetch(key).then(
      (data) => {
        slot.data = data;
        slot.since = performance.now();
        return data;
      },
      () => {
        this.#stats.failed++;
        this.#drop(key, slot);
        return undefined;
      },
    );
    void slot.fetch.finally(() => {
      this.#running--;
      this.#pump();
    });
  }
}
