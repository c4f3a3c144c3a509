/**
 * Queries on the `inodes` table. Times are read with safe integers so nanoseconds
 * beyond 2^53 come back exact as bigint.
 */
import { assert } from "../errors.js";
import { type InodeId, InodeKind } from "../types.js";
import type { Sqlite } from "./open-db.js";
import type { InodeCounts, InodePatch, InodeRecord, NewInode } from "./records.js";
import {
  checkEntryCrc,
  checkInodeCrc,
  crcColumn,
  hasRowCrcs,
  INODE_CRC_ARGS,
  inodeCrc,
  inodeCrcProblem,
} from "./row-crc.js";
import { corruptRow, type InodeFacts, inodeProblem } from "./validate-records.js";

/** Permission, setuid, setgid and sticky bits: the part of st_mode an inode keeps. */
const MODE_BITS = 0o7777;
const KINDS = new Set<number>(Object.values(InodeKind));

const COLUMNS = "kind, mode, uid, gid, size, atime_ns, mtime_ns, ctime_ns, nlink, rdev, target";
/**
 * nlink from the entries, grouped in one pass each (there is no index on entries.ino):
 * a directory has 2 + its subdirectories, anything else the number of entries naming it.
 */
const fixNlinks = (crcs: boolean) => `UPDATE inodes SET nlink = n${
  crcs ? `, crc = inode_crc(${INODE_CRC_ARGS.replace("nlink", "n")})` : ""
} FROM (
  SELECT i.ino AS id, CASE WHEN i.kind = ${InodeKind.dir} THEN 2 + coalesce(d.n, 0)
    ELSE coalesce(l.n, 0) END AS n
  FROM inodes i
  LEFT JOIN (SELECT ino, count(*) AS n FROM entries GROUP BY ino) l ON l.ino = i.ino
  LEFT JOIN (SELECT e.parent, count(*) AS n FROM entries e JOIN inodes c ON c.ino = e.ino
             WHERE c.kind = ${InodeKind.dir} GROUP BY e.parent) d ON d.parent = i.ino)
  WHERE inodes.ino = id AND inodes.nlink <> n`;

/** ino, then COLUMNS, then content, all integers as bigint. */
type FullRow = [
  ...[bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint],
  Buffer | null,
  bigint | null,
];
/** A FullRow's place in the rows of a statement, and where its crc is (NULL: none kept). */
const CRC_AT = { get: 13, checked: 15, children: 17 } as const;

/**
 * A row with what a reader checks it against: its content's size (null: no content, or
 * the row is missing) and whether some entry has it as parent; two index lookups.
 */
const checkedSql = (crc: string) => `SELECT ino, ${COLUMNS}, content,
  (SELECT c.size FROM contents c WHERE c.id = inodes.content),
  EXISTS (SELECT 1 FROM entries e WHERE e.parent = inodes.ino), ${crc}
  FROM inodes WHERE ino = ?`;

/**
 * A directory's entries, each with its inode and the facts it is checked against, and the
 * entry's check value (NULL for a store without), in name order: the listing and every
 * child's attributes in one query. `kind` is null when the entry names a missing inode.
 */
const childrenSql = (crc: string, inodeCrc: string) => `SELECT e.name, e.ino, ${COLUMNS},
  content, (SELECT c.size FROM contents c WHERE c.id = i.content),
  EXISTS (SELECT 1 FROM entries x WHERE x.parent = e.ino), ${crc}, ${inodeCrc},
  (SELECT p.kind FROM inodes p WHERE p.ino = @parent),
  (SELECT p.nlink FROM inodes p WHERE p.ino = @parent)
  FROM entries e LEFT JOIN inodes i ON i.ino = e.ino WHERE e.parent = @parent ORDER BY e.name`;

/** One entry of `InodeTable.children`: its inode checked, or why it cannot be trusted. */
export interface CheckedChild {
  readonly name: Buffer;
  readonly ino: InodeId;
  /** the inode, undefined when missing or damaged */
  readonly rec?: InodeRecord;
  /** the damaged inode's E_CORRUPT error (as `read` would throw it) */
  readonly damage?: Error;
}

