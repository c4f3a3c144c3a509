/**
 * StoreReader: a store as a read-only file system (FsView). File offsets are
 * mapped to sub-blocks by binary search over each content's cumulative extent
 * offsets; sub-block bytes come from inflated super-chunks held in the working
 * set. Each super-chunk's checksums are verified once per inflate (the raw CRC on
 * the inflating worker).
 *
 * Fast paths: inode records and extent tables are cached (the store is immutable
 * while read; a followed S3 store switches generations only through `replaceMeta`), `readInto` copies straight into the caller's buffer and answers
 * synchronously when every super-chunk it needs is cached. Background loads go
 * through one PrefetchQueue: a sequential reader keeps `readaheadChunks` super-chunks
 * inflating ahead of it, and `prefetchFiles` queues what a run of files will need. Over a
 * remote store (S3, an archive over HTTP) the same hints also go, deeper, to a
 * FetchAheadBlobStore, which fetches the compressed super-chunks many at a time, so the
 * inflates find their input at hand instead of waiting one round trip each.
 */
import { type BlobStore, superChunkKey } from "../blobstore/blob-store.js";
import type { TransferStats } from "../blobstore/byte-source.js";
import { FetchAheadBlobStore, type FetchAheadStats } from "../blobstore/fetch-ahead.js";
import { CodecPool } from "../codec/codec-pool.js";
import { CorruptError, NotFoundError } from "../errors.js";
import type { MetaDb } from "../meta/meta-db.js";
import type { InodeRecord, ResolvedExtent } from "../meta/records.js";
import { OPEN_CODEC } from "../meta/write-table.js";
import { type OpenStore, openStore } from "../store/store-layout.js";
import { type InodeId, InodeKind, MIB, type SuperChunkId } from "../types.js";
import { PrefetchQueue } from "../workingset/prefetch-queue.js";
import {
  type PinnedBuffer,
  WORKINGSET_DEFAULT_BYTES,
  WorkingSet,
} from "../workingset/working-set.js";
import { INFO_XATTR, infoXattr, withInfoXattr } from "./file-info.js";
import type { FsUsage, FsView, InodeAttr } from "./fs-view.js";
import { SuperChunkLoader } from "./superchunk-loader.js";

/** Options of a StoreReader. */
export interface StoreReaderOptions {
  /** bytes of inflated super-chunks kept in the working set; default 512 MiB */
  cacheBytes?: number;
  /**
   * check each whole super-chunk's raw CRC after inflating it, besides its stored CRC;
   * default true (a mount turns it off: the stored CRC already guards the bytes on disk)
   */
  verifyRawCrc?: boolean;
  /** inflate threads; default 2 */
  threads?: number;
  /** super-chunks kept inflating ahead of a sequential reader; default `threads` */
  readaheadChunks?: number;
  /** most super-chunks one `prefetchFiles` call queues; default 32 */
  prefetchFilesChunks?: number;
  /**
   * prefetches started and not finished, at most; default `threads` + 2, so reading the
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

const DEFAULT_THREADS = 2;
const DEFAULT_PREFETCH_FILES_CHUNKS = 32;
const DEFAULT_FETCH_AHEAD_BYTES = 32 * MIB;
const DEFAULT_FETCH_AHEAD_CHUNKS = 16;
const PREFETCH_EXTRA_IN_FLIGHT = 2;
const EXTENT_CACHE_ENTRIES = 4096;
const INODE_CACHE_ENTRIES = 65_536;
/** How far past a sequential read `prefetchAfter` looks for the next super-chunks. */
const READAHEAD_SCAN_BYTES = 64 * MIB;

/** Extents of one content with cumulative offsets for binary search. */
interface ExtentTable {
  readonly starts: Float64Array;
  readonly extents: readonly ResolvedExtent[];
  readonly size: number;
}

const EMPTY_TABLE: ExtentTable = { starts: new Float64Array(0), extents: [], size: 0 };

export class StoreReader implements FsView {
  readonly root = 1 as InodeId;
  private readonly ws: WorkingSet<number>;
  private readonly queue: PrefetchQueue<number>;
  private readonly readahead: number;
  private readonly filesChunks: number;
  private readonly blobs: BlobStore;
  /** the fetch-ahead wrapper around a remote store's blobs, else undefined */
  private readonly fetchAhead: FetchAheadBlobStore | undefined;
  private readonly fetchAheadChunks: number;
  private readonly inodes = new Map<number, { rec: InodeRecord; attr: InodeAttr }>();
  private readonly extentCache = new Map<number, ExtentTable>();
  private readonly verifyRawCrc: boolean;
  private current: MetaDb;
  private loader: SuperChunkLoader;
  private switches = 0;
  private closed = false;

