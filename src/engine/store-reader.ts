/**
 * StoreReader: a store as a read-only file system (FsView). File offsets are
 * mapped to sub-blocks by binary search over each content's cumulative extent
 * offsets; sub-block bytes come from inflated super-chunks held in the working
 * set. Each super-chunk's checksums are verified once per inflate.
 */
import type { BlobStore } from "../blobstore/blob-store.js";
import { superChunkKey } from "../blobstore/blob-store.js";
import { CodecPool } from "../codec/codec-pool.js";
import { CorruptError, NotFoundError } from "../errors.js";
import type { MetaDb } from "../meta/meta-db.js";
import type { ResolvedExtent } from "../meta/records.js";
import { inflateSuperChunk } from "../superchunk/superchunk-reader.js";
import { type InodeId, InodeKind } from "../types.js";
import { WorkingSet } from "../workingset/working-set.js";
import type { FsUsage, FsView, InodeAttr } from "./fs-view.js";
import { type OpenStore, openStore } from "./store-layout.js";

export interface StoreReaderOptions {
  /** bytes of inflated super-chunks kept in the working set; default 512 MiB */
  cacheBytes?: number;
  /** inflate threads; default 2 */
  threads?: number;
}

const EXTENT_CACHE_ENTRIES = 4096;

/** Extents of one content with cumulative offsets for binary search. */
interface ExtentTable {
  readonly starts: Float64Array;
  readonly extents: readonly ResolvedExtent[];
  readonly size: number;
}

export class StoreReader implements FsView {
  readonly root = 1 as InodeId;
  private readonly ws: WorkingSet<number>;
  private readonly extentCache = new Map<number, ExtentTable>();
  private closed = false;

  constructor(
    readonly meta: MetaDb,
    private readonly blobs: BlobStore,
    private readonly pool: CodecPool,
    cacheBytes: number,
  ) {
    this.ws = new WorkingSet<number>({ capacityBytes: cacheBytes }, (id) => this.load(id));
  }

  getattr(ino: InodeId): InodeAttr | undefined {
    const r = this.meta.getInode(ino);
    if (!r) return undefined;
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
    const r = this.meta.getInode(ino);
    if (!r || r.kind !== InodeKind.symlink || !r.target) {
      throw new NotFoundError("E_NOT_FOUND", `inode ${ino} is not a symlink`, { ino });
    }
    return r.target;
  }

  async read(ino: InodeId, offset: number, length: number): Promise<Buffer> {
    const table = this.extentsOf(ino);
    const end = Math.min(table.size, offset + length);
    if (offset >= end) return Buffer.alloc(0);
    const out = Buffer.alloc(end - offset);
    let i = findExtent(table.starts, offset);
    const parts: Promise<void>[] = [];
    for (let pos = offset; pos < end; i++) {
      const ext = table.extents[i]!;
      const from = pos - ext.fileOffset;
      const n = Math.min(ext.length - from, end - pos);
      if (ext.superChunk !== null) parts.push(this.copyFrom(ext, from, n, out, pos - offset));
      pos += n;
    }
    await Promise.all(parts);
    return out;
  }

  /** Super-chunk ids a read of [offset, offset+length) needs, in file order. */
  superChunksFor(ino: InodeId, offset: number, length: number): number[] {
    const table = this.extentsOf(ino);
    const ids: number[] = [];
    const end = Math.min(table.size, offset + length);
    for (let i = findExtent(table.starts, offset); i < table.extents.length; i++) {
      const e = table.extents[i]!;
      if (e.fileOffset >= end) break;
      if (e.superChunk !== null && ids[ids.length - 1] !== e.superChunk) ids.push(e.superChunk);
    }
    return ids;
  }

  /** Starts inflating the super-chunks that follow [offset, offset+length) of a file. */
  prefetchAfter(ino: InodeId, offset: number, length: number): void {
    const now = new Set(this.superChunksFor(ino, offset, length));
    for (const id of this.superChunksFor(ino, offset + length, 4 * 1024 * 1024)) {
      if (!now.has(id)) {
        this.ws.prefetch(id);
        return;
      }
    }
  }

  listxattr(ino: InodeId): Buffer[] {
    return this.meta.listXattrs(ino).map((x) => x.name);
  }

  getxattr(ino: InodeId, name: Buffer): Buffer | undefined {
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

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.ws.clear();
    await this.pool.close();
    await this.blobs.close();
    this.meta.close();
  }

  private async copyFrom(ext: ResolvedExtent, from: number, n: number, out: Buffer, at: number) {
    const pin = await this.ws.acquire(ext.superChunk!);
    try {
      const start = ext.offset + from;
      if (start + n > pin.data.length) {
        throw new CorruptError(
          "E_CORRUPT",
          `sub-block lies outside super-chunk ${ext.superChunk}`,
          {
            superChunkId: ext.superChunk,
            offset: ext.offset,
          },
        );
      }
      pin.data.copy(out, at, start, start + n);
    } finally {
      pin.release();
    }
  }

  private async load(id: number): Promise<Buffer> {
    const key = superChunkKey(id);
    const file = await this.blobs.get(key);
    const { raw } = await inflateSuperChunk(file, this.pool, {
      superChunkId: id,
      path: `${this.blobs.location}/${key}`,
    });
    return raw;
  }

  private extentsOf(ino: InodeId): ExtentTable {
    const r = this.meta.getInode(ino);
    if (!r) throw new NotFoundError("E_NOT_FOUND", `no inode ${ino}`, { ino });
    if (r.kind !== InodeKind.file)
      throw new NotFoundError("E_NOT_FOUND", `inode ${ino} is not a file`, { ino });
    if (r.content === null) return { starts: new Float64Array(0), extents: [], size: 0 };
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

StoreReader satisfies new (
  ...a: never[]
) => FsView;

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

/** Opens a complete store read-only as a file system. */
export function openStoreReader(dir: string, opts: StoreReaderOptions = {}): StoreReader {
  const store: OpenStore = openStore(dir, { readonly: true });
  const pool = new CodecPool({ threads: opts.threads ?? 2 });
  return new StoreReader(store.meta, store.blobs, pool, opts.cacheBytes ?? 512 * 1024 * 1024);
}
