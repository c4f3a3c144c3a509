/**
 * Cuts a sequence of runs (clusters of item indices, already in layout order) into groups of at
 * most `targetBytes` raw bytes, one group per super-chunk. A run that does not fit in the
 * current group closes it early when the group is already `minFill` full, so that the run stays
 * whole in the next group; otherwise the run is split across the boundary. An item larger than
 * `targetBytes` is always alone in its group. Given a `dense` column (codec/dense.ts), dense
 * and other items never share a group: each kind is cut on its own, in the same order, so
 * a super-chunk of dense items can be compressed at the codec's dense level.
 */

import { IndexLists } from "./index-lists.js";

/** Accumulates items into groups bounded by bytes. */
class GroupCutter {
  private current: number[] = [];
  private bytes = 0;

  constructor(
    private readonly lengths: ArrayLike<number>,
    readonly targetBytes: number,
    /** where closed groups go (shared by the cutters of both kinds) */
    readonly groups: Uint32Array[] = [],
  ) {}

  get filled(): number {
    return this.bytes;
  }

  close(): void {
    if (this.current.length > 0) this.groups.push(Uint32Array.from(this.current));
    this.current = [];
    this.bytes = 0;
  }

  /** Adds one item, closing the current group first when the item does not fit. */
  add(item: number): void {
    const len = this.lengths[item]!;
    if (this.bytes + len > this.targetBytes) this.close();
    this.current.push(item);
    this.bytes += len;
    if (len > this.targetBytes) this.close();
  }
}

/** One cutter per kind of item (0: other, 1: dense), closing into one list of groups. */
class KindCutters {
  readonly groups: Uint32Array[] = [];
  readonly #cutters: [GroupCutter, GroupCutter];

  constructor(
    lengths: ArrayLike<number>,
    targetBytes: number,
    readonly dense: ArrayLike<number> | undefined,
  ) {
    this.#cutters = [
      new GroupCutter(lengths, targetBytes, this.groups),
      new GroupCutter(lengths, targetBytes, this.groups),
    ];
  }

  kindOf(item: number): 0 | 1 {
    return this.dense?.[item] === 1 ? 1 : 0;
  }

  cutter(kind: 0 | 1): GroupCutter {
    return this.#cutters[kind];
  }

  close(): void {
    for (const c of this.#cutters) c.close();
  }
}

/** Raw bytes of `run`'s items of each kind. */
function runBytes(run: Uint32Array, lengths: ArrayLike<number>, cut: KindCutters): number[] {
  const sum = [0, 0];
  for (const i of run) sum[cut.kindOf(i)]! += lengths[i]!;
  return sum;
}

/**
 * Groups runs of items into super-chunks of at most `targetBytes` (an oversized item alone).
 * @param minFill fraction of targetBytes above which a group is closed rather than a run split.
 * @param dense 1 for each dense item: those are cut into groups of their own.
 */
export function packRuns(
  runs: readonly (readonly number[])[] | IndexLists,
  lengths: ArrayLike<number>,
  targetBytes: number,
  minFill: number,
  dense?: ArrayLike<number>,
): Uint32Array[] {
  const lists = runs instanceof IndexLists ? runs : IndexLists.from(runs);
  const cuts = new KindCutters(lengths, targetBytes, dense);
  for (let k = 0; k < lists.count; k++) {
    const run = lists.at(k);
    const sizes = runBytes(run, lengths, cuts);
    for (const kind of [0, 1] as const) {
      const cut = cuts.cutter(kind);
      const size = sizes[kind]!;
      if (size === 0) continue;
      const fits = cut.filled + size <= targetBytes;
      if (!fits && size <= targetBytes && cut.filled >= minFill * targetBytes) cut.close();
    }
    for (const item of run) cuts.cutter(cuts.kindOf(item)).add(item);
  }
  cuts.close();
  return cuts.groups;
}

/** Items 0..n-1 in index order, cut every targetBytes: packRuns of one run per item. */
export function packInOrder(
  lengths: ArrayLike<number>,
  targetBytes: number,
  dense?: ArrayLike<number>,
): Uint32Array[] {
  const cuts = new KindCutters(lengths, targetBytes, dense);
  for (let i = 0; i < lengths.length; i++) cuts.cutter(cuts.kindOf(i)).add(i);
  cuts.close();
  return cuts.groups;
}
