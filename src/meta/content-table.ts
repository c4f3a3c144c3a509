/**
 * Queries on `contents`: a file's bytes as an ordered run of sub-blocks and holes, kept
 * as one compact BLOB per content (extent-list.ts). Resolving a content reads that row
 * and the rows of its sub-blocks, in one statement.
 */
import { assert, type CorruptError } from "../errors.js";
import type { Extent, SubBlockId, SuperChunkId } from "../types.js";
import { decodeExtents, type ExtentCode, encodeExtents, subBlocksOf } from "./extent-list.js";
import { findExtent } from "./extent-search.js";
import { hashKey } from "./hash-key.js";
import type { Sqlite } from "./open-db.js";
import type { ContentId, ContentRecord, ResolvedExtent } from "./records.js";
import { contentCrc, contentCrcProblem, crcColumn, hasRowCrcs } from "./row-crc.js";
import { corruptRow, extentProblem } from "./validate-records.js";

/**
/**
 * Location of one sub-block: superchunk, offset, length and hash key (null when the row is
 * missing), and its super-chunk's raw_bytes (null when that row is missing).
 */
type LocationRow = [number | null, number | null, number | null, bigint | null, number | null];
/** A LocationRow after the index of its id in the JSON array, as SQLite gives it. */
type KeyedLocationRow = [
  bigint,
  bigint | null,
  bigint | null,
  bigint | null,
  bigint | null,
  bigint | null,
];
type ContentRow = [bigint, bigint, bigint, bigint];

/**
 * Sub-block rows for a JSON array of ids, each after its index in the array (null columns
 * for a missing id), with their super-chunk's raw size. No ORDER BY: rows are placed by
 * index, so no sort is needed.
 */
const LOCATE_SQL = `SELECT j.key, s.superchunk, s.offset, s.length, s.hkey, c.raw_bytes
  FROM json_each(?) j LEFT JOIN sub_blocks s ON s.id = j.value
  LEFT JOIN superchunks c ON c.id = s.superchunk`;

function num(v: bigint | null): number | null {
  return v === null ? null : Number(v);
}

function toContent(r: ContentRow): ContentRecord {
  return { id: Number(r[0]), hkey: r[1], size: Number(r[2]), refcount: Number(r[3]) };
}

/** Prepared statements and operations of the `contents` table. */
export class ContentTable {
  readonly #find;
  readonly #get;
  readonly #getList;
  readonly #insert;
  readonly #refSubBlock;
  readonly #addRef;
  readonly #locate;
  readonly #insertCrc: boolean;

