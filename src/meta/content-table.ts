/**
 * Queries on `contents` and `extents`: a file's bytes as an ordered run of sub-blocks and
 * holes. Each extent row keeps its offset in the file, so a read finds the extent holding
 * an offset without reading the others.
 */
import { assert } from "../errors.js";
import { type Extent, HASH_BYTES, type SubBlockId, type SuperChunkId } from "../types.js";
import type { Sqlite } from "./open-db.js";
import type { ContentId, ContentRecord, ResolvedExtent } from "./records.js";

type ResolvedRow = [number, number, number | null, number | null, number | null];

const RESOLVE_SQL = `SELECT e.file_offset, e.length, e.sub_block, s.superchunk, s.offset
  FROM extents e LEFT JOIN sub_blocks s ON s.id = e.sub_block WHERE e.content = ?`;

function toResolved(r: ResolvedRow): ResolvedExtent {
  return {
    fileOffset: r[0],
    length: r[1],
    subBlock: r[2] as SubBlockId | null,
    superChunk: r[3] as SuperChunkId | null,
    offset: r[4] ?? 0,
  };
}

/** Prepared statements and operations of the `contents` and `extents` tables. */
export class ContentTable {
  readonly #find;
  readonly #get;
  readonly #insert;
  readonly #insertExtent;
  readonly #refSubBlock;
  readonly #addRef;
  readonly #extents;
  readonly #resolve;
  readonly #findExtent;

  constructor(db: Sqlite) {
    this.#find = db.prepare("SELECT id FROM contents WHERE hash = ?").pluck();
    this.#get = db.prepare("SELECT id, hash, size, refcount FROM contents WHERE id = ?");
    this.#insert = db.prepare("INSERT INTO contents(hash, size, refcount) VALUES (?, ?, 0)");
    this.#insertExtent = db.prepare(
      "INSERT INTO extents(content, file_offset, sub_block, length) VALUES (?, ?, ?, ?)",
    );
    this.#refSubBlock = db.prepare(
      "UPDATE sub_blocks SET refcount = refcount + 1 WHERE id = ? AND length = ?",
    );
    this.#addRef = db.prepare(
      "UPDATE contents SET refcount = refcount + ? WHERE id = ? AND refcount + ? >= 0",
    );
    this.#extents = db
      .prepare("SELECT sub_block, length FROM extents WHERE content = ? ORDER BY file_offset")
      .raw();
    this.#resolve = db.prepare(`${RESOLVE_SQL} ORDER BY e.file_offset`).raw();
    this.#findExtent = db
      .prepare(`${RESOLVE_SQL} AND e.file_offset <= ? ORDER BY e.file_offset DESC LIMIT 1`)
      .raw();
  }

  find(hash: Buffer): ContentId | undefined {
    return this.#find.get(hash) as ContentId | undefined;
  }

  get(id: ContentId): ContentRecord | undefined {
    return this.#get.get(id) as ContentRecord | undefined;
  }

  /**
   * Records a content and its extents, adding 1 to the refcount of the sub-block of each
   * extent. The extents must cover exactly `size` bytes and each must be as long as its
   * sub-block. Run inside a transaction (MetaDb does).
   */
  insert(hash: Buffer, size: number, extents: readonly Extent[]): ContentId {
    assert(hash.length === HASH_BYTES, "content hash must be 32 bytes", { len: hash.length });
    let total = 0;
    for (const e of extents) {
      assert(Number.isSafeInteger(e.length) && e.length > 0, "extent length", { e });
      total += e.length;
    }
    assert(total === size, "extents must add up to the content size", { size, total });
    const id = Number(this.#insert.run(hash, size).lastInsertRowid);
    let offset = 0;
    for (const e of extents) {
      this.#insertExtent.run(id, offset, e.subBlock, e.length);
      if (e.subBlock !== null) {
        const changed = this.#refSubBlock.run(e.subBlock, e.length).changes;
        assert(changed === 1, "extent names a missing sub-block or has another length", {
          content: id,
          offset,
          subBlock: e.subBlock,
          length: e.length,
        });
      }
      offset += e.length;
    }
    return id;
  }

  /** Adds `delta` to a content's refcount; refused (nothing changes) if it would go below 0. */
  addRef(id: ContentId, delta: number): void {
    assert(Number.isSafeInteger(delta), "refcount delta must be an integer", { delta });
    if (this.#addRef.run(delta, id, delta).changes === 1) return;
    const old = this.get(id);
    assert(old !== undefined, "no such content", { content: id });
    assert(false, "content refcount below 0", { content: id, refcount: old.refcount, delta });
  }

  extents(id: ContentId): Extent[] {
    const rows = this.#extents.all(id) as [SubBlockId | null, number][];
    return rows.map(([subBlock, length]) => ({ subBlock, length }));
  }

  /** All extents of a content with their file offsets and super-chunk locations, in order. */
  resolve(id: ContentId): ResolvedExtent[] {
    return (this.#resolve.all(id) as ResolvedRow[]).map(toResolved);
  }

  /** The extent holding byte `fileOffset` of a content, or undefined past its end. */
  findExtent(id: ContentId, fileOffset: number): ResolvedExtent | undefined {
    const row = this.#findExtent.get(id, fileOffset) as ResolvedRow | undefined;
    if (row === undefined || fileOffset >= row[0] + row[1]) return undefined;
    return toResolved(row);
  }
}
