/**
 * Writes that repack and fsck make to a store's metadata: super-chunk rows replaced,
 * sub-block rows moved or dropped, dead contents purged, refcounts recomputed. It runs on
 * its own connection to the store's database file (opened writable), so MetaDb keeps its
 * narrow API; the caller holds the store's writer lock, and groups each switch in one
 * `transaction`, so a crash leaves the old state or the new one.
 */
import { UsageError } from "../errors.js";
import type { SubBlockHash, SubBlockId, SuperChunkId } from "../types.js";
import { decodeExtents } from "./extent-list.js";
import { hashKey } from "./hash-key.js";
import { Maintenance } from "./maintenance.js";
import { openDatabase, type Sqlite } from "./open-db.js";
import type { NewSuperChunk, RefcountRepair } from "./records.js";
import { wrapSqliteError } from "./sqlite-error.js";

/** The maintenance writer of one store database. Close it when done. */
export class StoreRewrite {
  readonly path: string;
  readonly #db: Sqlite;
  readonly #tx;
  readonly #maint: Maintenance;
  readonly #stmts;

  private constructor(db: Sqlite, path: string) {
    this.#db = db;
    this.path = path;
    this.#tx = db.transaction((fn: () => unknown) => fn());
    this.#maint = new Maintenance(db);
    this.#stmts = {
      insertSc: db.prepare(`INSERT INTO superchunks(id, codec, raw_bytes, stored_bytes, sub_blocks)
        VALUES (?, ?, ?, ?, ?)`),
      fixSc: db.prepare(
        "UPDATE superchunks SET codec = ?, raw_bytes = ?, stored_bytes = ?, sub_blocks = ? WHERE id = ?",
      ),
      deleteSc: db.prepare("DELETE FROM superchunks WHERE id = ?"),
      moveSub: db.prepare("UPDATE sub_blocks SET superchunk = ?, offset = ? WHERE id = ?"),
      deleteSub: db.prepare("DELETE FROM sub_blocks WHERE id = ?"),
      insertSub: db.prepare(
        "INSERT INTO sub_blocks(superchunk, offset, length, refcount, hkey) VALUES (?, ?, ?, 0, ?)",
      ),
      deadContents: db.prepare("SELECT id, extents FROM contents WHERE refcount <= 0").raw(),
      deleteContent: db.prepare("DELETE FROM contents WHERE id = ?"),
      countIn: db.prepare("SELECT count(*) FROM sub_blocks WHERE superchunk = ?").pluck(),
      unref: db.prepare("UPDATE sub_blocks SET refcount = max(0, refcount - 1) WHERE id = ?"),
    };
  }

  /** Opens the database file at `path` for writing (E_NOT_A_STORE, E_FORMAT_VERSION as MetaDb). */
  static open(path: string): StoreRewrite {
    return new StoreRewrite(openDatabase(path, false), path);
  }

  /** Runs `fn` in one IMMEDIATE transaction (a savepoint when nested). */
  transaction<T>(fn: () => T): T {
    try {
      const run = this.#db.inTransaction ? this.#tx.deferred : this.#tx.immediate;
      return run(fn) as T;
    } catch (err) {
      throw wrapSqliteError(err, this.path, "transaction");
    }
  }

  /** Records a super-chunk under an explicit id (ids are never reused). */
  insertSuperChunk(rec: NewSuperChunk & { readonly id: SuperChunkId }): void {
    const s = this.#stmts;
    s.insertSc.run(rec.id, rec.codec, rec.rawBytes, rec.storedBytes, rec.subBlocks);
  }

  /** Rewrites the immutable columns of a super-chunk row from its header (index rebuild). */
  fixSuperChunk(id: SuperChunkId, rec: Omit<NewSuperChunk, "id">): void {
    this.#stmts.fixSc.run(rec.codec, rec.rawBytes, rec.storedBytes, rec.subBlocks, id);
  }

  /**
   * Gives out `n` super-chunk ids no row has had or will get from AUTOINCREMENT (a live
   * writer may be creating rows meanwhile), by raising the sequence; answers the first.
   */
  reserveSuperChunkIds(n: number): SuperChunkId {
    return this.transaction(() => {
      const seq = this.#db
        .prepare(
          "SELECT max(coalesce((SELECT max(seq) FROM sqlite_sequence WHERE name = 'superchunks'), 0), coalesce((SELECT max(id) FROM superchunks), 0))",
        )
        .pluck()
        .get() as number;
      this.#db.prepare("DELETE FROM sqlite_sequence WHERE name = 'superchunks'").run();
      this.#db
        .prepare("INSERT INTO sqlite_sequence(name, seq) VALUES ('superchunks', ?)")
        .run(seq + n);
      return (seq + 1) as SuperChunkId;
    });
  }

  /** Removes a super-chunk row; its sub-blocks must have been moved or dropped first. */
  deleteSuperChunk(id: SuperChunkId): void {
    this.#stmts.deleteSc.run(id);
  }

  /** Number of sub-block rows that name super-chunk `id` (a scan). */
  countSubBlocksIn(id: SuperChunkId): number {
    return this.#stmts.countIn.get(id) as number;
  }

  /** Points a sub-block at its new place (live_bytes follow by trigger). */
  moveSubBlock(id: SubBlockId, superChunk: SuperChunkId, offset: number): void {
    const n = this.#stmts.moveSub.run(superChunk, offset, id).changes;
    if (n !== 1) throw new UsageError("E_USAGE", `no sub-block ${id} to move`, { id });
  }

  /** Drops a sub-block row (a dead one, whose bytes a rewrite left out). */
  deleteSubBlock(id: SubBlockId): void {
    this.#stmts.deleteSub.run(id);
  }

  /** Indexes a sub-block found in a super-chunk header (refcount 0 until recomputed). */
  insertSubBlock(
    hash: SubBlockHash,
    superChunk: SuperChunkId,
    offset: number,
    length: number,
  ): SubBlockId {
    const r = this.#stmts.insertSub.run(superChunk, offset, length, hashKey(hash));
    return Number(r.lastInsertRowid) as SubBlockId;
  }

  /**
   * Deletes every content no inode uses (refcount 0), releasing one reference of each
   * sub-block its extents name. Returns how many contents went. Run in a transaction.
   */
  purgeDeadContents(): number {
    const s = this.#stmts;
    const dead = s.deadContents.all() as [number, Buffer][];
    for (const [id, blob] of dead) {
      for (const c of decodeExtents(blob, id)) if (c > 0) s.unref.run(c);
      s.deleteContent.run(id);
    }
    return dead.length;
  }

  /** Recomputes every refcount and live_bytes from the rows they count. */
  recomputeRefcounts(): RefcountRepair {
    return this.transaction(() => this.#maint.recomputeRefcounts());
  }

  /** Closes the connection (idempotent). */
  close(): void {
    if (this.#db.open) this.#db.close();
  }
}
