/**
 * InodeAttr / FsUsage → the stat and statfs objects fuse-native takes. fuse-native packs every
 * field into a Uint32Array: ino, mode, uid, gid, nlink and rdev are 32-bit; size, blocks and the
 * times are 64-bit; times are milliseconds (the C side sets tv_nsec = (ms % 1000) * 1e6), so a
 * stored nanosecond time is served truncated to the millisecond, and times before 1970 as 1970.
 */
import { constants as fsc } from "node:fs";
import type { FsUsage, InodeAttr } from "../engine/fs-view.js";
import { assert } from "../errors.js";
import { InodeKind } from "../types.js";

/** The stat object fuse-native's getattr callback takes (a subset of fs.Stats). */
export interface FuseStat {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  nlink: number;
  ino: number;
  rdev: number;
  blksize: number;
  blocks: number;
  /** milliseconds since the epoch (fuse-native also takes Date) */
  atime: number;
  mtime: number;
  ctime: number;
}

/** The statfs object fuse-native's statfs callback takes (each field 32-bit). */
export interface FuseStatfs {
  bsize: number;
  frsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  favail: number;
  fsid: number;
  flag: number;
  namemax: number;
}

/** Preferred I/O size reported in st_blksize: one FUSE read request (max_read). */
export const FUSE_BLKSIZE_BYTES = 128 * 1024;
/** Fragment size reported by statfs. */
export const STATFS_FRSIZE_BYTES = 4096;
const UINT32_MAX = 0xffff_ffff;
const NAME_MAX_BYTES = 255;
const ST_RDONLY = 1;

const TYPE_BITS: Record<InodeKind, number> = {
  [InodeKind.file]: fsc.S_IFREG,
  [InodeKind.dir]: fsc.S_IFDIR,
  [InodeKind.symlink]: fsc.S_IFLNK,
  [InodeKind.fifo]: fsc.S_IFIFO,
  [InodeKind.chardev]: fsc.S_IFCHR,
  [InodeKind.blockdev]: fsc.S_IFBLK,
  [InodeKind.socket]: fsc.S_IFSOCK,
};

/** Nanoseconds since the epoch → whole milliseconds, clamped to what fuse-native can carry. */
export function nsToMs(ns: bigint): number {
  if (ns <= 0n) return 0;
  return Number(ns / 1_000_000n);
}

/** The stat fuse-native reports for an inode. */
export function toFuseStat(a: InodeAttr): FuseStat {
  assert(a.ino <= UINT32_MAX, "inode number fits fuse-native's 32-bit st_ino", { ino: a.ino });
  return {
    mode: TYPE_BITS[a.kind] | (a.mode & 0o7777),
    uid: a.uid,
    gid: a.gid,
    size: a.size,
    nlink: a.nlink,
    ino: a.ino,
    rdev: a.rdev,
    blksize: FUSE_BLKSIZE_BYTES,
    blocks: a.kind === InodeKind.symlink ? 0 : Math.ceil(a.size / 512),
    atime: nsToMs(a.atimeNs),
    mtime: nsToMs(a.mtimeNs),
    ctime: nsToMs(a.ctimeNs),
  };
}

/** The statfs of a read-only store: logical size as used blocks, nothing free. */
export function toFuseStatfs(u: FsUsage): FuseStatfs {
  const clamp = (n: number) => Math.min(UINT32_MAX, Math.max(0, Math.ceil(n)));
  return {
    bsize: STATFS_FRSIZE_BYTES,
    frsize: STATFS_FRSIZE_BYTES,
    blocks: clamp(u.logicalBytes / STATFS_FRSIZE_BYTES),
    bfree: 0,
    bavail: 0,
    files: clamp(u.inodes),
    ffree: 0,
    favail: 0,
    fsid: 0,
    flag: ST_RDONLY,
    namemax: NAME_MAX_BYTES,
  };
}
