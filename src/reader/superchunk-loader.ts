/**
 * SuperChunkLoader: how a reader gets one super-chunk's raw bytes into working-set memory.
 * Frozen super-chunks are read from the blob store (into reused shared memory when the
 * store can fill a caller's buffer) and inflated, whole or by prefix, on the codec pool;
 * open super-chunks (a read-write mount's raw append files, committed but not frozen) are
 * read raw. Every load is checked against the `superchunks` row that names the id (a
 * frozen header's codec, sizes and entry count; an open file's committed length) before
 * it is inflated, and leaves the check of the extents it will serve (chunk-checks.ts)
 * beside its bytes. The working set calls `load`; a writer confirming a dedup candidate
 * reads a frozen super-chunk's header alone, checked the same way, with `loadHeader`.
 * Everything else about reading is the read path's (content-reader.ts).
 */
import type { BlobStore } from "../blobstore/blob-store.js";
import { openSuperChunkKey, superChunkKey } from "../blobstore/blob-store.js";
import type { CodecPool } from "../codec/codec-pool.js";
import { CorruptError } from "../errors.js";
import type { MetaDb } from "../meta/meta-db.js";
import type { SuperChunkRecord } from "../meta/records.js";
import { OPEN_CODEC } from "../meta/write-table.js";
import { readHeader } from "../superchunk/read-header.js";
import { checkExpected } from "../superchunk/superchunk-expect.js";
import type { SuperChunkHeader, SuperChunkLocation } from "../superchunk/superchunk-header.js";
import { inflateSuperChunk } from "../superchunk/superchunk-reader.js";
import { MIB, type SuperChunkId } from "../types.js";
import { BufferPool } from "../workingset/buffer-pool.js";
import type { ChunkChecks } from "./chunk-checks.js";

/**
 * Memory for compressed super-chunks being inflated: loads wait for it beyond this (one
 * load always runs). A few loads at a time; an incompressible 4 MiB super-chunk fits.
 */
const INPUT_POOL_BYTES = 8 * MIB;
/** Compressed super-chunks are small (tens of KiB): their slabs come in steps of this. */
const INPUT_CLASS_BYTES = 64 * 1024;
/** One read covers the header of a super-chunk of up to ~1500 sub-blocks. */

/** Working-set memory of the size asked, over memory of at least `slabBytes`. */
export type Alloc = (size: number, slabBytes?: number) => Promise<Buffer>;

export class SuperChunkLoader {
  /** reused shared memory for compressed bytes on their way to an inflate thread */
  readonly #inputs = new BufferPool(INPUT_CLASS_BYTES);
  /** open super-chunks (codec "open") → committed raw bytes; read once, on first load */
  #openRows: Map<number, number> | undefined;

  /**
   * @param checks where each load leaves the check of the extents it serves
   * @param verifyRawCrc also check each whole payload's raw CRC (the stored CRC always is)
   * @param readOpen serve open super-chunks from their raw files (a reader of a store no
   *   one writes); false for the writer itself, which reads its open ones on its own and
   *   whose open super-chunks freeze while it runs
   */
  constructor(
    private readonly meta: MetaDb,
    private readonly blobs: BlobStore,
    private readonly pool: CodecPool,
    private readonly checks: ChunkChecks,
    private readonly verifyRawCrc: boolean,
    private readonly readOpen = true,
  ) {}

  /**
   * Reads and inflates one super-chunk, or the prefix of it that covers `needBytes` (0: all
   * of it), into memory from `alloc`; a load a reader waits for goes ahead of prefetches.
   */
  async load(id: number, prefetch: boolean, needBytes: number, alloc: Alloc): Promise<Buffer> {
    const openBytes = this.readOpen ? this.#openRawBytes(id) : undefined;
    if (openBytes !== undefined) return this.#loadOpen(id, openBytes, needBytes, alloc);
    const key = superChunkKey(id);
    const where = { superChunkId: id, path: `${this.blobs.location}/${key}` };
    const job = {
      urgent: !prefetch,
      alloc,
      verifyRawCrc: this.verifyRawCrc,
      expect: this.#row(id, where),
      ...(needBytes > 0 ? { needBytes } : {}),
    };
    if (this.blobs.getInto === undefined) {
      const got = await inflateSuperChunk(await this.blobs.get(key), this.pool, where, job);
      this.checks.frozen(got.raw, got.header, where);
      return got.raw;
    }
    // compressed bytes go through reused shared memory, so loads leave no garbage behind
    let input: Buffer | undefined;
    try {
      const file = await this.blobs.getInto(key, async (size) => {
        input = await this.#inputs.take(size, INPUT_POOL_BYTES, () => false);
        return input;
      });
      const got = await inflateSuperChunk(file, this.pool, where, job);
      this.checks.frozen(got.raw, got.header, where);
      return got.raw;
    } finally {
      if (input !== undefined) this.#inputs.giveBack(this.#inputs.slabOf(input)!);
    }
  }

  /** The header of frozen super-chunk `id`, read alone: one ranged read (two for a long one). */
  async loadHeader(id: number): Promise<SuperChunkHeader> {
    const key = superChunkKey(id);
    const where = { superChunkId: id, path: `${this.blobs.location}/${key}` };
    const header = await readHeader((length) => this.blobs.get(key, { offset: 0, length }), where);
    checkExpected(header, this.#row(id, where), where);
    return header;
  }

  /** The frozen row that names super-chunk `id`: what its file must be. */
  #row(id: number, where: SuperChunkLocation): SuperChunkRecord {
    const row = this.meta.getSuperChunk(id as SuperChunkId);
    if (row === undefined || row.codec === OPEN_CODEC) {
      const what = row === undefined ? "no database row names it" : "its row says it is open";
      throw new CorruptError("E_SUPERCHUNK_CORRUPT", `${where.path}: ${what}`, {
        ...where,
        offset: 0,
      });
    }
    return row;
  }

  /**
   * Committed length of super-chunk `id` when it is still open (a read-write mount's raw
   * append file, left by a writer that did not freeze it yet: killed, or still running).
   */
  #openRawBytes(id: number): number | undefined {
    if (this.#openRows === undefined) {
      const rows = this.meta.listSuperChunks().filter((r) => r.codec === OPEN_CODEC);
      this.#openRows = new Map(rows.map((r) => [r.id as number, r.rawBytes]));
    }
    return this.#openRows.get(id);
  }

  /** An open super-chunk's committed bytes, read raw from its append file. */
  async #loadOpen(id: number, rawBytes: number, need: number, alloc: Alloc): Promise<Buffer> {
    const key = openSuperChunkKey(id);
    if (need > rawBytes) {
      throw new CorruptError(
        "E_SUPERCHUNK_CORRUPT",
        `${key}: a sub-block ends at byte ${need}, past the ${rawBytes} committed`,
        { superChunkId: id, path: `${this.blobs.location}/${key}`, offset: rawBytes },
      );
    }
    const bytes = await this.blobs.get(key, { offset: 0, length: rawBytes });
    if (bytes.length !== rawBytes) {
      throw new CorruptError("E_SUPERCHUNK_CORRUPT", `${key}: open super-chunk is truncated`, {
        superChunkId: id,
        path: `${this.blobs.location}/${key}`,
        offset: bytes.length,
      });
    }
    const out = await alloc(rawBytes, rawBytes);
    bytes.copy(out);
    this.checks.open(out, { superChunkId: id, path: `${this.blobs.location}/${key}` });
    return out;
  }
}