  constructor(
    meta: MetaDb,
    blobs: BlobStore,
    private readonly pool: CodecPool,
    cacheBytes: number,
    opts: Omit<StoreReaderOptions, "cacheBytes"> = {},
  ) {
    this.current = meta;
    this.verifyRawCrc = opts.verifyRawCrc ?? true;
    const aheadBytes = opts.fetchAheadBytes ?? DEFAULT_FETCH_AHEAD_BYTES;
    this.fetchAhead =
      blobs.remote === true && aheadBytes > 0
        ? new FetchAheadBlobStore(blobs, {
            maxBytes: aheadBytes,
            ...(opts.fetchAheadConcurrency ? { concurrency: opts.fetchAheadConcurrency } : {}),
          })
        : undefined;
    this.blobs = this.fetchAhead ?? blobs;
    this.fetchAheadChunks = opts.fetchAheadChunks ?? DEFAULT_FETCH_AHEAD_CHUNKS;
    this.loader = new SuperChunkLoader(meta, this.blobs, pool, this.verifyRawCrc);
    this.ws = new WorkingSet<number>({ capacityBytes: cacheBytes }, (id, prefetch, need, alloc) =>
      this.loader.load(id, prefetch, need, alloc),
    );
    const maxInFlight = opts.prefetchInFlight ?? pool.threads + PREFETCH_EXTRA_IN_FLIGHT;
    this.queue = new PrefetchQueue(this.ws, { maxInFlight });
    this.readahead = opts.readaheadChunks ?? pool.threads;
    this.filesChunks = opts.prefetchFilesChunks ?? DEFAULT_PREFETCH_FILES_CHUNKS;
  }

  /** The database served (a followed store's current generation). */
  get meta(): MetaDb {
    return this.current;
  }

  /** How many times `replaceMeta` switched the tree (see FsView.epoch). */
  get epoch(): number {
    return this.switches;
  }

  /**
   * Serves `next` from now on: a newer generation of the same store, in which a super-chunk
   * id names the same immutable bytes as before. Drops the inode and extent caches and the
   * working-set entries of super-chunks that `next` lacks or describes differently, keeps
   * the rest, and bumps `epoch`. Reads already running finish with the extents they
   * resolved (or fail cleanly when a super-chunk they need is gone). Answers the previous
   * database, which the caller closes, and how many cached super-chunks were dropped.
   */
  replaceMeta(next: MetaDb): { previous: MetaDb; dropped: number } {
    const previous = this.current;
    const same = unchangedSuperChunks(previous, next);
    this.current = next;
    this.loader = new SuperChunkLoader(next, this.blobs, this.pool, this.verifyRawCrc);
    this.inodes.clear();
    this.extentCache.clear();
    const dropped = this.ws.retain((id) => same.has(id));
    this.fetchAhead?.clear();
    this.switches++;
    return { previous, dropped };
  }

  getattr(ino: InodeId): InodeAttr | undefined {
    return this.inode(ino)?.attr;
  }

  lookupPath(p: Buffer | string): InodeId | undefined {
    return this.meta.resolvePath(p);
  }

