/**
 * The check values rows of the tree carry in a `crc` column, so a row changed in the
 * database (SQLite keeps no checksums of its own) is caught by the reader instead of
 * served (spec/FORMAT.md, "entries" and "contents"). Each is the low 23 bits of a CRC-32
 * (three bytes in SQLite's record):
 * - an `entries` row: over its parent and inode numbers (8 bytes each, little-endian two's
 *   complement) followed by its name bytes: a byte of a name, or an entry pointed at
 *   another inode, is E_CORRUPT;
 * - a `contents` row: over its hash key and its size (8 bytes each, the same way) followed
 *   by its extent list: extents swapped or replaced, or a key that would make a verified
 *   extract refuse the file's right bytes, are E_CORRUPT before a byte of it is served.
 *
 * - an `inodes` row: over its number and every other column (kind, mode, uid, gid, size, the
 *   three times, nlink, rdev, content or -1, the target's length or -1: 8 bytes each, the
 *   same way) followed by the target's bytes: a changed time, mode, owner, size or content
 *   pointer is E_CORRUPT wherever the inode is read.
 *
 * Stores written before the columns have none: they are read unchecked, and their first
 * writable open adds and fills them (`addRowCrcs`). Connections get the SQL functions
 * `entry_crc(parent, name, ino)`, `content_crc(hkey, size, extents)` and
 * `inode_crc(ino, kind, mode, uid, gid, size, atime_ns, mtime_ns, ctime_ns, nlink, rdev,
 * target, content)`.
 */
import { crc32 } from "node:zlib";
import type Database from "better-sqlite3";
import { corruptRow, entryLabel } from "./validate-records.js";

type Sqlite = Database.Database;

/** The arguments of `inode_crc` as column names of `inodes`. */
export const INODE_CRC_ARGS =
  "ino, kind, mode, uid, gid, size, atime_ns, mtime_ns, ctime_ns, nlink, rdev, target, content";

const CRC_MASK = 0x7fffff;
const head = new DataView(new ArrayBuffer(16));
const headBytes = new Uint8Array(head.buffer);
/** The integer columns of an inode row, in the order its crc covers them. */
const INODE_INTS = 13;
const inodeHead = new DataView(new ArrayBuffer(INODE_INTS * 8));
const inodeHeadBytes = new Uint8Array(inodeHead.buffer);

/**
 * The `crc` an inode row must hold. `cols` are its columns in `INODE_CRC_ARGS` order (ino,
 * kind, mode, uid, gid, size, atime_ns, mtime_ns, ctime_ns, nlink, rdev, target, content),
 * integers as numbers or bigints, as SQLite answers or a writer holds them.
 */
export function inodeCrc(cols: readonly unknown[]): number {
  for (let i = 0; i < 11; i++) putAt(inodeHead, i * 8, cols[i] as number | bigint);
  const target = (cols[11] ?? null) as Uint8Array | null;
  putAt(inodeHead, 88, (cols[12] ?? -1) as number | bigint);
  putAt(inodeHead, 96, target === null ? -1 : target.byteLength);
  const crc = crc32(inodeHeadBytes);
  return (target === null ? crc : more(crc, target)) & CRC_MASK;
}

/** `v` as 8 bytes little-endian two's complement at `at` of `view`. */
function putAt(view: DataView, at: number, v: number | bigint): void {
  if (typeof v === "bigint") view.setBigInt64(at, BigInt.asIntN(64, v), true);
  else if (Number.isSafeInteger(v) && v >= 0) {
    view.setUint32(at, v % 0x1_0000_0000, true);
    view.setUint32(at + 4, Math.floor(v / 0x1_0000_0000), true);
  } else view.setBigInt64(at, BigInt.asIntN(64, BigInt(Math.trunc(v))), true);
}

/** The `crc` an entry row must hold. */
export function entryCrc(parent: number, name: Uint8Array, ino: number): number {
  putAt(head, 0, parent);
  putAt(head, 8, ino);
  return more(crc32(headBytes), name) & CRC_MASK;
}

/** The `crc` a content row must hold (`hkey` as SQLite holds it: a signed 64-bit integer). */
export function contentCrc(hkey: bigint, size: number, extents: Uint8Array): number {
  head.setBigInt64(0, BigInt.asIntN(64, hkey), true);
  putAt(head, 8, size);
  return more(crc32(headBytes), extents) & CRC_MASK;
}

/**
 * `crc` continued over `data`. An empty buffer adds nothing (and must not reach zlib: one
 * with no memory behind it, as SQLite answers an empty BLOB, would restart the CRC at 0).
 */
function more(crc: number, data: Uint8Array): number {
  return data.byteLength === 0 ? crc : crc32(data, crc);
}

const MISMATCH = "its check value does not match its";

