/**
 * Chunk checks: before the read path copies a byte out of a loaded super-chunk, the extent
 * it serves must be what that super-chunk holds (spec/FORMAT.md, super-chunk readers' rule
 * 15). For a frozen super-chunk, the extent's offset and length must be exactly those of a
 * header entry, and the sub-block row's hash key must be that entry's hash key; the entry
 * index is built once per load (when the header is decoded) and kept beside the loaded
 * bytes, so a read costs a binary search, not a scan. An open super-chunk (a raw append
 * file: no header) has each sub-block's SHA-256 checked against its hash key on its first
 * read out of that load instead. Any mismatch is E_SUPERCHUNK_CORRUPT naming the
 * super-chunk, its path and what disagreed.
 */
import { createHash } from "node:crypto";
import { InternalError } from "../errors.js";
import { findExtent } from "../meta/extent-search.js";
import { hashKey } from "../meta/hash-key.js";
import type { ResolvedExtent } from "../meta/records.js";
import { entryOffsets } from "../superchunk/entry-offsets.js";
import {
  type SuperChunkHeader,
  type SuperChunkLocation,
  superChunkCorrupt,
} from "../superchunk/superchunk-header.js";

/** The check of the extents served out of one loaded super-chunk. */
interface ChunkCheck {
  check(ext: ResolvedExtent, data: Buffer): void;
}

/** Counters of the checks, for stats and tests. */
export interface ChunkCheckStats {
  /** entry indexes built: one per load of a frozen super-chunk */
  readonly indexBuilds: number;
  /** sub-blocks of open super-chunks whose SHA-256 was computed */
  readonly subBlocksHashed: number;
}

/** Where each entry of a frozen super-chunk starts, its length and its hash key. */
class HeaderIndex implements ChunkCheck {
  readonly #offsets: Float64Array;
  readonly #keys: BigInt64Array;

  constructor(
    h: SuperChunkHeader,
    private readonly where: SuperChunkLocation,
  ) {
    this.#offsets = entryOffsets(h);
    this.#keys = BigInt64Array.from(h.entries, (e) => hashKey(e.hash));
  }

  check(ext: ResolvedExtent): void {
    const o = this.#offsets;
    const i = findExtent(o, ext.offset);
    if (i >= this.#keys.length || o[i] !== ext.offset || o[i + 1]! - o[i]! !== ext.length) {
      throw mismatch(this.where, ext, "is not an entry of the header");
    }
    if (this.#keys[i] !== ext.hkey) {
      throw mismatch(this.where, ext, `has another hash than header entry ${i}`);
    }
  }
}

/** An open super-chunk's sub-blocks, each hashed on its first read. */
class OpenChunkCheck implements ChunkCheck {
  /** offsets of sub-blocks already checked → their length */
  readonly #checked = new Map<number, number>();

  constructor(
    private readonly where: SuperChunkLocation,
    private readonly onHash: () => void,
  ) {}

  check(ext: ResolvedExtent, data: Buffer): void {
    if (this.#checked.get(ext.offset) === ext.length) return;
    const end = ext.offset + ext.length;
    if (end > data.length) throw mismatch(this.where, ext, "lies past the committed bytes");
    this.onHash();
    const digest = createHash("sha256").update(data.subarray(ext.offset, end)).digest();
    if (hashKey(digest) !== ext.hkey) {
      throw mismatch(this.where, ext, "has bytes whose SHA-256 is not its hash");
    }
    this.#checked.set(ext.offset, ext.length);
  }
}

function mismatch(where: SuperChunkLocation, ext: ResolvedExtent, what: string) {
  return superChunkCorrupt(
    where,
    ext.offset,
    `sub-block ${ext.subBlock} (offset ${ext.offset}, length ${ext.length}) ${what}`,
  );
}

/**
 * The checks of every loaded super-chunk, kept beside its bytes: keyed by the buffer the
 * load produced, so a check always belongs to exactly the bytes it was built with, and goes
 * when they do.
 */
export class ChunkChecks {
  readonly #byData = new WeakMap<Buffer, ChunkCheck>();
  #indexBuilds = 0;
  #hashed = 0;

  /** `data` was loaded from the frozen super-chunk whose (row-checked) header is `h`. */
  frozen(data: Buffer, h: SuperChunkHeader, where: SuperChunkLocation): void {
    this.#indexBuilds++;
    this.#byData.set(data, new HeaderIndex(h, where));
  }

  /** `data` holds an open super-chunk's committed bytes. */
  open(data: Buffer, where: SuperChunkLocation): void {
    this.#byData.set(data, new OpenChunkCheck(where, () => this.#hashed++));
  }

  /**
   * Throws E_SUPERCHUNK_CORRUPT unless `ext` is a sub-block that `data` (a loaded
   * super-chunk) holds.
   */
  check(data: Buffer, ext: ResolvedExtent): void {
    const c = this.#byData.get(data);
    if (c === undefined) {
      throw new InternalError("super-chunk bytes served without their check", {
        superChunkId: ext.superChunk,
      });
    }
    c.check(ext, data);
  }

  stats(): ChunkCheckStats {
    return { indexBuilds: this.#indexBuilds, subBlocksHashed: this.#hashed };
  }
}
