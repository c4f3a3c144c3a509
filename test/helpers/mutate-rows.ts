/**
 * Row edits of a store's SQLite image for the fuzz: what a hostile or buggy writer could
 * put in a database whose checksums are then made to fit. Each edit picks its row with a
 * seeded Rng, changes one thing, and answers a one-line description. mutate-store.ts
 * unpacks the image before and writes it back after.
 */
import Database from "better-sqlite3";
import { decodeExtents, encodeExtents } from "../../src/meta/extent-list.js";
import { entryCrc } from "../../src/meta/row-crc.js";
import type { Extent, SubBlockId } from "../../src/types.js";
import { refreshRowCrcs } from "./damaged-store.js";
import type { Rng } from "./fuzz-rng.js";

type Db = Database.Database;
type Edit = (db: Db, rng: Rng, outside: string) => string;

interface EntryRow {
  parent: number;
  name: Buffer;
  ino: number;
}
interface FileRow {
  ino: number;
  size: number;
  content: number;
}

const FILE = 1;
const DIR = 2;
const SYMLINK = 3;
const FIFO = 4;

function rows<T>(db: Db, sql: string, ...args: unknown[]): T[] {
  const r = db.prepare(sql).all(...args) as T[];
  if (r.length === 0) throw new Error(`fuzz fixture has no rows for: ${sql}`);
  return r;
}

function files(db: Db): FileRow[] {
  return rows<FileRow>(
    db,
    "SELECT ino, size, content FROM inodes WHERE kind = 1 AND content IS NOT NULL AND size > 0 ORDER BY ino",
  );
}

function entries(db: Db): EntryRow[] {
  return rows<EntryRow>(db, "SELECT parent, name, ino FROM entries ORDER BY parent, name");
}

function show(name: Buffer): string {
  return JSON.stringify(name.toString("latin1"));
}

/**
 * Renames one entry; false (nothing done) when a sibling already has `to`. `damage`: the
 * row keeps its old check value (a damaged disk); else it gets its new one (a hostile author).
 */
function rename(db: Db, e: EntryRow, to: Buffer, damage = false): boolean {
  const taken = db.prepare("SELECT 1 FROM entries WHERE parent = ? AND name = ?").get(e.parent, to);
  if (taken !== undefined) return false;
  db.prepare("UPDATE entries SET name = ? WHERE parent = ? AND name = ?").run(to, e.parent, e.name);
  if (!damage) refreshRowCrcs(db);
  return true;
}

/** Renames a random entry to what `make` gives (retrying on a clash); answers the description. */
function renameOne(db: Db, rng: Rng, make: (name: Buffer) => Buffer, damage = false): string {
  const all = entries(db);
  for (let tries = 0; tries < 50; tries++) {
    const e = rng.pick(all);
    const to = make(e.name);
    if (!to.equals(e.name) && rename(db, e, to, damage)) {
      return `entry ${show(e.name)} in dir ${e.parent} renamed ${show(to)}`;
    }
  }
  throw new Error("fuzz: no entry could be renamed");
}

function setKind(db: Db, rng: Rng, from: number, to: number, label: string): string {
  const ino = rng.pick(
    rows<{ ino: number }>(db, "SELECT ino FROM inodes WHERE kind = ?", from),
  ).ino;
  db.prepare("UPDATE inodes SET kind = ? WHERE ino = ?").run(to, ino);
  refreshRowCrcs(db); // a hostile author: the link counts, not the row's check, give it away
  return `inode ${ino}: ${label}`;
}

/** A byte a name may hold (printable, not '/'), different from `old`. */
function otherNameByte(rng: Rng, old: number): number {
  for (;;) {
    const b = rng.range(0x21, 0x7e);
    if (b !== 0x2f && b !== old) return b;
  }
}

/** The kinds of row edit. */
export const ROW_MUTATIONS = [
  "row-offset-shift",
  "row-length-smaller",
  "row-extents-swap",
  "row-content-null",
  "row-size-2p50",
  "row-size-larger",
  "name-empty",
  "name-slash",
  "name-dotdot",
  "name-nul",
  "name-byte-changed",
  "entry-missing-inode",
  "kind-file-to-fifo",
  "kind-file-to-symlink",
  "kind-dir-to-file",
  "symlink-empty-target",
  "dir-entries-deleted",
  "symlink-escape",
] as const;

/** A kind of row edit. */
export type RowMutation = (typeof ROW_MUTATIONS)[number];

