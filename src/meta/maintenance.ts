/**
 * Whole-store queries: summary sizes, the files a sub-block affects, and the
 * recomputation of every derived count (refcounts, live bytes) from the rows they count.
 */
import type { InodeId, SubBlockId } from "../types.js";
import type { Sqlite } from "./open-db.js";
import type { MetaStats, RefcountRepair } from "./records.js";

const FIX_CONTENT_REFS = `UPDATE contents SET refcount = n FROM (
  SELECT c.id AS cid, (SELECT count(*) FROM inodes i WHERE i.content = c.id) AS n
  FROM contents c) WHERE contents.id = cid AND contents.refcount <> n`;
const FIX_SUBBLOCK_REFS = `UPDATE sub_blocks SET refcount = n FROM (
  SELECT s.id AS sid, (SELECT count(*) FROM extents e WHERE e.sub_block = s.id) AS n
  FROM sub_blocks s) WHERE sub_blocks.id = sid AND sub_blocks.refcount <> n`;
const FIX_LIVE_BYTES = `UPDATE superchunks SET live_bytes = n FROM (
  SELECT c.id AS cid, (SELECT coalesce(sum(length), 0) FROM sub_blocks s
    WHERE s.superchunk = c.id AND s.refcount > 0) AS n
  FROM superchunks c) WHERE superchunks.id = cid AND superchunks.live_bytes <> n`;
const STATS = `SELECT
  (SELECT coalesce(sum(size), 0) FROM inodes WHERE content IS NOT NULL) AS logicalBytes,
  (SELECT coalesce(sum(length), 0) FROM sub_blocks WHERE refcount > 0) AS uniqueBytes,
  (SELECT coalesce(sum(stored_bytes), 0) FROM superchunks) AS storedBytes,
  (SELECT count(*) FROM superchunks) AS superChunks,
  (SELECT count(*) FROM sub_blocks) AS subBlocks`;

/** Prepared statements of the whole-store queries. */
export class Maintenance {
  readonly #db;
  readonly #stats;
  readonly #users;
  readonly #fixContents;
  readonly #fixSubBlocks;
  readonly #fixLive;

  constructor(db: Sqlite) {
    this.#db = db;
    this.#stats = db.prepare(STATS);
    this.#users = db
      .prepare(
        `SELECT DISTINCT i.ino FROM extents e JOIN inodes i ON i.content = e.content
         WHERE e.sub_block = ? ORDER BY i.ino`,
      )
      .pluck();
    this.#fixContents = db.prepare(FIX_CONTENT_REFS);
    this.#fixSubBlocks = db.prepare(FIX_SUBBLOCK_REFS);
    this.#fixLive = db.prepare(FIX_LIVE_BYTES);
  }

  stats(): MetaStats {
    const row = this.#stats.get() as Omit<MetaStats, "dbBytes">;
    const pages = this.#db.pragma("page_count", { simple: true }) as number;
    const pageSize = this.#db.pragma("page_size", { simple: true }) as number;
    return { ...row, dbBytes: pages * pageSize };
  }

  /** Inodes whose content has an extent in sub-block `id`: what a damaged sub-block breaks. */
  inodesUsingSubBlock(id: SubBlockId): InodeId[] {
    return this.#users.all(id) as InodeId[];
  }

  /**
   * Recomputes contents.refcount, sub_blocks.refcount and superchunks.live_bytes from the
   * rows they count; returns how many rows of each were wrong. Run inside a transaction.
   */
  recomputeRefcounts(): RefcountRepair {
    const contents = this.#fixContents.run().changes;
    const subBlocks = this.#fixSubBlocks.run().changes;
    const superChunks = this.#fixLive.run().changes;
    return { contents, subBlocks, superChunks };
  }
}
