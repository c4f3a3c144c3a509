/**
 * Where things are in a store directory, and how one is opened. A store is a
 * directory holding the metadata database (superchunk.db) and one file per
 * super-chunk under sc/. The database's meta table says the format version and
 * whether the store is complete; pack builds a store under a temporary name and
 * renames it into place only once it is complete.
 *
 * A store may also be sealed into an archive (spec/FORMAT.md, "Archive"): one zip
 * file holding the packed database (ARCHIVE_DB_KEY) and every super-chunk, read-only;
 * or live in an S3 bucket (spec/FORMAT.md "Object store layout"). Which kind a location
 * names, and how each kind is opened, is location/'s business.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { DirBlobStore } from "../blobstore/dir-blob-store.js";
import { CorruptError, EngineError, FormatError, NotFoundError, UsageError } from "../errors.js";
import { MetaDb } from "../meta/meta-db.js";
import { checkDestParent } from "./dest-parent.js";
import { META_COPY_PREFIX } from "./meta-copy.js";
import { PACKED_DB_SUFFIX, readPackedDatabase, unpackDatabaseFile } from "./packed-db.js";
import { stopYieldingHolder } from "./store-lock.js";

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
  /** the SQLite image `meta` was read from, when opened read-only from the packed form */
  readonly image?: Buffer;
}

/** True when `dir` holds a superchunk database, plain or packed (complete or not). */
export function looksLikeStore(dir: string): boolean {
  const db = path.join(dir, DB_FILE);
  return fs.existsSync(db) || fs.existsSync(`${db}${PACKED_DB_SUFFIX}`);
}

/**
 * Opens the store's database: the plain file when there is one; otherwise the
 * packed copy, inflated into memory when read-only, turned back into the plain
 * file when writing. Read-only opens write nothing into the store: SQLite would create
 * the -wal and -shm files of a plain database, so one without a -wal file (no writer
 * has it open; its last writer checkpointed it) is read into memory instead; with a
 * -wal file (a writer at work, or one that stopped without closing) SQLite reads the
 * file and its log as they are.
 */
function openDatabase(dir: string, readonly: boolean): { meta: MetaDb; image?: Buffer } {
  const db = path.join(dir, DB_FILE);
  if (fs.existsSync(db)) {
    if (readonly && !fs.existsSync(`${db}-wal`)) return { meta: plainImage(db) };
    return { meta: MetaDb.open(db, { readonly }) };
  }
  if (readonly) {
    const image = readPackedDatabase(`${db}${PACKED_DB_SUFFIX}`);
    return { meta: MetaDb.fromBuffer(image, db), image };
  }
  unpackDatabaseFile(db);
  return { meta: MetaDb.open(db, { readonly }) };
}

/** The plain database file `db` read into memory (read-only); as MetaDb.open when unreadable. */
function plainImage(db: string): MetaDb {
  let image: Buffer;
  try {
    image = fs.readFileSync(db);
  } catch {
    return MetaDb.open(db, { readonly: true }); // names the problem as a normal open does
  }
  return MetaDb.fromBuffer(image, db);
}

/**
 * Opens a complete store. E_NOT_A_STORE when `dir` is missing or holds no
 * database, E_FORMAT_VERSION when it was written by a newer format,
 * E_STORE_INCOMPLETE when it was never finished. Read-only, it first stops a holder of
 * the writer's lock that yields (a compaction after unmount, see store-lock.ts): every
 * reader of a store directory opens here.
 */
export function openStore(dir: string, opts: { readonly?: boolean } = {}): OpenStore {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    throw new NotFoundError("E_NOT_A_STORE", `${dir}: no such store`, { path: dir });
  }
  if (!st.isDirectory() || !looksLikeStore(dir)) {
    const hint = st.isDirectory() && hasMetaCopy(dir) ? REBUILD_HINT(dir) : "";
    throw new NotFoundError(
      "E_NOT_A_STORE",
      `${dir}: not a superchunk store (no ${DB_FILE})${hint}`,
      { path: dir },
    );
  }
  if (opts.readonly === true) stopYieldingHolder(dir);
  let opened: { meta: MetaDb; image?: Buffer };
  try {
    opened = openDatabase(dir, opts.readonly ?? false);
  } catch (err) {
    // a damaged database of a store that keeps a metadata copy: say how to restore it. The
    // copy shows the directory is a store, so a database that does not read as one (its
    // meta table gone, say) is damage, E_CORRUPT, as fsck reports it, not "not a store"
    if (!(err instanceof EngineError) || !hasMetaCopy(dir)) throw err;
    if (err.code !== "E_CORRUPT" && err.code !== "E_NOT_A_STORE") throw err;
    const damaged = err.code === "E_NOT_A_STORE" ? " (damaged)" : "";
    throw new CorruptError(
      "E_CORRUPT",
      `${err.message}${damaged}${REBUILD_HINT(dir)}`,
      err.data,
      err,
    );
  }
  const { meta, image } = opened;
  checkComplete(meta, dir);
  return { dir, meta, blobs: new DirBlobStore(dir), ...(image === undefined ? {} : { image }) };
}

/** The hint added to a missing or damaged database's error when the store keeps a copy. */
const REBUILD_HINT = (dir: string) =>
  `; the store keeps a metadata copy: \`superchunk fsck --rebuild ${dir}\` restores it`;

/** True when the store directory `dir` holds metadata super-chunks (store/meta-copy.ts). */
export function hasMetaCopy(dir: string): boolean {
  try {
    return fs.readdirSync(path.join(dir, META_COPY_PREFIX)).some((n) => n.endsWith(".sc"));
  } catch {
    return false;
  }
}

/** Closes `meta` and throws E_STORE_INCOMPLETE unless the store was finished. */
export function checkComplete(meta: MetaDb, where: string): void {
  const state = meta.getMeta(STATE_KEY);
  if (state !== STATE_COMPLETE) {
    meta.close();
    throw new FormatError("E_STORE_INCOMPLETE", `${where}: store is incomplete (state ${state})`, {
      path: where,
      state,
    });
  }
}

/** Bytes the database of the store at `dir` takes on disk: the plain file and its WAL, or the packed copy. */
export function databaseBytesOnDisk(dir: string): number {
  const db = path.join(dir, DB_FILE);
  const size = (f: string) => (fs.existsSync(f) ? fs.statSync(f).size : 0);
  if (fs.existsSync(db)) return size(db) + size(`${db}-wal`);
  return size(`${db}${PACKED_DB_SUFFIX}`);
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
    checkDestParent(dest);
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

/**
 * The packed database file of the store at `dir` when the store keeps its database only
 * packed (as pack leaves it), else undefined (a writer has unpacked it).
 */
export function packedDatabaseFile(dir: string): string | undefined {
  const plain = path.join(dir, DB_FILE);
  const packed = `${plain}${PACKED_DB_SUFFIX}`;
  return !fs.existsSync(plain) && fs.existsSync(packed) ? packed : undefined;
}
