/**
 * Record-to-view conversions of the read side: an inode's attributes as FsView shows
 * them, and which super-chunks two generations of one store hold alike (what a reader
 * switching generations may keep cached).
 */
import type { MetaDb } from "../meta/meta-db.js";
import type { InodeRecord } from "../meta/records.js";
import type { InodeAttr } from "./fs-view.js";

/** The attributes of an inode record. */
export function toAttr(r: InodeRecord): InodeAttr {
  return {
    ino: r.ino,
    kind: r.kind,
    mode: r.mode,
    uid: r.uid,
    gid: r.gid,
    size: r.size,
    nlink: r.nlink,
    rdev: r.rdev,
    atimeNs: r.atimeNs,
    mtimeNs: r.mtimeNs,
    ctimeNs: r.ctimeNs,
  };
}

/** Ids of the super-chunks `a` and `b` both hold with the same codec and sizes. */
export function unchangedSuperChunks(a: MetaDb, b: MetaDb): Set<number> {
  const before = new Map(a.listSuperChunks().map((r) => [r.id as number, r]));
  const same = new Set<number>();
  for (const r of b.listSuperChunks()) {
    const o = before.get(r.id);
    const equal =
      o !== undefined &&
      o.codec === r.codec &&
      o.rawBytes === r.rawBytes &&
      o.storedBytes === r.storedBytes &&
      o.subBlocks === r.subBlocks;
    if (equal) same.add(r.id);
  }
  return same;
}