const EDITS: Record<RowMutation, Edit> = {
  "row-offset-shift": (db, rng) => {
    const sb = rng.pick(
      rows<{ id: number; offset: number }>(
        db,
        "SELECT id, offset FROM sub_blocks WHERE refcount > 0",
      ),
    );
    const to = sb.offset === 0 || rng.coin() ? sb.offset + 1 : sb.offset - 1;
    db.prepare("UPDATE sub_blocks SET offset = ? WHERE id = ?").run(to, sb.id);
    return `sub-block ${sb.id}: offset ${sb.offset} -> ${to}`;
  },
  "row-length-smaller": (db, rng) => {
    const sb = rng.pick(
      rows<{ id: number; length: number }>(
        db,
        "SELECT id, length FROM sub_blocks WHERE refcount > 0 AND length > 1",
      ),
    );
    const to = rng.range(1, sb.length - 1);
    db.prepare("UPDATE sub_blocks SET length = ? WHERE id = ?").run(to, sb.id);
    return `sub-block ${sb.id}: length ${sb.length} -> ${to}`;
  },
  "row-extents-swap": (db, rng) => {
    const all = rows<{ id: number; extents: Buffer }>(db, "SELECT id, extents FROM contents");
    const multi = all
      .map((c) => ({ id: c.id, codes: decodeExtents(c.extents, c.id) }))
      .filter((c) => new Set(c.codes).size >= 2);
    const c = rng.pick(multi);
    let i = 0;
    let j = 0;
    while (c.codes[i] === c.codes[j]) [i, j] = rng.pickTwo(c.codes.map((_, k) => k));
    const codes = [...c.codes];
    [codes[i], codes[j]] = [codes[j] as number, codes[i] as number];
    const list: Extent[] = codes.map((x) =>
      x > 0 ? { subBlock: x as SubBlockId, length: 0 } : { subBlock: null, length: -x },
    );
    db.prepare("UPDATE contents SET extents = ? WHERE id = ?").run(encodeExtents(list), c.id);
    refreshRowCrcs(db);
    return `content ${c.id}: extents ${i} and ${j} of ${codes.length} swapped`;
  },
  "row-content-null": (db, rng) => {
    const f = rng.pick(files(db));
    db.prepare("UPDATE inodes SET content = NULL WHERE ino = ?").run(f.ino);
    refreshRowCrcs(db);
    return `inode ${f.ino} (size ${f.size}): content set to NULL`;
  },
  "row-size-2p50": (db, rng) => {
    const f = rng.pick(files(db));
    const to = 2 ** 50 + rng.int(1 << 20);
    const where = rng.pick(["inode", "content", "inode and content"]);
    if (where !== "content") db.prepare("UPDATE inodes SET size = ? WHERE ino = ?").run(to, f.ino);
    if (where !== "inode")
      db.prepare("UPDATE contents SET size = ? WHERE id = ?").run(to, f.content);
    refreshRowCrcs(db);
    return `inode ${f.ino}: ${where} size ${f.size} -> ${to}`;
  },
  "row-size-larger": (db, rng) => {
    const f = rng.pick(files(db));
    const to = f.size + rng.range(1, 300_000);
    const where = rng.pick(["inode", "inode and content"]);
    db.prepare("UPDATE inodes SET size = ? WHERE ino = ?").run(to, f.ino);
    if (where !== "inode")
      db.prepare("UPDATE contents SET size = ? WHERE id = ?").run(to, f.content);
    refreshRowCrcs(db);
    return `inode ${f.ino}: ${where} size ${f.size} -> ${to} (content holds ${f.size})`;
  },
  "name-empty": (db, rng) => renameOne(db, rng, () => Buffer.alloc(0)),
  "name-slash": (db, rng) =>
    renameOne(db, rng, (n) => {
      const at = rng.int(n.length + 1);
      return Buffer.concat([n.subarray(0, at), Buffer.from("/"), n.subarray(at)]);
    }),
  "name-dotdot": (db, rng) => renameOne(db, rng, () => Buffer.from(rng.pick(["..", "..", "."]))),
  "name-nul": (db, rng) =>
    renameOne(db, rng, (n) => {
      const at = rng.int(n.length + 1);
      return Buffer.concat([n.subarray(0, at), Buffer.from([0]), n.subarray(at)]);
    }),
  "name-byte-changed": (db, rng) =>
    renameOne(
      db,
      rng,
      (n) => {
        const b = Buffer.from(n);
        const at = rng.int(b.length);
        b[at] = otherNameByte(rng, b[at] as number);
        return b;
      },
      true,
    ),
  "entry-missing-inode": (db, rng) => {
    const e = rng.pick(entries(db));
    if (rng.coin()) {
      const max = (db.prepare("SELECT max(ino) AS m FROM inodes").get() as { m: number }).m;
      const to = max + 1 + rng.int(1000);
      db.prepare("UPDATE entries SET ino = ? WHERE parent = ? AND name = ?").run(
        to,
        e.parent,
        e.name,
      );
      refreshRowCrcs(db);
      return `entry ${show(e.name)} in dir ${e.parent}: ino ${e.ino} -> ${to} (no such inode)`;
    }
    db.prepare("DELETE FROM inodes WHERE ino = ?").run(e.ino);
    return `inode ${e.ino} (named ${show(e.name)}) deleted`;
  },
  "kind-file-to-fifo": (db, rng) => setKind(db, rng, FILE, FIFO, "file -> fifo"),
  "kind-file-to-symlink": (db, rng) => setKind(db, rng, FILE, SYMLINK, "file -> symlink"),
  "kind-dir-to-file": (db, rng) => setKind(db, rng, DIR, FILE, "dir -> file"),
  "symlink-empty-target": (db, rng) => {
    const l = rng.pick(rows<{ ino: number }>(db, "SELECT ino FROM inodes WHERE kind = ?", SYMLINK));
    const size = rng.coin() ? ", size = 0" : "";
    db.prepare(`UPDATE inodes SET target = x''${size} WHERE ino = ?`).run(l.ino);
    refreshRowCrcs(db);
    return `symlink ${l.ino}: empty target${size}`;
  },
  "dir-entries-deleted": (db, rng) => {
    const d = rng.pick(
      rows<{ parent: number; n: number }>(
        db,
        "SELECT parent, count(*) AS n FROM entries GROUP BY parent ORDER BY parent",
      ),
    );
    db.prepare("DELETE FROM entries WHERE parent = ?").run(d.parent);
    return `dir ${d.parent}: its ${d.n} entries deleted`;
  },
  "symlink-escape": (db, rng, outside) => {
    const root = db.prepare("SELECT * FROM inodes WHERE ino = 1").get() as Record<string, unknown>;
    const max = (db.prepare("SELECT max(ino) AS m FROM inodes").get() as { m: number }).m;
    const target = rng.coin() ? outside : "../outside";
    const link = rng.pick(["a", "lnk"]);
    const add = db.prepare(
      `INSERT INTO inodes (ino, kind, mode, uid, gid, size, atime_ns, mtime_ns, ctime_ns, nlink, rdev, target, content, crc)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 0, ?, ?, -1)`,
    );
    const t = [root.atime_ns, root.mtime_ns, root.ctime_ns];
    add.run(
      max + 1,
      SYMLINK,
      0o777,
      root.uid,
      root.gid,
      Buffer.byteLength(target),
      ...t,
      Buffer.from(target),
      null,
    );
    const f = rng.pick(files(db));
    let evil = f.ino;
    if (rng.coin()) {
      evil = max + 2;
      add.run(evil, FILE, 0o755, root.uid, root.gid, f.size, ...t, null, f.content);
    }
    // a hostile author: the rows carry their right check values
    const sql = "INSERT INTO entries (parent, name, ino, crc) VALUES (1, ?, ?, ?)";
    const put = (name: Buffer, ino: number) =>
      db.prepare(sql).run(name, ino, entryCrc(1, name, ino));
    put(Buffer.from(link), max + 1);
    put(Buffer.from(`${link}/evil.sh`), evil);
    refreshRowCrcs(db);
    return `root: symlink ${link} -> ${target}, entry ${link}/evil.sh -> inode ${evil}`;
  },
};

/** Opens the SQLite image at `image`, runs the edit, checkpoints and closes. */
function onImage(edit: Edit): (image: string, rng: Rng, outside: string) => string {
  return (image, rng, outside) => {
    const db = new Database(image);
    try {
      return db.transaction(() => edit(db, rng, outside))();
    } finally {
      db.pragma("wal_checkpoint(TRUNCATE)");
      db.close();
    }
  };
}

/** Row edits by kind: each takes an SQLite image file, the Rng and the outside directory. */
export const ROW_MUTATORS = Object.fromEntries(
  Object.entries(EDITS).map(([k, e]) => [k, onImage(e as Edit)]),
) as Record<RowMutation, (image: string, rng: Rng, outside: string) => string>;
