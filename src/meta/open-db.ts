/**
 * Opening superchunk.db: creation with the schema, checks that a file is ours and of a
 * version we read, pragmas, and the two read-only paths that cannot use WAL shared
 * memory (a read-only directory, and a database image held in memory, e.g. a zip entry).
 */
import { randomUUID } from "node:crypto";
import { closeSync, existsSync, openSync, readFileSync, rmSync, statSync } from "node:fs";
import Database from "better-sqlite3";
import { FormatError, IoError, NotFoundError, UsageError, wrapFsError } from "../errors.js";
import { FORMAT_VERSION } from "../types.js";
import { MetaKey } from "./records.js";
import { addRowCrcs, registerRowCrcs } from "./row-crc.js";
import { APPLICATION_ID, PAGE_SIZE, SCHEMA_SQL } from "./schema.js";
import { isReadonlyWalError, sqliteCode, wrapSqliteError } from "./sqlite-error.js";

export type Sqlite = Database.Database;

/** Offset of the two header bytes that say "WAL" (2) or "rollback journal" (1). */
const HEADER_WRITE_VERSION_OFFSET = 18;
const HEADER_READ_VERSION_OFFSET = 19;

/** Creates a new database at `path` (which must not exist) with the schema and meta rows. */
export function createDatabase(path: string): Sqlite {
  try {
    closeSync(openSync(path, "wx")); // atomic "fails if the file exists"; empty = empty db
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") {
      throw new UsageError("E_DEST_EXISTS", `${path}: already exists`, { path }, err);
    }
    throw wrapFsError(err, path, "create metadata database");
  }
  let db: Sqlite | undefined;
  try {
    db = new Database(path, { fileMustExist: true });
    registerRowCrcs(db);
    initSchema(db);
    return db;
  } catch (err) {
    db?.close();
    for (const f of [path, `${path}-wal`, `${path}-shm`]) rmSync(f, { force: true });
    throw wrapSqliteError(err, path, "create metadata database");
  }
}

/** Pragmas, application id, tables and the first meta rows of a new database. */
function initSchema(db: Sqlite): void {
  db.pragma(`page_size = ${PAGE_SIZE}`); // before WAL mode: it fixes the size of a new file
  applyWritePragmas(db);
  db.pragma(`application_id = ${APPLICATION_ID}`);
  db.transaction(() => {
    db.exec(SCHEMA_SQL);
    const put = db.prepare("INSERT INTO meta(key, value) VALUES (?, ?)");
    put.run(MetaKey.formatVersion, String(FORMAT_VERSION));
    put.run(MetaKey.createdNs, String(BigInt(Date.now()) * 1_000_000n));
    put.run(MetaKey.state, "building");
    put.run(MetaKey.storeId, randomUUID());
  }).immediate();
}

/** Opens an existing database; read-only opens fall back to memory when WAL cannot work. */
export function openDatabase(path: string, readonly: boolean): Sqlite {
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw new NotFoundError("E_NOT_A_STORE", `${path}: no metadata database`, { path });
  }
  let db: Sqlite;
  try {
    db = new Database(path, { readonly, fileMustExist: true });
  } catch (err) {
    throw wrapSqliteError(err, path, "open metadata database");
  }
  try {
    checkStore(db, path);
    registerRowCrcs(db);
    if (!readonly) {
      applyWritePragmas(db);
      addRowCrcs(db); // a store written before rows carried their checks
    }
    return db;
  } catch (err) {
    db.close();
    if (readonly && isReadonlyWalError(err)) return openReadonlyCopy(path, err);
    throw wrapSqliteError(err, path, "open metadata database");
  }
}

/**
 * Opens a database image held in memory, read-only. The WAL flag of the header is
 * cleared while SQLite copies the image (memory databases have no WAL), then restored,
 * so the caller's buffer is left as it was.
 */
export function databaseFromBuffer(buf: Buffer, where = "<buffer>"): Sqlite {
  const saved = [buf[HEADER_WRITE_VERSION_OFFSET], buf[HEADER_READ_VERSION_OFFSET]] as const;
  const isWal = buf.length >= 100 && saved[0] === 2 && saved[1] === 2;
  let db: Sqlite;
  try {
    if (isWal) buf.fill(1, HEADER_WRITE_VERSION_OFFSET, HEADER_READ_VERSION_OFFSET + 1);
    db = new Database(buf, { readonly: true });
  } catch (err) {
    throw wrapSqliteError(err, where, "open metadata database image");
  } finally {
    if (isWal) buf.fill(2, HEADER_WRITE_VERSION_OFFSET, HEADER_READ_VERSION_OFFSET + 1);
  }
  try {
    checkStore(db, where);
    registerRowCrcs(db);
    return db;
  } catch (err) {
    db.close();
    throw wrapSqliteError(err, where, "open metadata database image");
  }
}

/**
 * A WAL database in a directory we cannot write (no -shm file can be made) is read from
 * a copy in memory. Refused when a non-empty -wal file holds commits the copy would miss.
 */
function openReadonlyCopy(path: string, cause: unknown): Sqlite {
  const wal = `${path}-wal`;
  if (existsSync(wal) && statSync(wal).size > 0) {
    throw new IoError(
      "E_UNREADABLE",
      `${path}: cannot open read-only: its directory is not writable and ${wal} holds ` +
        "uncheckpointed commits; open it once read-write (or from a writable copy)",
      { path, wal, sqlite: sqliteCode(cause) },
      cause,
    );
  }
  let image: Buffer;
  try {
    image = readFileSync(path);
  } catch (err) {
    throw wrapFsError(err, path, "read metadata database");
  }
  return databaseFromBuffer(image, path);
}

/** Throws E_NOT_A_STORE unless `db` has our meta table, E_FORMAT_VERSION if it is too new. */
function checkStore(db: Sqlite, where: string): void {
  let version: string | undefined;
  try {
    const hasMeta = db
      .prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'meta'")
      .pluck()
      .get();
    if (hasMeta !== undefined) {
      version = db
        .prepare("SELECT value FROM meta WHERE key = ?")
        .pluck()
        .get(MetaKey.formatVersion) as string | undefined;
    }
  } catch (err) {
    if (sqliteCode(err) !== "SQLITE_NOTADB") throw err;
  }
  if (version === undefined) {
    throw new NotFoundError("E_NOT_A_STORE", `${where}: not a superchunk database`, { where });
  }
  const n = Number(version);
  if (!Number.isSafeInteger(n) || n < 1 || n > FORMAT_VERSION) {
    throw new FormatError(
      "E_FORMAT_VERSION",
      `${where}: format version ${version} is not one this build reads (1..${FORMAT_VERSION})`,
      { where, version, supported: FORMAT_VERSION },
    );
  }
}

/** WAL for readers alongside one writer; FULL so a committed transaction survives power loss. */
function applyWritePragmas(db: Sqlite): void {
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.pragma("foreign_keys = OFF");
}
