/**
 * ls: the entries of one directory of a store (or the one entry a file path names), with
 * the attributes `ls -l` shows, read from the store's metadata alone. The store is opened
 * read-only through location/ (a directory, an archive file or URL, `s3://`), so listing
 * never writes to it and never inflates a super-chunk.
 */
import { CorruptError, cleanupAfter, NotFoundError } from "../errors.js";
import { openStoreSource, type StoreSourceOptions } from "../location/store-source.js";
import type { MetaDb } from "../meta/meta-db.js";
import type { InodeRecord } from "../meta/records.js";
import { type InodeId, InodeKind } from "../types.js";
import { checkRelPath } from "./dest-paths.js";

/** One entry listed. Names and paths are raw bytes, as the store keeps them. */
export interface ListEntry {
  /** the entry's name (for a file path: its last component) */
  readonly name: Buffer;
  /** path from the store's root, '/'-separated, no leading '/' */
  readonly path: Buffer;
  readonly inode: InodeRecord;
}

/** What listStore found. */
export interface ListResult {
  /** the store as it was named */
  readonly store: string;
  /** the path listed, '/'-separated from the root ("" for the root) */
  readonly path: string;
  /** true when the path is a directory (its entries are listed), false for one entry */
  readonly isDir: boolean;
  /** entries sorted by name bytes; with `recursive`, each directory followed by its contents */
  readonly entries: ListEntry[];
}

/** Options of listStore. */
export interface ListOptions extends Pick<StoreSourceOptions, "http" | "s3"> {
  /** also list the contents of every directory below, depth first; default false */
  recursive?: boolean;
}

/**
 * Lists `inStore` ("" or "/" for the root) of the store at `location`: a directory's
 * entries, or the one entry a non-directory path names. E_NOT_FOUND naming the path when
 * the store has no such entry.
 *
 * @example
 * const { entries } = await listStore("linux.zip", "include/linux");
 */
export async function listStore(
  location: string,
  inStore = "",
  opts: ListOptions = {},
): Promise<ListResult> {
  const src = await openStoreSource(location, { readonly: true, http: opts.http, s3: opts.s3 });
  return cleanupAfter(
    async () => listMeta(src.meta, location, inStore, opts.recursive ?? false),
    () => src.close(),
  );
}

/**
 * listStore over a store already open (`meta`, the store named `store` in errors): also the
 * walk of the library's `ls` (api/entry.ts), so both check names and refuse cycles alike.
 */
export function listMeta(
  meta: MetaDb,
  store: string,
  inStore: string,
  recursive: boolean,
): ListResult {
  const clean = inStore.replace(/^\/+|\/+$/g, "");
  const ino = meta.resolvePath(clean);
  const rec = ino === undefined ? undefined : meta.readInode(ino);
  if (rec === undefined)
    throw new NotFoundError("E_NOT_FOUND", `${inStore}: not in the store ${store}`, {
      path: inStore,
    });
  const rel = Buffer.from(clean);
  if (rec.kind !== InodeKind.dir) {
    const name = rel.subarray(rel.lastIndexOf(0x2f) + 1);
    return { store, path: clean, isDir: false, entries: [{ name, path: rel, inode: rec }] };
  }
  const entries: ListEntry[] = [];
  listDir(meta, rec.ino, rel, recursive, entries, new Set([rec.ino]));
  return { store, path: clean, isDir: true, entries };
}

function listDir(
  meta: MetaDb,
  dir: InodeId,
  rel: Buffer,
  recursive: boolean,
  out: ListEntry[],
  seen: Set<number>,
): void {
  for (const { name, ino } of meta.listDir(dir)) {
    const path = rel.length === 0 ? name : Buffer.concat([rel, Buffer.from("/"), name]);
    checkRelPath(path);
    const inode = meta.readInode(ino);
    if (inode === undefined) throw corrupt(meta, path, `points at missing inode ${ino}`);
    out.push({ name, path, inode });
    if (!recursive || inode.kind !== InodeKind.dir) continue;
    if (seen.has(ino)) throw corrupt(meta, path, `directory ${ino} is reached twice (a cycle)`);
    seen.add(ino);
    listDir(meta, ino, path, recursive, out, seen);
  }
}

function corrupt(meta: MetaDb, path: Buffer, problem: string): CorruptError {
  return new CorruptError("E_CORRUPT", `${meta.path}: entry ${path.toString()} ${problem}`, {
    path: path.toString(),
  });
}
