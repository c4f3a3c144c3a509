/**
 * repack: rewrites super-chunks. Those whose dead bytes exceed a threshold are rewritten
 * without their dead sub-blocks, small ones are merged, and with `all` every live sub-block
 * is regrouped (similarity planner) and recompressed, possibly with another codec, level or
 * super-chunk size. Contents no inode uses are purged first, which is what makes their
 * sub-blocks dead.
 *
 * Crash-safe (repack-write.ts): new super-chunks are written and fsynced, then one metadata
 * transaction switches every reference, then the old files are deleted. Every old payload is
 * verified (CRCs) and every moved sub-block re-hashed before it is written again. Takes the
 * writer lock: E_STORE_LOCKED while a read-write mount holds it. The store is opened for
 * maintenance by location/ (an S3 store on a working copy, published afterwards).
 */
import type { BlobStore } from "../blobstore/blob-store.js";
import { CodecPool } from "../codec/codec-pool.js";
import { abortingProgress, throwIfAborted } from "../errors.js";
import { type MaintainedStore, maintainStoreAt, previewStoreAt } from "../location/maintain-at.js";
import type { MetaDb } from "../meta/meta-db.js";
import { type StoreSnapshot, snapshotStore } from "../meta/store-snapshot.js";
import { type PackOptions, packOptions } from "../pack/pack-options.js";
import { storeIdOf } from "../store/store-id.js";
import { readStoreSettings, writeStoreSettings } from "../store/store-settings.js";
import { MIB, type SubBlockId, type SuperChunkId } from "../types.js";
import { REPACK_SAMPLE_BYTES, rewrittenStoredBytes } from "./repack-estimate.js";
import { planRewrite } from "./repack-plan.js";
import { liveRefs, type RepackSelection, selectionOf, selectSuperChunks } from "./repack-select.js";
import { RepackSource } from "./repack-source.js";
import type { RepackOptions, RepackSummary } from "./repack-types.js";
import { applyRewrite } from "./repack-write.js";

export type { RepackOptions, RepackSummary } from "./repack-types.js";

/** Options resolved against the store's recorded settings. */
function resolve(meta: MetaDb, o: RepackOptions): PackOptions {
  const s = readStoreSettings(meta);
  const codec = o.codec ?? s.codec;
  return packOptions({
    codec,
    // the store's level goes with its codec; another codec starts at its own default
    level: o.level ?? (codec === s.codec ? s.level : undefined),
    superChunkBytes: o.superChunkBytes ?? s.superChunkBytes,
    chunk: s.chunk,
    // --all regroups by similarity (what a store grown by writes lacks) unless told otherwise
    order: o.order ?? (o.all === true ? "similarity" : s.order),
    threads: o.threads ?? 2,
  });
}

/** Walked files with their first path. */
export function walkFiles(meta: MetaDb): { ino: number; path: string }[] {
  const seen = new Set<number>();
  const out: { ino: number; path: string }[] = [];
  for (const e of meta.walk()) {
    if (seen.has(e.ino)) continue;
    seen.add(e.ino);
    out.push({ ino: e.ino, path: e.path.toString("utf8") });
  }
  return out;
}

function choose(
  meta: MetaDb,
  snap: StoreSnapshot,
  o: RepackOptions,
  p: PackOptions,
): RepackSelection {
  const refs = liveRefs(snap);
  const chosen = selectSuperChunks(snap, refs, {
    all: o.all === true,
    minDead: o.minDead ?? 0.1,
    targetBytes: p.superChunkBytes,
  });
  return selectionOf(snap, refs, chosen, walkFiles(meta));
}

function summary(
  meta: MetaDb,
  snap: StoreSnapshot,
  sel: RepackSelection,
  p: PackOptions,
  dryRun: boolean,
): RepackSummary {
  const before = [...snap.superChunks.values()].reduce((a, s) => a + s.storedBytes, 0);
  return {
    storeId: storeIdOf(meta),
    dryRun,
    superChunksBefore: snap.superChunks.size,
    superChunksAfter: snap.superChunks.size - sel.superChunks.length,
    selected: sel.superChunks.length,
    written: 0,
    subBlocksMoved: sel.live.length,
    liveBytesMoved: sel.liveBytes,
    subBlocksDropped: sel.dead.length,
    deadBytesDropped: sel.deadBytes,
    contentsPurged: 0,
    storedBytesBefore: before,
    storedBytesAfter: before - sel.storedBytes,
    retiredStoredBytes: sel.storedBytes,
    reclaimedBytes: sel.storedBytes,
    codec: p.codec,
    level: p.level,
    order: p.order,
    superChunkBytes: p.superChunkBytes,
    seconds: 0,
  };
}

/**
 * What a repack of the store `meta` (super-chunks in `blobs`) would do: the summary of a dry
 * run, its stored bytes after measured on a sample of the new super-chunks; writes nothing.
 */
