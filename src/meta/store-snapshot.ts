/**
 * A whole-store snapshot of the metadata for stats, fsck and repack: every super-chunk,
 * sub-block, content (with its decoded extent list) and inode, read in a few scans of a
 * private read-only copy of the database (MetaDb.serialize), so the caller's handle is
 * never blocked and the rows are consistent with one another.
 */
import type { InodeId, InodeKind, SubBlockId, SuperChunkId } from "../types.js";
import { decodeExtents, type ExtentCode } from "./extent-list.js";
import type { MetaDb } from "./meta-db.js";
import { databaseFromBuffer } from "./open-db.js";
import type { ContentId, SuperChunkRecord } from "./records.js";

/** A `sub_blocks` row. */
export interface SnapshotSubBlock {
  readonly id: SubBlockId;
  readonly superChunk: SuperChunkId;
  readonly offset: number;
  readonly length: number;
  readonly refcount: number;
  readonly hkey: bigint;
}

/** A `contents` row with its extent list decoded (ids > 0, holes as negative lengths). */
export interface SnapshotContent {
  readonly id: ContentId;
  readonly size: number;
  readonly refcount: number;
  /** decoded extents, or undefined when the list is malformed */
  readonly codes: ExtentCode[] | undefined;
}

/** The columns of an `inodes` row that stats and fsck need. */
export interface SnapshotInode {
  readonly ino: InodeId;
  readonly kind: InodeKind;
  readonly size: number;
  readonly content: ContentId | null;
}

/** Every row stats, fsck and repack look at. Maps are keyed by id. */
export interface StoreSnapshot {
  readonly superChunks: Map<number, SuperChunkRecord>;
  readonly subBlocks: Map<number, SnapshotSubBlock>;
  readonly contents: Map<number, SnapshotContent>;
  readonly inodes: Map<number, SnapshotInode>;
  /** page_count × page_size of the database */
  readonly dbBytes: number;
  /** the highest super-chunk id ever given out (sqlite_sequence), or the highest row */
  readonly lastSuperChunkId: number;
  /** what SQLite's quick_check says is wrong with the database file (empty when sound) */
  readonly integrityErrors: string[];
}

/** Reads every row of interest from a private copy of `meta`'s database. */
export function snapshotStore(meta: MetaDb): StoreSnapshot {
  const db = databaseFromBuffer(meta.serialize(), `${meta.path} (snapshot)`);
  try {
    const superChunks = new Map<number, SuperChunkRecord>();
    const scSql = `SELECT id, codec, raw_bytes AS rawBytes, stored_bytes AS storedBytes,
      live_bytes AS liveBytes, sub_blocks AS subBlocks FROM superchunks ORDER BY id`;
    for (const r of db.prepare(scSql).all() as SuperChunkRecord[]) superChunks.set(r.id, r);
    const subBlocks = new Map<number, SnapshotSubBlock>();
    const sbSql = "SELECT id, superchunk, offset, length, refcount, hkey FROM sub_blocks";
    for (const r of db.prepare(sbSql).raw().safeIntegers(true).all() as bigint[][]) {
      const [id, superChunk, offset, length, refcount, hkey] = r as [
        bigint,
        bigint,
        bigint,
        bigint,
        bigint,
        bigint,
      ];
      subBlocks.set(Number(id), {
        id: Number(id) as SubBlockId,
        superChunk: Number(superChunk) as SuperChunkId,
        offset: Number(offset),
        length: Number(length),
        refcount: Number(refcount),
        hkey,
      });
    }
    const contents = readContents(db.prepare("SELECT id, size, refcount, extents FROM contents"));
    const inodes = new Map<number, SnapshotInode>();
    const inSql = "SELECT ino, kind, size, content FROM inodes";
    for (const r of db.prepare(inSql).all() as SnapshotInode[]) inodes.set(r.ino, r);
    const pages = db.pragma("page_count", { simple: true }) as number;
    const pageSize = db.pragma("page_size", { simple: true }) as number;
    const seq = db
      .prepare("SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = 'superchunks'")
      .pluck()
      .get() as number;
    let maxRow = 0;
    for (const id of superChunks.keys()) maxRow = Math.max(maxRow, id);
    const check = db.pragma("quick_check", { simple: false }) as Record<string, string>[];
    const integrityErrors = check.map((r) => Object.values(r)[0] ?? "").filter((m) => m !== "ok");
    return {
      superChunks,
      subBlocks,
      contents,
      inodes,
      dbBytes: pages * pageSize,
      lastSuperChunkId: Math.max(seq, maxRow),
      integrityErrors,
    };
  } finally {
    db.close();
  }
}

function readContents(stmt: { raw(): { all(): unknown[] } }): Map<number, SnapshotContent> {
  const out = new Map<number, SnapshotContent>();
  for (const r of stmt.raw().all() as [number, number, number, Buffer][]) {
    let codes: ExtentCode[] | undefined;
    try {
      codes = decodeExtents(r[3], r[0]);
    } catch {
      codes = undefined;
    }
    out.set(r[0], { id: r[0], size: r[1], refcount: r[2], codes });
  }
  return out;
}
