/**
 * Queries on `superchunks` and `sub_blocks`: the super-chunk table and the sub-block
 * index (hash key to location). `live_bytes` is kept by triggers (see schema.ts). The
 * index holds a 64-bit key per sub-block, not its hash: a key match names candidates,
 * which the caller confirms against the super-chunk header.
 */
import type { SubBlockId, SuperChunkId } from "../types.js";
import { hashKey } from "./hash-key.js";
import type { Sqlite } from "./open-db.js";
import type { NewSubBlock, NewSuperChunk, SubBlockRecord, SuperChunkRecord } from "./records.js";

const SUPERCHUNK_SQL = `SELECT id, codec, raw_bytes AS rawBytes, stored_bytes AS storedBytes,
  live_bytes AS liveBytes, sub_blocks AS subBlocks FROM superchunks`;
const SUBBLOCK_SQL = "SELECT id, hkey, superchunk, offset, length, refcount FROM sub_blocks";

/** A sub_blocks row read with safe integers, in SUBBLOCK_SQL's column order. */
type SubBlockRow = [bigint, bigint, bigint, bigint, bigint, bigint];

function toSubBlock(r: SubBlockRow): SubBlockRecord {
  return {
    id: Number(r[0]) as SubBlockId,
    hkey: r[1],
    superChunk: Number(r[2]) as SuperChunkId,
    offset: Number(r[3]),
    length: Number(r[4]),
    refcount: Number(r[5]),
  };
}

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
      "INSERT INTO sub_blocks(superchunk, offset, length, refcount, hkey) VALUES (?, ?, ?, 0, ?)",
    );
    const rows = (sql: string) => db.prepare(sql).raw().safeIntegers(true);
    this.#findSub = rows(`${SUBBLOCK_SQL} WHERE hkey = ? ORDER BY id`);
    this.#getSub = rows(`${SUBBLOCK_SQL} WHERE id = ?`);
    // no index on (superchunk, offset): listing one super-chunk's sub-blocks is for
    // repack and fsck, which can afford a scan
    this.#listSub = rows(`${SUBBLOCK_SQL} WHERE superchunk = ? ORDER BY offset`);
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

  /** Records a sub-block with refcount 0 under the key of its hash. */
  insertSubBlock(rec: NewSubBlock): SubBlockId {
    const r = this.#insertSub.run(rec.superChunk, rec.offset, rec.length, hashKey(rec.hash));
    return Number(r.lastInsertRowid) as SubBlockId;
  }

  /** Every sub-block whose hash has the key of `hash`, by id: candidates, not matches. */
  findSubBlockCandidates(hash: Uint8Array): SubBlockRecord[] {
    return (this.#findSub.all(hashKey(hash)) as SubBlockRow[]).map(toSubBlock);
  }

  getSubBlock(id: SubBlockId): SubBlockRecord | undefined {
    const row = this.#getSub.get(id) as SubBlockRow | undefined;
    return row === undefined ? undefined : toSubBlock(row);
  }

  /** The sub-blocks indexed in one super-chunk, by offset (a scan of the index). */
  listSubBlocks(superChunk: SuperChunkId): SubBlockRecord[] {
    return (this.#listSub.all(superChunk) as SubBlockRow[]).map(toSubBlock);
  }
}
