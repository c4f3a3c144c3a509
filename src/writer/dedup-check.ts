/**
 * Where committed sub-block bytes are read from: an open super-chunk's raw append file,
 * or a frozen super-chunk inflated through the working set (the read side's machinery:
 * WorkingSet, CodecPool, inflateSuperChunk with its checks). Also confirms dedup
 * candidates against the full hash (a frozen super-chunk's header, or the bytes of an
 * open one).
 */
import { createHash } from "node:crypto";
import { type BlobStore, superChunkKey } from "../blobstore/blob-store.js";
import type { CodecPool } from "../codec/codec-pool.js";
import { CorruptError } from "../errors.js";
import type { MetaDb } from "../meta/meta-db.js";
import type { SubBlockRecord } from "../meta/records.js";
import { SuperChunkLoader } from "../reader/superchunk-loader.js";
import { decodeHeader, headerLength } from "../superchunk/decode-header.js";
import { entryOffsets } from "../superchunk/entry-offsets.js";
import { WorkingSet } from "../workingset/working-set.js";
import type { OpenSuperChunks } from "./open-superchunks.js";

/** Entries of a frozen super-chunk's header: offset in the raw payload → full hash. */
type HeaderIndex = Map<number, Buffer>;
const HEADER_CACHE_ENTRIES = 256;
const HEADER_GUESS_BYTES = 64 * 1024;

/** Reads committed sub-block bytes and confirms dedup candidates. */
export class BlockSource {
  readonly #ws: WorkingSet<number>;
  readonly #headers = new Map<number, HeaderIndex>();

  constructor(
    private readonly blobs: BlobStore,
    pool: CodecPool,
    private readonly open: OpenSuperChunks,
    cacheBytes: number,
    meta: MetaDb,
  ) {
    // the read side's loader: prefix inflates into pooled memory, stored CRC checked
    const loader = new SuperChunkLoader(meta, blobs, pool, false, false);
    this.#ws = new WorkingSet<number>({ capacityBytes: cacheBytes }, (id, prefetch, need, alloc) =>
      loader.load(id, prefetch, need, alloc),
    );
  }

  /** Copies `n` bytes at raw `offset` of super-chunk `sc` into `target` at `at`. */
  copy(sc: number, offset: number, n: number, target: Buffer, at: number): void | Promise<void> {
    if (this.open.isOpen(sc)) return this.open.read(sc, offset, n, target, at);
    const pin = this.#ws.tryAcquire(sc, offset + n);
    if (pin !== undefined) return copyOut(pin, sc, offset, n, target, at);
    return this.#ws.acquire(sc, offset + n).then((p) => copyOut(p, sc, offset, n, target, at));
  }

  /** True when candidate `c` really holds the sub-block whose SHA-256 is `hash`. */
  confirm(c: SubBlockRecord, hash: Buffer): boolean | Promise<boolean> {
    if (this.open.isOpen(c.superChunk)) {
      const buf = Buffer.allocUnsafe(c.length);
      this.open.read(c.superChunk, c.offset, c.length, buf, 0);
      return createHash("sha256").update(buf).digest().equals(hash);
    }
    const known = this.#headers.get(c.superChunk);
    if (known !== undefined) return known.get(c.offset)?.equals(hash) === true;
    return this.#header(c.superChunk).then((h) => h.get(c.offset)?.equals(hash) === true);
  }

  /** Drops what is cached about a deleted super-chunk. */
  forget(sc: number): void {
    this.#headers.delete(sc);
  }

  stats() {
    return this.#ws.stats();
  }

  clear(): void {
    this.#ws.clear();
    this.#headers.clear();
  }

  async #header(sc: number): Promise<HeaderIndex> {
    const key = superChunkKey(sc);
    const where = { superChunkId: sc, path: `${this.blobs.location}/${key}` };
    // one request covers the header of a super-chunk of up to ~1500 sub-blocks
    const first = await this.blobs.get(key, { offset: 0, length: HEADER_GUESS_BYTES });
    const len = headerLength(first, where);
    const bytes =
      len <= first.length ? first : await this.blobs.get(key, { offset: 0, length: len });
    const header = decodeHeader(bytes.subarray(0, len), where);
    const offsets = entryOffsets(header);
    const h: HeaderIndex = new Map(header.entries.map((e, i) => [offsets[i]!, e.hash]));
    if (this.#headers.size >= HEADER_CACHE_ENTRIES) this.#headers.clear();
    this.#headers.set(sc, h);
    return h;
  }
}

function copyOut(
  pin: { data: Buffer; release(): void },
  sc: number,
  offset: number,
  n: number,
  target: Buffer,
  at: number,
): void {
  try {
    if (offset + n > pin.data.length) {
      throw new CorruptError("E_CORRUPT", `sub-block lies outside super-chunk ${sc}`, {
        superChunkId: sc,
        offset,
      });
    }
    pin.data.copy(target, at, offset, offset + n);
  } finally {
    pin.release();
  }
}
