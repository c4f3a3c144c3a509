/**
 * The crash-safe switch shared by repack and fsck repairs: new super-chunks are built from
 * sub-blocks (bytes fetched on demand, each checked against its SHA-256), written and fsynced
 * under ids never used before; then one metadata transaction records them, moves the
 * sub-block rows to their new places, drops the rows left out and the retired super-chunk
 * rows; only then are the retired files deleted. A crash before the commit leaves orphan
 * files (harmless, fsck removes them); after it, leftover old files are orphans too.
 */
import { createHash } from "node:crypto";
import { type BlobStore, superChunkKey } from "../blobstore/blob-store.js";
import type { CodecName } from "../codec/codec.js";
import type { CodecPool } from "../codec/codec-pool.js";
import { getCodec } from "../codec/codec-registry.js";
import { levelFor } from "../codec/dense.js";
import { assert, CorruptError, isCode } from "../errors.js";
import type { StoreRewrite } from "../meta/store-rewrite.js";
import { SuperChunkBuilder } from "../superchunk/superchunk-builder.js";
import {
  SUPERCHUNK_MAX_BYTES,
  type SubBlockHash,
  type SubBlockId,
  type SuperChunkId,
} from "../types.js";

/** One sub-block to place in a new super-chunk. */
export interface RewriteItem {
  readonly id: SubBlockId;
  readonly hash: SubBlockHash;
  readonly length: number;
  /** looks already compressed (codec/dense.ts); the planner groups dense items apart */
  readonly dense?: boolean;
}

/** What to write, drop and retire in one switch. */
export interface RewritePlan {
  /** one group per new super-chunk, items in payload order */
  readonly groups: readonly (readonly RewriteItem[])[];
  /** sub-block rows to delete (dead, or unrecoverable and unreferenced) */
  readonly drop: readonly SubBlockId[];
  /** super-chunks whose rows are deleted and files removed after the commit */
  readonly retire: readonly SuperChunkId[];
}

/** Where and how to write. */
export interface RewriteContext {
  readonly blobs: BlobStore;
  readonly rewrite: StoreRewrite;
  readonly pool: CodecPool;
  readonly codec: CodecName;
  readonly level: number;
  /** the first id to give a new super-chunk (above every id ever used) */
  readonly firstId: number;
  /** the bytes of a sub-block (verified against its hash here) */
  readonly fetch: (item: RewriteItem) => Promise<Buffer> | Buffer;
  /** called after each new super-chunk is durable */
  readonly onWritten?: (done: number, total: number, rawBytes: number) => void;
  /** called between the writes and the commit (tests use it to simulate a crash) */
  readonly beforeCommit?: () => void;
}

/** What writeGroups needs of a RewriteContext: a dry run passes a `put` that only counts. */
export type GroupWriteContext = Omit<RewriteContext, "blobs" | "rewrite" | "beforeCommit"> & {
  readonly blobs: Pick<BlobStore, "put">;
};

/** One super-chunk written by a switch. */
export interface WrittenChunk {
  readonly id: SuperChunkId;
  readonly codec: CodecName;
  readonly rawBytes: number;
  readonly storedBytes: number;
  readonly count: number;
}

/** Where each sub-block went. */
export interface Placement {
  readonly id: SubBlockId;
  readonly superChunk: SuperChunkId;
  readonly offset: number;
}

/** Writes the plan's groups, commits the switch, deletes retired files; returns what was written. */
export async function applyRewrite(
  ctx: RewriteContext,
  plan: RewritePlan,
): Promise<WrittenChunk[]> {
  let done: Awaited<ReturnType<typeof writeGroups>>;
  try {
    done = await writeGroups(ctx, plan.groups);
    ctx.beforeCommit?.();
  } catch (err) {
    // aborted by the caller: the files written so far go (a crash leaves them as orphans)
    if (isCode(err, "E_ABORTED")) await removeNew(ctx, plan.groups.length);
    throw err;
  }
  const { written, placed } = done;
  commitSwitch(ctx.rewrite, written, placed, plan);
  for (const id of plan.retire) await ctx.blobs.delete(superChunkKey(id));
  return written;
}

