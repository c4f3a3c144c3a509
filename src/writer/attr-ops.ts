/**
 * Attribute changes: chmod, chown, utimens and extended attributes, each in one
 * transaction and each setting ctime. Owner-only rules are enforced here (the kernel's
 * default_permissions does the rest): chmod and explicit utimens by a non-owner,
 * and chown by non-root (except by the owner to one of its groups, primary or
 * supplementary), are E_NOT_PERMITTED. One chmod by a non-owner is accepted: one that only
 * clears the set-user-ID and/or set-group-ID bits. The kernel sends it on behalf of a
 * writer that is not the owner (it has already checked write access), as ext4 clears them;
 * killSetId clears the bits the kernel leaves to the file system (set-group-ID without group
 * execute, when the writer is not in the file's group).
 */
import { UsageError } from "../errors.js";
import type { MetaDb } from "../meta/meta-db.js";
import type { InodePatch, InodeRecord } from "../meta/records.js";
import { type InodeId, InodeKind } from "../types.js";
import { type CallerContext, nowNs, type TimeSpec } from "./caller.js";
import { inodeOf } from "./tree-deps.js";

/** setxattr flags. */
export const XATTR_CREATE = 1;
export const XATTR_REPLACE = 2;

function notPermitted(what: string, ino: InodeId, ctx: CallerContext): UsageError {
  return new UsageError("E_NOT_PERMITTED", `${what}: not the owner`, { ino, uid: ctx.uid });
}

function ownerOrRoot(rec: InodeRecord, ctx: CallerContext): boolean {
  return ctx.uid === 0 || ctx.uid === rec.uid;
}

const SET_ID_BITS = 0o6000;

/** True when `mode` is the inode's mode with only set-user-ID / set-group-ID bits cleared. */
function clearsSetIdOnly(rec: InodeRecord, mode: number): boolean {
  const cleared = rec.mode & ~mode & 0o7777;
  return cleared !== 0 && (cleared & ~SET_ID_BITS) === 0 && (mode & ~rec.mode & 0o7777) === 0;
}

/** Sets the permission bits (and set-id, sticky). */
export function chmod(meta: MetaDb, ctx: CallerContext, ino: InodeId, mode: number): InodeRecord {
  return meta.transaction(() => {
    const rec = inodeOf(meta, ino);
    if (!ownerOrRoot(rec, ctx) && !clearsSetIdOnly(rec, mode))
      throw notPermitted("chmod", ino, ctx);
    meta.updateInode(ino, { mode: mode & 0o7777, ctimeNs: nowNs() });
    return inodeOf(meta, ino);
  });
}

/**
 * The set-id bits a write or truncate by `ctx` removes, as the kernel's VFS decides for a
 * local file system (should_remove_suid): none for root; set-user-ID always; set-group-ID
 * when group execute is set or the caller is not in the file's group.
 */
export function setIdBitsToKill(rec: InodeRecord, ctx: CallerContext): number {
  if (ctx.uid === 0 || rec.kind !== InodeKind.file || (rec.mode & SET_ID_BITS) === 0) return 0;
  let kill = rec.mode & 0o4000;
  const inGroup = ctx.gid === rec.gid || (ctx.groups?.includes(rec.gid) ?? false);
  if ((rec.mode & 0o2000) !== 0 && ((rec.mode & 0o010) !== 0 || !inGroup)) kill |= 0o2000;
  return kill;
}

/** Clears the set-id bits a write by `ctx` removes (setIdBitsToKill); false when none. */
export function killSetId(meta: MetaDb, ctx: CallerContext, ino: InodeId): boolean {
  return meta.transaction(() => {
    const rec = inodeOf(meta, ino);
    const kill = setIdBitsToKill(rec, ctx);
    if (kill === 0) return false;
    meta.updateInode(ino, { mode: rec.mode & ~kill, ctimeNs: nowNs() });
    return true;
  });
}

