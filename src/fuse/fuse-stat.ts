/**
 * InodeAttr / FsUsage / StoreStatfs → the stat and statfs answers of the native binding.
 * Times go out in nanoseconds (bigint), sizes and inode numbers as numbers (the binding carries
 * them as doubles, exact below 2^53).
 */
import { constants as fsc } from "node:fs";
import type { FsUsage, InodeAttr } from "../reader/fs-view.js";
import { InodeKind } from "../types.js";
import type { StoreStatfs } from "../writer/index.js";
import { RW_MAX_WRITE_BYTES } from "./fuse-options.js";
import type { NativeStat, NativeStatfs } from "./native-types.js";

/** Preferred I/O size reported in st_blksize: one FUSE read request (max_read). */
export const FUSE_BLKSIZE_BYTES = 128 * 1024;
/**
 * st_blksize of a read-write mount: one write request (its max_write, fuse-options.ts), so
 * tools that size their buffers by it (cp, cat, dd conv=...) write in requests of that size.
 */
export const RW_BLKSIZE_BYTES = RW_MAX_WRITE_BYTES;
/** Fragment size reported by statfs of a read-only store. */
export const STATFS_FRSIZE_BYTES = 4096;
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

/** The file-type bits (S_IF*) of a kind. */
export function typeBits(kind: InodeKind): number {
  return TYPE_BITS[kind];
}

/** The kind of a mode's file-type bits, or undefined for none we store. */
export function kindOfMode(mode: number): InodeKind | undefined {
  const t = mode & fsc.S_IFMT;
  for (const [k, bits] of Object.entries(TYPE_BITS)) if (bits === t) return Number(k) as InodeKind;
  return undefined;
}

/** The stat the kernel sees for an inode, times to the nanosecond. */
export function toNativeStat(a: InodeAttr, blksize = FUSE_BLKSIZE_BYTES): NativeStat {
  return {
    ino: a.ino,
    mode: TYPE_BITS[a.kind] | (a.mode & 0o7777),
    uid: a.uid,
    gid: a.gid,
    size: a.size,
    nlink: a.nlink,
    rdev: a.rdev,
    blksize,
    blocks: a.kind === InodeKind.symlink ? 0 : Math.ceil(a.size / 512),
    atime: a.atimeNs,
    mtime: a.mtimeNs,
    ctime: a.ctimeNs,
  };
}

/** The statfs of a read-only store: logical size as used blocks, nothing free. */
export function toFuseStatfs(u: FsUsage): NativeStatfs {
  const whole = (n: number) => Math.max(0, Math.ceil(n));
  return {
    bsize: STATFS_FRSIZE_BYTES,
    frsize: STATFS_FRSIZE_BYTES,
    blocks: whole(u.logicalBytes / STATFS_FRSIZE_BYTES),
    bfree: 0,
    bavail: 0,
    files: whole(u.inodes),
    ffree: 0,
    favail: 0,
    fsid: 0,
    flag: ST_RDONLY,
    namemax: NAME_MAX_BYTES,
  };
}

/** The statfs of a writable store: the real free space of the file system holding it. */
export function toWritableStatfs(s: StoreStatfs): NativeStatfs {
  return {
    bsize: s.blockSize,
    frsize: s.blockSize,
    blocks: s.blocks,
    bfree: s.blocksFree,
    bavail: s.blocksAvailable,
    files: s.files,
    ffree: s.filesFree,
    favail: s.filesFree,
    namemax: s.nameMax,
  };
}