  lookup(parent: InodeId, name: Buffer): InodeId | undefined {
    return this.meta.lookup(parent, name);
  }

  readdir(dir: InodeId): { name: Buffer; ino: InodeId }[] {
    return this.meta.listDir(dir);
  }

  readlink(ino: InodeId): Buffer {
    const r = this.inode(ino)?.rec;
    if (!r || r.kind !== InodeKind.symlink || !r.target) {
      throw new NotFoundError("E_NOT_FOUND", `inode ${ino} is not a symlink`, { ino });
    }
    return r.target;
  }

  async read(ino: InodeId, offset: number, length: number): Promise<Buffer> {
    const size = this.extentsOf(ino).size;
    const out = Buffer.allocUnsafe(Math.max(0, Math.min(size, offset + length) - offset));
    // every byte of `out` is written below: a copied sub-block or a zero-filled hole
    const n = await this.readInto(ino, offset, out);
    return out.subarray(0, n);
  }

  /**
   * Reads up to `target.length` bytes at `offset` into `target`; answers the count (short
   * only at end of file). Synchronous when every super-chunk needed is cached.
   */
  readInto(ino: InodeId, offset: number, target: Buffer): number | Promise<number> {
    const table = this.extentsOf(ino);
    const end = Math.min(table.size, offset + target.length);
    if (offset >= end) return 0;
    const waits: Promise<void>[] = [];
    let i = findExtent(table.starts, offset);
    for (let pos = offset; pos < end; i++) {
      const ext = table.extents[i]!;
      const from = pos - ext.fileOffset;
      const n = Math.min(ext.length - from, end - pos);
      const at = pos - offset;
      if (ext.superChunk === null) target.fill(0, at, at + n);
      else {
        const pin = this.ws.tryAcquire(ext.superChunk, ext.offset + ext.length);
        if (pin !== undefined) copyPinned(pin, ext, from, n, target, at);
        else waits.push(this.copyFrom(ext, from, n, target, at));
      }
      pos += n;
    }
    const count = end - offset;
    return waits.length === 0 ? count : Promise.all(waits).then(() => count);
  }

  /** Super-chunk ids a read of [offset, offset+length) needs, in file order. */
  superChunksFor(ino: InodeId, offset: number, length: number): number[] {
    const ids: number[] = [];
    this.collect(this.extentsOf(ino), offset, offset + length, ids, new Map(), Infinity);
    return ids;
  }

  /**
   * A sequential reader just read [offset, offset+length): keeps the next `readaheadChunks`
   * super-chunks of the file that this range does not need inflating.
   */
  prefetchAfter(ino: InodeId, offset: number, length: number): void {
    const table = this.extentsOf(ino);
    const now = new Map<number, number>();
    this.collect(table, offset, offset + length, [], now, Infinity);
    const next: number[] = [];
    const needs = new Map<number, number>();
    const end = offset + length + READAHEAD_SCAN_BYTES;
    const depth = this.fetchAhead === undefined ? this.readahead : this.fetchAheadChunks;
    this.collect(
      table,
      offset + length,
      end,
      next,
      needs,
      Math.max(this.readahead, depth),
      true,
      now,
    );
    // fetches first, so the loads the queue starts join them
    this.hintFetch(next);
    this.queue.push(next.slice(0, this.readahead), (id) => needs.get(id) ?? 0);
  }

  /**
   * Files about to be read, in the order they will be: queues the super-chunks they need, in
   * that order, at most `prefetchFilesChunks` not yet cached. Non-files are skipped.
   */
  prefetchFiles(inos: readonly InodeId[]): void {
    const ids: number[] = [];
    const needs = new Map<number, number>();
    for (const ino of inos) {
      const r = this.inode(ino)?.rec;
      if (r?.kind !== InodeKind.file || ids.length >= this.filesChunks) continue;
      const table = this.extentsOf(ino);
      this.collect(table, 0, table.size, ids, needs, this.filesChunks, true);
    }
    this.hintFetch(ids);
    this.queue.push(ids, (id) => needs.get(id) ?? 0);
  }

