/**
 * Record types of the metadata database: what goes in and what comes out of each
 * table. Column meanings and invariants are in spec/FORMAT.md ("Metadata database").
 * Times are nanoseconds since the Unix epoch as `bigint` (they exceed 2^53); every
 * other integer is a JS number.
 */
import type { InodeId, InodeKind, SubBlockHash, SubBlockId, SuperChunkId } from "../types.js";

/**
 * Row id of a file content (whole-file dedup unit). A plain number for now; see the
 * meta report for the proposal to brand it in src/types.ts.
 */
export type ContentId = number;

/** Lifecycle of a store: "building" until a pack completes, then "complete". */
export type StoreState = "building" | "complete";

/**
 * Well-known keys of the `meta` table. Readers ignore keys they do not know. The keys of
 * the store's settings (codec, level, super-chunk size, chunker, order) are read and
 * written only by store/store-settings.ts.
 */
export const MetaKey = {
  /** Decimal integer; the on-disk format version (FORMAT_VERSION when written). */
  formatVersion: "format_version",
  /** Decimal nanoseconds since the epoch when the store was created. */
  createdNs: "created_ns",
  /** StoreState. */
  state: "state",
  /** The store's id, a random UUID written at creation; absent in older stores. */
  storeId: "store_id",
} as const;
export type MetaKey = (typeof MetaKey)[keyof typeof MetaKey];

/** Attributes of a new inode. `ino` is assigned unless given (the root must be ROOT_INO). */
export interface NewInode {
  readonly ino?: InodeId;
  readonly kind: InodeKind;
  /** Permission, setuid, setgid and sticky bits; higher (file type) bits are dropped. */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** File: content size; symlink: target length; others: as the source reported. */
  readonly size: number;
  readonly atimeNs: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  readonly nlink: number;
  /** Device number of a char/block device; 0 otherwise. */
  readonly rdev?: number;
  /** Symlink target as raw bytes; required for symlinks, null otherwise. */
  readonly target?: Buffer | null;
  /** Content of a regular file; null for an empty file and for every other kind. */
  readonly content?: ContentId | null;
}

/** An inode as stored. */
export interface InodeRecord {
  readonly ino: InodeId;
  readonly kind: InodeKind;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly atimeNs: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  readonly nlink: number;
  readonly rdev: number;
  readonly target: Buffer | null;
  readonly content: ContentId | null;
}

/** Fields of an inode that `updateInode` may change. */
export type InodePatch = Partial<Omit<NewInode, "ino">>;

/** One directory entry. */
export interface DirEntry {
  readonly name: Buffer;
  readonly ino: InodeId;
}

/** One entry met by `walk`: `path` is relative to the root, components joined by '/'. */
export interface WalkEntry {
  readonly path: Buffer;
  readonly ino: InodeId;
  readonly parent: InodeId;
}

/** Number of inodes by kind. */
export interface InodeCounts {
  readonly files: number;
  readonly dirs: number;
  readonly symlinks: number;
  readonly other: number;
}

/** An extent resolved to where its bytes live. Holes have subBlock and superChunk null. */
export interface ResolvedExtent {
  /** Offset of the extent's first byte in the file. */
  readonly fileOffset: number;
  readonly length: number;
  readonly subBlock: SubBlockId | null;
  readonly superChunk: SuperChunkId | null;
  /** Offset of the sub-block in the super-chunk's raw payload; 0 for holes. */
  readonly offset: number;
  /** The sub-block's hash key (hashKey of its SHA-256); null for holes. */
  readonly hkey: bigint | null;
}

/** A super-chunk to record. `liveBytes` is derived by the database and starts at 0. */
export interface NewSuperChunk {
  /** Chosen id; assigned (never reused) when omitted. */
  readonly id?: SuperChunkId;
  readonly codec: string;
  readonly rawBytes: number;
  readonly storedBytes: number;
  /** Number of sub-blocks the super-chunk file holds (dead ones included). */
  readonly subBlocks: number;
}

/** A super-chunk as stored. */
export interface SuperChunkRecord {
  readonly id: SuperChunkId;
  readonly codec: string;
  readonly rawBytes: number;
  readonly storedBytes: number;
  /** Total length of its sub-blocks whose refcount is above 0. */
  readonly liveBytes: number;
  readonly subBlocks: number;
}

/** A sub-block to record; its refcount starts at 0. The database keeps `hashKey(hash)`. */
export interface NewSubBlock {
  readonly hash: SubBlockHash;
  readonly superChunk: SuperChunkId;
  /** Offset in the super-chunk's raw (inflated) payload. */
  readonly offset: number;
  readonly length: number;
}

/**
 * A sub-block as stored. The database keeps only the 64-bit key of its hash (`hkey`); the
 * full SHA-256 is entry `i` of its super-chunk's header, the entry whose offset (the sum
 * of the lengths before it) is `offset`.
 */
export interface SubBlockRecord {
  readonly id: SubBlockId;
  /** First 8 bytes of the sub-block's SHA-256 as a signed big-endian int64 (hashKey). */
  readonly hkey: bigint;
  readonly superChunk: SuperChunkId;
  /** Offset in the super-chunk's raw (inflated) payload. */
  readonly offset: number;
  readonly length: number;
  /** Number of extents (over all contents) naming this sub-block. */
  readonly refcount: number;
}

/** A file content as stored (extents come from getExtents / resolveExtents). */
export interface ContentRecord {
  readonly id: ContentId;
  /** First 8 bytes of the whole file's SHA-256 as a signed big-endian int64 (hashKey). */
  readonly hkey: bigint;
  readonly size: number;
  /** Number of inodes whose `content` is this one. */
  readonly refcount: number;
}

/** One extended attribute. */
export interface XattrRecord {
  readonly name: Buffer;
  readonly value: Buffer;
}

/** Sizes summarising a store. */
export interface MetaStats {
  /** Sum of the sizes of all regular-file inodes (hard links counted once). */
  readonly logicalBytes: number;
  /** Sum of the lengths of live sub-blocks (refcount above 0): the data after dedup. */
  readonly uniqueBytes: number;
  /** Sum of the stored (compressed) sizes of all super-chunks. */
  readonly storedBytes: number;
  readonly superChunks: number;
  readonly subBlocks: number;
  /** Size of the database itself (page_count × page_size). */
  readonly dbBytes: number;
}

/** Rows corrected by `recomputeRefcounts`. */
export interface RefcountRepair {
  readonly contents: number;
  readonly subBlocks: number;
  readonly superChunks: number;
}
