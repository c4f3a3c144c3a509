/**
 * Which super-chunks a repack rewrites, and the sub-blocks it moves and drops. A sub-block
 * is live when an extent of a content that some inode uses names it (contents no inode uses
 * are dead and purged by the repack). Selected: every super-chunk with `--all`; else those
 * whose dead share exceeds the threshold, plus small ones (live bytes under half the
 * target) when merging them leaves fewer super-chunks.
 */
import type { SuperChunkRecord } from "../meta/records.js";
import type { SnapshotSubBlock, StoreSnapshot } from "../meta/store-snapshot.js";

/** What a repack would do. */
export interface RepackSelection {
  /** super-chunks to rewrite, by id */
  readonly superChunks: SuperChunkRecord[];
  /** live sub-blocks to move, in walk (path) order, with the first path and offset using each */
  readonly live: { sb: SnapshotSubBlock; path: string; fileOffset: number }[];
  /** dead sub-block rows to drop */
  readonly dead: SnapshotSubBlock[];
  readonly liveBytes: number;
  readonly deadBytes: number;
  /** stored bytes of the selected super-chunks (freed once they are retired) */
  readonly storedBytes: number;
}

/** Extents naming each sub-block, counting only contents some inode uses. */
export function liveRefs(snap: StoreSnapshot): Map<number, number> {
  const used = new Set<number>();
  for (const r of snap.inodes.values()) if (r.content !== null) used.add(r.content);
  const refs = new Map<number, number>();
  for (const c of snap.contents.values()) {
    if (!used.has(c.id)) continue;
    for (const code of c.codes ?? []) if (code > 0) refs.set(code, (refs.get(code) ?? 0) + 1);
  }
  return refs;
}

/** Chooses the super-chunks to rewrite. */
export function selectSuperChunks(
  snap: StoreSnapshot,
  refs: Map<number, number>,
  opts: { all: boolean; minDead: number; targetBytes: number },
): Set<number> {
  const live = new Map<number, number>();
  for (const sb of snap.subBlocks.values()) {
    if ((refs.get(sb.id) ?? 0) > 0)
      live.set(sb.superChunk, (live.get(sb.superChunk) ?? 0) + sb.length);
  }
  const chosen = new Set<number>();
  const small: number[] = [];
  let smallBytes = 0;
  for (const sc of snap.superChunks.values()) {
    const l = live.get(sc.id) ?? 0;
    const dead = sc.rawBytes > 0 ? (sc.rawBytes - l) / sc.rawBytes : 0;
    if (opts.all || dead > opts.minDead) chosen.add(sc.id);
    else if (l < opts.targetBytes / 2) {
      small.push(sc.id);
      smallBytes += l;
    }
  }
  // merge small ones only when that leaves fewer super-chunks
  if (small.length >= 2 && Math.ceil(smallBytes / opts.targetBytes) < small.length) {
    for (const id of small) chosen.add(id);
  }
  return chosen;
}

/** The live and dead sub-blocks of the chosen super-chunks; live ones in walk order. */
export function selectionOf(
  snap: StoreSnapshot,
  refs: Map<number, number>,
  chosen: Set<number>,
  walkFiles: Iterable<{ ino: number; path: string }>,
): RepackSelection {
  const live: RepackSelection["live"] = [];
  const seen = new Set<number>();
  const take = (id: number, path: string, fileOffset: number) => {
    const sb = snap.subBlocks.get(id);
    if (sb === undefined || seen.has(id) || !chosen.has(sb.superChunk)) return;
    seen.add(id);
    live.push({ sb, path, fileOffset });
  };
  for (const f of walkFiles) {
    const r = snap.inodes.get(f.ino);
    const c = r?.content == null ? undefined : snap.contents.get(r.content);
    let off = 0;
    for (const code of c?.codes ?? []) {
      if (code > 0) take(code, f.path, off);
      off += code < 0 ? -code : (snap.subBlocks.get(code)?.length ?? 0);
    }
  }
  const dead: SnapshotSubBlock[] = [];
  for (const sb of snap.subBlocks.values()) {
    if (!chosen.has(sb.superChunk) || seen.has(sb.id)) continue;
    if ((refs.get(sb.id) ?? 0) > 0)
      take(sb.id, "", 0); // live, reached from no walked file
    else dead.push(sb);
  }
  const superChunks = [...chosen]
    .map((id) => snap.superChunks.get(id)!)
    .sort((a, b) => a.id - b.id);
  return {
    superChunks,
    live,
    dead,
    liveBytes: live.reduce((a, x) => a + x.sb.length, 0),
    deadBytes: dead.reduce((a, x) => a + x.length, 0),
    storedBytes: superChunks.reduce((a, s) => a + s.storedBytes, 0),
  };
}