export async function repackPreview(
  meta: MetaDb,
  blobs: BlobStore,
  o: RepackOptions,
): Promise<RepackSummary> {
  const snap = snapshotStore(meta);
  const p = resolve(meta, o);
  const sel = choose(meta, snap, o, p);
  const s = summary(meta, snap, sel, p, true);
  const rewritten = await rewrittenStoredBytes(meta, blobs, snap, sel, p, {
    cacheBytes: o.cacheBytes ?? 256 * MIB,
    sampleBytes: o.sampleBytes ?? REPACK_SAMPLE_BYTES,
  });
  s.storedBytesAfter += rewritten;
  s.reclaimedBytes -= rewritten;
  return s;
}

/**
 * Repacks the store at `dir` (a store directory, or `s3://bucket/prefix`, where the result
 * is published as a new generation; a dry run takes no lock or lease and writes nothing).
 * @example
 * const s = await repackStore("/srv/store", { all: true, codec: "xz", level: 9 });
 * console.log(`reclaimed ${s.reclaimedBytes} bytes`);
 */
export async function repackStore(dir: string, caller: RepackOptions = {}): Promise<RepackSummary> {
  const started = process.hrtime.bigint();
  const { signal } = caller;
  const o =
    signal === undefined
      ? caller
      : { ...caller, onProgress: abortingProgress(signal, "repack", caller.onProgress) };
  throwIfAborted(o.signal, "repack");
  const maintenance = { purpose: "repack", packAtClose: true, s3: o.s3 };
  if (o.dryRun)
    return previewStoreAt(dir, maintenance, (meta, blobs) => repackPreview(meta, blobs, o));
  const s = await maintainStoreAt(
    dir,
    maintenance,
    (ms) => repackOpened(ms, o),
    (r) => r.selected > 0 || r.contentsPurged > 0 || o.all === true,
  );
  s.seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return s;
}

/** Repacks the store `ms`, opened for maintenance (its `seconds` are the caller's to set). */
export async function repackOpened(ms: MaintainedStore, o: RepackOptions): Promise<RepackSummary> {
  const p = resolve(ms.meta, o);
  const purged = ms.rewrite.transaction(() => ms.rewrite.purgeDeadContents());
  const snap = snapshotStore(ms.meta);
  const sel = choose(ms.meta, snap, o, p);
  const s = summary(ms.meta, snap, sel, p, false);
  s.contentsPurged = purged;
  if (sel.superChunks.length > 0) await rewrite(ms, snap, sel, p, o, s);
  if (o.all) recordSettings(ms.meta, p);
  return s;
}

async function rewrite(
  ms: MaintainedStore,
  snap: StoreSnapshot,
  sel: RepackSelection,
  p: PackOptions,
  o: RepackOptions,
  s: RepackSummary,
): Promise<void> {
  const pool = new CodecPool({ threads: p.threads });
  const source = new RepackSource(ms.blobs, pool, o.cacheBytes ?? 256 * MIB, (id) =>
    ms.meta.getSuperChunk(id as SuperChunkId),
  );
  try {
    const { groups, fetch } = await planRewrite(sel, source, snap, p, (done, total) =>
      o.onProgress?.({
        phase: "read",
        filesDone: done,
        filesTotal: total,
        bytesDone: 0,
        bytesTotal: 0,
      }),
    );
    const written = await applyRewrite(
      {
        blobs: ms.blobs,
        rewrite: ms.rewrite,
        pool,
        codec: p.codec,
        level: p.level,
        firstId: snap.lastSuperChunkId + 1,
        fetch,
        onWritten: (done, total, raw) =>
          o.onProgress?.({
            phase: "write",
            filesDone: done,
            filesTotal: total,
            bytesDone: raw,
            bytesTotal: 0,
          }),
        beforeCommit: () => {
          throwIfAborted(o.signal, "repack");
          o.beforeCommit?.();
        },
      },
      {
        groups,
        drop: sel.dead.map((d) => d.id as SubBlockId),
        retire: sel.superChunks.map((x) => x.id as SuperChunkId),
      },
    );
    const newStored = written.reduce((a, w) => a + w.storedBytes, 0);
    s.written = written.length;
    s.superChunksAfter = snap.superChunks.size - sel.superChunks.length + written.length;
    s.storedBytesAfter = s.storedBytesBefore - sel.storedBytes + newStored;
    s.reclaimedBytes = s.storedBytesBefore - s.storedBytesAfter;
  } finally {
    source.clear();
    await pool.close();
  }
}

/** After `all`, the store's settings for new super-chunks are the repack's. */
function recordSettings(meta: MetaDb, p: PackOptions): void {
  const { codec, level, superChunkBytes, order } = p;
  writeStoreSettings(meta, { codec, level, superChunkBytes, order });
}
