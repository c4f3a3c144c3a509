/**
 * pack: turns a source tree into a new store. Phases: walk, scan (cut, hash,
 * sketch on worker threads), plan (similarity order of unique sub-blocks), write
 * (super-chunks compressed on the codec pool), commit (one metadata transaction).
 * The store is built under a temporary sibling name and renamed into place only
 * when complete, so a killed pack never leaves something that opens as a store.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { DirBlobStore } from "../blobstore/dir-blob-store.js";
import { CodecPool } from "../codec/codec-pool.js";
import { type EngineWarning, throwIfAborted } from "../errors.js";
import { MetaDb } from "../meta/meta-db.js";
import { MetaKey } from "../meta/records.js";
import { planColumns } from "../similarity/plan.js";
import { fsyncDirSync } from "../store/durable.js";
import { META_COPY_GENERATION_KEY } from "../store/meta-copy.js";
import { packDatabaseWithCopy } from "../store/meta-copy-write.js";
import { storeIdOf } from "../store/store-id.js";
import {
  checkNewStoreDest,
  DB_FILE,
  STATE_BUILDING,
  STATE_COMPLETE,
  STATE_KEY,
} from "../store/store-layout.js";
import { writeStoreSettings } from "../store/store-settings.js";
import { FORMAT_VERSION, InodeKind } from "../types.js";
import { commitPack } from "./pack-commit.js";
import type { PackIndex } from "./pack-index.js";
import { abortableHooks, type PackHooks, type PackOptions, packOptions } from "./pack-options.js";
import { scanTree } from "./pack-scan.js";
import { checkSources, type OwnOutput, walkSources } from "./pack-sources.js";
import { writeSuperChunks } from "./pack-write.js";
import { ScanPool } from "./scan-pool.js";
import { removeZipStaging } from "./zip-source.js";

export interface PackSummary {
  /** the new store's id (store/store-id.ts) */
  storeId: string | null;
  files: number;
  dirs: number;
  symlinks: number;
  other: number;
  hardLinks: number;
  skipped: number;
  /** entries left out by the exclude patterns or one-file-system (their contents not counted) */
  excluded: number;
  logicalBytes: number;
  uniqueBytes: number;
  subBlocks: number;
  superChunks: number;
  superChunkBytes: number;
  /** raw bytes that looked already compressed, coded at the codec's dense level (codec/dense.ts) */
  denseBytes: number;
  metadataBytes: number;
  /** everything the store occupies: super-chunk files plus the database */
  storedBytes: number;
  dedupRatio: number;
  compressionRatio: number;
  seconds: number;
  /** wall time of each phase, seconds */
  phases: { scan: number; plan: number; write: number; commit: number };
  codec: string;
  level: number;
  order: string;
}

/**
 * Packs `source` (a directory, or a zip file: see zip-source.ts; or several sources, each
 * stored under its base name: see pack-sources.ts) into a new store at `dest`.
 * `hooks.signal` stops it (AbortError E_ABORTED), the partial store removed.
 */
