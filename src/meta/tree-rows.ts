/**
 * The raw rows of a store's file tree for fsck: every inode (all the columns the
 * invariants speak of), every directory entry, every xattr name and every content's hash
 * key, read as they are (nothing validated, nothing resolved) from a private read-only copy
 * of the database (MetaDb.serialize), like store-snapshot.ts.
 */
import type { MetaDb } from "./meta-db.js";
import { databaseFromBuffer } from "./open-db.js";
import { crcColumn, INODE_CRC_ARGS, inodeCrcProblem } from "./row-crc.js";

/** An `inodes` row, as stored (kind not checked). */
export interface TreeInode {
  readonly ino: number;
  readonly kind: number;
  readonly size: number;
  readonly nlink: number;
  readonly rdev: number;
  readonly target: Buffer | null;
  readonly content: number | null;
  /** why its `crc` is not its own (row-crc.ts), or undefined */
  crcProblem?: string;
}

/** An `entries` row. */
export interface TreeEntry {
  readonly parent: number;
  readonly name: Buffer;
  readonly ino: number;
  /** as stored (any type); null for a store written before entries carried one */
  readonly crc: unknown;
}

/** The tree's rows; `contentKeys` maps content id to its `hkey`. */
export interface TreeRows {
  readonly inodes: Map<number, TreeInode>;
  /** in (parent, name) order */
  readonly entries: TreeEntry[];
  readonly xattrs: { readonly ino: number; readonly name: Buffer }[];
  readonly contentKeys: Map<number, bigint>;
}

/** Reads the tree's rows from a private copy of `meta`'s database. */
export function readTreeRows(meta: MetaDb): TreeRows {
  const db = databaseFromBuffer(meta.serialize(), `${meta.path} (tree rows)`);
  try {
    // one scan: the columns the invariants speak of, and every column its check value covers
    const inodes = new Map<number, TreeInode>();
    const inSql = `SELECT ${INODE_CRC_ARGS}, ${crcColumn(db, "inodes")} FROM inodes`;
    for (const row of db.prepare(inSql).raw().safeIntegers(true).all() as unknown[][]) {
      const n = (i: number) => Number(row[i]);
      const content = row[12] === null ? null : n(12);
      const r: TreeInode = {
        ino: n(0),
        kind: n(1),
        size: n(5),
        nlink: n(9),
        rdev: n(10),
        target: row[11] as Buffer | null,
        content,
      };
      const problem = inodeCrcProblem(row, row[13]);
      if (problem !== undefined) r.crcProblem = problem;
      inodes.set(r.ino, r);
    }
    const crc = crcColumn(db, "entries");
    const entries = db
      .prepare(`SELECT parent, name, ino, ${crc} AS crc FROM entries ORDER BY parent, name`)
      .all() as TreeEntry[];
    const xattrs = db.prepare("SELECT ino, name FROM xattrs").all() as TreeRows["xattrs"];
    const contentKeys = new Map<number, bigint>();
    const keySql = db.prepare("SELECT id, hkey FROM contents").raw().safeIntegers(true);
    for (const [id, hkey] of keySql.all() as [bigint, bigint][]) contentKeys.set(Number(id), hkey);
    return { inodes, entries, xattrs, contentKeys };
  } finally {
    db.close();
  }
}
