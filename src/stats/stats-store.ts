/**
 * Store-wide figures computed from a metadata snapshot: sizes and ratios, the spread of
 * super-chunk sizes, dead bytes and repack candidates, per-codec totals, how often
 * sub-blocks are shared, the files with the most unique bytes, and where stored bytes go
 * by top-level directory.
 */
import type { SuperChunkRecord } from "../meta/records.js";
import type { StoreSnapshot } from "../meta/store-snapshot.js";
import { type InodeId, InodeKind } from "../types.js";
import {
  bucketOf,
  duplicateFiles,
  type FileSharingBucket,
  fileSharingHistogram,
  type SharingBucket,
} from "./stats-sharing.js";
import { storedCost, usageOf } from "./stats-usage.js";

/** Smallest, median and largest of a list of sizes (all 0 when empty). */
export interface Spread {
  min: number;
  median: number;
  max: number;
}

export type { SharingBucket } from "./stats-sharing.js";

/** One file's place in the store. */
export interface FileFacts {
  path: string;
  size: number;
  uniqueBytes: number;
  sharedBytes: number;
  extents: number;
  superChunks: number;
}

/** Stored bytes attributed to one top-level entry of the store. */
export interface DirShare {
  name: string;
  files: number;
  logicalBytes: number;
  storedBytes: number;
}

/** Totals of one codec. */
export interface CodecTotals {
  superChunks: number;
  rawBytes: number;
  storedBytes: number;
}

/** Everything `superchunk stats <store>` reports. */
export interface StoreStats {
  /** the store's id (store/store-id.ts) */
  storeId: string | null;
  files: number;
  dirs: number;
  symlinks: number;
  other: number;
  logicalBytes: number;
  /** bytes of live sub-blocks: the data after dedup */
  uniqueBytes: number;
  /** raw (inflated) bytes of every super-chunk, dead sub-blocks included */
  rawBytes: number;
  /** bytes of the super-chunk files */
  storedBytes: number;
  /** bytes of the metadata database as it sits on disk (packed or plain, WAL included) */
  metadataBytes: number;
  /** storedBytes + metadataBytes */
  totalBytes: number;
  /** logical / unique */
  dedupRatio: number;
  /** raw / stored: what the codec achieved */
  compressionRatio: number;
  /** total / logical */
  sizeRatio: number;
  superChunkCount: number;
  superChunkRaw: Spread;
  superChunkStored: Spread;
  /** the target raw size of a super-chunk recorded in the store */
  targetBytes: number;
  liveBytes: number;
  deadBytes: number;
  /** fraction of dead bytes above which a super-chunk is worth repacking */
  repackThreshold: number;
  repackCandidates: number;
  /** dead raw bytes in the repack candidates */
  reclaimableBytes: number;
  codecs: Record<string, CodecTotals>;
  sharing: SharingBucket[];
  /** the same bytes by file references, whole-file duplicates apart (stats-sharing.ts) */
  fileSharing: FileSharingBucket[];
  /** files identical to another file, and the bytes their copies would take */
  duplicateFiles: { files: number; bytes: number };
  topFiles: FileFacts[];
  byTopDir: DirShare[];
  superChunks: SuperChunkRecord[];
}

/** Options of the store figures. */
export interface StoreStatsOptions {
  /** dead fraction from which a super-chunk counts as a repack candidate; default 0.1 */
  repackThreshold?: number;
  /** how many files `topFiles` lists; default 10 */
  topFiles?: number;
}

/** Paths of every entry met by the walk, first path of each inode. */
export type PathIndex = Map<number, string>;

/** Computes the figures of a store. `dbBytes` is the database's size on disk. */
export function computeStoreStats(
  snap: StoreSnapshot,
  paths: PathIndex,
  meta: { dbBytes: number; targetBytes: number; storeId: string | null },
  opts: StoreStatsOptions = {},
): StoreStats {
  const threshold = opts.repackThreshold ?? 0.1;
  const scs = [...snap.superChunks.values()];
  const kinds = countKinds(snap);
  const sum = (f: (s: SuperChunkRecord) => number) => scs.reduce((a, s) => a + f(s), 0);
  const rawBytes = sum((s) => s.rawBytes);
  const storedBytes = sum((s) => s.storedBytes);
  const liveBytes = sum((s) => s.liveBytes);
  const logicalBytes = [...snap.inodes.values()].reduce(
    (a, r) => a + (r.kind === InodeKind.file ? r.size : 0),
    0,
  );
  const candidates = scs.filter((s) => deadFraction(s) > threshold);
  return {
    storeId: meta.storeId,
    ...kinds,
    logicalBytes,
    uniqueBytes: liveBytes,
    rawBytes,
    storedBytes,
    metadataBytes: meta.dbBytes,
    totalBytes: storedBytes + meta.dbBytes,
    dedupRatio: liveBytes > 0 ? logicalBytes / liveBytes : 1,
    compressionRatio: storedBytes > 0 ? rawBytes / storedBytes : 1,
    sizeRatio: logicalBytes > 0 ? (storedBytes + meta.dbBytes) / logicalBytes : 0,
    superChunkCount: scs.length,
    superChunkRaw: spread(scs.map((s) => s.rawBytes)),
    superChunkStored: spread(scs.map((s) => s.storedBytes)),
    targetBytes: meta.targetBytes,
    liveBytes,
    deadBytes: rawBytes - liveBytes,
    repackThreshold: threshold,
    repackCandidates: candidates.length,
    reclaimableBytes: candidates.reduce((a, s) => a + s.rawBytes - s.liveBytes, 0),
    codecs: codecTotals(scs),
    sharing: sharingHistogram(snap),
    fileSharing: fileSharingHistogram(snap),
    duplicateFiles: duplicateFiles(snap),
    topFiles: topFiles(snap, paths, opts.topFiles ?? 10),
    byTopDir: byTopDir(snap, paths),
    superChunks: scs,
  };
}

