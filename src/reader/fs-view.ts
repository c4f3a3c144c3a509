/**
 * The read side of a store as a file system: what the FUSE adapter and extract
 * need, by inode. Implemented by StoreReader (store-reader.ts), and by a store open for
 * writing (writer/writable-view.ts).
 */
import type { InodeId, InodeKind } from "../types.js";

/** Attributes of one inode, as `stat` shows them. Times in nanoseconds since the epoch. */
export interface InodeAttr {
  readonly ino: InodeId;
  readonly kind: InodeKind;
  /** permission bits and set-id/sticky bits only (no file-type bits) */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly nlink: number;
  readonly rdev: number;
  readonly atimeNs: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
}

/** Space figures of a store, for statfs. */
export interface FsUsage {
  readonly logicalBytes: number;
  readonly storedBytes: number;
  readonly inodes: number;
}

export interface FsView {
  /** The root directory's inode (always 1). */
  readonly root: InodeId;
  /**
   * Changes whenever the tree shown is replaced (a followed S3 store switched generation):
   * caches by path or inode kept outside the view must be dropped then. Optional: a view
   * without it never changes under its readers.
   */
  readonly epoch?: number;
  /** Attributes, or undefined when the inode does not exist. */
  getattr(ino: InodeId): InodeAttr | undefined;
  /** Resolves a '/'-separated path from the root; undefined if any component is missing. */
  lookupPath(path: Buffer | string): InodeId | undefined;
  /** Child named `name` of directory `parent`. */
  lookup(parent: InodeId, name: Buffer): InodeId | undefined;
  /** Entries of a directory, sorted by name bytes, without "." and "..". */
  readdir(dir: InodeId): { name: Buffer; ino: InodeId }[];
  /** Target of a symlink (raw bytes). NotFoundError E_NOT_FOUND if not a symlink. */
  readlink(ino: InodeId): Buffer;
  /**
   * Reads up to `length` bytes at `offset` of a regular file; shorter only at end of
   * file. Verifies data; a damaged super-chunk rejects with a CorruptError whose
   * data names the super-chunk.
   */
  read(ino: InodeId, offset: number, length: number): Promise<Buffer>;
  /**
   * Like `read`, into `target` (up to `target.length` bytes); answers the count. May answer
   * synchronously (data cached). Optional: callers fall back to `read` and a copy.
   */
  readInto?(ino: InodeId, offset: number, target: Buffer): number | Promise<number>;
  /**
   * `readInto` only when the bytes are at hand (nothing to load): the count, else undefined.
   * Optional.
   */
  readCached?(ino: InodeId, offset: number, target: Buffer): number | undefined;
  /** Extended attributes. */
  listxattr(ino: InodeId): Buffer[];
  getxattr(ino: InodeId, name: Buffer): Buffer | undefined;
  /** Whether any inode has an xattr named `name` (optional: a view that cannot say cheaply). */
  anyXattrNamed?(name: Buffer): boolean;
  usage(): FsUsage;
  /**
   * Hint from a sequential reader that [offset, offset+length) was just read:
   * start loading what follows. Optional; errors are swallowed.
   */
  prefetchAfter?(ino: InodeId, offset: number, length: number): void;
  /**
   * Hint that these files are about to be read whole, in this order: start loading what
   * they need. Optional; bounded by the view; non-files are ignored.
   */
  prefetchFiles?(inos: readonly InodeId[]): void;
  /** Releases caches, workers and the database; idempotent. */
  close(): Promise<void>;
}
