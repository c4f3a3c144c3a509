/**
 * The first half of a commit: the part of the file that changed (commit-region.ts: from
 * the first changed content-defined boundary to the end; holes cost nothing per byte) is
 * read in bounded windows, cut with the store's FastCDC parameters and hashed (on the
 * commit worker for large windows: commit-pool.ts), and deduplicated against the whole
 * store (sub-block index candidates confirmed by full hash, and sub-blocks met earlier in
 * the same commit); all-zero sub-blocks become holes; new sub-blocks are appended to the
 * current open super-chunk (not yet durable, not yet in the metadata).
 */
import { createHash } from "node:crypto";
import type { ChunkerParams } from "../chunker/chunker-params.js";
import type { MetaDb } from "../meta/meta-db.js";
import {
  type Extent,
  HASH_BYTES,
  type SubBlockHash,
  type SubBlockId,
  type SuperChunkId,
} from "../types.js";
import { type CommitPool, WINDOW_BYTES } from "./commit-pool.js";
import type { CutReply } from "./commit-protocol.js";
import { planRegion } from "./commit-region.js";
import type { DedupCheck } from "./dedup-check.js";
import type { OpenSuperChunks } from "./open-superchunks.js";
import type { CommittedFile, StagedReader } from "./staged-reader.js";
import type { StagingFile } from "./staging-file.js";

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
  readonly extents: PlannedExtent[];
  readonly newBlocks: NewBlock[];
  /** bytes this commit cut and hashed (the changed part, holes excluded) */
  readonly hashedBytes: number;
  /**
   * SHA-256 of the file's bytes, when the commit cut them all as one run (a new or
   * rewritten file without holes): finds a packed identical file (whole-file dedup)
   */
  readonly bytesHash?: Buffer;
}

/** What chunking needs from the store. */
export interface ChunkDeps {
  readonly meta: MetaDb;
  readonly reader: StagedReader;
  readonly dedup: DedupCheck;
  readonly open: OpenSuperChunks;
  readonly params: ChunkerParams;
  readonly commitPool: CommitPool;
}

/** Cuts, hashes and deduplicates the file's changed bytes; appends the new sub-blocks. */
export async function chunkFile(
  deps: ChunkDeps,
  base: CommittedFile,
  staging: StagingFile | undefined,
): Promise<ChunkPlan> {
  const size = staging?.size ?? base.size;
  const old = base.content === null ? [] : deps.meta.getExtents(base.content);
  const region = planRegion(old, base.size, staging, deps.params.maxBytes);
  const plan = new PlanBuilder(deps);
  for (const e of region.keep) plan.keep(e);
  const whole = region.keep.length === 0 && region.pieces.length === 1;
  let bytesHash: Buffer | undefined;
  let padded = 0;
  for (const [i, p] of region.pieces.entries()) {
    if (p.kind === "hole") plan.hole(p.end - p.start - padded);
    else {
      const pad = i + 1 < region.pieces.length ? deps.params.minBytes : 0;
      const src = { base, staging, whole, pad };
      ({ digest: bytesHash, padded } = await chunkRun(deps, plan, src, p.start, p.end));
    }
  }
  const { extents, newBlocks, hashed: hashedBytes } = plan;
  return { size, extents, newBlocks, hashedBytes, ...(whole && bytesHash && { bytesHash }) };
}

/** The file a run is cut from; `whole`: the run is the whole file (hash it as one). */
interface RunSource {
  readonly base: CommittedFile;
  readonly staging: StagingFile | undefined;
  readonly whole: boolean;
  /**
   * a hole follows: a last sub-block shorter than this takes zeros from it up to this
   * length (only a file's last sub-block may be shorter than the chunker's minimum)
   */
  readonly pad: number;
}

/**
 * Cuts the data in [start, end) window by window (the run's end ends its last sub-block);
 * answers the run's SHA-256 when `src.whole`, and the zeros taken from the next hole.
 */
