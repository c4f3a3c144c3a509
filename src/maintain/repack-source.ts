/**
 * Where repack reads old sub-blocks from: inflated super-chunks (checksums verified on
 * inflate), kept in a small LRU bounded by bytes, since a similarity plan draws each new
 * super-chunk from many old ones. `readLive` reads each selected super-chunk once up front:
 * it verifies them all before anything is written, and gives each live sub-block's full
 * hash (from the header) and, for the similarity planner, its sketch.
 */
import { LRUCache } from "lru-cache";
import type { BlobStore } from "../blobstore/blob-store.js";
import { superChunkKey } from "../blobstore/blob-store.js";
import type { CodecPool } from "../codec/codec-pool.js";
import { isDense } from "../codec/dense.js";
import { CorruptError } from "../errors.js";
import { hashKey } from "../meta/hash-key.js";
import type { PlanItem } from "../similarity/plan.js";
import { sketchSubBlock } from "../similarity/sketch.js";
import type { SuperChunkExpectation } from "../superchunk/superchunk-expect.js";
import { type InflatedSuperChunk, inflateSuperChunk } from "../superchunk/superchunk-reader.js";
import type { SubBlockHash } from "../types.js";
import type { RepackSelection } from "./repack-select.js";

/** Inflated old super-chunks, least recently used first out (lru-cache, bounded by bytes). */
export class RepackSource {
  readonly #cache: LRUCache<number, InflatedSuperChunk>;

  constructor(
    private readonly blobs: BlobStore,
    private readonly pool: CodecPool,
    capacityBytes: number,
    /** the row naming each super-chunk: its file must match it (checkExpected) */
    private readonly rowOf: (id: number) => SuperChunkExpectation | undefined,
  ) {
    this.#cache = new LRUCache({
      maxSize: Math.max(1, capacityBytes),
      sizeCalculation: (v) => Math.max(1, v.raw.length),
    });
  }

  /** The verified header and raw payload of super-chunk `id`, from the cache or inflated. */
  async get(id: number): Promise<InflatedSuperChunk> {
    const hit = this.#cache.get(id);
    if (hit !== undefined) return hit;
    const key = superChunkKey(id);
    const file = await this.blobs.get(key);
    const row = this.rowOf(id);
    const where = { superChunkId: id, path: key };
    if (row === undefined) {
      throw new CorruptError("E_SUPERCHUNK_CORRUPT", `${key}: no database row names it`, where);
    }
    const got = await inflateSuperChunk(file, this.pool, where, { expect: row });
    this.#cache.set(id, got);
    return got;
  }

  /** Drops every cached payload. */
  clear(): void {
    this.#cache.clear();
  }
}

/**
 * Reads every selected super-chunk once: the full hash (and sketch) of each live sub-block,
 * and whether it is dense (codec/dense.ts).
 */
export async function readLive(
  sel: RepackSelection,
  source: RepackSource,
  sketch: boolean,
  onRead?: (done: number, total: number) => void,
): Promise<{ items: PlanItem[]; hashes: SubBlockHash[] }> {
  const byScOffset = new Map<string, number>();
  sel.live.forEach((x, i) => {
    byScOffset.set(`${x.sb.superChunk}:${x.sb.offset}`, i);
  });
  const hashes: SubBlockHash[] = new Array(sel.live.length);
  const sketches: Uint32Array[] = new Array(sel.live.length);
  const dense = new Uint8Array(sel.live.length);
  const empty = new Uint32Array(sketchSubBlock(new Uint8Array(0)).length);
  let done = 0;
  for (const sc of sel.superChunks) {
    const { header, raw } = await source.get(sc.id);
    let off = 0;
    for (const e of header.entries) {
      const i = byScOffset.get(`${sc.id}:${off}`);
      const sb = i === undefined ? undefined : sel.live[i]!.sb;
      if (i !== undefined && sb!.length === e.length && sb!.hkey === hashKey(e.hash)) {
        hashes[i] = e.hash;
        const bytes = raw.subarray(off, off + e.length);
        sketches[i] = sketch ? sketchSubBlock(bytes) : empty;
        dense[i] = isDense(bytes) ? 1 : 0;
      }
      off += e.length;
    }
    onRead?.(++done, sel.superChunks.length);
  }
  const items = sel.live.map((x, i) => {
    if (hashes[i] === undefined) throw missingEntry(x.sb.id, x.sb.superChunk, x.sb.offset);
    const { length } = x.sb;
    const item = { length, sketch: sketches[i]!, path: x.path, fileOffset: x.fileOffset };
    return { ...item, dense: dense[i] === 1 };
  });
  return { items, hashes };
}

function missingEntry(id: number, sc: number, offset: number): Error {
  return new CorruptError(
    "E_CORRUPT",
    `sub-block ${id}: super-chunk ${sc} has no entry of its length and hash at offset ${offset} (run fsck)`,
    {
      subBlock: id,
      superChunkId: sc,
      offset,
    },
  );
}