  /** @param store the database's path, for errors */
  constructor(
    db: Sqlite,
    private readonly store: string,
  ) {
    const head = "SELECT id, hkey, size, refcount FROM contents";
    this.#find = db.prepare(`${head} WHERE hkey = ? ORDER BY id`).raw().safeIntegers(true);
    this.#get = db.prepare(`${head} WHERE id = ?`).raw().safeIntegers(true);
    // a row read for its extents is checked against its crc (row-crc.ts); NULL: a store without
    const crcs = hasRowCrcs(db, "contents");
    const crc = crcColumn(db, "contents");
    this.#getList = db
      .prepare(`SELECT size, extents, ${crc}, hkey FROM contents WHERE id = ?`)
      .raw()
      .safeIntegers(true);
    this.#insert = crcs
      ? db.prepare(
          "INSERT INTO contents(hkey, size, refcount, extents, crc) VALUES (?, ?, 0, ?, ?)",
        )
      : db.prepare("INSERT INTO contents(hkey, size, refcount, extents) VALUES (?, ?, 0, ?)");
    this.#insertCrc = crcs;
    this.#refSubBlock = db.prepare(
      "UPDATE sub_blocks SET refcount = refcount + 1 WHERE id = ? AND length = ?",
    );
    this.#addRef = db.prepare(
      "UPDATE contents SET refcount = refcount + ? WHERE id = ? AND refcount + ? >= 0",
    );
    this.#locate = db.prepare(LOCATE_SQL).raw().safeIntegers(true);
  }

  /** Contents whose whole-file hash has the key of `hash`, by id: candidates, not matches. */
  findCandidates(hash: Uint8Array): ContentRecord[] {
    return (this.#find.all(hashKey(hash)) as ContentRow[]).map(toContent);
  }

  get(id: ContentId): ContentRecord | undefined {
    const row = this.#get.get(id) as ContentRow | undefined;
    return row === undefined ? undefined : toContent(row);
  }

  /**
   * Records a content and its extents, adding 1 to the refcount of the sub-block of each
   * extent. The extents must cover exactly `size` bytes and each must be as long as its
   * sub-block. Run inside a transaction (MetaDb does).
   */
  insert(hash: Uint8Array, size: number, extents: readonly Extent[]): ContentId {
    const key = hashKey(hash);
    let total = 0;
    for (const e of extents) {
      assert(Number.isSafeInteger(e.length) && e.length > 0, "extent length", { e });
      total += e.length;
    }
    assert(total === size, "extents must add up to the content size", { size, total });
    const list = encodeExtents(extents);
    const args = this.#insertCrc
      ? [key, size, list, contentCrc(key, size, list)]
      : [key, size, list];
    const id = Number(this.#insert.run(...args).lastInsertRowid);
    let offset = 0;
    for (const e of extents) {
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
    return this.resolve(id).map((e) => ({ subBlock: e.subBlock, length: e.length }));
  }

  /**
   * All extents of a content with their file offsets and super-chunk locations, in order;
   * empty for a missing content. E_CORRUPT naming the store if the list is malformed,
   * names a missing sub-block, places one outside its super-chunk, or does not add up to
   * the content's size.
   */
  resolve(id: ContentId): ResolvedExtent[] {
    const got = this.#getList.get(id) as [bigint, Buffer, unknown, bigint] | undefined;
    if (got === undefined) return [];
    const row = [Number(got[0]), got[1]] as const;
    const at = `content ${id}`;
    const fail = (problem: string, data: Record<string, unknown>): never => {
      throw corruptRow(this.store, at, problem, { content: id, ...data });
    };
    const wrong = contentCrcProblem(got[3], row[0], row[1], got[2]);
    if (wrong !== undefined) fail(wrong, { size: row[0] });
    let codes: ExtentCode[];
    try {
      codes = decodeExtents(row[1], id);
    } catch (err) {
      return fail("malformed extent list", (err as CorruptError).data);
    }
    const out = placeExtents(codes, this.#locateAll(subBlocksOf(codes)), fail);
    const end =
      out.length === 0 ? 0 : out[out.length - 1]!.fileOffset + out[out.length - 1]!.length;
    if (end !== row[0]) {
      fail(`extents cover ${end} of ${row[0]} bytes`, { size: row[0], covered: end });
    }
    return out;
  }

  /** Locations of sub-blocks, in the order of `ids`. */
  #locateAll(ids: readonly SubBlockId[]): LocationRow[] {
    const locs: LocationRow[] = new Array(ids.length);
    if (ids.length === 0) return locs;
    for (const r of this.#locate.all(JSON.stringify(ids)) as KeyedLocationRow[]) {
      locs[Number(r[0])] = [num(r[1]), num(r[2]), num(r[3]), r[4], num(r[5])];
    }
    return locs;
  }

  /** The extent holding byte `fileOffset` of a content, or undefined past its end. */
  findExtent(id: ContentId, fileOffset: number): ResolvedExtent | undefined {
    const all = this.resolve(id);
    const starts = Float64Array.from(all, (x) => x.fileOffset);
    const e = all[findExtent(starts, fileOffset)];
    if (e === undefined || fileOffset < e.fileOffset || fileOffset >= e.fileOffset + e.length) {
      return undefined;
    }
    return e;
  }
}

/** Lays decoded extents out in the file, taking sub-block locations in list order. */
function placeExtents(
  codes: readonly ExtentCode[],
  locs: readonly LocationRow[],
  fail: (problem: string, data: Record<string, unknown>) => never,
): ResolvedExtent[] {
  const out: ResolvedExtent[] = new Array(codes.length);
  let fileOffset = 0;
  let k = 0;
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i]!;
    if (c < 0) {
      out[i] = { fileOffset, length: -c, subBlock: null, superChunk: null, offset: 0, hkey: null };
      fileOffset -= c;
      continue;
    }
    const [superChunk, offset, length, hkey, rawBytes] = locs[k++] ?? [
      null,
      null,
      null,
      null,
      null,
    ];
    if (superChunk === null || offset === null || length === null || hkey === null) {
      return fail(`extent names missing sub-block ${c}`, { subBlock: c, fileOffset });
    }
    const problem = extentProblem(c, superChunk, offset, length, rawBytes);
    if (problem !== undefined) fail(problem, { subBlock: c, superChunkId: superChunk, fileOffset });
    const subBlock = c as SubBlockId;
    const sc = superChunk as SuperChunkId;
    out[i] = { fileOffset, length, subBlock, superChunk: sc, offset, hkey };
    fileOffset += length;
  }
  return out;
}