/** Checks the kind-dependent invariants of an inode and returns its column values. */
function columnsOf(rec: NewInode): unknown[] {
  assert(KINDS.has(rec.kind), "unknown inode kind", { kind: rec.kind });
  const isFile = rec.kind === InodeKind.file;
  const content = rec.content ?? null;
  const target = rec.target ?? null;
  assert(
    isFile ? content !== null || rec.size === 0 : content === null,
    "content: files only, all but empty ones",
    {
      kind: rec.kind,
      content,
      size: rec.size,
    },
  );
  assert((rec.kind === InodeKind.symlink) === Buffer.isBuffer(target), "target iff symlink", {
    kind: rec.kind,
  });
  return [
    rec.kind,
    rec.mode & MODE_BITS,
    rec.uid,
    rec.gid,
    rec.size,
    rec.atimeNs,
    rec.mtimeNs,
    rec.ctimeNs,
    rec.nlink,
    rec.rdev ?? 0,
    target,
    content,
  ];
}

function toRecord(r: FullRow): InodeRecord {
  return {
    ino: Number(r[0]) as InodeId,
    kind: Number(r[1]) as InodeKind,
    mode: Number(r[2]),
    uid: Number(r[3]),
    gid: Number(r[4]),
    size: Number(r[5]),
    atimeNs: r[6],
    mtimeNs: r[7],
    ctimeNs: r[8],
    nlink: Number(r[9]),
    rdev: Number(r[10]),
    target: r[11],
    content: r[12] === null ? null : Number(r[12]),
  };
}

/** Prepared statements and operations of the `inodes` table. */
export class InodeTable {
  readonly #insertAt;
  readonly #nextIno;
  readonly #crcs: boolean;
  readonly #get;
  readonly #getChecked;
  readonly #children;
  readonly #update;
  readonly #counts;
  readonly #fixNlinks;

