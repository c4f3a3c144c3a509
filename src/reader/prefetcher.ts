/**
 * Prefetch driving: turns a reader's hints into background loads. A sequential reader
 * keeps `readaheadChunks` super-chunks inflating ahead of it (`after`), and a run of files
 * about to be read queues what they need, in order (`files`); both go through one
 * PrefetchQueue. Over a remote store the same hints also go, deeper, to the
 * FetchAheadBlobStore, which fetches the compressed super-chunks many at a time.
 */
import { superChunkKey } from "../blobstore/blob-store.js";
import type { FetchAheadBlobStore } from "../blobstore/fetch-ahead.js";
import type { MetaDb } from "../meta/meta-db.js";
import { OPEN_CODEC } from "../meta/write-table.js";
import type { SuperChunkId } from "../types.js";
import { PrefetchQueue } from "../workingset/prefetch-queue.js";
import type { WorkingSet } from "../workingset/working-set.js";
import type { ExtentTable } from "./extent-table.js";
import { planRange } from "./read-plan.js";

/** How far past a sequential read `after` looks for the next super-chunks. */
const READAHEAD_SCAN_BYTES = 64 * 1024 * 1024;

/** How a Prefetcher is set up (defaults are the owner's: see ContentReaderOptions). */
export interface PrefetcherSetup {
  readonly ws: WorkingSet<number>;
  /** prefetches started and not finished, at most */
  readonly maxInFlight: number;
  /** super-chunks kept inflating ahead of a sequential reader */
  readonly readahead: number;
  /** most super-chunks one `files` call queues */
  readonly filesChunks: number;
  /** the fetch-ahead wrapper of a remote store's blobs, else undefined */
  readonly fetchAhead: FetchAheadBlobStore | undefined;
  /** super-chunks a sequential reader fetches ahead of it (remote stores) */
  readonly fetchAheadChunks: number;
  /** super-chunks never to prefetch (a writer's open ones, served elsewhere) */
  readonly served?: (id: number) => boolean;
}

/** Background loads for the hints of readers. */
export class Prefetcher {
  readonly #queue: PrefetchQueue<number>;
  readonly #have: (id: number, needBytes: number) => boolean;

  constructor(private readonly s: PrefetcherSetup) {
    this.#queue = new PrefetchQueue(s.ws, { maxInFlight: s.maxInFlight });
    const served = s.served;
    this.#have =
      served === undefined
        ? (id, need) => s.ws.has(id, need)
        : (id, need) => served(id) || s.ws.has(id, need);
  }

  /**
   * A sequential reader just read [offset, offset+length) of `t`: keeps the next
   * `readahead` super-chunks that this range does not need inflating.
   */
  after(meta: MetaDb, t: ExtentTable, offset: number, length: number): void {
    const now = new Map<number, number>();
    planRange(t, offset, offset + length, { ids: [], needs: now, max: Infinity });
    const { readahead, fetchAhead, fetchAheadChunks } = this.s;
    const depth = fetchAhead === undefined ? readahead : fetchAheadChunks;
    const next: number[] = [];
    const needs = new Map<number, number>();
    const max = Math.max(readahead, depth);
    const end = offset + length + READAHEAD_SCAN_BYTES;
    planRange(t, offset + length, end, { ids: next, needs, max, have: this.#have, skip: now });
    // fetches first, so the loads the queue starts join them
    this.#hintFetch(meta, next);
    this.#queue.push(next.slice(0, readahead), (id) => needs.get(id) ?? 0);
  }

  /**
   * Contents about to be read whole, in this order: queues the super-chunks they need, in
   * that order, at most `filesChunks` not yet cached.
   */
  files(meta: MetaDb, tables: Iterable<ExtentTable>): void {
    const ids: number[] = [];
    const needs = new Map<number, number>();
    const max = this.s.filesChunks;
    for (const t of tables) {
      if (ids.length >= max) break;
      planRange(t, 0, t.size, { ids, needs, max, have: this.#have });
    }
    this.#hintFetch(meta, ids);
    this.#queue.push(ids, (id) => needs.get(id) ?? 0);
  }

  close(): void {
    this.#queue.close();
  }

  /** Tells the fetch-ahead wrapper (remote stores) which frozen super-chunks come next. */
  #hintFetch(meta: MetaDb, ids: readonly number[]): void {
    const fetchAhead = this.s.fetchAhead;
    if (fetchAhead === undefined || ids.length === 0) return;
    const hints = [];
    for (const id of ids) {
      const row = meta.getSuperChunk(id as SuperChunkId);
      if (row !== undefined && row.codec !== OPEN_CODEC) {
        hints.push({ key: superChunkKey(id), bytes: row.storedBytes });
      }
    }
    fetchAhead.hint(hints);
  }
}