/** Changes owner and/or group; -1 (or undefined) leaves one unchanged. */
export function chown(
  meta: MetaDb,
  ctx: CallerContext,
  ino: InodeId,
  uid: number | undefined,
  gid: number | undefined,
): InodeRecord {
  return meta.transaction(() => {
    const rec = inodeOf(meta, ino);
    const newUid = uid === undefined || uid === -1 ? rec.uid : uid;
    const newGid = gid === undefined || gid === -1 ? rec.gid : gid;
    if (ctx.uid !== 0) {
      const groupOk =
        newGid === rec.gid || newGid === ctx.gid || (ctx.groups?.includes(newGid) ?? false);
      if (newUid !== rec.uid || ctx.uid !== rec.uid || !groupOk)
        throw notPermitted("chown", ino, ctx);
    }
    const patch: InodePatch = { uid: newUid, gid: newGid, ctimeNs: nowNs() };
    const changed = newUid !== rec.uid || newGid !== rec.gid;
    if (rec.kind === InodeKind.file && changed) {
      // setuid always goes; setgid goes when it means "set group id" (group exec set)
      let mode = rec.mode & ~0o4000;
      if ((mode & 0o010) !== 0) mode &= ~0o2000;
      Object.assign(patch, { mode });
    }
    meta.updateInode(ino, patch);
    return inodeOf(meta, ino);
  });
}

/** Sets access and modification times ("now", "omit", or nanoseconds). */
export function utimens(
  meta: MetaDb,
  ctx: CallerContext,
  ino: InodeId,
  atime: TimeSpec,
  mtime: TimeSpec,
): InodeRecord {
  return meta.transaction(() => {
    const rec = inodeOf(meta, ino);
    const explicit = typeof atime === "bigint" || typeof mtime === "bigint";
    if (explicit && !ownerOrRoot(rec, ctx)) throw notPermitted("utimens", ino, ctx);
    const now = nowNs();
    const pick = (t: TimeSpec) => (t === "now" ? now : t === "omit" ? undefined : t);
    const a = pick(atime);
    const m = pick(mtime);
    meta.updateInode(ino, {
      ...(a === undefined ? {} : { atimeNs: a }),
      ...(m === undefined ? {} : { mtimeNs: m }),
      ctimeNs: now,
    });
    return inodeOf(meta, ino);
  });
}

/** Sets an extended attribute; XATTR_CREATE: E_EXISTS if set; XATTR_REPLACE: E_NO_XATTR if not. */
export function setxattr(meta: MetaDb, ino: InodeId, name: Buffer, value: Buffer, flags = 0): void {
  meta.transaction(() => {
    inodeOf(meta, ino);
    const had = meta.getXattr(ino, name) !== undefined;
    if (had && (flags & XATTR_CREATE) !== 0) {
      throw new UsageError("E_EXISTS", `xattr ${name.toString()} exists`, { ino });
    }
    if (!had && (flags & XATTR_REPLACE) !== 0) throw noXattr(ino, name);
    meta.setXattr(ino, name, value);
    meta.updateInode(ino, { ctimeNs: nowNs() });
  });
}

/** An extended attribute's value; E_NO_XATTR when not set. */
export function getxattr(meta: MetaDb, ino: InodeId, name: Buffer): Buffer {
  inodeOf(meta, ino);
  const v = meta.getXattr(ino, name);
  if (v === undefined) throw noXattr(ino, name);
  return v;
}

/** Removes an extended attribute; E_NO_XATTR when not set. */
export function removexattr(meta: MetaDb, ino: InodeId, name: Buffer): void {
  meta.transaction(() => {
    inodeOf(meta, ino);
    if (!meta.removeXattr(ino, name)) throw noXattr(ino, name);
    meta.updateInode(ino, { ctimeNs: nowNs() });
  });
}

function noXattr(ino: InodeId, name: Buffer): UsageError {
  return new UsageError("E_NO_XATTR", `no xattr ${name.toString()}`, { ino });
}
