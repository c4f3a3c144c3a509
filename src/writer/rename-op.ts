/**
 * rename(2) in one transaction: across directories, over an existing target (a file over
 * a file, a directory over an empty directory), never a directory into its own subtree
 * (E_USAGE, EINVAL), never a directory over a non-directory (E_NOT_DIR) or the reverse
 * (E_IS_DIR). Renaming a name onto another name of the same inode does nothing.
 * RENAME_EXCHANGE swaps two existing names (any kinds), never a directory into its own subtree.
 */
import { UsageError } from "../errors.js";
import type { MetaDb } from "../meta/meta-db.js";
import type { InodeRecord } from "../meta/records.js";
import { ROOT_INO } from "../meta/schema.js";
import { type InodeId, InodeKind } from "../types.js";
import { checkName, nowNs } from "./caller.js";
import { dropLink } from "./namespace-ops.js";
import { childOf, dirOf, inodeOf, type TreeDeps, touchDir } from "./tree-deps.js";

/** RENAME_NOREPLACE of renameat2: fail with E_EXISTS rather than replace. */
export const RENAME_NOREPLACE = 1;
/** RENAME_EXCHANGE of renameat2: swap the two names atomically; both must exist. */
export const RENAME_EXCHANGE = 2;

/** Moves `parent/name` to `newParent/newName`. */
export function rename(
  deps: TreeDeps,
  parent: InodeId,
  name: Buffer,
  newParent: InodeId,
  newName: Buffer,
  flags = 0,
): void {
  checkName(newName);
  if ((flags & RENAME_EXCHANGE) !== 0) {
    if ((flags & RENAME_NOREPLACE) !== 0) throw new UsageError("E_USAGE", "exchange noreplace");
    exchange(deps, parent, name, newParent, newName);
    return;
  }
  const { meta } = deps;
  meta.transaction(() => {
    const src = childOf(meta, parent, name);
    dirOf(meta, newParent);
    const isDir = src.kind === InodeKind.dir;
    if (isDir && newParent !== parent) checkNotInside(meta, src.ino, newParent);
    const destIno = meta.lookup(newParent, newName);
    if (destIno === src.ino) return;
    const now = nowNs();
    if (destIno !== undefined) {
      if ((flags & RENAME_NOREPLACE) !== 0) {
        throw new UsageError("E_EXISTS", `${newName.toString()} exists`, { parent: newParent });
      }
      replaceTarget(deps, inodeOf(meta, destIno), isDir, newParent, newName, now);
    }
    meta.writes.moveEntry(parent, name, newParent, newName);
    if (isDir && newParent !== parent) {
      meta.updateInode(parent, { nlink: dirOf(meta, parent).nlink - 1 });
      meta.updateInode(newParent, { nlink: dirOf(meta, newParent).nlink + 1 });
    }
    meta.updateInode(src.ino, { ctimeNs: now });
    touchDir(meta, parent, now);
    if (newParent !== parent) touchDir(meta, newParent, now);
  });
}

/** Swaps `parent/name` and `newParent/newName` (both must exist). */
function exchange(
  deps: TreeDeps,
  parent: InodeId,
  name: Buffer,
  newParent: InodeId,
  newName: Buffer,
): void {
  const { meta } = deps;
  meta.transaction(() => {
    const a = childOf(meta, parent, name);
    const b = childOf(meta, newParent, newName);
    if (a.ino === b.ino) return;
    const aDir = a.kind === InodeKind.dir ? 1 : 0;
    const bDir = b.kind === InodeKind.dir ? 1 : 0;
    if (newParent !== parent) {
      if (aDir) checkNotInside(meta, a.ino, newParent);
      if (bDir) checkNotInside(meta, b.ino, parent);
    }
    meta.writes.removeEntry(parent, name);
    meta.writes.removeEntry(newParent, newName);
    meta.addEntry(parent, name, b.ino);
    meta.addEntry(newParent, newName, a.ino);
    if (newParent !== parent && aDir !== bDir) {
      meta.updateInode(parent, { nlink: dirOf(meta, parent).nlink + bDir - aDir });
      meta.updateInode(newParent, { nlink: dirOf(meta, newParent).nlink + aDir - bDir });
    }
    const now = nowNs();
    meta.updateInode(a.ino, { ctimeNs: now });
    meta.updateInode(b.ino, { ctimeNs: now });
    touchDir(meta, parent, now);
    if (newParent !== parent) touchDir(meta, newParent, now);
  });
}

/** E_USAGE when `dest` is `dir` or lies below it (walks up from `dest`). */
function checkNotInside(meta: MetaDb, dir: InodeId, dest: InodeId): void {
  for (let at: InodeId | undefined = dest; at !== undefined; at = meta.writes.parentOf(at)) {
    if (at === dir) {
      throw new UsageError("E_USAGE", "cannot move a directory into itself", { dir, dest });
    }
    if (at === ROOT_INO) return;
  }
}

/** Removes the existing target of a rename after checking the kinds match. */
function replaceTarget(
  deps: TreeDeps,
  dest: InodeRecord,
  srcIsDir: boolean,
  newParent: InodeId,
  newName: Buffer,
  now: bigint,
): void {
  const { meta } = deps;
  const destIsDir = dest.kind === InodeKind.dir;
  if (srcIsDir && !destIsDir) {
    throw new UsageError("E_NOT_DIR", `${newName.toString()} is not a directory`, {});
  }
  if (!srcIsDir && destIsDir) {
    throw new UsageError("E_IS_DIR", `${newName.toString()} is a directory`, {});
  }
  if (destIsDir && meta.writes.countEntries(dest.ino) > 0) {
    throw new UsageError("E_NOT_EMPTY", `${newName.toString()} is not empty`, {});
  }
  meta.writes.removeEntry(newParent, newName);
  if (destIsDir) {
    meta.writes.deleteInode(dest.ino);
    meta.updateInode(newParent, { nlink: dirOf(meta, newParent).nlink - 1 });
  } else dropLink(deps, dest, now);
}
