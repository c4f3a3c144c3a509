/**
 * Queries on the `entries` table: the directory tree. Names are raw bytes compared with
 * memcmp, so listings are sorted by name bytes and non-UTF-8 names round trip.
 */
import { UsageError } from "../errors.js";
import { type InodeId, InodeKind } from "../types.js";
import type { Sqlite } from "./open-db.js";
import type { DirEntry, WalkEntry } from "./records.js";
import { checkEntryCrc, crcColumn, entryCrc, entryCrcProblem, hasRowCrcs } from "./row-crc.js";
import { ROOT_INO } from "./schema.js";
import { sqliteCode } from "./sqlite-error.js";
import { corruptRow, entryLabel, nameProblem } from "./validate-records.js";

/**
 * Something `walk` met that a reader must not trust: a bad name, an entry pointing at a
 * missing inode, a directory reached twice (a cycle). `path` is where it was met.
 */
export interface TreeProblem {
  readonly parent: InodeId;
  readonly name: Buffer;
  readonly ino: InodeId;
  readonly path: Buffer;
  /** "entry ... in directory N" or "directory N" */
  readonly row: string;
  readonly problem: string;
}

const SLASH = 0x2f;
const SLASH_BUF = Buffer.from("/");
const EMPTY = Buffer.alloc(0);

/** Throws unless `name` can be one path component: non-empty, no '/' or NUL, not '.' or '..'. */
export function checkEntryName(name: Buffer): void {
  const hex = Buffer.isBuffer(name) ? name.toString("hex") : String(name);
  if (!Buffer.isBuffer(name) || name.length === 0 || name.includes(0)) {
    throw new UsageError("E_USAGE", "entry name must be non-empty bytes without NUL", { hex });
  }
  const dots = name.length <= 2 && name.every((b) => b === 0x2e);
  if (dots || name.includes(SLASH)) {
    throw new UsageError("E_PATH_ESCAPE", `entry name not allowed: ${name}`, { hex });
  }
}

/** The components of a '/'-separated path, skipping empty ones and '.'. */
export function splitPath(path: string | Buffer): Buffer[] {
  const buf = typeof path === "string" ? Buffer.from(path, "utf8") : path;
  const parts: Buffer[] = [];
  let start = 0;
  while (start <= buf.length) {
    let end = buf.indexOf(SLASH, start);
    if (end < 0) end = buf.length;
    const part = buf.subarray(start, end);
    if (part.length > 0 && !(part.length === 1 && part[0] === 0x2e)) parts.push(part);
    start = end + 1;
  }
  return parts;
}

interface Frame {
  /** name, ino, the inode's kind (null: no such inode), crc (null: a store without) */
  readonly rows: [Buffer, number, number | null, unknown][];
  readonly prefix: Buffer;
  readonly parent: InodeId;
  next: number;
}

/** Prepared statements and operations of the `entries` table. */
export class EntryTable {
  readonly #add;
  readonly #lookup;
  readonly #list;
  readonly #listKinds;
  readonly #hasInode;
  readonly #addCrc: boolean;

  /** @param store the database's path, for errors */
  constructor(
    db: Sqlite,
    private readonly store: string,
  ) {
    // every row read is checked against its crc (row-crc.ts); a store without reads NULL
    const crcs = hasRowCrcs(db, "entries");
    const crc = crcColumn(db, "entries");
    this.#add = crcs
      ? db.prepare("INSERT INTO entries(parent, name, ino, crc) VALUES (?, ?, ?, ?)")
      : db.prepare("INSERT INTO entries(parent, name, ino) VALUES (?, ?, ?)");
    this.#addCrc = crcs;
    this.#lookup = db
      .prepare(`SELECT ino, ${crc} FROM entries WHERE parent = ? AND name = ?`)
      .raw();
    this.#list = db
      .prepare(`SELECT name, ino, ${crc} FROM entries WHERE parent = ? ORDER BY name`)
      .raw();
    this.#listKinds = db
      .prepare(
        `SELECT e.name, e.ino, i.kind, ${crcColumn(db, "entries", "e")}
         FROM entries e LEFT JOIN inodes i ON i.ino = e.ino WHERE e.parent = ? ORDER BY e.name`,
      )
      .raw();
    this.#hasInode = db.prepare("SELECT 1 FROM inodes WHERE ino = ?").pluck();
  }

