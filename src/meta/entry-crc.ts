/**
 * The check each `entries` row carries in its `crc` column, so a name, parent or inode
 * number changed in the database (SQLite keeps no checksums of its own) is caught by the
 * reader instead of served: the low 23 bits of the CRC-32 of the parent and inode numbers
 * (8 bytes each, little-endian two's complement) followed by the name bytes (spec/FORMAT.md,
 * "entries"). 23 bits keep the column at three bytes a row.
 *
 * Stores written before the column have none: they are read unchecked, and their first
 * writable open adds and fills it (`addEntryCrcs`). Connections get the SQL function
 * `entry_crc(parent, name, ino)` so writers compute it where they write the row.
 */
import { crc32 } from "node:zlib";
import type Database from "better-sqlite3";

type Sqlite = Database.Database;

const CRC_MASK = 0x7fffff;
const head = new DataView(new ArrayBuffer(16));
const headBytes = new Uint8Array(head.buffer);

/** The `crc` an entry row must hold. */
export function entryCrc(parent: number, name: Uint8Array, ino: number): number {
  putInt64(0, parent);
  putInt64(8, ino);
  return crc32(name, crc32(headBytes)) & CRC_MASK;
}

/** `n` as 8 bytes little-endian two's complement at `at` (no BigInt for the usual case). */
function putInt64(at: number, n: number): void {
  if (Number.isSafeInteger(n) && n >= 0) {
    head.setUint32(at, n % 0x1_0000_0000, true);
    head.setUint32(at + 4, Math.floor(n / 0x1_0000_0000), true);
  } else head.setBigInt64(at, BigInt.asIntN(64, BigInt(Math.trunc(n))), true);
}

/** The problem of a row whose `crc` is not its own, or undefined (null: a store without). */
export function entryCrcProblem(
  parent: number,
  name: Uint8Array,
  ino: number,
  crc: unknown,
): string | undefined {
  if (crc === null) return undefined;
  if (typeof crc === "number" && crc === entryCrc(parent, name, ino)) return undefined;
  return "its check value does not match its name, directory and inode";
}

const hasColumn = new WeakMap<Sqlite, boolean>();

/** Whether `db`'s entries carry `crc` (false for a store written before the column). */
export function hasEntryCrcs(db: Sqlite): boolean {
  let has = hasColumn.get(db);
  if (has === undefined) {
    const sql = "SELECT count(*) FROM pragma_table_info('entries') WHERE name = 'crc'";
    has = db.prepare(sql).pluck().get() === 1;
    hasColumn.set(db, has);
  }
  return has;
}

/** Registers `entry_crc(parent, name, ino)` on a connection (before statements use it). */
export function registerEntryCrc(db: Sqlite): void {
  db.function("entry_crc", { deterministic: true }, (parent, name, ino) =>
    entryCrc(Number(parent), name as Uint8Array, Number(ino)),
  );
}

/** Adds the column to a store written before it and fills it, in one transaction. */
export function addEntryCrcs(db: Sqlite): void {
  if (hasEntryCrcs(db)) return;
  db.transaction(() => {
    db.exec("ALTER TABLE entries ADD COLUMN crc INTEGER NOT NULL DEFAULT -1");
    db.exec("UPDATE entries SET crc = entry_crc(parent, name, ino)");
  }).immediate();
  hasColumn.set(db, true);
}
