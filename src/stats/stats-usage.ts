/**
 * What a set of files uses of a store, computed from a metadata snapshot: extents, the
 * super-chunks they touch, the bytes only this set references (unique) versus bytes other
 * files reference too (shared), and an estimate of the stored bytes the set costs.
 */
import type { StoreSnapshot } from "../meta/store-snapshot.js";
import { type InodeId, InodeKind } from "../types.js";

/** What a set of files (one file, a directory's subtree, the store) uses. */
export interface UsageFacts {
  files: number;
  logicalBytes: number;
  extents: number;
  holes: number;
  holeBytes: number;
  /** bytes of sub-blocks referenced only from within the set */
  uniqueBytes: number;
  /** bytes of sub-block extents whose sub-block is referenced from outside the set too */
  sharedBytes: number;
  /** stored bytes attributed to the set: each sub-block's compressed cost split by its uses */
  storedBytes: number;
  /** super-chunk ids the set touches, ascending */
  superChunks: number[];
}

/** How many inodes in the set use each content. */
function contentUse(snap: StoreSnapshot, inos: Iterable<InodeId>): Map<number, number> {
  const use = new Map<number, number>();
  for (const ino of inos) {
    const r = snap.inodes.get(ino);
    if (r?.kind !== InodeKind.file || r.content === null) continue;
    use.set(r.content, (use.get(r.content) ?? 0) + 1);
  }
  return use;
}

/** Usage of the files `inos` (non-files are ignored; each inode counted once). */
export function usageOf(snap: StoreSnapshot, inos: Iterable<InodeId>): UsageFacts {
  const set = new Set(inos);
  const u: UsageFacts = {
    files: 0,
    logicalBytes: 0,
    extents: 0,
    holes: 0,
    holeBytes: 0,
    uniqueBytes: 0,
    sharedBytes: 0,
    storedBytes: 0,
    superChunks: [],
  };
  for (const ino of set) {
    const r = snap.inodes.get(ino);
    if (r?.kind !== InodeKind.file) continue;
    u.files++;
    u.logicalBytes += r.size;
  }
  const uses = new Map<number, number>(); // sub-block id -> extents naming it from the set
  const touched = new Set<number>();
  for (const [cid, inodesInSet] of contentUse(snap, set)) {
    const c = snap.contents.get(cid);
    if (c?.codes === undefined) continue;
    const whole = inodesInSet >= c.refcount; // every inode using this content is in the set
    for (const code of c.codes) {
      u.extents++;
      if (code < 0) {
        u.holes++;
        u.holeBytes -= code;
        continue;
      }
      const sb = snap.subBlocks.get(code);
      if (sb === undefined) continue;
      touched.add(sb.superChunk);
      u.storedBytes += (storedCost(snap, code) * inodesInSet) / Math.max(1, c.refcount);
      uses.set(code, (uses.get(code) ?? 0) + (whole ? 1 : Number.NEGATIVE_INFINITY));
    }
  }
  for (const [id, n] of uses) {
    const sb = snap.subBlocks.get(id)!;
    if (n >= sb.refcount) u.uniqueBytes += sb.length;
    else u.sharedBytes += sb.length;
  }
  u.superChunks = [...touched].sort((a, b) => a - b);
  return u;
}

/** Compressed bytes one extent of sub-block `id` costs: its share of its super-chunk. */
export function storedCost(snap: StoreSnapshot, id: number): number {
  const sb = snap.subBlocks.get(id);
  const sc = sb === undefined ? undefined : snap.superChunks.get(sb.superChunk);
  if (sb === undefined || sc === undefined || sc.rawBytes === 0) return 0;
  return (sb.length * sc.storedBytes) / sc.rawBytes / Math.max(1, sb.refcount);
}

/** Raw and stored bytes of the super-chunks `ids`: what a cold read of them inflates and fetches. */
export function superChunkBytes(
  snap: StoreSnapshot,
  ids: readonly number[],
): { rawBytes: number; storedBytes: number } {
  let rawBytes = 0;
  let storedBytes = 0;
  for (const id of ids) {
    const sc = snap.superChunks.get(id);
    rawBytes += sc?.rawBytes ?? 0;
    storedBytes += sc?.storedBytes ?? 0;
  }
  return { rawBytes, storedBytes };
}
