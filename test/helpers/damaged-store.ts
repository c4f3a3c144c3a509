/**
 * Damaged stores for tests: a small packed store (a file, a file in a directory, an empty
 * directory, a symlink, a FIFO) whose database is unpacked and edited with SQL, as a
 * damaged disk or a hostile author would, plus lookups by path in the raw database.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import Database from "better-sqlite3";
import { INODE_CRC_ARGS, registerRowCrcs } from "../../src/meta/row-crc.js";
import { packTree } from "../../src/pack/pack.js";
import { unpackDatabaseFile } from "../../src/store/packed-db.js";
import { seededBytes, tmpDir } from "./tree.js";

export interface SmallStore {
  readonly root: string;
  readonly src: string;
  readonly store: string;
}

/** Packs a small tree: a.txt, b/c.bin, d/ (empty), link -> a.txt, fifo. */
export async function smallStore(tag = "dmg"): Promise<SmallStore> {
  const root = tmpDir(tag);
  const src = path.join(root, "src");
  fs.mkdirSync(path.join(src, "b"), { recursive: true });
  fs.mkdirSync(path.join(src, "d"));
  fs.writeFileSync(path.join(src, "a.txt"), "alpha\n".repeat(3000));
  fs.writeFileSync(path.join(src, "b", "c.bin"), seededBytes(200_000, 7));
  fs.symlinkSync("a.txt", path.join(src, "link"));
  spawnSync("mkfifo", [path.join(src, "fifo")]);
  const store = path.join(root, "store");
  await packTree(src, store, { threads: 1 });
  return { root, src, store };
}

/**
 * A maker of fresh copies of one small store, packed at the first call (`tag` names the
 * temporary directories): each test damages a copy of its own.
 */
export function smallStoreCopies(tag: string): () => Promise<SmallStore> {
  let pristine: SmallStore | undefined;
  return async () => {
    pristine ??= await smallStore(`${tag}-src`);
    const root = tmpDir(tag);
    const store = path.join(root, "store");
    fs.cpSync(pristine.store, store, { recursive: true });
    return { root, src: pristine.src, store };
  };
}

/** The store's database file, unpacked (plain superchunk.db) if it was packed. */
export function plainDb(store: string): string {
  const file = path.join(store, "superchunk.db");
  unpackDatabaseFile(file);
  return file;
}

/**
 * Gives every `entries`, `contents` and `inodes` row the check value of what it now holds: a hostile
 * author's edit, made consistent so the checks behind the row's own one are reached.
 */
export function refreshRowCrcs(db: Database.Database): void {
  registerRowCrcs(db);
  db.exec("UPDATE entries SET crc = entry_crc(parent, name, ino)");
  db.exec("UPDATE contents SET crc = content_crc(hkey, size, extents)");
  db.exec(`UPDATE inodes SET crc = inode_crc(${INODE_CRC_ARGS})`);
}

/** Runs `edit` on the store's database (unpacked first), then closes it. */
export function editDb<T>(store: string, edit: (db: Database.Database) => T): T {
  const db = new Database(plainDb(store));
  try {
    return edit(db);
  } finally {
    db.close();
  }
}

/** The inode at '/'-separated `rel` (the root for ""), read from the raw database. */
/** The content id of the file at `rel` (a path from the root) in `db`. */
export function contentAt(db: Database.Database, rel: string): number {
  return db
    .prepare("SELECT content FROM inodes WHERE ino = ?")
    .pluck()
    .get(inoAt(db, rel)) as number;
}

export function inoAt(db: Database.Database, rel: string): number {
  let ino = 1;
  const get = db.prepare("SELECT ino FROM entries WHERE parent = ? AND name = ?").pluck();
  for (const part of rel.split("/").filter((p) => p !== "")) {
    const next = get.get(ino, Buffer.from(part)) as number | undefined;
    if (next === undefined) throw new Error(`${rel}: no entry ${part}`);
    ino = next;
  }
  return ino;
}
