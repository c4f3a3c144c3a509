/**
 * stats: what a store holds and what it costs. `storeStats` gives the store-wide figures
 * (sizes, ratios, super-chunk spread, dead bytes, sharing, top files, bytes by top-level
 * directory); `pathStats` the figures of one file or directory subtree, with the read
 * amplification of a cold sequential read (super-chunks inflate whole). Read-only: the
 * store is opened without the writer lock, and nothing is printed.
 */
import { NotFoundError } from "../errors.js";
import type { MetaDb } from "../meta/meta-db.js";
import { type StoreSnapshot, snapshotStore } from "../meta/store-snapshot.js";
import { storeIdOf } from "../store/store-id.js";
import { databaseBytesOnDisk, openStore } from "../store/store-layout.js";
import { readStoreSettings } from "../store/store-settings.js";
import { type InodeId, InodeKind } from "../types.js";
import {
  computeStoreStats,
  type PathIndex,
  type StoreStats,
  type StoreStatsOptions,
} from "./stats-store.js";
import { superChunkBytes, type UsageFacts, usageOf } from "./stats-usage.js";

export type { StoreStats, StoreStatsOptions } from "./stats-store.js";
export type { UsageFacts } from "./stats-usage.js";

/** A super-chunk a path touches. */
export interface TouchedSuperChunk {
  id: number;
  codec: string;
  rawBytes: number;
  storedBytes: number;
}

/** Figures of one path in a store (a file, or every file below a directory). */
export interface PathStats {
  /** the store's id (store/store-id.ts) */
  storeId: string | null;
  path: string;
  kind: "file" | "dir" | "symlink" | "other";
  usage: UsageFacts;
  superChunks: TouchedSuperChunk[];
  /** a cold sequential read of every file once, with every super-chunk inflated once, whole */
  coldRead: {
    /** raw bytes inflated */
    inflatedBytes: number;
    /** stored bytes read from disk */
    fetchedBytes: number;
    /** inflatedBytes / logical bytes read (0 when nothing is read) */
    readAmplification: number;
  };
}

/** First path of every inode met walking the tree (names decoded as UTF-8, lossy). */
export function pathIndex(meta: MetaDb): PathIndex {
  const out: PathIndex = new Map();
  for (const e of meta.walk()) if (!out.has(e.ino)) out.set(e.ino, e.path.toString("utf8"));
  return out;
}

/**
 * Store-wide figures of the store at `dir`.
 * @example
 * const s = storeStats("/srv/store");
 * console.log(s.dedupRatio, s.compressionRatio, s.repackCandidates);
 */
export function storeStats(dir: string, opts: StoreStatsOptions = {}): StoreStats {
  const { meta } = openStore(dir, { readonly: true });
  try {
    return storeStatsOf(meta, databaseBytesOnDisk(dir), opts);
  } finally {
    meta.close();
  }
}

/** Store-wide figures of an open store whose database takes `dbBytes` where it is kept. */
export function storeStatsOf(
  meta: MetaDb,
  dbBytes: number,
  opts: StoreStatsOptions = {},
): StoreStats {
  const snap = snapshotStore(meta);
  const target = readStoreSettings(meta).superChunkBytes;
  const figures = { dbBytes, targetBytes: target, storeId: storeIdOf(meta) };
  return computeStoreStats(snap, pathIndex(meta), figures, opts);
}

/**
 * Figures of `inStore` (a '/'-separated path from the store's root) in the store at `dir`.
 * E_NOT_FOUND when the path does not exist.
 */
export function pathStats(dir: string, inStore: string): PathStats {
  const { meta } = openStore(dir, { readonly: true });
  try {
    return pathStatsIn(meta, inStore, dir);
  } finally {
    meta.close();
  }
}

/** Figures of `inStore` in an open store (`where` names the store in messages). */
export function pathStatsIn(meta: MetaDb, inStore: string, where: string): PathStats {
  const ino = meta.resolvePath(inStore);
  if (ino === undefined) {
    throw new NotFoundError("E_NOT_FOUND", `${inStore}: no such path in ${where}`, {
      path: inStore,
    });
  }
  return pathStatsOf(meta, snapshotStore(meta), ino, inStore);
}

function pathStatsOf(meta: MetaDb, snap: StoreSnapshot, ino: InodeId, p: string): PathStats {
  const kind = snap.inodes.get(ino)?.kind;
  const inos = kind === InodeKind.dir ? subtree(meta, p) : [ino];
  const usage = usageOf(snap, inos);
  const superChunks = usage.superChunks.map((id) => {
    const s = snap.superChunks.get(id);
    return {
      id,
      codec: s?.codec ?? "?",
      rawBytes: s?.rawBytes ?? 0,
      storedBytes: s?.storedBytes ?? 0,
    };
  });
  const { rawBytes, storedBytes } = superChunkBytes(snap, usage.superChunks);
  return {
    storeId: storeIdOf(meta),
    path: p,
    kind: kindName(kind),
    usage,
    superChunks,
    coldRead: {
      inflatedBytes: rawBytes,
      fetchedBytes: storedBytes,
      readAmplification: usage.logicalBytes > 0 ? rawBytes / usage.logicalBytes : 0,
    },
  };
}

/** Inodes at and below directory `p` (the whole tree for the root). */
function subtree(meta: MetaDb, p: string): InodeId[] {
  const prefix = Buffer.from(
    p
      .split("/")
      .filter((x) => x !== "" && x !== ".")
      .join("/"),
  );
  const out: InodeId[] = [];
  for (const e of meta.walk()) {
    const under =
      prefix.length === 0 ||
      (e.path.length > prefix.length &&
        e.path[prefix.length] === 0x2f &&
        e.path.subarray(0, prefix.length).equals(prefix));
    if (under) out.push(e.ino);
  }
  return out;
}

function kindName(kind: number | undefined): PathStats["kind"] {
  if (kind === InodeKind.file) return "file";
  if (kind === InodeKind.dir) return "dir";
  if (kind === InodeKind.symlink) return "symlink";
  return "other";
}
