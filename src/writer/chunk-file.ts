/**
 * The first half of a commit: the file's current bytes (staged over committed) are cut
 * with the store's FastCDC parameters, hashed, and deduplicated against the whole store
 * (sub-block index candidates confirmed by full hash, and sub-blocks met earlier in the
 * same file); all-zero sub-blocks become holes; new sub-blocks are appended to the
 * current open super-chunk (not yet durable, not yet in the metadata).
 */
import { createHash } from "node:crypto";
import type { ChunkerParams } from "../chunker/chunker-params.js";
import { nextCut } from "../chunker/fastcdc.js";
import type { MetaDb } from "../meta/meta-db.js";
import { MIB, type SubBlockHash, type SubBlockId, type SuperChunkId } from "../types.js";
import type { DedupCheck } from "./dedup-check.js";
import type { OpenSuperChunks } from "./open-superchunks.js";
import type { CommittedFile, StagedReader } from "./staged-reader.js";
import type { StagingFile } from "./staging-file.js";

/** Bytes read from the file at a time (plus up to one sub-block carried over). */
const WINDOW_BYTES = 4 * MIB;

/** A sub-block this commit appended to an open super-chunk. */
export interface NewBlock {
  readonly hash: SubBlockHash;
  readonly superChunk: SuperChunkId;
  readonly offset: number;
  readonly length: number;
}

/** One extent of the new content: a hole, a known sub-block, or `newBlocks[index]`. */
export type PlannedExtent =
  | { readonly kind: "hole"; length: number }
  | { readonly kind: "old"; readonly id: SubBlockId; readonly length: number }
  | { readonly kind: "new"; readonly index: number; readonly length: number };

/** What a file's bytes became. */
export interface ChunkPlan {
  readonly size: number;
  /** SHA-256 of the whole file */
  readonly hash: Buffer;
  readonly extents: PlannedExtent[];
  readonly newBlocks: NewBlock[];
}

/** What chunking needs from the store. */
export interface ChunkDeps {
  readonly meta: MetaDb;
  readonly reader: StagedReader;
  readonly dedup: DedupCheck;
  readonly open: OpenSuperChunks;
  readonly params: ChunkerParams;
}

/** Cuts, hashes and deduplicates the file's bytes; appends the new sub-blocks. */
export async function chunkFile(
  deps: ChunkDeps,
  base: CommittedFile,
  staging: StagingFile | undefined,
): Promise<ChunkPlan> {
  const size = staging?.size ?? base.size;
  const whole = createHash("sha256");
  const plan = new PlanBuilder(deps);
  const max = deps.params.maxBytes;
  let buf = Buffer.alloc(0);
  let bufStart = 0;
  for (let pos = 0; pos < size; ) {
    const bufEnd = bufStart + buf.length;
    if (bufEnd - pos < max && bufEnd < size) {
      const keep = buf.subarray(pos - bufStart);
      const more = Math.min(WINDOW_BYTES, size - bufEnd);
      const next = Buffer.allocUnsafe(keep.length + more);
      keep.copy(next);
      await deps.reader.read(base, staging, bufEnd, next.subarray(keep.length));
      buf = next;
      bufStart = pos;
    }
    const s = pos - bufStart;
    const cut = nextCut(buf, s, buf.length, deps.params);
    const piece = buf.subarray(s, cut);
    whole.update(piece);
    await plan.add(piece);
    pos += cut - s;
  }
  return { size, hash: whole.digest(), extents: plan.extents, newBlocks: plan.newBlocks };
}

/** Turns sub-blocks into planned extents, deduplicating as it goes. */
class PlanBuilder {
  readonly extents: PlannedExtent[] = [];
  readonly newBlocks: NewBlock[] = [];
  /** hex hash → extent already planned for it in this file */
  readonly #seen = new Map<string, PlannedExtent>();
  readonly #zero: Buffer;

  constructor(private readonly deps: ChunkDeps) {
    this.#zero = Buffer.alloc(deps.params.maxBytes);
  }

  async add(piece: Buffer): Promise<void> {
    if (piece.equals(this.#zero.subarray(0, piece.length))) {
      const last = this.extents[this.extents.length - 1];
      if (last?.kind === "hole") last.length += piece.length;
      else this.extents.push({ kind: "hole", length: piece.length });
      return;
    }
    const hash = createHash("sha256").update(piece).digest() as SubBlockHash;
    const hex = hash.toString("hex");
    let ext = this.#seen.get(hex) ?? (await this.#known(hash, piece.length));
    if (ext === undefined) {
      const at = this.deps.open.append(piece);
      this.newBlocks.push({ hash, ...at, length: piece.length });
      ext = { kind: "new", index: this.newBlocks.length - 1, length: piece.length };
    }
    this.#seen.set(hex, ext);
    this.extents.push(ext);
  }

  /** A sub-block of the store confirmed to hold these bytes, if any. */
  async #known(hash: SubBlockHash, length: number): Promise<PlannedExtent | undefined> {
    for (const c of this.deps.meta.findSubBlockCandidates(hash)) {
      if (c.length === length && (await this.deps.dedup.confirm(c, hash))) {
        return { kind: "old", id: c.id, length };
      }
    }
    return undefined;
  }
}