async function chunkRun(
  deps: ChunkDeps,
  plan: PlanBuilder,
  src: RunSource,
  start: number,
  end: number,
): Promise<{ digest: Buffer | undefined; padded: number }> {
  const run = deps.commitPool.run(end - start, deps.params, src.whole);
  let carry = new Uint8Array(0);
  for (let pos = start; ; ) {
    const n = Math.min(WINDOW_BYTES, end - pos);
    const buf = deps.commitPool.window(carry.length + n);
    buf.set(carry);
    const fresh = Buffer.from(buf.buffer, carry.length, n);
    await readRange(deps, src.base, src.staging, pos, fresh);
    pos += n;
    const last = pos >= end;
    let cuts = await run.cut(buf, last);
    if (!last) {
      await plan.addCuts(cuts);
      carry = cuts.data.slice(cuts.consumed);
      continue;
    }
    const padded = padLast(cuts, src.pad);
    if (padded > 0) cuts = padCuts(cuts, padded);
    await plan.addCuts(cuts);
    return { digest: cuts.digest && Buffer.from(cuts.digest), padded };
  }
}

/** Zeros the last sub-block of `c` needs to reach `pad` bytes (0 for a hole or none). */
function padLast(c: CutReply, pad: number): number {
  const i = c.lengths.length - 1;
  if (i < 0 || c.zero[i] === 1 || c.lengths[i]! >= pad) return 0;
  return pad - c.lengths[i]!;
}

/** `c` with its last sub-block extended by `n` zeros and hashed again. */
function padCuts(c: CutReply, n: number): CutReply {
  const i = c.lengths.length - 1;
  const data = new Uint8Array(c.consumed + n);
  data.set(c.data.subarray(0, c.consumed));
  const lengths = c.lengths.slice();
  lengths[i] = lengths[i]! + n;
  const hashes = c.hashes.slice();
  const lastBytes = data.subarray(c.consumed + n - lengths[i]!);
  hashes.set(createHash("sha256").update(lastBytes).digest(), i * HASH_BYTES);
  return { ...c, data, lengths, hashes, consumed: data.length, hashedBytes: c.hashedBytes + n };
}

/** The file's bytes at `offset` into `target`: staged (read asynchronously), committed, zeros. */
async function readRange(
  deps: ChunkDeps,
  base: CommittedFile,
  staging: StagingFile | undefined,
  offset: number,
  target: Buffer,
): Promise<void> {
  const end = offset + target.length;
  if (staging === undefined) {
    await deps.reader.read(base, undefined, offset, target);
    return;
  }
  const limit = Math.min(staging.baseLimit, base.size);
  for (const s of staging.segments(offset, end)) {
    const part = target.subarray(s.start - offset, s.end - offset);
    if (s.inSet) await staging.readStagedAsync(s.start, part);
    else {
      const fromBase = Math.max(0, Math.min(s.end, limit) - s.start);
      if (fromBase > 0)
        await deps.reader.read(base, undefined, s.start, part.subarray(0, fromBase));
      part.fill(0, fromBase);
    }
  }
}

/** Turns sub-blocks into planned extents, deduplicating as it goes. */
class PlanBuilder {
  readonly extents: PlannedExtent[] = [];
  readonly newBlocks: NewBlock[] = [];
  hashed = 0;
  /** hex hash → extent already planned for it in this commit */
  readonly #seen = new Map<string, PlannedExtent>();

  constructor(private readonly deps: ChunkDeps) {}

  /** An extent of the old content, unchanged. */
  keep(e: Extent): void {
    if (e.subBlock === null) this.hole(e.length);
    else this.extents.push({ kind: "old", id: e.subBlock, length: e.length });
  }

  hole(length: number): void {
    const last = this.extents[this.extents.length - 1];
    if (last?.kind === "hole") last.length += length;
    else this.extents.push({ kind: "hole", length });
  }

  async addCuts(c: CutReply): Promise<void> {
    this.hashed += c.hashedBytes;
    let at = 0;
    for (let i = 0; i < c.lengths.length; i++) {
      const length = c.lengths[i]!;
      const piece = c.data.subarray(at, at + length);
      at += length;
      if (c.zero[i] === 1) this.hole(length);
      else
        await this.#add(piece, Buffer.from(c.hashes.slice(i * HASH_BYTES, (i + 1) * HASH_BYTES)));
    }
  }

  async #add(piece: Uint8Array, hash: Buffer): Promise<void> {
    const hex = hash.toString("hex");
    let ext = this.#seen.get(hex) ?? (await this.#known(hash as SubBlockHash, piece.length));
    if (ext === undefined) {
      const at = this.deps.open.append(piece, hash);
      this.newBlocks.push({ hash: hash as SubBlockHash, ...at, length: piece.length });
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
