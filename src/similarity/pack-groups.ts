/**
 * Cuts a sequence of runs (clusters of item indices, already in layout order) into groups of at
 * most `targetBytes` raw bytes, one group per super-chunk. A run that does not fit in the
 * current group closes it early when the group is already `minFill` full, so that the run stays
 * whole in the next group; otherwise the run is split across the boundary. An item larger than
 * `targetBytes` is always alone in its group.
 */

import { IndexLists } from "./index-lists.js";

/** Accumulates items into groups bounded by bytes. */
class GroupCutter {
  readonly groups: Uint32Array[] = [];
  private current: number[] = [];
  private bytes = 0;

  constructor(
    private readonly lengths: ArrayLike<number>,
    readonly targetBytes: number,
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

function runBytes(run: Uint32Array, lengths: ArrayLike<number>): number {
  let sum = 0;
  for (const i of run) sum += lengths[i]!;
  return sum;
}

/**
 * Groups runs of items into super-chunks of at most `targetBytes` (an oversized item alone).
 * @param minFill fraction of targetBytes above which a group is closed rather than a run split.
 */
export function packRuns(
  runs: readonly (readonly number[])[] | IndexLists,
  lengths: ArrayLike<number>,
  targetBytes: number,
  minFill: number,
): Uint32Array[] {
  const lists = runs instanceof IndexLists ? runs : IndexLists.from(runs);
  const cut = new GroupCutter(lengths, targetBytes);
  for (let k = 0; k < lists.count; k++) {
    const run = lists.at(k);
    const size = runBytes(run, lengths);
    const fits = cut.filled + size <= targetBytes;
    if (!fits && size <= targetBytes && cut.filled >= minFill * targetBytes) cut.close();
    for (const item of run) cut.add(item);
  }
  cut.close();
  return cut.groups;
}

/** Items 0..n-1 in index order, cut every targetBytes: packRuns of one run per item. */
export function packInOrder(lengths: ArrayLike<number>, targetBytes: number): Uint32Array[] {
  const cut = new GroupCutter(lengths, targetBytes);
  for (let i = 0; i < lengths.length; i++) cut.add(i);
  cut.close();
  return cut.groups;
}