/** The problem of an entry whose `crc` is not its own, or undefined (null: a store without). */
export function entryCrcProblem(
  parent: number,
  name: Uint8Array,
  ino: number,
  crc: unknown,
): string | undefined {
  if (crc === null) return undefined;
  if (Number(crc) === entryCrc(parent, name, ino)) return undefined;
  return `${MISMATCH} name, directory and inode`;
}

/** Throws E_CORRUPT naming `store` and the entry unless the row's `crc` is its own. */
export function checkEntryCrc(
  store: string,
  parent: number,
  name: Buffer,
  ino: number,
  crc: unknown,
): void {
  const problem = entryCrcProblem(parent, name, ino, crc);
  if (problem !== undefined) {
    throw corruptRow(store, entryLabel(parent, name), problem, { ino, parent });
  }
}

/** The problem of a content whose `crc` is not its own, or undefined (null: a store without). */
export function contentCrcProblem(
  hkey: bigint,
  size: number,
  extents: Uint8Array,
  crc: unknown,
): string | undefined {
  if (crc === null) return undefined;
  if (Number(crc) === contentCrc(hkey, size, extents)) return undefined;
  return `${MISMATCH} key, size and extent list`;
}

/** The problem of an inode row (`inodeCrc`'s columns) whose `crc` is not its own, or undefined. */
export function inodeCrcProblem(cols: readonly unknown[], crc: unknown): string | undefined {
  if (crc === null || crc === undefined) return undefined;
  if (Number(crc) === inodeCrc(cols)) return undefined;
  return `${MISMATCH} attributes`;
}

/** Throws E_CORRUPT naming `store` and the inode unless the row's `crc` is its own. */
export function checkInodeCrc(store: string, cols: readonly unknown[], crc: unknown): void {
  const problem = inodeCrcProblem(cols, crc);
  if (problem !== undefined) {
    throw corruptRow(store, `inode ${cols[0]}`, problem, { ino: Number(cols[0]) });
  }
}

const TABLES = ["entries", "contents", "inodes"] as const;
type CrcTable = (typeof TABLES)[number];
const known = new WeakMap<Sqlite, Map<CrcTable, boolean>>();

/** Whether `table`'s rows carry `crc` in `db` (false for a store written before the column). */
export function hasRowCrcs(db: Sqlite, table: CrcTable): boolean {
  let m = known.get(db);
  if (m === undefined) {
    m = new Map();
    known.set(db, m);
  }
  let has = m.get(table);
  if (has === undefined) {
    const sql = `SELECT count(*) FROM pragma_table_info('${table}') WHERE name = 'crc'`;
    has = db.prepare(sql).pluck().get() === 1;
    m.set(table, has);
  }
  return has;
}

/**
 * `table`'s `crc` column as a select expression (`alias.crc` with an alias), or NULL for a
 * store written before it, so one statement reads both kinds of store.
 */
export function crcColumn(db: Sqlite, table: CrcTable, alias?: string): string {
  if (!hasRowCrcs(db, table)) return "NULL";
  return alias === undefined ? "crc" : `${alias}.crc`;
}

/** Registers `entry_crc`, `content_crc` and `inode_crc` on a connection (before statements use them). */
export function registerRowCrcs(db: Sqlite): void {
  db.function("entry_crc", { deterministic: true }, (parent, name, ino) =>
    entryCrc(Number(parent), name as Uint8Array, Number(ino)),
  );
  db.function("content_crc", { deterministic: true, safeIntegers: true }, (hkey, size, extents) =>
    contentCrc(BigInt(hkey as bigint), Number(size), extents as Uint8Array),
  );
  // one argument a column, in INODE_CRC_ARGS order (SQLite checks the count)
  const inodeArgs = { deterministic: true, safeIntegers: true, varargs: true };
  db.function("inode_crc", inodeArgs, (...cols: unknown[]) => {
    if (cols.length !== 13) throw new TypeError("inode_crc takes the 13 columns of an inode");
    return inodeCrc(cols);
  });
}

/** Adds the columns a store written before them lacks and fills them, in one transaction. */
export function addRowCrcs(db: Sqlite): void {
  const missing = TABLES.filter((t) => !hasRowCrcs(db, t));
  if (missing.length === 0) return;
  const fill = {
    entries: "entry_crc(parent, name, ino)",
    contents: "content_crc(hkey, size, extents)",
    inodes: `inode_crc(${INODE_CRC_ARGS})`,
  };
  db.transaction(() => {
    for (const t of missing) {
      db.exec(`ALTER TABLE ${t} ADD COLUMN crc INTEGER NOT NULL DEFAULT -1`);
      db.exec(`UPDATE ${t} SET crc = ${fill[t]}`);
    }
  }).immediate();
  for (const t of missing) known.get(db)?.set(t, true);
}
