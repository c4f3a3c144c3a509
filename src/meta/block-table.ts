/**
 * Queries on `superchunks` and `sub_blocks`: the sub-block index (hash to location) and
 * the super-chunk table. `live_bytes` is kept by triggers (see schema.ts).
 */
import { assert } from "../errors.js";
import { HASH_BYTES, type SubBlockId, type SuperChunkId } from "../types.js";
import type { Sqlite } from "./open-db.js";
import type { NewSubBlock, NewSuperChunk, SubBlockRecord, SuperChunkRecord } from "./records.js";

const SUPERCHUNK_SQL = `SELECT id, codec, raw_bytes AS rawBytes, stored_bytes AS storedBytes,
  live_bytes AS liveBytes, sub_blocks AS subBlocks FROM superchunks`;
const SUBBLOCK_SQL = `SELECT id, hash, superchunk AS superChunk, offset, length, refcount
  FROM sub_blocks`;

/** Prepared statements and operations of the `superchunks` and `sub_blocks` tables. */
export class BlockTable {
  readonly #insertSuper;
  readonly #getSuper;
  readonly #listSuper;
  readonly #insertSub;
  readonly #findSub;
  readonly #getSub;
  readonly #listSub;

  constructor(db: Sqlite) {
    this.#insertSuper = db.prepare(
      `INSERT INTO superchunks(id, codec, raw_bytes, stored_bytes, sub_blocks)
       VALUES (?, ?, ?, ?, ?)`,
    );
    this.#getSuper = db.prepare(`${SUPERCHUNK_SQL} WHERE id = ?`);
    this.#listSuper = db.prepare(`${SUPERCHUNK_SQL} ORDER BY id`);
    this.#insertSub = db.prepare(
      "INSERT INTO sub_blocks(hash, superchunk, offset, length, refcount) VALUES (?, ?, ?, ?, 0)",
    );
    this.#findSub = db.prepare("SELECT id FROM sub_blocks WHERE hash = ?").pluck();
    this.#getSub = db.prepare(`${SUBBLOCK_SQL} WHERE id = ?`);
    this.#listSub = db.prepare(`${SUBBLOCK_SQL} WHERE superchunk = ? ORDER BY offset`);
  }

  /** Records a super-chunk; ids are never reused, even after the highest is deleted. */
  insertSuperChunk(rec: NewSuperChunk): SuperChunkId {
    const r = this.#insertSuper.run(
      rec.id ?? null,
      rec.codec,
      rec.rawBytes,
      rec.storedBytes,
      rec.subBlocks,
    );
    return Number(r.lastInsertRowid) as SuperChunkId;
  }

  getSuperChunk(id: SuperChunkId): SuperChunkRecord | undefined {
    return this.#getSuper.get(id) as SuperChunkRecord | undefined;
  }

  listSuperChunks(): SuperChunkRecord[] {
    return this.#listSuper.all() as SuperChunkRecord[];
  }

  /** Records a sub-block with refcount 0; E_USAGE if its hash is already indexed. */
  insertSubBlock(rec: NewSubBlock): SubBlockId {
    assert(rec.hash.length === HASH_BYTES, "sub-block hash must be 32 bytes", {
      len: rec.hash.length,
    });
    const r = this.#insertSub.run(rec.hash, rec.superChunk, rec.offset, rec.length);
    return Number(r.lastInsertRowid) as SubBlockId;
  }

  findSubBlock(hash: Buffer): SubBlockId | undefined {
    return this.#findSub.get(hash) as SubBlockId | undefined;
  }

  getSubBlock(id: SubBlockId): SubBlockRecord | undefined {
    return this.#getSub.get(id) as SubBlockRecord | undefined;
  }

  /** The sub-blocks indexed in one super-chunk, by offset. */
  listSubBlocks(superChunk: SuperChunkId): SubBlockRecord[] {
    return this.#listSub.all(superChunk) as SubBlockRecord[];
  }
}
