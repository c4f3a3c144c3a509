/**
 * Shared vocabulary of superchunk: the branded ids and the size constants every
 * layer agrees on. See spec/FORMAT.md for the words (sub-block, super-chunk, store,
 * archive, extent).
 */

/** Row id of a sub-block in the store's sub-block index. */
export type SubBlockId = number & { readonly __brand: "SubBlockId" };
/** Id of a super-chunk; also names its file in the store. */
export type SuperChunkId = number & { readonly __brand: "SuperChunkId" };
/** Inode number of a file, directory, symlink or special file in a store. */
export type InodeId = number & { readonly __brand: "InodeId" };
/** SHA-256 digest of a sub-block's bytes (32 bytes). */
export type SubBlockHash = Buffer & { readonly __brand: "SubBlockHash" };

export const KIB = 1024;
export const MIB = 1024 * 1024;

/** Default average sub-block size of the content-defined chunker. */
export const CHUNK_AVG_BYTES = 32 * KIB;
/** Default smallest sub-block (avg / 4), except a file's last one. */
export const CHUNK_MIN_BYTES = 8 * KIB;
/** Default largest sub-block (avg * 4). */
export const CHUNK_MAX_BYTES = 128 * KIB;

/** Default target size of a super-chunk's raw (inflated) payload. */
export const SUPERCHUNK_TARGET_BYTES = 4 * MIB;
/** Hard ceiling on a super-chunk's raw payload, whatever the options say. */
export const SUPERCHUNK_MAX_BYTES = 64 * MIB;
/** Length of a sub-block hash in bytes. */
export const HASH_BYTES = 32;

/** The on-disk format version this build writes and the newest it reads. */
export const FORMAT_VERSION = 1;

/** Kinds of inode a store keeps. Values are stored on disk: never renumber. */
export const InodeKind = {
  file: 1,
  dir: 2,
  symlink: 3,
  fifo: 4,
  chardev: 5,
  blockdev: 6,
  socket: 7,
} as const;
export type InodeKind = (typeof InodeKind)[keyof typeof InodeKind];

/** One run of a file's content: a sub-block, or a hole of zeros when `subBlock` is null. */
export interface Extent {
  readonly subBlock: SubBlockId | null;
  readonly length: number;
}
