/**
 * The second half of a commit: ONE metadata transaction records the open super-chunks'
 * new lengths, the new sub-blocks, the content (or reuses one with the same extents:
 * whole-file dedup, looked up by the hash of its extent list), the inode's size, content
 * and times, and releases the old content (its sub-blocks lose their references). The
 * transaction is visible at once and durable at the next group sync (group-sync.ts),
 * which fsyncs the raw files before the database: a crash before it leaves the old file
 * or the new one, never a mix.
 */
import { extentDigest } from "../meta/extent-digest.js";
import type { MetaDb } from "../meta/meta-db.js";
import type { ContentId, InodeRecord } from "../meta/records.js";
import type { Extent, InodeId, SubBlockId } from "../types.js";
import type { ChunkPlan } from "./chunk-file.js";
import type { OpenSuperChunks } from "./open-superchunks.js";

/** Times a commit writes: mtime undefined keeps the inode's. */
export interface CommitTimes {
  readonly mtimeNs: bigint | undefined;
  readonly ctimeNs: bigint | undefined;
}

/**
 * Makes `plan` the content of `ino`, durably. Returns the content released and deleted
 * (if any), so the caller can drop what it cached about it.
 */
export function commitPlan(
  meta: MetaDb,
  open: OpenSuperChunks,
  ino: InodeId,
  plan: ChunkPlan,
  times: CommitTimes,
): ContentId | undefined {
  let deleted: ContentId | undefined;
  try {
    meta.transaction(() => {
      open.recordLengths();
      // every appended sub-block gets its row, so an open super-chunk's rows tile its bytes
      const ids = plan.newBlocks.map((b) => meta.insertSubBlock(b));
      const rec = meta.getInode(ino);
      if (rec === undefined) return; // freed meanwhile: the new sub-blocks stay dead
      const content = plan.size === 0 ? null : contentFor(meta, plan, toExtents(plan, ids));
      deleted = swapContent(meta, rec, content);
      meta.updateInode(ino, {
        size: plan.size,
        content,
        ...(times.mtimeNs === undefined ? {} : { mtimeNs: times.mtimeNs }),
        // an attribute change since the last write (chmod, link, ...) keeps its later ctime
        ...(times.ctimeNs === undefined || times.ctimeNs <= rec.ctimeNs
          ? {}
          : { ctimeNs: times.ctimeNs }),
      });
    });
  } catch (err) {
    open.rollback();
    throw err;
  }
  open.markCommitted();
  return deleted;
}

function toExtents(plan: ChunkPlan, ids: readonly SubBlockId[]): Extent[] {
  return plan.extents.map((e) => {
    if (e.kind === "hole") return { subBlock: null, length: e.length };
    return { subBlock: e.kind === "old" ? e.id : ids[e.index]!, length: e.length };
  });
}

/** An existing content with the same bytes, or a new one. */
function contentFor(meta: MetaDb, plan: ChunkPlan, extents: Extent[]): ContentId {
  const key = extentDigest(extents);
  for (const k of plan.bytesHash === undefined ? [key] : [key, plan.bytesHash]) {
    for (const c of meta.findContentCandidates(k)) {
      if (c.size === plan.size && sameExtents(meta.getExtents(c.id), extents)) return c.id;
    }
  }
  return meta.insertContent(key, plan.size, extents);
}

function sameExtents(a: readonly Extent[], b: readonly Extent[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((x, i) => x.subBlock === b[i]!.subBlock && x.length === b[i]!.length);
}

/** Points the inode's reference at `content`; returns the old content if it was deleted. */
function swapContent(
  meta: MetaDb,
  rec: InodeRecord,
  content: ContentId | null,
): ContentId | undefined {
  if (content === rec.content) {
    return undefined;
  }
  if (content !== null) meta.addContentRef(content, 1);
  if (rec.content === null) return undefined;
  return meta.writes.releaseContent(rec.content) ? rec.content : undefined;
}