/** Dead share of a super-chunk's raw bytes. */
export function deadFraction(s: SuperChunkRecord): number {
  return s.rawBytes > 0 ? (s.rawBytes - s.liveBytes) / s.rawBytes : 0;
}

function countKinds(snap: StoreSnapshot) {
  const k = { files: 0, dirs: 0, symlinks: 0, other: 0 };
  for (const r of snap.inodes.values()) {
    if (r.kind === InodeKind.file) k.files++;
    else if (r.kind === InodeKind.dir) k.dirs++;
    else if (r.kind === InodeKind.symlink) k.symlinks++;
    else k.other++;
  }
  return k;
}

/** min / median / max of `xs`. */
export function spread(xs: number[]): Spread {
  if (xs.length === 0) return { min: 0, median: 0, max: 0 };
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { min: s[0]!, median, max: s[s.length - 1]! };
}

function codecTotals(scs: readonly SuperChunkRecord[]): Record<string, CodecTotals> {
  const out: Record<string, CodecTotals> = {};
  for (const s of scs) {
    const t = out[s.codec] ?? { superChunks: 0, rawBytes: 0, storedBytes: 0 };
    out[s.codec] = t;
    t.superChunks++;
    t.rawBytes += s.rawBytes;
    t.storedBytes += s.storedBytes;
  }
  return out;
}

/** Buckets 0 (dead), 1, 2, 3–4, 5–8, 9–16, … up to the largest refcount. */
export function sharingHistogram(snap: StoreSnapshot): SharingBucket[] {
  const make = (label: string, minRefs: number, maxRefs: number): SharingBucket => ({
    label,
    minRefs,
    maxRefs,
    subBlocks: 0,
    bytes: 0,
  });
  const buckets = [make("0 (dead)", 0, 0), make("1", 1, 1)];
  for (const sb of snap.subBlocks.values()) {
    const b = bucketOf(buckets, sb.refcount, make);
    b.subBlocks++;
    b.bytes += sb.length;
  }
  return buckets;
}

function topFiles(snap: StoreSnapshot, paths: PathIndex, n: number): FileFacts[] {
  const facts: FileFacts[] = [];
  for (const r of snap.inodes.values()) {
    if (r.kind !== InodeKind.file || r.content === null) continue;
    const u = usageOf(snap, [r.ino]);
    facts.push({
      path: paths.get(r.ino) ?? `<inode ${r.ino}>`,
      size: r.size,
      uniqueBytes: u.uniqueBytes,
      sharedBytes: u.sharedBytes,
      extents: u.extents,
      superChunks: u.superChunks.length,
    });
  }
  facts.sort((a, b) => b.uniqueBytes - a.uniqueBytes || a.path.localeCompare(b.path));
  return facts.slice(0, n);
}

/** Stored bytes by the first component of each file's path ("." for files at the root). */
function byTopDir(snap: StoreSnapshot, paths: PathIndex): DirShare[] {
  const out = new Map<string, DirShare>();
  for (const r of snap.inodes.values()) {
    if (r.kind !== InodeKind.file) continue;
    const p = paths.get(r.ino) ?? "";
    const slash = p.indexOf("/");
    const name = slash < 0 ? "." : p.slice(0, slash);
    const d = out.get(name) ?? { name, files: 0, logicalBytes: 0, storedBytes: 0 };
    d.files++;
    d.logicalBytes += r.size;
    d.storedBytes += inodeStoredBytes(snap, r.ino);
    out.set(name, d);
  }
  return [...out.values()].sort((a, b) => b.storedBytes - a.storedBytes);
}

/** Stored bytes one inode costs: its content's cost split between the inodes sharing it. */
function inodeStoredBytes(snap: StoreSnapshot, ino: InodeId): number {
  const r = snap.inodes.get(ino);
  const c = r?.content == null ? undefined : snap.contents.get(r.content);
  if (c?.codes === undefined) return 0;
  let cost = 0;
  for (const code of c.codes) if (code > 0) cost += storedCost(snap, code);
  return cost / Math.max(1, c.refcount);
}
