/**
 * Where things are in a store directory, and how one is opened. A store is a
 * directory holding the metadata database (superchunk.db) and one file per
 * super-chunk under sc/. The database's meta table says the format version and
 * whether the store is complete; pack builds a store under a temporary name and
 * renames it into place only once it is complete.
 *
 * A store may also be sealed into an archive (spec/FORMAT.md, "Archive"): one zip
 * file holding the packed database and every super-chunk, read-only, opened from a
 * local path or an http(s) URL through openStoreSource. A store may also live in an
 * S3 bucket (`s3://bucket/prefix`, spec/FORMAT.md "Object store layout", s3-store.ts);
 * openStoreSource opens its committed generation read-only.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import {
  type ArchiveSourceOptions,
  isRemoteLocation,
  looksLikeZipFile,
  openArchive,
} from "../blobstore/archive-source.js";
import type { BlobStore } from "../blobstore/blob-store.js";
import { DirBlobStore } from "../blobstore/dir-blob-store.js";
import type { S3Options } from "../blobstore/s3-client.js";
import { isS3Location } from "../blobstore/s3-location.js";
import type { ZipBlobStore } from "../blobstore/zip-blob-store.js";
import { FormatError, isCode, NotFoundError, UsageError } from "../errors.js";
import { MetaDb } from "../meta/meta-db.js";
import {
  decodePackedDatabase,
  PACKED_DB_SUFFIX,
  readPackedDatabase,
  unpackDatabaseFile,
} from "./packed-db.js";

export const DB_FILE = "superchunk.db";
export const STATE_KEY = "state";
export const STATE_COMPLETE = "complete";
export const STATE_BUILDING = "building";
/** The archive entry holding the packed database. */
export const ARCHIVE_DB_KEY = `${DB_FILE}${PACKED_DB_SUFFIX}`;

export interface OpenStore {
  readonly dir: string;
  readonly meta: MetaDb;
  readonly blobs: DirBlobStore;
}

/** True when `dir` holds a superchunk database, plain or packed (complete or not). */
export function looksLikeStore(dir: string): boolean {
  const db = path.join(dir, DB_FILE);
  return fs.existsSync(db) || fs.existsSync(`${db}${PACKED_DB_SUFFIX}`);
}

/**
 * Opens the store's database: the plain file when there is one; otherwise the
 * packed copy, inflated into memory when read-only, turned back into the plain
 * file when writing.
 */
function openDatabase(dir: string, readonly: boolean): MetaDb {
  const db = path.join(dir, DB_FILE);
  if (fs.existsSync(db)) return MetaDb.open(db, { readonly });
  if (readonly) return MetaDb.fromBuffer(readPackedDatabase(`${db}${PACKED_DB_SUFFIX}`), db);
  unpackDatabaseFile(db);
  return MetaDb.open(db, { readonly });
}

/**
 * Opens a complete store. E_NOT_A_STORE when `dir` is missing or holds no
 * database, E_FORMAT_VERSION when it was written by a newer format,
 * E_STORE_INCOMPLETE when it was never finished.
 */
export function openStore(dir: string, opts: { readonly?: boolean } = {}): OpenStore {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    throw new NotFoundError("E_NOT_A_STORE", `${dir}: no such store`, { path: dir });
  }
  if (!st.isDirectory() || !looksLikeStore(dir)) {
    throw new NotFoundError("E_NOT_A_STORE", `${dir}: not a superchunk store (no ${DB_FILE})`, {
      path: dir,
    });
  }
  const meta = openDatabase(dir, opts.readonly ?? false);
  checkComplete(meta, dir);
  return { dir, meta, blobs: new DirBlobStore(dir) };
}

/** Closes `meta` and throws E_STORE_INCOMPLETE unless the store was finished. */
function checkComplete(meta: MetaDb, where: string): void {
  const state = meta.getMeta(STATE_KEY);
  if (state !== STATE_COMPLETE) {
    meta.close();
    throw new FormatError("E_STORE_INCOMPLETE", `${where}: store is incomplete (state ${state})`, {
      path: where,
      state,
    });
  }
}

/**
 * What a store location names: a store directory, an archive file, an archive URL, or a
 * store in an S3 bucket.
 */
export type StoreKind = "dir" | "archive" | "url" | "s3";

/** An open store of any kind; `blobs` is read-only unless `kind` is "dir". */
export interface StoreSource {
  readonly location: string;
  readonly kind: StoreKind;
  readonly meta: MetaDb;
  readonly blobs: BlobStore;
}

/** Options of openStoreSource. */
export interface StoreSourceOptions extends ArchiveSourceOptions {
  /** open for reading only (archives and S3 stores can only be, for now); default false */
  readonly?: boolean;
  /** for s3:// locations: endpoint, region, credentials, timeouts */
  s3?: S3Options;
}