  /** Links `name` in directory `parent` to `ino`; E_DEST_EXISTS if the name is taken. */
  add(parent: InodeId, name: Buffer, ino: InodeId): void {
    checkEntryName(name);
    try {
      if (this.#addCrc) this.#add.run(parent, name, ino, entryCrc(parent, name, ino));
      else this.#add.run(parent, name, ino);
    } catch (err) {
      if (sqliteCode(err) !== "SQLITE_CONSTRAINT_PRIMARYKEY") throw err;
      const data = { parent, hex: name.toString("hex") };
      throw new UsageError("E_DEST_EXISTS", `entry ${name} exists in ${parent}`, data, err);
    }
  }

  /** The inode `name` in `parent` names; E_CORRUPT when the row fails its check. */
  lookup(parent: InodeId, name: Buffer): InodeId | undefined {
    const row = this.#lookup.get(parent, name) as [InodeId, unknown] | undefined;
    if (row === undefined) return undefined;
    checkEntryCrc(this.store, parent, name, row[0], row[1]);
    return row[0];
  }

  /**
   * Entries of `parent` sorted by name bytes (empty when it has none or is no directory);
   * E_CORRUPT when a row fails its check.
   */
  list(parent: InodeId): DirEntry[] {
    const rows = this.#list.all(parent) as [Buffer, InodeId, unknown][];
    return rows.map(([name, ino, crc]) => {
      checkEntryCrc(this.store, parent, name, ino, crc);
      return { name, ino };
    });
  }

  /** The inode at `path` from the root ('' and '/' are the root), or undefined. */
  resolve(path: string | Buffer): InodeId | undefined {
    let ino: InodeId | undefined = ROOT_INO;
    if (this.#hasInode.get(ROOT_INO) === undefined) return undefined;
    for (const part of splitPath(path)) {
      ino = this.lookup(ino, part);
      if (ino === undefined) return undefined;
    }
    return ino;
  }

  /**
   * Every entry reachable from the root, depth first, parents before children, siblings
   * by name bytes. An entry with a bad name or pointing at a missing inode, and a
   * directory reached twice (a cycle), go to `onProblem` and are skipped (not descended);
   * without it they are E_CORRUPT naming the store.
   */
  *walk(onProblem: (p: TreeProblem) => void = this.#refuse): Iterable<WalkEntry> {
    const seen = new Set<number>([ROOT_INO]);
    const stack: Frame[] = [this.#frame(ROOT_INO, EMPTY)];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const row = top.rows[top.next++];
      if (row === undefined) {
        stack.pop();
        continue;
      }
      const [name, ino, kind, crc] = row;
      const path = top.prefix.length === 0 ? name : Buffer.concat([top.prefix, SLASH_BUF, name]);
      const at = { parent: top.parent, name, ino: ino as InodeId, path };
      const problem =
        nameProblem(name) ??
        entryCrcProblem(top.parent, name, ino, crc) ??
        (kind === null ? `points at missing inode ${ino}` : undefined);
      if (problem !== undefined) {
        onProblem({ ...at, row: entryLabel(top.parent, name), problem });
        continue;
      }
      if (kind === InodeKind.dir && seen.has(ino)) {
        onProblem({
          ...at,
          row: `directory ${ino}`,
          problem: "reached twice (a cycle, or a second link)",
        });
        continue;
      }
      yield { path, ino: ino as InodeId, parent: top.parent };
      if (kind !== InodeKind.dir) continue;
      seen.add(ino);
      stack.push(this.#frame(ino as InodeId, path));
    }
  }

  readonly #refuse = (p: TreeProblem): never => {
    throw corruptRow(this.store, p.row, p.problem, { ino: p.ino, entry: p.path.toString() });
  };

  #frame(dir: InodeId, prefix: Buffer): Frame {
    const rows = this.#listKinds.all(dir) as Frame["rows"];
    return { rows, prefix, parent: dir, next: 0 };
  }
}
