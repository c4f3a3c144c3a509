/**
 * The read-write mount's namespace operations (mkdir, mknod, symlink, link, unlink, rmdir,
 * rename) over a WritableStore, for FuseRwOps. The kernel sees each of these through the names
 * it passes; what it cannot see (the other names of a hard-linked inode, whose link count and
 * ctime changed) goes to the KernelCache, and the op is answered once those are invalidated.
 */
import { type InodeId, InodeKind } from "../types.js";
import {
  type CallerContext,
  RENAME_EXCHANGE,
  RENAME_NOREPLACE,
  type WritableStore,
} from "../writer/index.js";
import { callerGroups } from "./caller-groups.js";
import { ErrnoError } from "./errno.js";
import { kindOfMode } from "./fuse-stat.js";
import type { KernelCache } from "./kernel-cache.js";
import type { FuseCaller, NativeFuseOps } from "./native-types.js";

/** renameat2 flags the store implements; RENAME_WHITEOUT (overlayfs) and others: EINVAL. */
const RENAME_FLAGS = RENAME_NOREPLACE | RENAME_EXCHANGE;

/** The store's caller context of a FUSE request. */
export function ctxOf(c: FuseCaller): CallerContext {
  return { uid: c.uid, gid: c.gid, umask: c.umask };
}

/**
 * The context of a change that depends on the caller's groups: with its supplementary groups
 * when it is not root and `gid` is not its primary group (-1: any group may matter).
 */
export function chownCtx(c: FuseCaller, gid: number | undefined): CallerContext {
  const other = c.uid !== 0 && gid !== undefined && gid !== c.gid;
  return other ? { ...ctxOf(c), groups: callerGroups(c.pid) } : ctxOf(c);
}

/** The namespace handlers; `ino` resolves a path (ENOENT when missing). */
export function rwTreeOps(
  s: WritableStore,
  cache: KernelCache,
  ino: (p: Buffer | null) => InodeId,
): NativeFuseOps<Buffer> {
  return {
    mkdir: (p, mode, c) => {
      const { parent, name } = s.parentOf(p);
      s.mkdir(ctxOf(c), parent, name, mode & 0o7777);
    },
    mknod: (p, mode, rdev, c) => mknod(s, p, mode, rdev, c),
    symlink: (p, target, c) => {
      const { parent, name } = s.parentOf(p);
      s.symlink(ctxOf(c), parent, name, Buffer.from(target));
    },
    link: (from, to) => {
      const { parent, name } = s.parentOf(to);
      const a = s.link(ino(from), parent, name);
      return cache.changed(a.ino, a.nlink, null);
    },
    unlink: (p) => {
      const { parent, name } = s.parentOf(p);
      const target = ino(p);
      const had = s.nlinkOf(target);
      s.unlink(parent, name);
      return had > 1 ? cache.changed(target, had - 1, null) : undefined;
    },
    rmdir: (p) => {
      const { parent, name } = s.parentOf(p);
      s.rmdir(parent, name);
    },
    rename: (from, to, flags) => rename(s, cache, from, to, flags),
  };
}

/** rename(2): the kernel saw the moved names; other names of both inodes get invalidated. */
function rename(
  s: WritableStore,
  cache: KernelCache,
  from: Buffer,
  to: Buffer,
  flags: number,
): Promise<void> | undefined {
  if ((flags & ~RENAME_FLAGS) !== 0) throw new ErrnoError("EINVAL", "rename flags");
  const a = s.parentOf(from);
  const b = s.parentOf(to);
  const src = s.lookup(a.parent, a.name);
  const dst = s.lookup(b.parent, b.name);
  const dstLinks = dst === undefined ? 0 : s.nlinkOf(dst);
  s.rename(a.parent, a.name, b.parent, b.name, flags);
  // every call below joins the same batch: one promise serves them all
  let wait: Promise<void> | undefined;
  if (src !== undefined) wait = cache.changed(src, s.nlinkOf(src), to);
  if (dst !== undefined && dst !== src) {
    if ((flags & RENAME_EXCHANGE) !== 0) wait = cache.changed(dst, s.nlinkOf(dst), from) ?? wait;
    else if (dstLinks > 1) wait = cache.changed(dst, dstLinks - 1, null) ?? wait;
  }
  return wait;
}

/** FIFOs, sockets, device nodes (root only, the store decides) and plain files. */
async function mknod(
  s: WritableStore,
  p: Buffer,
  mode: number,
  rdev: number,
  c: FuseCaller,
): Promise<void> {
  const kind = kindOfMode(mode);
  if (kind === undefined || kind === InodeKind.dir || kind === InodeKind.symlink) {
    throw new ErrnoError("EINVAL", "mknod of an unsupported type");
  }
  const { parent, name } = s.parentOf(p);
  if (kind === InodeKind.file) {
    const { fh } = s.create(ctxOf(c), parent, name, mode & 0o7777, 1);
    await s.release(fh);
    return;
  }
  s.mknod(ctxOf(c), parent, name, kind, mode & 0o7777, rdev);
}
