/**
 * The SQL schema of superchunk.db, format version 1. Normative description:
 * spec/FORMAT.md. Tables are STRICT so SQLite itself rejects a TEXT name where
 * bytes belong or a fraction where an integer belongs. The schema is lean on purpose:
 * the database is part of the store's size, so it keeps only the indexes the read path
 * and dedup lookups need; whole-store checks scan.
 */
import type { InodeId } from "../types.js";

/** Name of the metadata database inside a store directory (and inside an archive). */
export const META_DB_FILE = "superchunk.db";

/** Inode number of the root directory. */
export const ROOT_INO = 1 as InodeId;

/** SQLite `application_id` of a superchunk database: "SCK1" in ASCII. */
export const APPLICATION_ID = 0x53434b31;

/**
 * Page size of a new database. Small pages waste less in half-full leaves and in the one
 * page every table and index needs; the read path's working set is cached either way.
 */
export const PAGE_SIZE = 1024;

/** Tables, indexes and triggers, created in one transaction by MetaDb.create. */
export const SCHEMA_SQL = `
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE inodes (
  ino      INTEGER PRIMARY KEY,
  kind     INTEGER NOT NULL,
  mode     INTEGER NOT NULL,
  uid      INTEGER NOT NULL,
  gid      INTEGER NOT NULL,
  size     INTEGER NOT NULL,
  atime_ns INTEGER NOT NULL,
  mtime_ns INTEGER NOT NULL,
  ctime_ns INTEGER NOT NULL,
  nlink    INTEGER NOT NULL,
  rdev     INTEGER NOT NULL DEFAULT 0,
  target   BLOB,
  content  INTEGER,
  crc      INTEGER NOT NULL
) STRICT;

CREATE TABLE entries (
  parent INTEGER NOT NULL,
  name   BLOB NOT NULL,
  ino    INTEGER NOT NULL,
  crc    INTEGER NOT NULL,
  PRIMARY KEY (parent, name)
) STRICT, WITHOUT ROWID;

CREATE TABLE contents (
  id       INTEGER PRIMARY KEY,
  hkey     INTEGER NOT NULL,
  size     INTEGER NOT NULL,
  refcount INTEGER NOT NULL,
  extents  BLOB NOT NULL,
  crc      INTEGER NOT NULL
) STRICT;
CREATE INDEX contents_hkey ON contents(hkey);

CREATE TABLE superchunks (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  codec        TEXT NOT NULL,
  raw_bytes    INTEGER NOT NULL,
  stored_bytes INTEGER NOT NULL,
  live_bytes   INTEGER NOT NULL DEFAULT 0,
  sub_blocks   INTEGER NOT NULL
) STRICT;

CREATE TABLE sub_blocks (
  id         INTEGER PRIMARY KEY,
  superchunk INTEGER NOT NULL,
  offset     INTEGER NOT NULL,
  length     INTEGER NOT NULL,
  refcount   INTEGER NOT NULL,
  hkey       INTEGER NOT NULL
) STRICT;
CREATE INDEX sub_blocks_hkey ON sub_blocks(hkey);

CREATE TABLE xattrs (
  ino   INTEGER NOT NULL,
  name  BLOB NOT NULL,
  value BLOB NOT NULL,
  PRIMARY KEY (ino, name)
) STRICT, WITHOUT ROWID;

-- superchunks.live_bytes = sum(length) of its sub-blocks with refcount > 0
CREATE TRIGGER sub_blocks_live_insert AFTER INSERT ON sub_blocks
WHEN new.refcount > 0 BEGIN
  UPDATE superchunks SET live_bytes = live_bytes + new.length WHERE id = new.superchunk;
END;
CREATE TRIGGER sub_blocks_live_update AFTER UPDATE OF refcount, superchunk, length ON sub_blocks
WHEN (old.refcount > 0) <> (new.refcount > 0) OR old.superchunk <> new.superchunk
  OR old.length <> new.length BEGIN
  UPDATE superchunks SET live_bytes = live_bytes - old.length
    WHERE id = old.superchunk AND old.refcount > 0;
  UPDATE superchunks SET live_bytes = live_bytes + new.length
    WHERE id = new.superchunk AND new.refcount > 0;
END;
CREATE TRIGGER sub_blocks_live_delete AFTER DELETE ON sub_blocks
WHEN old.refcount > 0 BEGIN
  UPDATE superchunks SET live_bytes = live_bytes - old.length WHERE id = old.superchunk;
END;
`;