  /** What fetching ahead did, or undefined when the store is local (or it is off). */
  fetchAheadStats(): FetchAheadStats | undefined {
    return this.fetchAhead?.stats();
  }

  /** Tells the fetch-ahead wrapper (remote stores) which frozen super-chunks come next. */
  private hintFetch(ids: readonly number[]): void {
    if (this.fetchAhead === undefined || ids.length === 0) return;
    const hints = [];
    for (const id of ids) {
      const row = this.meta.getSuperChunk(id as SuperChunkId);
      if (row !== undefined && row.codec !== OPEN_CODEC) {
        hints.push({ key: superChunkKey(id), bytes: row.storedBytes });
      }
    }
    this.fetchAhead.hint(hints);
  }

  /** The file's xattrs, plus the read-only `user.superchunk.info` on regular files. */
  listxattr(ino: InodeId): Buffer[] {
    return withInfoXattr(
      this.meta,
      ino,
      this.meta.listXattrs(ino).map((x) => x.name),
    );
  }

  getxattr(ino: InodeId, name: Buffer): Buffer | undefined {
    if (name.equals(INFO_XATTR)) return infoXattr(this.meta, ino);
    return this.meta.getXattr(ino, name);
  }

  usage(): FsUsage {
    const s = this.meta.stats();
    const c = this.meta.countInodes();
    return {
      logicalBytes: s.logicalBytes,
      storedBytes: s.storedBytes,
      inodes: c.files + c.dirs + c.symlinks + c.other,
    };
  }

  workingSetStats() {
    return this.ws.stats();
  }

  /** Bytes fetched from an archive (file or URL) so far; undefined for a store directory. */
  transferStats(): TransferStats | undefined {
    return this.blobs.transferStats?.();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.queue.close();
    this.ws.clear();
    await this.pool.close();
    await this.blobs.close();
    this.meta.close();
  }

  /**
   * Appends to `ids` the super-chunks of extents overlapping [from, to) that are not in
   * `needs` or `skip`, until `ids` holds `max`, and records in `needs` how many leading bytes
   * of each those extents reach. With `onlyMissing`, super-chunks cached or loading with
   * enough bytes are left out (and do not count against `max`).
   */
  private collect(
    t: ExtentTable,
    from: number,
    to: number,
    ids: number[],
    needs: Map<number, number>,
    max: number,
    onlyMissing = false,
    skip?: ReadonlyMap<number, number>,
  ): void {
    const end = Math.min(t.size, to);
    if (from >= end) return;
    for (let i = findExtent(t.starts, from); i < t.extents.length; i++) {
      const e = t.extents[i]!;
      if (e.fileOffset >= end) break;
      const id = e.superChunk;
      if (id === null || skip?.has(id)) continue;
      const need = e.offset + e.length;
      const known = needs.get(id);
      if (known !== undefined) {
        if (need > known) needs.set(id, need);
        continue;
      }
      if (ids.length >= max) break;
      needs.set(id, need);
      if (!onlyMissing || !this.ws.has(id, need)) ids.push(id);
    }
    if (onlyMissing) {
      const missing = ids.filter((id) => !this.ws.has(id, needs.get(id) ?? 0));
      ids.splice(0, ids.length, ...missing);
    }
  }

  private async copyFrom(ext: ResolvedExtent, from: number, n: number, out: Buffer, at: number) {
    const pin = await this.ws.acquire(ext.superChunk!, ext.offset + ext.length);
    copyPinned(pin, ext, from, n, out, at);
  }

