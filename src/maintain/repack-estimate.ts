/**
 * What a repack's dry run says it would reclaim: the retired super-chunks' stored bytes minus
 * what their live data takes once rewritten. That second figure is measured, not guessed from
 * the old compression ratio (live sub-blocks compress worse without the dead ones that shared
 * their window): the dry run reads the selected super-chunks, plans the new groups as the
 * repack would, and builds a sample of them (evenly spaced, up to `sampleBytes` raw; all of
 * them in a smaller store) with the target codec and level, writing nothing.
 */
import type { BlobStore } from "../blobstore/blob-store.js";
import { CodecPool } from "../codec/codec-pool.js";
import type { MetaDb } from "../meta/meta-db.js";
import type { StoreSnapshot } from "../meta/store-snapshot.js";
import type { PackOptions } from "../pack/pack-options.js";
import { MIB, type SuperChunkId } from "../types.js";
import { planRewrite } from "./repack-plan.js";
import type { RepackSelection } from "./repack-select.js";
import { RepackSource } from "./repack-source.js";
import { writeGroups } from "./repack-write.js";

/** Raw bytes of new super-chunks a dry run builds to measure the compression; default. */
export const REPACK_SAMPLE_BYTES = 32 * MIB;

/**
 * The stored bytes the live sub-blocks of `sel` would take after the repack `p` describes:
 * the sampled groups' stored bytes scaled by raw bytes to all of them.
 */
export async function rewrittenStoredBytes(
  meta: MetaDb,
  blobs: BlobStore,
  snap: StoreSnapshot,
  sel: RepackSelection,
  p: PackOptions,
  opts: { cacheBytes: number; sampleBytes: number },
): Promise<number> {
  if (sel.live.length === 0) return 0;
  const pool = new CodecPool({ threads: p.threads });
  const source = new RepackSource(blobs, pool, opts.cacheBytes, (id) =>
    meta.getSuperChunk(id as SuperChunkId),
  );
  try {
    const { groups: all, fetch } = await planRewrite(sel, source, snap, p);
    const sample = evenSample(all, opts.sampleBytes);
    const { written } = await writeGroups(
      {
        blobs: { put: async () => {} },
        pool,
        codec: p.codec,
        level: p.level,
        firstId: snap.lastSuperChunkId + 1,
        fetch,
      },
      sample,
    );
    const raw = written.reduce((a, w) => a + w.rawBytes, 0);
    const stored = written.reduce((a, w) => a + w.storedBytes, 0);
    return raw === 0 ? 0 : Math.round((stored * sel.liveBytes) / raw);
  } finally {
    source.clear();
    await pool.close();
  }
}

/** Every k-th group, k chosen so that about `budget` raw bytes are taken (at least one group). */
export function evenSample<T extends { length: number }>(groups: T[][], budget: number): T[][] {
  const total = groups.reduce((a, g) => a + g.reduce((b, it) => b + it.length, 0), 0);
  if (total <= budget) return groups;
  const step = Math.ceil(total / Math.max(1, budget));
  const picked = groups.filter((_, i) => i % step === Math.floor(step / 2));
  return picked.length > 0 ? picked : [groups[Math.floor(groups.length / 2)]!];
}
