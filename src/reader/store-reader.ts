/**
 * StoreReader: a store as a read-only file system (FsView). Inode records are cached
 * compactly (inode-cache.ts; the store is immutable while read, and a followed S3 store
 * switches generations only through `replaceMeta`); a directory is listed with its
 * children's inodes in one query, which fills that cache and the last listings' names
 * (dir-cache.ts), so a walk costs one query per directory rather than one per entry. A
 * file's bytes come through the one read path, ContentReader
 * (content-reader.ts): binary search over the content's cumulative extent offsets,
 * sub-blocks copied out of inflated super-chunks held in the working set, synchronously
 * when all are cached, with readahead for sequential readers and `prefetchFiles` for a
 * run of files. Each super-chunk's checksums are verified once per inflate (the raw CRC
 * on the inflating worker).
 */

import type { BlobStore } from "../blobstore/blob-store.js";
import type { TransferStats } from "../blobstore/byte-source.js";
import type { FetchAheadStats } from "../blobstore/fetch-ahead.js";
import { CodecPool } from "../codec/codec-pool.js";
import { closeAll, NotFoundError } from "../errors.js";
import type { MetaDb } from "../meta/meta-db.js";
import type { InodeRecord } from "../meta/records.js";
import { corruptRow, entryLabel, nameProblem } from "../meta/validate-records.js";
import { type OpenStore, openStore } from "../store/store-layout.js";
import { type InodeId, InodeKind } from "../types.js";
import { WORKINGSET_DEFAULT_BYTES } from "../workingset/working-set.js";
import { workingSetShare } from "./cache-budget.js";
import { ContentReader, type ReadTuning } from "./content-reader.js";
import { DirCache } from "./dir-cache.js";
import type { ExtentTable } from "./extent-table.js";
import { INFO_XATTR, infoXattr, withInfoXattr } from "./file-info.js";
import type { FsUsage, FsView, InodeAttr } from "./fs-view.js";
import { unchangedSuperChunks } from "./inode-attr.js";
import { InodeCache } from "./inode-cache.js";

/** Options of a StoreReader. */
export interface StoreReaderOptions extends ReadTuning {
  /** bytes of inflated super-chunks kept in the working set; default 512 MiB */
  cacheBytes?: number;
  /** cacheBytes bounds the database image and tree's caches too (cache-budget.ts) */
  cacheHoldsTree?: boolean;
  /** inflate threads; default 2 */
  threads?: number;
}

const DEFAULT_THREADS = 2;