export async function packTree(
  source: string | readonly string[],
  dest: string,
  partial: Partial<PackOptions> = {},
  callerHooks: PackHooks = {},
): Promise<PackSummary> {
  const started = process.hrtime.bigint();
  const hooks = abortableHooks(callerHooks);
  throwIfAborted(hooks.signal, "pack");
  const opts = packOptions(partial);
  const sources = typeof source === "string" ? [source] : source;
  checkSources(sources);
  checkNewStoreDest(dest);
  const tmp = path.join(
    path.dirname(path.resolve(dest)),
    `.${path.basename(dest)}.partial-${process.pid}-${randomBytes(3).toString("hex")}`,
  );
  fs.mkdirSync(tmp);
  try {
    const summary = await build(sources, { buildDir: tmp, dest }, opts, hooks);
    removeZipStaging(tmp);
    throwIfAborted(hooks.signal, "pack");
    installStore(tmp, dest);
    summary.seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return summary;
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

async function build(
  sources: readonly string[],
  own: OwnOutput,
  opts: PackOptions,
  hooks: PackHooks,
) {
  const clock = new PhaseClock();
  // the walk, the index and the plan live in buildMeta only: gone before the database is packed
  const { storeId, counts, phases } = await buildMeta(sources, own, opts, hooks, clock);
  // the metadata copy (generation 1), then the packed database, from one zstd frame;
  // the metadata bytes reported are both
  const tmp = own.buildDir;
  const dbBytes = await packDatabase(tmp);
  const storedBytes = counts.superChunkBytes + dbBytes;
  return {
    storeId,
    ...counts,
    metadataBytes: dbBytes,
    storedBytes,
    phases: { ...phases, commit: phases.commit + clock.lap() },
  };
}

/**
 * Packs the finished database in `buildDir`, its parts coded on a worker: this thread waits
 * meanwhile, so the collector frees the columns buildMeta let go of before the parts and the
 * zstd context add up on top of them (packed-db.ts). The same frames as on this thread.
 */
async function packDatabase(buildDir: string): Promise<number> {
  const pool = new CodecPool({ threads: 1 });
  try {
    return await packDatabaseWithCopy(
      path.join(buildDir, DB_FILE),
      1,
      new DirBlobStore(buildDir),
      (raw, level) => pool.compress("zstd", level, raw),
    );
  } finally {
    await pool.close();
  }
}

/** Walk, scan, plan, write and commit: everything but packing the finished database. */
async function buildMeta(
  sources: readonly string[],
  own: OwnOutput,
  opts: PackOptions,
  hooks: PackHooks,
  clock: PhaseClock,
) {
  hooks.onProgress?.({ phase: "walk", filesDone: 0, filesTotal: 0, bytesDone: 0, bytesTotal: 0 });
  const onWarning = (w: EngineWarning) => hooks.onWarning?.(w);
  const { entries, excluded } = await walkSources(sources, own, opts, onWarning);
  const tmp = own.buildDir;
  clock.lap();
  const scanPool = new ScanPool(opts.threads);
  let index: PackIndex;
  try {
    index = await scanTree(entries, scanPool, opts.chunk, opts.threads, hooks);
  } finally {
    await scanPool.close();
  }
  const scan = clock.lap();
  hooks.onProgress?.({ phase: "plan", filesDone: 0, filesTotal: 0, bytesDone: 0, bytesTotal: 0 });
  const groups = planSuperChunks(index, opts);
  index.dropPlanState(); // only the scan and the plan read it
  const plan = clock.lap();
  const meta = MetaDb.create(path.join(tmp, DB_FILE));
  try {
    writeMetaKeys(meta, opts, STATE_BUILDING);
    const codecPool = new CodecPool({ threads: opts.threads });
    let written: Awaited<ReturnType<typeof writeSuperChunks>>;
    try {
      written = await writeSuperChunks(
        index,
        groups,
        new DirBlobStore(tmp),
        codecPool,
        opts,
        hooks,
      );
    } finally {
      await codecPool.close();
    }
    const write = clock.lap();
    hooks.onProgress?.({
      phase: "commit",
      filesDone: 0,
      filesTotal: 0,
      bytesDone: 0,
      bytesTotal: 0,
    });
    commitPack(meta, index, written);
    const storeId = storeIdOf(meta);
    meta.setMeta(STATE_KEY, STATE_COMPLETE);
    meta.setMeta(META_COPY_GENERATION_KEY, "1");
    meta.compact(); // VACUUM + WAL checkpoint: the file packed below holds live pages only
    meta.close();
    const counts = { ...summarize(index, written, opts), excluded };
    return { storeId, counts, phases: { scan, plan, write, commit: clock.lap() } };
  } finally {
    meta.close();
  }
}

function writeMetaKeys(meta: MetaDb, opts: PackOptions, state: string): void {
  meta.setMeta(MetaKey.formatVersion, String(FORMAT_VERSION));
  writeStoreSettings(meta, opts);
  meta.setMeta(STATE_KEY, state);
}

/** Makes the finished store durable and renames it over `dest` (missing or empty). */
function installStore(tmp: string, dest: string): void {
  fsyncDirSync(tmp);
  if (fs.existsSync(dest)) fs.rmdirSync(dest);
  fs.renameSync(tmp, dest);
  fsyncDirSync(path.dirname(path.resolve(dest)));
}

/** Seconds since the previous lap. */
class PhaseClock {
  private last = process.hrtime.bigint();
  lap(): number {
    const now = process.hrtime.bigint();
    const s = Number(now - this.last) / 1e9;
    this.last = now;
    return s;
  }
}

/**
 * The similarity plan of the unique sub-blocks, from the index's columns. The scan's hash
 * tables go first, and the sketches as soon as the plan has its candidate pairs.
 */
function planSuperChunks(index: PackIndex, opts: PackOptions): Uint32Array[] {
  index.dropScanState();
  const cols = index.planColumns();
  const { lengths, entries, offsets, lastUse, dense } = cols;
  const n = lengths.length;
  // a sub-block continues its predecessor's file where it starts where that one ends
  const sameFile = new Uint8Array(n);
  for (let u = 0; u + 1 < n; u++)
    if (entries[u] === entries[u + 1] && offsets[u + 1] === offsets[u]! + lengths[u]!)
      sameFile[u] = 1;
  // the only reference to the sketches from here on (the index drops its own below)
  const sketches = { data: cols.sketches, words: index.sketchWords, count: n };
  cols.sketches = new Uint32Array(0);
  const releaseSketches = () => {
    sketches.data = new Uint32Array(0);
    index.dropSketches();
  };
  return planColumns(
    { lengths, sketches, sameFile, lastUse, dense, releaseSketches },
    { targetBytes: opts.superChunkBytes, order: opts.order },
  );
}

function summarize(
  index: PackIndex,
  w: Awaited<ReturnType<typeof writeSuperChunks>>,
  opts: PackOptions,
): Omit<PackSummary, "phases" | "excluded" | "storeId" | "metadataBytes" | "storedBytes"> {
  const kinds = { files: 0, dirs: 0, symlinks: 0, other: 0 };
  const { entries } = index;
  for (let i = 0; i < entries.length; i++) {
    // a file counts once, as stats and extract count it; its other names are hard links
    if (index.skipped.has(i) || index.hardLinkOf.has(i)) continue;
    const kind = entries.kind(i);
    if (kind === InodeKind.file) kinds.files++;
    else if (kind === InodeKind.dir) kinds.dirs++;
    else if (kind === InodeKind.symlink) kinds.symlinks++;
    else kinds.other++;
  }
  return {
    ...kinds,
    hardLinks: index.hardLinkOf.size,
    skipped: index.skipped.size,
    logicalBytes: index.logicalBytes,
    uniqueBytes: index.uniqueBytes,
    subBlocks: index.uniqueCount,
    superChunks: w.superChunks.length,
    superChunkBytes: w.storedBytes,
    denseBytes: w.denseBytes,
    dedupRatio: index.uniqueBytes > 0 ? index.logicalBytes / index.uniqueBytes : 1,
    compressionRatio: w.storedBytes > 0 ? index.uniqueBytes / w.storedBytes : 1,
    seconds: 0,
    codec: opts.codec,
    level: opts.level,
    order: opts.order,
  };
}