  /** The inode's record and attributes, cached (the store does not change while read). */
  private inode(ino: InodeId): { rec: InodeRecord; attr: InodeAttr } | undefined {
    let c = this.inodes.get(ino);
    if (c !== undefined) return c;
    const rec = this.meta.getInode(ino);
    if (rec === undefined) return undefined;
    c = { rec, attr: toAttr(rec) };
    if (this.inodes.size >= INODE_CACHE_ENTRIES) this.inodes.clear();
    this.inodes.set(ino, c);
    return c;
  }

  private extentsOf(ino: InodeId): ExtentTable {
    const r = this.inode(ino)?.rec;
    if (!r) throw new NotFoundError("E_NOT_FOUND", `no inode ${ino}`, { ino });
    if (r.kind !== InodeKind.file)
      throw new NotFoundError("E_NOT_FOUND", `inode ${ino} is not a file`, { ino });
    if (r.content === null) return EMPTY_TABLE;
    let t = this.extentCache.get(r.content);
    if (!t) {
      const extents = this.meta.resolveExtents(r.content);
      const starts = Float64Array.from(extents, (e) => e.fileOffset);
      t = { starts, extents, size: r.size };
      if (this.extentCache.size >= EXTENT_CACHE_ENTRIES) this.extentCache.clear();
      this.extentCache.set(r.content, t);
    }
    return t;
  }
}

function toAttr(r: InodeRecord): InodeAttr {
  return {
    ino: r.ino,
    kind: r.kind,
    mode: r.mode,
    uid: r.uid,
    gid: r.gid,
    size: r.size,
    nlink: r.nlink,
    rdev: r.rdev,
    atimeNs: r.atimeNs,
    mtimeNs: r.mtimeNs,
    ctimeNs: r.ctimeNs,
  };
}

/** Copies `n` bytes of the extent from `from` out of its pinned super-chunk, then unpins. */
function copyPinned(
  pin: PinnedBuffer,
  ext: ResolvedExtent,
  from: number,
  n: number,
  out: Buffer,
  at: number,
): void {
  try {
    const start = ext.offset + from;
    if (start + n > pin.data.length) {
      throw new CorruptError("E_CORRUPT", `sub-block lies outside super-chunk ${ext.superChunk}`, {
        superChunkId: ext.superChunk,
        offset: ext.offset,
      });
    }
    pin.data.copy(out, at, start, start + n);
  } finally {
    pin.release();
  }
}

StoreReader satisfies new (
  ...a: never[]
) => FsView;

/** Ids of the super-chunks `a` and `b` both hold with the same codec and sizes. */
function unchangedSuperChunks(a: MetaDb, b: MetaDb): Set<number> {
  const before = new Map(a.listSuperChunks().map((r) => [r.id as number, r]));
  const same = new Set<number>();
  for (const r of b.listSuperChunks()) {
    const o = before.get(r.id);
    const equal =
      o !== undefined &&
      o.codec === r.codec &&
      o.rawBytes === r.rawBytes &&
      o.storedBytes === r.storedBytes &&
      o.subBlocks === r.subBlocks;
    if (equal) same.add(r.id);
  }
  return same;
}

/** Index of the extent holding `offset`: the last start ≤ offset. */
export function findExtent(starts: Float64Array, offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Opens a complete store directory read-only as a file system (location/ opens any kind). */
export function openStoreReader(dir: string, opts: StoreReaderOptions = {}): StoreReader {
  const store: OpenStore = openStore(dir, { readonly: true });
  return readerFor(store.meta, store.blobs, opts);
}

/** A reader over an opened store's database and blobs (it closes both at close). */
export function readerFor(meta: MetaDb, blobs: BlobStore, opts: StoreReaderOptions): StoreReader {
  const pool = new CodecPool({ threads: opts.threads ?? DEFAULT_THREADS });
  // a mount's first reads should not wait for inflate threads to boot
  pool.warm();
  const cacheBytes = opts.cacheBytes ?? WORKINGSET_DEFAULT_BYTES;
  return new StoreReader(meta, blobs, pool, cacheBytes, opts);
}
