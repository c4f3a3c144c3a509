/**
 * The open SQLite handle of a metadata database and what concerns it whole: its lifetime,
 * transactions, compaction, serialisation, and the `meta` key/value table. The queries
 * over the other tables are MetaDb's (meta-db.ts), which extends this class.
 */
import { createHash } from "node:crypto";
import { UsageError } from "../errors.js";
import type { Sqlite } from "./open-db.js";
import { guardQueries, sqliteCode, wrapSqliteError } from "./sqlite-error.js";
import { WriteTable } from "./write-table.js";

/** One open database handle. Statements are prepared once per instance. */
export class MetaConnection {
  /** Path of the database file, or a label for an in-memory image. */
  readonly path: string;
  /** True when opened read-only (always for an in-memory image). */
  readonly readonly: boolean;
  readonly #db: Sqlite;
  /** One transaction wrapper for all calls: `fn` is its argument, so none is built per call. */
  readonly #tx;
  readonly #getMeta;
  readonly #setMeta;
  readonly #totalChanges;
  #writes: WriteTable | undefined;
  readonly #counter = { queries: 0 };

  protected constructor(db: Sqlite, path: string, readonly: boolean) {
    guardQueries(db, path, this.#counter);
    this.#db = db;
    this.path = path;
    this.readonly = readonly;
    this.#tx = db.transaction((fn: () => unknown) => fn());
    this.#getMeta = db.prepare("SELECT value FROM meta WHERE key = ?").pluck();
    this.#totalChanges = db.prepare("SELECT total_changes()").pluck();
    this.#setMeta = db.prepare(
      "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    );
  }

  /**
   * The write-side operations of a read-write store (removals, renames, open
   * super-chunks), prepared on first use. Call them inside `transaction`.
   */
  get writes(): WriteTable {
    if (this.readonly) {
      throw new UsageError("E_USAGE", `${this.path}: opened read-only`, { path: this.path });
    }
    this.#writes ??= new WriteTable(this.#db);
    return this.#writes;
  }

  /** Statements run on this connection so far (`get`, `all`, `run`, pragmas, execs). */
  get queryCount(): number {
    return this.#counter.queries;
  }

  /** True until `close`. */
  get isOpen(): boolean {
    return this.#db.open;
  }

  /** Closes the database (idempotent). The last writer's close checkpoints the WAL. */
  close(): void {
    if (this.#db.open) this.#db.close();
  }

  /**
   * Runs `fn` in one transaction (IMMEDIATE when writable), or in a savepoint when nested.
   * SQLite errors leave it as EngineErrors naming the database.
   */
  transaction<T>(fn: () => T): T {
    try {
      const run = this.readonly || this.#db.inTransaction ? this.#tx.deferred : this.#tx.immediate;
      return run(fn) as T;
    } catch (err) {
      throw sqliteCode(err) === undefined ? err : wrapSqliteError(err, this.path, "transaction");
    }
  }

  /**
   * How far a commit waits for the disk: "FULL" (the default: each transaction fsyncs the
   * WAL) or "NORMAL" (commits are visible at once and durable at the next WAL fsync or
   * checkpoint; a read-write store syncs in groups). Outside a transaction.
   */
  setSynchronous(mode: "FULL" | "NORMAL"): void {
    this.#db.pragma(`synchronous = ${mode}`);
  }

  /** Rows changed through this connection since it was opened (SQLite total_changes()). */
  changeCount(): number {
    return this.#totalChanges.get() as number;
  }

  /**
   * Shrinks the file to its live pages, packed in key order (VACUUM), and folds the WAL
   * into it (checkpoint, WAL truncated); the database stays in WAL mode. Call after the
   * last commit of a bulk write such as pack, outside any transaction. E_USAGE when
   * read-only or inside a transaction.
   */
  compact(): void {
    if (this.readonly || this.#db.inTransaction) {
      const why = this.readonly ? "read-only" : "inside a transaction";
      throw new UsageError("E_USAGE", `${this.path}: cannot compact ${why}`, { path: this.path });
    }
    try {
      this.#db.exec("VACUUM");
      this.#db.pragma("wal_checkpoint(TRUNCATE)");
    } catch (err) {
      throw wrapSqliteError(err, this.path, "compact");
    }
  }

  /** A consistent image of the whole database (WAL included), e.g. to put into an archive. */
  /**
   * SHA-256 (hex) over every row of the tables that hold the tree (entries, inodes,
   * contents, xattrs), in key order: equal for two databases that hold the same tree.
   */
  treeDigest(): string {
    const h = createHash("sha256");
    const plain = (_k: string, v: unknown) => (typeof v === "bigint" ? `${v}n` : v);
    try {
      for (const table of ["entries", "inodes", "contents", "xattrs"]) {
        h.update(`\0${table}\0`);
        const rows = this.#db.prepare(`SELECT * FROM ${table} ORDER BY 1, 2`).raw();
        for (const row of rows.safeIntegers().iterate()) h.update(JSON.stringify(row, plain));
      }
    } catch (err) {
      throw sqliteCode(err) === undefined ? err : wrapSqliteError(err, this.path, "read the tree");
    }
    return h.digest("hex");
  }

  /** Inodes that some entry names (nlink > 0): every one of them is reached from the root. */
  countNamedInodes(): number {
    return Number(this.#db.prepare("SELECT count(*) FROM inodes WHERE nlink > 0").pluck().get());
  }

  /** Every named inode's kind and link count, by inode number (the whole tree's checks). */
  linkCounts(): Map<number, { kind: number; nlink: number }> {
    const rows = this.#db
      .prepare("SELECT ino, kind, nlink FROM inodes WHERE nlink > 0")
      .raw()
      .all() as [number, number, number][];
    return new Map(rows.map(([ino, kind, nlink]) => [ino, { kind, nlink }]));
  }

  serialize(): Buffer {
    return this.#db.serialize();
  }

  /** Bytes of the database's pages (page count × page size): its image held in memory. */
  imageBytes(): number {
    const pages = Number(this.#db.pragma("page_count", { simple: true }));
    return pages * Number(this.#db.pragma("page_size", { simple: true }));
  }

  /** The value of `key` in the `meta` table, or undefined when it is not set. */
  getMeta(key: string): string | undefined {
    return this.#getMeta.get(key) as string | undefined;
  }

  /** Sets `key` in the `meta` table (inserting or replacing it). */
  setMeta(key: string, value: string): void {
    this.#setMeta.run(key, value);
  }
}