/** A location as given on a command line, made absolute unless it is a URL. */
export function resolveStoreLocation(location: string): string {
  return isRemoteLocation(location) || isS3Location(location) ? location : path.resolve(location);
}

/** The kind of store at `location`, by URL scheme or by content (zip magic), not by name. */
export function storeKindOf(location: string): StoreKind {
  if (isRemoteLocation(location)) return "url";
  if (isS3Location(location)) return "s3";
  let st: fs.Stats;
  try {
    st = fs.statSync(location);
  } catch {
    throw new NotFoundError("E_NOT_A_STORE", `${location}: no such store`, { path: location });
  }
  if (st.isDirectory()) return "dir";
  if (st.isFile() && looksLikeZipFile(location)) return "archive";
  throw new NotFoundError(
    "E_NOT_A_STORE",
    `${location}: not a superchunk store (neither a store directory nor a zip archive)`,
    { path: location },
  );
}

/**
 * Opens a complete store at `location`: a store directory, a path to an archive, an
 * http(s) URL of one, or `s3://bucket/prefix`. Archives and S3 stores open read-only
 * (E_READ_ONLY otherwise); an archive's database is the packed entry superchunk.db.zst,
 * an S3 store's the generation its pointer names, inflated into memory. E_NOT_A_STORE when the
 * location holds no store (naming it), E_STORE_INCOMPLETE for an unfinished one.
 *
 * @example
 * const s = await openStoreSource("https://example.org/linux.zip", { readonly: true });
 */
export async function openStoreSource(
  location: string,
  opts: StoreSourceOptions = {},
): Promise<StoreSource> {
  const kind = storeKindOf(location);
  if (kind === "dir") {
    const s = openStore(location, { readonly: opts.readonly ?? false });
    return { location, kind, meta: s.meta, blobs: s.blobs };
  }
  if (opts.readonly !== true) {
    const what = kind === "s3" ? "an S3 store" : "an archive";
    throw new UsageError("E_READ_ONLY", `${location}: ${what} can only be opened read-only`, {
      path: location,
    });
  }
  if (kind === "s3") return openS3Source(location, opts.s3);
  const blobs = await openArchive(location, opts);
  try {
    const meta = await archiveDatabase(blobs, location);
    checkComplete(meta, location);
    return { location, kind, meta, blobs };
  } catch (err) {
    await blobs.close();
    throw err;
  }
}

/** True when `location` names a store in an S3 bucket (`s3://bucket/prefix`). */
export function isS3StoreLocation(location: string): boolean {
  return isS3Location(location);
}

async function openS3Source(location: string, s3: S3Options | undefined): Promise<StoreSource> {
  // loaded on demand: the AWS SDK takes a while to import and only S3 stores need it
  const { openS3Store } = await import("../s3store/s3-store.js");
  const { blobs, meta } = await openS3Store(location, s3);
  try {
    checkComplete(meta, blobs.location);
  } catch (err) {
    await blobs.close();
    throw err;
  }
  return { location: blobs.location, kind: "s3", meta, blobs };
}

async function archiveDatabase(blobs: ZipBlobStore, location: string): Promise<MetaDb> {
  let packed: Buffer;
  try {
    packed = await blobs.get(ARCHIVE_DB_KEY);
  } catch (err) {
    if (!isCode(err, "E_SUPERCHUNK_MISSING")) throw err;
    throw new NotFoundError(
      "E_NOT_A_STORE",
      `${location}: not a superchunk archive (no ${ARCHIVE_DB_KEY} entry)`,
      { path: location },
      err,
    );
  }
  const label = `${location}#${ARCHIVE_DB_KEY}`;
  return MetaDb.fromBuffer(decodePackedDatabase(packed, label), label);
}

/**
 * Checks that `dest` may receive a new store: missing, or an empty directory.
 * E_DEST_EXISTS for an existing store or a file, E_DEST_NOT_EMPTY otherwise.
 */
export function checkNewStoreDest(dest: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(dest);
  } catch {
    return;
  }
  if (!st.isDirectory()) {
    throw new UsageError("E_DEST_EXISTS", `${dest}: exists and is not a directory`, { path: dest });
  }
  if (looksLikeStore(dest)) {
    throw new UsageError("E_DEST_EXISTS", `${dest}: a store already exists there`, { path: dest });
  }
  if (fs.readdirSync(dest).length > 0) {
    throw new UsageError("E_DEST_NOT_EMPTY", `${dest}: directory is not empty and not a store`, {
      path: dest,
    });
  }
}
