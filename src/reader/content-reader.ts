/**
 * ContentReader: the one way committed bytes are read, by content rather than by inode,
 * shared by the read-only side (StoreReader) and the writer (which overlays its unsaved
 * writes on top). It owns the pieces: the extent tables (extent-table.ts), the working
 * set of inflated super-chunks filled by the SuperChunkLoader, the read path
 * (read-path.ts) and prefetching (prefetcher.ts). Over a remote store (S3, an archive
 * over HTTP) reads go through a FetchAheadBlobStore, which the prefetch hints feed.
 * Every extent served is first checked against the super-chunk it is read from
 * (chunk-checks.ts). The caller owns the database, the blob store and the codec pool, and
 * closes them.
 */
import type { BlobStore } from "../blobstore/blob-store.js";
import type { TransferStats } from "../blobstore/byte-source.js";
import { FetchAheadBlobStore, type FetchAheadStats } from "../blobstore/fetch-ahead.js";
import type { CodecPool } from "../codec/codec-pool.js";
import type { MetaDb } from "../meta/meta-db.js";
import type { ContentId } from "../meta/records.js";
import type { SuperChunkHeader } from "../superchunk/superchunk-header.js";
import { MIB } from "../types.js";
import { WorkingSet } from "../workingset/working-set.js";
import type { WorkingSetStats } from "../workingset/working-set-types.js";
import { type ChunkCheckStats, ChunkChecks } from "./chunk-checks.js";
import { type ExtentTable, ExtentTables } from "./extent-table.js";
import { Prefetcher } from "./prefetcher.js";
import { type DirectChunks, readExtents, readExtentsIfCached } from "./read-path.js";
import { planRange } from "./read-plan.js";
import { SuperChunkLoader } from "./superchunk-loader.js";

/** How reads are checked and run ahead; every field has a default. */
export interface ReadTuning {
  /**
   * check each whole super-chunk's raw CRC after inflating it, besides its stored CRC;
   * default true (a mount turns it off: the stored CRC already guards the bytes on disk)
   */
  verifyRawCrc?: boolean;
  /** super-chunks kept inflating ahead of a sequential reader; default the pool's threads */
  readaheadChunks?: number;
  /** most super-chunks one `prefetchFiles` call queues; default 32 */
  prefetchFilesChunks?: number;
  /**
   * prefetches started and not finished, at most; default threads + 2, so reading the
   * next super-chunk files overlaps the inflates and no inflate thread waits for I/O
   */
  prefetchInFlight?: number;
  /**
   * remote stores: bytes of compressed super-chunks fetched ahead of the inflates; default
   * 32 MiB; 0 turns fetching ahead off (it is always off for local stores)
   */
  fetchAheadBytes?: number;
  /** remote stores: compressed super-chunks fetched at once, at most; default 16 */
  fetchAheadConcurrency?: number;
  /** remote stores: super-chunks a sequential reader fetches ahead of it; default 16 */
  fetchAheadChunks?: number;
}

/** Options of a ContentReader. */
export interface ContentReaderOptions extends ReadTuning {
  /** bytes of inflated super-chunks kept in the working set */
  cacheBytes: number;
  /** serve open super-chunks from their raw files (see SuperChunkLoader); default true */
  readOpen?: boolean;
  /** super-chunks served outside the working set (a writer's open ones) */
  direct?: DirectChunks;
}

const DEFAULT_PREFETCH_FILES_CHUNKS = 32;
const DEFAULT_FETCH_AHEAD_BYTES = 32 * MIB;
const DEFAULT_FETCH_AHEAD_CHUNKS = 16;
const PREFETCH_EXTRA_IN_FLIGHT = 2;

/** Reads contents out of super-chunks, with a working set and prefetching. */
export class ContentReader {
  readonly #ws: WorkingSet<number>;
  readonly #prefetch: Prefetcher;
  readonly #tables: ExtentTables;
  readonly #blobs: BlobStore;
  readonly #fetchAhead: FetchAheadBlobStore | undefined;
  readonly #direct: DirectChunks | undefined;
  readonly #checks = new ChunkChecks();
  #meta: MetaDb;
  #loader: SuperChunkLoader;

