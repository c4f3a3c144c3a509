/** What the namespace and attribute operations need from the store, and shared checks. */
import { NotFoundError, UsageError } from "../errors.js";
import type { MetaDb } from "../meta/meta-db.js";
import type { InodeRecord } from "../meta/records.js";
import { type InodeId, InodeKind } from "../types.js";

/** The store as the tree operations see it. */
export interface TreeDeps {
  readonly meta: MetaDb;
  /** True while some handle is open on the inode (its bytes must stay readable). */
  isOpen(ino: InodeId): boolean;
  /** Releases the content of an inode no entry names any more and deletes it. In a transaction. */
  freeInode(rec: InodeRecord): void;
}

/** The inode's record; E_NOT_FOUND when it does not exist. */
export function inodeOf(meta: MetaDb, ino: InodeId): InodeRecord {
  const rec = meta.getInode(ino);
  if (rec === undefined) throw new NotFoundError("E_NOT_FOUND", `no inode ${ino}`, { ino });
  return rec;
}

/** The directory's record; E_NOT_FOUND / E_NOT_DIR. */
export function dirOf(meta: MetaDb, ino: InodeId): InodeRecord {
  const rec = inodeOf(meta, ino);
  if (rec.kind !== InodeKind.dir) {
    throw new UsageError("E_NOT_DIR", `inode ${ino} is not a directory`, { ino });
  }
  return rec;
}

/** The inode named `name` in `parent`; E_NOT_FOUND when there is none. */
export function childOf(meta: MetaDb, parent: InodeId, name: Buffer): InodeRecord {
  dirOf(meta, parent);
  const ino = meta.lookup(parent, name);
  if (ino === undefined) {
    throw new NotFoundError("E_NOT_FOUND", `no entry ${name.toString()} in ${parent}`, {
      parent,
      hex: name.toString("hex"),
    });
  }
  return inodeOf(meta, ino);
}

/** Updates mtime and ctime of a directory whose entries changed. */
export function touchDir(meta: MetaDb, dir: InodeId, now: bigint): void {
  meta.updateInode(dir, { mtimeNs: now, ctimeNs: now });
}
