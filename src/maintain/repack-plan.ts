/**
 * The groups a repack writes: the selected super-chunks' live sub-blocks read once
 * (repack-source.ts `readLive`), planned into new super-chunks of the target size and order,
 * and how each sub-block's bytes are read again when its group is written. The repack and
 * its dry run's estimate (repack-estimate.ts) both plan here, so the estimate measures the
 * very groups the repack would write.
 */
import type { StoreSnapshot } from "../meta/store-snapshot.js";
import type { PackOptions } from "../pack/pack-options.js";
import { type PlanItem, planSuperChunks } from "../similarity/plan.js";
import type { SubBlockHash } from "../types.js";
import type { RepackSelection } from "./repack-select.js";
import { type RepackSource, readLive } from "./repack-source.js";
import type { RewriteItem } from "./repack-write.js";

/** The planned groups, and where each item's bytes come from. */
export interface RewriteGroups {
  readonly groups: RewriteItem[][];
  readonly fetch: (item: RewriteItem) => Promise<Buffer>;
}

/** Plans the rewrite of `sel`'s live sub-blocks as `p` says; `onRead` counts super-chunks read. */
export async function planRewrite(
  sel: RepackSelection,
  source: RepackSource,
  snap: StoreSnapshot,
  p: PackOptions,
  onRead?: (done: number, total: number) => void,
): Promise<RewriteGroups> {
  const { items, hashes } = await readLive(sel, source, p.order === "similarity", onRead);
  const planned = planSuperChunks(items, { targetBytes: p.superChunkBytes, order: p.order });
  const groups = rewriteGroups(planned, sel, { items, hashes });
  const fetch = async (it: RewriteItem): Promise<Buffer> => {
    const sb = snap.subBlocks.get(it.id)!;
    const { raw } = await source.get(sb.superChunk);
    return raw.subarray(sb.offset, sb.offset + sb.length);
  };
  return { groups, fetch };
}

/** The planned groups of item indices as the rewrite items of `sel`'s live sub-blocks. */
export function rewriteGroups(
  planned: readonly Uint32Array[],
  sel: RepackSelection,
  live: { readonly items: readonly PlanItem[]; readonly hashes: readonly SubBlockHash[] },
): RewriteItem[][] {
  return planned.map((g) =>
    Array.from(g, (i) => {
      const sb = sel.live[i]!.sb;
      return { id: sb.id, hash: live.hashes[i]!, length: sb.length, dense: live.items[i]!.dense };
    }),
  );
}
