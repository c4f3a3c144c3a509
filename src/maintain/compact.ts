/**
 * Compaction of a live writable store (the compactor its CompactScheduler runs when the
 * mount is idle and at unmount): the super-chunks a writer froze at its fast level in write
 * order (store/compact-pending.ts), plus frozen ones whose dead share passes `minDead`, are
 * regrouped by similarity and recompressed at the store's codec and level, with the repack
 * machinery (repack-select, repack-source, repack-write).
 *
 * Concurrency: the store's mutex is held only for three short steps, so commits wait for
 * none of the reading, planning or compression: (1) choosing and snapshotting, (2) reserving
 * the new ids (the writer keeps creating open super-chunks meanwhile), (3) the switch. The
 * switch first checks that no commit or reap changed what the pass planned (a retired
 * super-chunk reaped, a sub-block it drops as dead reused by a dedup); if one did, the pass
 * *yields*: its new files are deleted and the scheduler retries after the next idle grace.
 * Codec work runs on one worker thread of its own at nice 19, the similarity plan on another
 * (one after the other: at most one of them works at a time); the main thread only sketches
 * and hashes, in slices of one super-chunk.
 *
 * Crash-safe as repack: new files written and fsynced, one metadata transaction, old files
 * deleted (by the scheduler, once earlier reads are done); orphans are removed on open.
 */
import { superChunkKey } from "../blobstore/blob-store.js";
import { CodecPool } from "../codec/codec-pool.js";
import type { MetaDb } from "../meta/meta-db.js";
import { StoreRewrite } from "../meta/store-rewrite.js";
import { snapshotStore } from "../meta/store-snapshot.js";
import { OPEN_CODEC } from "../meta/write-table.js";
import { readCompactPending, writeCompactPending } from "../store/compact-pending.js";
import { readStoreSettings } from "../store/store-settings.js";
import { MIB, type SubBlockId, type SuperChunkId } from "../types.js";
import type { CompactAccess, CompactOutcome, Compactor } from "../writer/compact-scheduler.js";
import { planOffThread } from "./plan-off-thread.js";
import { walkFiles } from "./repack.js";
import { rewriteGroups } from "./repack-plan.js";
import { liveRefs, type RepackSelection, selectionOf } from "./repack-select.js";
import { RepackSource, readLive } from "./repack-source.js";
import { commitSwitch, type RewriteItem, writeGroups } from "./repack-write.js";

/** Options of compaction. */
export interface CompactOptions {
  /** dead share above which any frozen super-chunk is rewritten too; default 0.25 */
  minDead?: number;
  /** inflated old super-chunks kept while regrouping; default 128 MiB */
  cacheBytes?: number;
  /** nice value of the codec thread; default 19 */
  niceness?: number;
  /** test hook: runs after the new files are durable, before the switch */
  beforeSwitch?: () => void | Promise<void>;
}

const NOTHING: CompactOutcome = { retired: 0, written: 0, yielded: false };
const YIELDED: CompactOutcome = { retired: 0, written: 0, yielded: true };

/**
 * The compactor to give WritableStore.open.
 * @example
 * const store = await WritableStore.open(dir, { compactor: compactor() });
 */
export function compactor(o: CompactOptions = {}): Compactor {
  return (access) => compactWritable(access, o);
}

/** One compaction pass over an open writable store. */
export async function compactWritable(
  a: CompactAccess,
  o: CompactOptions = {},
): Promise<CompactOutcome> {
  const sel = await a.exclusive(() => choose(a.meta, o.minDead ?? 0.25));
  if (sel === undefined) return NOTHING;
  const s = readStoreSettings(a.meta);
  const niceness = o.niceness ?? 19;
  const pool = new CodecPool({ threads: 1, niceness });
  const source = new RepackSource(a.blobs, pool, o.cacheBytes ?? 128 * MIB, (id) =>
    a.meta.getSuperChunk(id as SuperChunkId),
  );
  const rw = StoreRewrite.open(a.meta.path);
  let written: readonly { id: SuperChunkId }[] = [];
  try {
    const live = await readLive(sel, source, true, () => undefined);
    const plan = await planOffThread(live.items, s.superChunkBytes, niceness);
    const groups = rewriteGroups(plan, sel, live);
    const firstId = await a.exclusive(() => rw.reserveSuperChunkIds(groups.length));
    const ctx = { blobs: a.blobs, rewrite: rw, pool, codec: s.codec, level: s.level, firstId };
    const where = new Map(sel.live.map((x) => [x.sb.id as number, x.sb]));
    const fetch = async (it: RewriteItem) => {
      const sb = where.get(it.id)!;
      const { raw } = await source.get(sb.superChunk);
      return raw.subarray(sb.offset, sb.offset + sb.length);
    };
    const out = await writeGroups({ ...ctx, fetch }, groups);
    written = out.written;
    await o.beforeSwitch?.();
    const retire = sel.superChunks.map((x) => x.id as SuperChunkId);
    const done = await a.exclusive(() => {
      if (!unchanged(a.meta, sel)) return false;
      const drop = sel.dead.map((d) => d.id as SubBlockId);
      commitSwitch(rw, out.written, out.placed, { groups, drop, retire });
      const gone = new Set<number>(retire);
      const left = readCompactPending(a.meta).filter((id) => !gone.has(id));
      a.meta.transaction(() => writeCompactPending(a.meta, left));
      a.switched(retire);
      return true;
    });
    if (done) return { retired: retire.length, written: written.length, yielded: false };
    await dropFiles(a, written);
    return YIELDED;
  } catch (err) {
    // a reap or commit under the pass's feet (a file gone) is a yield, anything else fails
    const stale = await a.exclusive(() => !unchanged(a.meta, sel));
    await dropFiles(a, written);
    if (stale) return YIELDED;
    throw err;
  } finally {
    source.clear();
    rw.close();
    await pool.close();
  }
}

/** Inside the mutex: the super-chunks to compact and what moves, or undefined (none). */
function choose(meta: MetaDb, minDead: number): RepackSelection | undefined {
  const pending = new Set(readCompactPending(meta));
  const frozen = meta.listSuperChunks().filter((r) => r.codec !== OPEN_CODEC);
  const chosen = new Set<number>();
  for (const r of frozen) {
    const dead = r.rawBytes > 0 ? (r.rawBytes - r.liveBytes) / r.rawBytes : 0;
    if (pending.has(r.id) || dead > minDead) chosen.add(r.id);
  }
  if (chosen.size === 0) {
    if (pending.size > 0) meta.transaction(() => writeCompactPending(meta, []));
    return undefined;
  }
  const snap = snapshotStore(meta);
  return selectionOf(snap, liveRefs(snap), chosen, walkFiles(meta));
}

/** Inside the mutex: true while every retired super-chunk and every dropped row is as planned. */
function unchanged(meta: MetaDb, sel: RepackSelection): boolean {
  for (const sc of sel.superChunks) {
    if (meta.getSuperChunk(sc.id as SuperChunkId) === undefined) return false;
  }
  for (const d of sel.dead) {
    const row = meta.getSubBlock(d.id as SubBlockId);
    if (row !== undefined && row.refcount > 0) return false;
  }
  return true;
}

async function dropFiles(a: CompactAccess, files: readonly { id: SuperChunkId }[]) {
  for (const f of files) await a.blobs.delete(superChunkKey(f.id)).catch(() => undefined);
}
