/**
 * Entries of a store's tree as the library API shows them: one {@link Entry} per path
 * (name, kind, size, mode, owner, times, link target), read from any read-only FsView
 * (reader/). `listEntries` is what `ls` and `Store.ls` answer; a command printing a
 * listing can call it too.
 */
import { NotFoundError } from "../errors.js";
import { listMeta } from "../export/list-store.js";
import type { FsView, InodeAttr } from "../reader/fs-view.js";
import type { StoreReader } from "../reader/store-reader.js";
import { type InodeId, InodeKind } from "../types.js";

/** What kind of file an entry is. */
export type EntryKind = "file" | "dir" | "symlink" | "fifo" | "chardev" | "blockdev" | "socket";

/** One path of a store's tree. */
export interface Entry {
  /** the path from the store's root, "/"-separated, no leading slash ("" is the root) */
  readonly path: string;
  /** the last component of `path` ("" for the root) */
  readonly name: string;
  readonly kind: EntryKind;
  /** bytes of a regular file; the target's length for a symlink; 0 otherwise */
  readonly size: number;
  /** permission bits with set-id and sticky bits (no file-type bits), e.g. 0o644 */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** names the inode has (hard links) */
  readonly nlink: number;
  /** the inode number in the store; hard links share it */
  readonly ino: number;
  /** modification time */
  readonly mtime: Date;
  /** modification time, nanoseconds since the epoch */
  readonly mtimeNs: bigint;
  /** a symlink's target, else undefined */
  readonly target?: string;
}

const KINDS: Record<InodeKind, EntryKind> = {
  [InodeKind.file]: "file",
  [InodeKind.dir]: "dir",
  [InodeKind.symlink]: "symlink",
  [InodeKind.fifo]: "fifo",
  [InodeKind.chardev]: "chardev",
  [InodeKind.blockdev]: "blockdev",
  [InodeKind.socket]: "socket",
};

/** A store path as the API takes it ("/a/b/", "a/b", "" or "/") in the tree's form ("a/b"). */
export function treePath(p: string): string {
  return p.replace(/^\/+|\/+$/g, "").replace(/\/{2,}/g, "/");
}

/** The inode at `path`; E_NOT_FOUND naming the path when there is none. */
export function inodeAt(view: FsView, path: string): InodeId {
  const rel = treePath(path);
  const ino = rel === "" ? view.root : view.lookupPath(rel);
  if (ino === undefined) {
    throw new NotFoundError("E_NOT_FOUND", `${path}: not in the store`, { path });
  }
  return ino;
}

/** The entry of `ino` at `rel` (tree form). */
export function entryOf(view: FsView, ino: InodeId, rel: string): Entry {
  const a = view.getattr(ino);
  if (a === undefined)
    throw new NotFoundError("E_NOT_FOUND", `${rel}: not in the store`, { path: rel });
  return toEntry(view, a, rel);
}

function toEntry(view: FsView, a: InodeAttr, rel: string): Entry {
  const kind = KINDS[a.kind];
  const base = {
    path: rel,
    name: rel.slice(rel.lastIndexOf("/") + 1),
    kind,
    size: a.size,
    mode: a.mode,
    uid: a.uid,
    gid: a.gid,
    nlink: a.nlink,
    ino: a.ino,
    mtime: new Date(Number(a.mtimeNs / 1_000_000n)),
    mtimeNs: a.mtimeNs,
  };
  return kind === "symlink" ? { ...base, target: view.readlink(a.ino).toString() } : base;
}

/**
 * The entries below `path` of the store `reader` reads (named `store` in errors): a
 * directory's children sorted by name (all its descendants, depth first, with `recursive`),
 * or the entry itself for anything else. The walk is `superchunk ls`'s (export/list-store.ts):
 * raw names checked, a directory cycle in a damaged store refused with E_CORRUPT.
 */
export function listEntries(
  reader: StoreReader,
  store: string,
  path: string,
  recursive = false,
): Entry[] {
  const listed = listMeta(reader.meta, store, treePath(path), recursive);
  return listed.entries.map((e) => entryOf(reader, e.inode.ino, e.path.toString()));
}
