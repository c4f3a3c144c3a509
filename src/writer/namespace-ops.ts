/**
 * Creating and removing names: create, mkdir, mknod, symlink, link, unlink, rmdir.
 * Each runs in one metadata transaction and keeps nlink, the parents' times and (when
 * the last name of an unopened file goes) the content refcounts exact.
 */
import { UsageError } from "../errors.js";
import type { InodeRecord } from "../meta/records.js";
import { type InodeId, InodeKind } from "../types.js";
import { type CallerContext, checkName, nowNs } from "./caller.js";
import { childOf, dirOf, inodeOf, type TreeDeps, touchDir } from "./tree-deps.js";

const S_ISGID = 0o2000;

/** What a new inode is. */
export interface NodeSpec {
  readonly kind: InodeKind;
  readonly mode: number;
  readonly rdev?: number;
  readonly target?: Buffer;
}

/** Makes a new inode named `name` in `parent` (E_EXISTS if taken: O_EXCL semantics). */
export function makeNode(
  deps: TreeDeps,
  ctx: CallerContext,
  parent: InodeId,
  name: Buffer,
  spec: NodeSpec,
): InodeRecord {
  checkName(name);
  const { meta } = deps;
  const isDev = spec.kind === InodeKind.chardev || spec.kind === InodeKind.blockdev;
  if (isDev && ctx.uid !== 0) {
    throw new UsageError("E_NOT_PERMITTED", "only root makes device nodes", { uid: ctx.uid });
  }
  return meta.transaction(() => {
    const dir = dirOf(meta, parent);
    if (meta.lookup(parent, name) !== undefined) {
      throw new UsageError("E_EXISTS", `${name.toString()} exists`, { parent });
    }
    const now = nowNs();
    const inherit = (dir.mode & S_ISGID) !== 0;
    let mode = spec.mode & 0o7777 & ~(ctx.umask ?? 0);
    if (inherit && spec.kind === InodeKind.dir) mode |= S_ISGID;
    const isDir = spec.kind === InodeKind.dir;
    const ino = meta.insertInode({
      kind: spec.kind,
      mode,
      uid: ctx.uid,
      gid: inherit ? dir.gid : ctx.gid,
      size: spec.target?.length ?? 0,
      atimeNs: now,
      mtimeNs: now,
      ctimeNs: now,
      nlink: isDir ? 2 : 1,
      rdev: isDev ? (spec.rdev ?? 0) : 0,
      target: spec.kind === InodeKind.symlink ? spec.target : null,
      content: null,
    });
    meta.addEntry(parent, name, ino);
    if (isDir) meta.updateInode(parent, { nlink: dir.nlink + 1 });
    touchDir(meta, parent, now);
    return inodeOf(meta, ino);
  });
}

/** A new hard link `newName` in `newParent` to `ino` (not a directory). */
export function link(
  deps: TreeDeps,
  ino: InodeId,
  newParent: InodeId,
  newName: Buffer,
): InodeRecord {
  checkName(newName);
  const { meta } = deps;
  return meta.transaction(() => {
    const rec = inodeOf(meta, ino);
    if (rec.kind === InodeKind.dir) {
      throw new UsageError("E_NOT_PERMITTED", "hard links to directories are not allowed", { ino });
    }
    dirOf(meta, newParent);
    if (meta.lookup(newParent, newName) !== undefined) {
      throw new UsageError("E_EXISTS", `${newName.toString()} exists`, { parent: newParent });
    }
    const now = nowNs();
    meta.addEntry(newParent, newName, ino);
    meta.updateInode(ino, { nlink: rec.nlink + 1, ctimeNs: now });
    touchDir(meta, newParent, now);
    return inodeOf(meta, ino);
  });
}

/** Removes the name of a non-directory; the inode goes with its last name unless open. */
export function unlink(deps: TreeDeps, parent: InodeId, name: Buffer): void {
  const { meta } = deps;
  meta.transaction(() => {
    const rec = childOf(meta, parent, name);
    if (rec.kind === InodeKind.dir) {
      throw new UsageError("E_IS_DIR", `${name.toString()} is a directory`, { parent });
    }
    const now = nowNs();
    meta.writes.removeEntry(parent, name);
    dropLink(deps, rec, now);
    touchDir(meta, parent, now);
  });
}

/** One name of `rec` is gone: nlink down; the inode is freed at 0 unless a handle is open. */
export function dropLink(deps: TreeDeps, rec: InodeRecord, now: bigint): void {
  const nlink = Math.max(0, rec.nlink - 1);
  if (nlink === 0 && !deps.isOpen(rec.ino)) deps.freeInode(rec);
  else deps.meta.updateInode(rec.ino, { nlink, ctimeNs: now });
}

/** Removes an empty directory. */
export function rmdir(deps: TreeDeps, parent: InodeId, name: Buffer): void {
  const { meta } = deps;
  meta.transaction(() => {
    const rec = childOf(meta, parent, name);
    if (rec.kind !== InodeKind.dir) {
      throw new UsageError("E_NOT_DIR", `${name.toString()} is not a directory`, { parent });
    }
    if (meta.writes.countEntries(rec.ino) > 0) {
      throw new UsageError("E_NOT_EMPTY", `${name.toString()} is not empty`, { ino: rec.ino });
    }
    meta.writes.removeEntry(parent, name);
    meta.writes.deleteInode(rec.ino);
    const dir = dirOf(meta, parent);
    meta.updateInode(parent, { nlink: dir.nlink - 1 });
    touchDir(meta, parent, nowNs());
  });
}