  /** @param store the database's path, for errors */
  constructor(
    db: Sqlite,
    private readonly store: string,
  ) {
    // rows carry their crc (row-crc.ts) unless the store was written before the column
    const crcs = hasRowCrcs(db, "inodes");
    this.#crcs = crcs;
    const crc = crcColumn(db, "inodes");
    // an inode's number is part of its crc: chosen here, as SQLite would (the largest + 1)
    this.#insertAt = db.prepare(
      `INSERT INTO inodes(ino, ${COLUMNS}, content${crcs ? ", crc" : ""})
         VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?${crcs ? ",?" : ""})`,
    );
    this.#nextIno = db.prepare("SELECT coalesce(max(ino), 0) + 1 FROM inodes").pluck();
    this.#get = db
      .prepare(`SELECT ino, ${COLUMNS}, content, ${crc} FROM inodes WHERE ino = ?`)
      .raw()
      .safeIntegers(true);
    this.#getChecked = db.prepare(checkedSql(crc)).raw().safeIntegers(true);
    this.#children = db
      .prepare(childrenSql(crcColumn(db, "entries", "e"), crcColumn(db, "inodes", "i")))
      .raw()
      .safeIntegers(true);
    this.#update = db.prepare(
      `UPDATE inodes SET kind=?, mode=?, uid=?, gid=?, size=?, atime_ns=?, mtime_ns=?,
         ctime_ns=?, nlink=?, rdev=?, target=?, content=?${crcs ? ", crc=?" : ""} WHERE ino = ?`,
    );
    this.#counts = db.prepare("SELECT kind, count(*) FROM inodes GROUP BY kind").raw();
    this.#fixNlinks = db.prepare(fixNlinks(crcs));
  }

  /** Inserts an inode; returns its number (`rec.ino` when given). */
  insert(rec: NewInode): InodeId {
    const values = columnsOf(rec);
    const ino = rec.ino ?? (Number(this.#nextIno.get()) as InodeId);
    if (this.#crcs) values.push(inodeCrc([ino, ...values]));
    this.#insertAt.run(ino, ...values);
    return ino;
  }

  /** An inode as stored; E_CORRUPT when its row fails its own check (row-crc.ts). */
  get(ino: InodeId): InodeRecord | undefined {
    const row = this.#get.get(ino) as unknown[] | undefined;
    if (row === undefined) return undefined;
    const full = row as FullRow;
    checkInodeCrc(this.store, full, row[CRC_AT.get]);
    return toRecord(full);
  }

  /** An inode with the facts a reader checks it against (validate-records.ts). */
  getWithFacts(ino: InodeId): { rec: InodeRecord; facts: InodeFacts } | undefined {
    const row = this.#getChecked.get(ino) as [...FullRow, bigint | null, bigint] | undefined;
    if (row === undefined) return undefined;
    const crc = (row as unknown[])[CRC_AT.checked];
    checkInodeCrc(this.store, row, crc);
    const size = row[13];
    const facts = { contentSize: size === null ? null : Number(size), hasEntries: row[14] !== 0n };
    return { rec: toRecord(row as unknown as FullRow), facts };
  }

  /** An inode checked by `inodeProblem`: E_CORRUPT naming the store and the inode. */
  read(ino: InodeId): InodeRecord | undefined {
    const got = this.getWithFacts(ino);
    const problem = got && inodeProblem(got.rec, got.facts);
    if (problem) throw corruptRow(this.store, `inode ${ino}`, problem, { ino });
    return got?.rec;
  }

  /**
   * The entries of directory `parent` with their inodes, checked as `read` checks one;
   * E_CORRUPT when an entry's row fails its own check (row-crc.ts).
   */
  children(parent: InodeId): CheckedChild[] {
    type Row = [Buffer, ...FullRow, bigint | null, bigint, bigint | null];
    const rows = this.#children.all({ parent }) as Row[];
    const own = rows[0] as unknown[] | undefined; // the directory's kind and nlink, on each row
    const subdirs = rows.filter((r) => r[2] === BigInt(InodeKind.dir)).length;
    if (own !== undefined) this.#checkSubdirs(parent, own[18], own[19], subdirs);
    return rows.map((row) => {
      const name = row[0];
      const ino = Number(row[1]) as InodeId;
      checkEntryCrc(this.store, parent, name, ino, row[16]);
      if (row[2] === null) return { name, ino };
      const full = row.slice(1) as unknown as FullRow;
      const crc = inodeCrcProblem(full, (row as unknown[])[CRC_AT.children]);
      if (crc !== undefined) {
        return { name, ino, damage: corruptRow(this.store, `inode ${ino}`, crc, { ino }) };
      }
      const rec = toRecord(full);
      const size = row[14];
      const facts = {
        contentSize: size === null ? null : Number(size),
        hasEntries: row[15] !== 0n,
      };
      const problem = inodeProblem(rec, facts);
      if (problem === undefined) return { name, ino, rec };
      return { name, ino, damage: corruptRow(this.store, `inode ${ino}`, problem, { ino }) };
    });
  }

  /**
   * E_CORRUPT unless directory `parent`'s link count is 2 + its `subdirs` (as fsck checks):
   * an entry's inode whose kind was changed (a directory made a file) shows here.
   */
  #checkSubdirs(parent: InodeId, kind: unknown, nlink: unknown, subdirs: number): void {
    if (kind !== BigInt(InodeKind.dir)) return;
    const want = 2 + subdirs;
    if (Number(nlink) === want) return;
    const why = `nlink ${nlink}, its entries give ${want}`;
    throw corruptRow(this.store, `directory ${parent}`, why, { ino: parent });
  }

  /** Changes some attributes; returns false if there is no such inode. Refcounts are the caller's. */
  update(ino: InodeId, patch: InodePatch): boolean {
    const old = this.get(ino);
    if (old === undefined) return false;
    const merged: NewInode = { ...old, ...patch };
    const values = columnsOf(merged);
    if (this.#crcs) values.push(inodeCrc([ino, ...values]));
    this.#update.run(...values, ino);
    return true;
  }

  counts(): InodeCounts {
    const c = { files: 0, dirs: 0, symlinks: 0, other: 0 };
    for (const [kind, n] of this.#counts.all() as [number, number][]) {
      if (kind === InodeKind.file) c.files += n;
      else if (kind === InodeKind.dir) c.dirs += n;
      else if (kind === InodeKind.symlink) c.symlinks += n;
      else c.other += n;
    }
    return c;
  }

  /**
   * Sets every nlink from the entries: a directory has 2 + its subdirectories, anything
   * else the number of entries naming it. Returns the number of inodes changed.
   */
  recomputeNlinks(): number {
    return this.#fixNlinks.run().changes;
  }
}