/** Removes the files of new super-chunks `ctx.firstId` .. + `count` - 1 (best effort). */
async function removeNew(ctx: RewriteContext, count: number): Promise<void> {
  for (let g = 0; g < count; g++) {
    await ctx.blobs.delete(superChunkKey((ctx.firstId + g) as SuperChunkId)).catch(() => {});
  }
}

/**
 * The first step alone: writes each group durably as a new super-chunk, ids from
 * `ctx.firstId` on; answers the files (by id) and where each sub-block went.
 */
export async function writeGroups(
  ctx: GroupWriteContext,
  groups: RewritePlan["groups"],
): Promise<{ written: WrittenChunk[]; placed: Placement[] }> {
  const written: WrittenChunk[] = [];
  const placed: Placement[] = [];
  const inFlight: Promise<void>[] = [];
  try {
    for (let g = 0; g < groups.length; g++) {
      const id = (ctx.firstId + g) as SuperChunkId;
      const builder = await fillBuilder(ctx, groups[g]!, id, placed);
      const job = builder.finalize().then(async ({ bytes, header }) => {
        await ctx.blobs.put(superChunkKey(id), bytes);
        const w = {
          id,
          codec: header.codec,
          rawBytes: header.rawBytes,
          storedBytes: bytes.length,
          count: header.entries.length,
        };
        written.push(w);
        ctx.onWritten?.(written.length, groups.length, w.rawBytes);
      });
      job.catch(() => {});
      inFlight.push(job);
      if (inFlight.length > ctx.pool.threads) await inFlight.shift();
    }
    await Promise.all(inFlight);
  } finally {
    await Promise.allSettled(inFlight);
  }
  return { written: written.sort((a, b) => a.id - b.id), placed };
}

async function fillBuilder(
  ctx: GroupWriteContext,
  items: readonly RewriteItem[],
  id: SuperChunkId,
  placed: Placement[],
): Promise<SuperChunkBuilder> {
  const total = items.reduce((a, it) => a + it.length, 0);
  const builder = new SuperChunkBuilder({
    targetBytes: Math.min(SUPERCHUNK_MAX_BYTES, Math.max(1, total)),
    codec: ctx.codec,
    level: levelFor(getCodec(ctx.codec), ctx.level, items[0]?.dense === true),
    pool: ctx.pool,
  });
  for (const it of items) {
    const bytes = await ctx.fetch(it);
    const hash = createHash("sha256").update(bytes).digest();
    if (bytes.length !== it.length || !hash.equals(it.hash)) {
      throw new CorruptError("E_SUBBLOCK_HASH", `sub-block ${it.id}: bytes do not match its hash`, {
        subBlock: it.id,
      });
    }
    placed.push({ id: it.id, superChunk: id, offset: builder.add(it.hash, bytes) });
  }
  return builder;
}

/** The one transaction that switches every reference to the new super-chunks. */
export function commitSwitch(
  rw: StoreRewrite,
  written: readonly WrittenChunk[],
  placed: readonly Placement[],
  plan: RewritePlan,
): void {
  rw.transaction(() => {
    for (const w of written) {
      rw.insertSuperChunk({
        id: w.id,
        codec: w.codec,
        rawBytes: w.rawBytes,
        storedBytes: w.storedBytes,
        subBlocks: w.count,
      });
    }
    for (const p of placed) rw.moveSubBlock(p.id, p.superChunk, p.offset);
    for (const id of plan.drop) rw.deleteSubBlock(id);
    for (const id of plan.retire) {
      const left = rw.countSubBlocksIn(id);
      assert(left === 0, "a retired super-chunk still holds sub-blocks", { superChunk: id, left });
      rw.deleteSuperChunk(id);
    }
  });
}
