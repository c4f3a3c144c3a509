/**
 * Whole-store queries: summary sizes, the files a sub-block affects, and the
 * recomputation of every derived count (refcounts, live bytes) from the rows they count.
 * These are fsck's and repack's: with no index behind them they scan, once, and group.
 */
import type { InodeId, SubBlockId } from "../types.js";
import { decodeExtents } from "./extent-list.js";
import type { Sqlite } from "./open-db.js";
import type { MetaStats, RefcountRepair } from "./records.js";

const FIX_CONTENT_REFS = `UPDATE contents SET refcount = n FROM (
  SELECT c.id AS cid, coalesce(u.n, 0) AS n FROM contents c LEFT JOIN (
    SELECT content, count(*) AS n FROM inodes WHERE content IS NOT NULL GROUP BY content
  ) u ON u.content = c.id) WHERE contents.id = cid AND contents.refcount <> n`;
const FIX_LIVE_BYTES = `UPDATE superchunks SET live_bytes = n FROM (
  SELECT c.id AS cid, coalesce(l.n, 0) AS n FROM superchunks c LEFT JOIN (
    SELECT superchunk, sum(length) AS n FROM sub_blocks WHERE refcount > 0 GROUP BY superchunk
  ) l ON l.superchunk = c.id) WHERE superchunks.id = cid AND superchunks.live_bytes <> n`;
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
  readonly #lists;
  readonly #users;
  readonly #subRefs;
  readonly #setSubRef;
  readonly #fixContents;
  readonly #fixLive;

  constructor(db: Sqlite) {
    this.#db = db;
    this.#stats = db.prepare(STATS);
    this.#lists = db.prepare("SELECT id, extents FROM contents").raw();
    this.#users = db
      .prepare(
        `SELECT ino FROM inodes WHERE content IN (SELECT value FROM json_each(?))
         ORDER BY ino`,
      )
      .pluck();
    this.#subRefs = db.prepare("SELECT id, refcount FROM sub_blocks").raw();
    this.#setSubRef = db.prepare("UPDATE sub_blocks SET refcount = ? WHERE id = ?");
    this.#fixContents = db.prepare(FIX_CONTENT_REFS);
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
    const contents: number[] = [];
    for (const [content, blob] of this.#lists.all() as [number, Buffer][]) {
      if (decodeExtents(blob, content).includes(id)) contents.push(content);
    }
    return contents.length === 0 ? [] : (this.#users.all(JSON.stringify(contents)) as InodeId[]);
  }

  /**
   * Recomputes contents.refcount, sub_blocks.refcount and superchunks.live_bytes from the
   * rows they count; returns how many rows of each were wrong. Run inside a transaction.
   */
  recomputeRefcounts(): RefcountRepair {
    const contents = this.#fixContents.run().changes;
    const subBlocks = this.#fixSubBlockRefs();
    const superChunks = this.#fixLive.run().changes;
    return { contents, subBlocks, superChunks };
  }

  /** Sets each sub-block's refcount to the number of extents naming it; returns how many changed. */
  #fixSubBlockRefs(): number {
    const uses = new Map<number, number>();
    for (const [content, blob] of this.#lists.all() as [number, Buffer][]) {
      for (const c of decodeExtents(blob, content)) if (c > 0) uses.set(c, (uses.get(c) ?? 0) + 1);
    }
    let changed = 0;
    for (const [id, refcount] of this.#subRefs.all() as [number, number][]) {
      const n = uses.get(id) ?? 0;
      if (n !== refcount) {
        this.#setSubRef.run(n, id);
        changed++;
      }
    }
    return changed;
  }
}