export class StoreReader implements FsView {
  readonly root = 1 as InodeId;
  private readonly content: ContentReader;
  private readonly inodes = new InodeCache();
  private readonly dirs = new DirCache();
  private current: MetaDb;
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
    this.content = new ContentReader(meta, blobs, pool, { ...opts, cacheBytes });
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
    this.inodes.clear();
    this.dirs.clear();
    const dropped = this.content.switchMeta(next, (id) => same.has(id));
    this.switches++;
    return { previous, dropped };
  }

  getattr(ino: InodeId): InodeAttr | undefined {
    return this.inode(ino);
  }

  lookupPath(p: Buffer | string): InodeId | undefined {
    return this.meta.resolvePath(p);
  }

  /**
   * The child named `name`; E_CORRUPT when the entry points at a missing inode, at the
   * root or at `parent` itself (a cycle a path walk would follow).
   */
  lookup(parent: InodeId, name: Buffer): InodeId | undefined {
    const kept = this.dirs.lookup(parent, name);
    const ino = kept === undefined ? this.meta.lookup(parent, name) : (kept ?? undefined);
    if (ino === undefined) return undefined;
    const problem =
      ino === this.root || ino === parent
        ? `points back at directory ${ino} (a cycle)`
        : this.inode(ino) === undefined
          ? `points at missing inode ${ino}`
          : undefined;
    if (problem) throw corruptRow(this.meta.path, entryLabel(parent, name), problem, { ino });
    return ino;
  }

  /**
   * Entries of `dir`; E_CORRUPT naming the first whose name is not one path component.
   * The children's inodes come with the listing and are cached (a damaged one is not: its
   * own getattr reports it), and so is the listing, for lookups and listings that follow
   * (dir-cache.ts).
   */
  readdir(dir: InodeId): { name: Buffer; ino: InodeId }[] {
    const kept = this.dirs.get(dir);
    if (kept !== undefined) return kept;
    const list = this.meta.readDir(dir);
    const out: { name: Buffer; ino: InodeId }[] = [];
    for (const { name, ino, rec } of list) {
      const problem = nameProblem(name);
      if (problem) throw corruptRow(this.meta.path, entryLabel(dir, name), problem, { name, ino });
      if (rec !== undefined) this.inodes.set(rec);
      out.push({ name, ino });
    }
    this.dirs.set(dir, out);
    return out;
  }

  readlink(ino: InodeId): Buffer {
    const r = this.inode(ino);
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
    return this.content.readInto(this.extentsOf(ino), offset, target);
  }

  /**
   * `readInto` when the bytes are at hand (every super-chunk needed cached): the count, else
   * undefined, with nothing loaded.
   */
  readCached(ino: InodeId, offset: number, target: Buffer): number | undefined {
    return this.content.readIfCached(this.extentsOf(ino), offset, target);
  }

  /** Super-chunk ids a read of [offset, offset+length) needs, in file order. */
  superChunksFor(ino: InodeId, offset: number, length: number): number[] {
    return this.content.superChunksFor(this.extentsOf(ino), offset, length);
  }

  /**
   * A sequential reader just read [offset, offset+length): keeps the next `readaheadChunks`
   * super-chunks of the file that this range does not need inflating.
   */
  prefetchAfter(ino: InodeId, offset: number, length: number): void {
    this.content.prefetchAfter(this.extentsOf(ino), offset, length);
  }

  /**
   * Files about to be read, in the order they will be: queues the super-chunks they need, in
   * that order, at most `prefetchFilesChunks` not yet cached. Non-files are skipped.
   */
  prefetchFiles(inos: readonly InodeId[]): void {
    this.content.prefetchFiles(this.#fileTables(inos));
  }

  /** What fetching ahead did, or undefined when the store is local (or it is off). */
  fetchAheadStats(): FetchAheadStats | undefined {
    return this.content.fetchAheadStats();
  }

  /** The file's xattrs, plus the read-only `user.superchunk.info` on regular files. */
  listxattr(ino: InodeId): Buffer[] {
    const names = this.meta.listXattrs(ino).map((x) => x.name);
    return withInfoXattr(this.meta, ino, names);
  }

  anyXattrNamed(name: Buffer): boolean {
    return this.meta.anyXattrNamed(name);
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
    return this.content.workingSetStats();
  }

  /** What the checks of served extents did (chunk-checks.ts). */
  checkStats() {
    return this.content.checkStats();
  }

  /** Bytes fetched from an archive (file or URL) so far; undefined for a store directory. */
  transferStats(): TransferStats | undefined {
    return this.content.transferStats();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const failed = await closeAll(
      () => this.content.close(),
      () => this.pool.close(),
      () => this.content.blobs.close(),
      () => this.meta.close(),
    );
    if (failed !== undefined) throw failed;
  }

  /** The extent tables of the regular files among `inos`, in order, resolved lazily. */
  *#fileTables(inos: readonly InodeId[]): Generator<ExtentTable> {
    for (const ino of inos) {
      if (this.inode(ino)?.kind === InodeKind.file) yield this.extentsOf(ino);
    }
  }

  /**
   * The inode's record (its attributes too), checked once (meta/validate-records.ts:
   * E_CORRUPT naming the store and the inode) and cached (the store does not change while
   * read).
   */
  private inode(ino: InodeId): InodeRecord | undefined {
    const c = this.inodes.get(ino);
    if (c !== undefined) return c;
    const rec = this.meta.readInode(ino);
    if (rec !== undefined) this.inodes.set(rec);
    return rec;
  }

  private extentsOf(ino: InodeId): ExtentTable {
    const r = this.inode(ino);
    if (!r) throw new NotFoundError("E_NOT_FOUND", `no inode ${ino}`, { ino });
    if (r.kind !== InodeKind.file)
      throw new NotFoundError("E_NOT_FOUND", `inode ${ino} is not a file`, { ino });
    return this.content.table(r.content, r.size);
  }
}

StoreReader satisfies new (
  ...a: never[]
) => FsView;

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
  const bytes = opts.cacheBytes ?? WORKINGSET_DEFAULT_BYTES;
  const ws = opts.cacheHoldsTree ? workingSetShare(bytes, meta.imageBytes()) : bytes;
  return new StoreReader(meta, blobs, pool, ws, opts);
}