  constructor(
    meta: MetaDb,
    blobs: BlobStore,
    private readonly pool: CodecPool,
    private readonly opts: ContentReaderOptions,
  ) {
    this.#meta = meta;
    this.#direct = opts.direct;
    this.#tables = new ExtentTables(meta);
    this.#fetchAhead = fetchAheadFor(blobs, opts);
    this.#blobs = this.#fetchAhead ?? blobs;
    this.#loader = this.#newLoader(meta);
    this.#ws = new WorkingSet<number>({ capacityBytes: opts.cacheBytes }, (id, p, need, alloc) =>
      this.#loader.load(id, p, need, alloc),
    );
    const direct = opts.direct;
    this.#prefetch = new Prefetcher({
      ws: this.#ws,
      maxInFlight: opts.prefetchInFlight ?? pool.threads + PREFETCH_EXTRA_IN_FLIGHT,
      readahead: opts.readaheadChunks ?? pool.threads,
      filesChunks: opts.prefetchFilesChunks ?? DEFAULT_PREFETCH_FILES_CHUNKS,
      fetchAhead: this.#fetchAhead,
      fetchAheadChunks: opts.fetchAheadChunks ?? DEFAULT_FETCH_AHEAD_CHUNKS,
      ...(direct === undefined ? {} : { served: (id: number) => direct.isOpen(id) }),
    });
  }

  /** The blob store reads go through (a remote store's fetch-ahead wrapper). */
  get blobs(): BlobStore {
    return this.#blobs;
  }

  /** The extent table of `content` (null: an empty file) of `size` bytes. */
  table(content: ContentId | null, size: number): ExtentTable {
    return this.#tables.get(content, size);
  }

  /** Forgets the extents of a deleted content (content ids can be reused). */
  forget(content: ContentId): void {
    this.#tables.forget(content);
  }

  /**
   * Reads up to `target.length` bytes of `t` at `offset` into `target`; answers the count
   * (short only at the end). Synchronous when every super-chunk needed is cached.
   */
  readInto(t: ExtentTable, offset: number, target: Buffer): number | Promise<number> {
    return readExtents(this.#ws, t, offset, target, this.#checks, this.#direct);
  }

  /**
   * `readInto` when every super-chunk needed is cached or a writer's open one:
   * the count, else undefined with nothing loaded.
   */
  readIfCached(t: ExtentTable, offset: number, target: Buffer): number | undefined {
    return readExtentsIfCached(this.#ws, t, offset, target, this.#checks, this.#direct);
  }

  /** Super-chunk ids a read of [offset, offset+length) of `t` needs, in file order. */
  superChunksFor(t: ExtentTable, offset: number, length: number): number[] {
    const ids: number[] = [];
    planRange(t, offset, offset + length, { ids, needs: new Map(), max: Infinity });
    return ids;
  }

  /** A sequential reader just read [offset, offset+length) of `t`: loads what follows. */
  prefetchAfter(t: ExtentTable, offset: number, length: number): void {
    this.#prefetch.after(this.#meta, t, offset, length);
  }

  /** Contents about to be read whole, in this order: loads what they need (bounded). */
  prefetchFiles(tables: Iterable<ExtentTable>): void {
    this.#prefetch.files(this.#meta, tables);
  }

  /** The header of frozen super-chunk `id` (without inflating its payload). */
  loadHeader(id: number): Promise<SuperChunkHeader> {
    return this.#loader.loadHeader(id);
  }

  /**
   * Reads from `next` from now on: a newer generation of the same store. Drops the extent
   * tables and the cached super-chunks `keep` rejects; answers how many were dropped.
   */
  switchMeta(next: MetaDb, keep: (id: number) => boolean): number {
    this.#meta = next;
    this.#loader = this.#newLoader(next);
    this.#tables.reset(next);
    const dropped = this.#ws.retain(keep);
    this.#fetchAhead?.clear();
    return dropped;
  }

  /** What the checks of served extents have done (entry indexes built, sub-blocks hashed). */
  checkStats(): ChunkCheckStats {
    return this.#checks.stats();
  }

  workingSetStats(): WorkingSetStats {
    return this.#ws.stats();
  }

  /** What fetching ahead did, or undefined when the store is local (or it is off). */
  fetchAheadStats(): FetchAheadStats | undefined {
    return this.#fetchAhead?.stats();
  }

  /** Bytes fetched from an archive (file or URL) so far; undefined for a store directory. */
  transferStats(): TransferStats | undefined {
    return this.#blobs.transferStats?.();
  }

  /** Stops prefetching and drops the working set (not the store's database or blobs). */
  close(): void {
    this.#prefetch.close();
    this.#ws.clear();
  }

  #newLoader(meta: MetaDb): SuperChunkLoader {
    const { verifyRawCrc = true, readOpen = true } = this.opts;
    return new SuperChunkLoader(meta, this.#blobs, this.pool, this.#checks, verifyRawCrc, readOpen);
  }
}

/** The fetch-ahead wrapper for a remote store's blobs, or undefined (local, or off). */
function fetchAheadFor(blobs: BlobStore, opts: ReadTuning): FetchAheadBlobStore | undefined {
  const maxBytes = opts.fetchAheadBytes ?? DEFAULT_FETCH_AHEAD_BYTES;
  if (blobs.remote !== true || maxBytes <= 0) return undefined;
  const concurrency = opts.fetchAheadConcurrency;
  return new FetchAheadBlobStore(blobs, { maxBytes, ...(concurrency ? { concurrency } : {}) });
}
