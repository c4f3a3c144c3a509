/**
 * similarity/: the order in which unique sub-blocks enter super-chunks.
 *
 * A super-chunk is compressed as one unit, so the compression ratio of a store depends on
 * which sub-blocks share a super-chunk. The planner takes one small record per unique
 * sub-block (raw length, min-hash sketch, first path and offset) and returns groups of item
 * indices, one group per super-chunk:
 *
 * - "path": walk order, cut every targetBytes;
 * - "similarity":
 *   1. candidates: LSH over the sketches pairs sub-blocks that share content, each pair scored
 *      by equal sketch words (sketch.ts, lsh-candidates.ts);
 *   2. clusters: capped single-linkage joins the best pairs first into clusters of at most
 *      clusterCapFraction × targetBytes, typically the versions and copies of one region of a
 *      file (cluster.ts);
 *   3. groups: clusters are joined by the bytes they share (plus a little for sub-blocks that
 *      follow each other in a file) into groups of at most targetBytes, heaviest link first
 *      (merge-clusters.ts): greedy graph partitioning, since content split across two
 *      super-chunks is coded twice;
 *   4. layout: groups in the walk order of their last sub-block, so that what the last tree
 *      walked (the newest release) holds comes in its own file order; each group laid out
 *      backwards, newest first (layout.ts); groups are never split, small neighbours share a
 *      super-chunk when they fit (pack-groups.ts), dense items (already compressed, see
 *      codec/dense.ts) with dense items only.
 *
 * See spec/FORMAT.md for the measurements behind the defaults. Everything here is
 * pure, single-threaded and deterministic; the cost is O(n log n) in the number of sub-blocks,
 * and only the sketches and a few numbers per sub-block are kept in memory.
 */

import { UsageError } from "../errors.js";
import { clusterList } from "./cluster.js";
import { IndexLists } from "./index-lists.js";
import { type LayoutParams, layoutGroups } from "./layout.js";
import {
  candidateEdgesFlat,
  type FlatSketches,
  flattenSketches,
  type LshParams,
} from "./lsh-candidates.js";
import { type FileNeighbours, mergeClusters } from "./merge-clusters.js";
import { packInOrder, packRuns } from "./pack-groups.js";

/** One unique sub-block, as the planner sees it. */
export interface PlanItem {
  /** raw length */
  length: number;
  /** min-hash sketch (sketchSubBlock); all items of one plan have sketches of one length */
  sketch: Uint32Array;
  /** path of the first file holding it, relative to the source root, as a string (may be lossy) */
  path: string;
  /** offset of the sub-block in that file */
  fileOffset: number;
  /**
   * Walk rank of the last file that uses the sub-block (files are ranked in walk order);
   * defaults to the item's index. Inside each super-chunk, items are laid out by this rank,
   * most recent first, so a reader of the last tree walked needs only a prefix.
   */
  lastUse?: number;
  /** true when the item looks already compressed (codec/dense.ts): it gets a group of dense items */
  dense?: boolean;
}

/** What the caller chooses. */
export interface PlanOptions {
  /** Most raw bytes in one group (super-chunk); a single larger item is alone. */
  targetBytes: number;
  /** "similarity" (default of the engine) or "path" (walk order). */
  order: "similarity" | "path";
}

/** Tuning of the similarity order; the defaults are SIMILARITY_DEFAULTS. */
export interface SimilarityTuning extends LshParams, LayoutParams {
  /** Largest first-level cluster, as a fraction of targetBytes; default 0.5. */
  clusterCapFraction: number;
  /** Second level: join clusters into groups of up to targetBytes by shared bytes; default true. */
  merge: boolean;
  /** Weight per byte of the link between consecutive sub-blocks of one file; default 0.05. */
  fileNeighbourWeight: number;
  /**
   * Fraction of targetBytes from which a group is closed rather than a run (a planned group)
   * split across two super-chunks; default 0: runs are never split.
   */
  minFill: number;
  /** Lay out each super-chunk most recently used first (see PlanItem.lastUse); default true. */
  recentFirst: boolean;
}

/** Defaults chosen with scripts/similarity-lab.ts (see spec/FORMAT.md). */
export const SIMILARITY_DEFAULTS: Readonly<SimilarityTuning> = {
  rows: 1,
  maxBucket: 24,
  minScore: 3,
  clusterCapFraction: 0.5,
  merge: true,
  fileNeighbourWeight: 0.05,
  minFill: 0,
  recentFirst: true,
  memberOrder: "reverse",
  clusterKey: "last",
};

function checkOptions(items: readonly PlanItem[], opts: PlanOptions): void {
  if (!Number.isSafeInteger(opts.targetBytes) || opts.targetBytes <= 0) {
    throw new UsageError("E_USAGE", "targetBytes must be a positive integer", { ...opts });
  }
  if (opts.order !== "similarity" && opts.order !== "path") {
    throw new UsageError("E_USAGE", `unknown plan order ${String(opts.order)}`, { ...opts });
  }
  const words = items[0]?.sketch.length ?? 0;
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    if (!Number.isSafeInteger(it.length) || it.length < 0 || it.sketch.length !== words) {
      throw new UsageError("E_USAGE", "bad plan item", { index: i, length: it.length });
    }
  }
}

/**
 * Groups item indices into super-chunks: each group's total length ≤ targetBytes (a single
 * item larger than targetBytes is alone). Items are given in path order (the order the walker
 * met them). Every index appears exactly once; a group holds dense items only or none.
 * @throws UsageError E_USAGE on a non-positive targetBytes, an unknown order or a bad item.
 * @example
 * const groups = planSuperChunks(items, { targetBytes: SUPERCHUNK_TARGET_BYTES, order: "similarity" });
 * for (const g of groups) builder.freeze(g.map((i) => subBlocks[i]));
 */
export function planSuperChunks(items: readonly PlanItem[], opts: PlanOptions): Uint32Array[] {
  return planWith(items, opts, SIMILARITY_DEFAULTS);
}

/** planSuperChunks with explicit tuning (the similarity lab compares settings with it). */
export function planWith(
  items: readonly PlanItem[],
  opts: PlanOptions,
  tuning: Readonly<SimilarityTuning>,
): Uint32Array[] {
  checkOptions(items, opts);
  const sameFile = new Uint8Array(items.length);
  for (let i = 0; i + 1 < items.length; i++) {
    const a = items[i]!;
    const b = items[i + 1]!;
    if (a.path === b.path && b.fileOffset === a.fileOffset + a.length) sameFile[i] = 1;
  }
  const cols: PlanColumns = {
    lengths: items.map((it) => it.length),
    sketches: flattenSketches(items.map((it) => it.sketch)),
    sameFile,
    lastUse: items.map((it, i) => it.lastUse ?? i),
    dense: items.some((it) => it.dense)
      ? Uint8Array.from(items, (it) => (it.dense ? 1 : 0))
      : undefined,
  };
  return planColumnsWith(cols, opts, tuning);
}

/**
 * The plan's input as flat columns, one row per unique sub-block in path order: what pack
 * holds (a few bytes per sub-block besides the sketch), where PlanItem is an object each.
 */
export interface PlanColumns {
  /** raw length of each item */
  readonly lengths: ArrayLike<number>;
  /** min-hash sketches, one per item */
  readonly sketches: FlatSketches;
  /** sameFile[i] = 1 when item i + 1 continues, in the same file, where item i ends */
  readonly sameFile?: Uint8Array;
  /** walk rank of the last file using each item (see PlanItem.lastUse); default the index */
  readonly lastUse?: ArrayLike<number>;
  /** 1 for each item that looks already compressed: those get groups of their own */
  readonly dense?: ArrayLike<number>;
  /**
   * Called once the sketches are no longer read (after the candidate pairs), so the caller
   * can free them before the clusters and groups are built
   */
  readonly releaseSketches?: () => void;
}

/** planSuperChunks over flat columns; the same groups as planSuperChunks of the same items. */
export function planColumns(cols: PlanColumns, opts: PlanOptions): Uint32Array[] {
  checkColumns(cols, opts);
  return planColumnsWith(cols, opts, SIMILARITY_DEFAULTS);
}

function checkColumns(cols: PlanColumns, opts: PlanOptions): void {
  checkOptions([], opts);
  const n = cols.lengths.length;
  if (cols.sketches.count !== n || cols.sketches.data.length < n * cols.sketches.words)
    throw new UsageError("E_USAGE", "plan columns of different lengths", { n });
  for (let i = 0; i < n; i++) {
    const len = cols.lengths[i]!;
    if (!Number.isSafeInteger(len) || len < 0)
      throw new UsageError("E_USAGE", "bad plan item", { index: i, length: len });
  }
}

function planColumnsWith(
  cols: PlanColumns,
  opts: PlanOptions,
  tuning: Readonly<SimilarityTuning>,
): Uint32Array[] {
  const { lengths } = cols;
  if (opts.order === "path") return packInOrder(lengths, opts.targetBytes, cols.dense);
  const runs = similarityRuns(cols, opts.targetBytes, tuning);
  const groups = packRuns(runs, lengths, opts.targetBytes, tuning.minFill, cols.dense);
  return tuning.recentFirst ? groups.map((g) => recentFirst(g, cols.lastUse)) : groups;
}

/**
 * A super-chunk's items most recently used first (by lastUse, then index, both descending):
 * what the newest tree needs sits at the front, so a reader of it inflates only a prefix.
 */
function recentFirst(group: Uint32Array, lastUse: ArrayLike<number> | undefined): Uint32Array {
  const rank = (i: number) => lastUse?.[i] ?? i;
  return Uint32Array.from(group).sort((a, b) => rank(b) - rank(a) || b - a);
}

/** The similarity order as runs: one run per planned group, in layout order. */
function similarityRuns(
  cols: PlanColumns,
  targetBytes: number,
  tuning: Readonly<SimilarityTuning>,
): IndexLists {
  const { lengths } = cols;
  const words = cols.sketches.count > 0 ? cols.sketches.words : 1;
  const edges = candidateEdgesFlat(cols.sketches, tuning);
  cols.releaseSketches?.();
  const cap = Math.max(1, Math.floor(tuning.clusterCapFraction * targetBytes));
  const clusters = clusterList(lengths, edges, cap);
  const neighbours: FileNeighbours | undefined =
    tuning.fileNeighbourWeight > 0 && cols.sameFile !== undefined
      ? { sameFile: cols.sameFile, weightPerByte: tuning.fileNeighbourWeight }
      : undefined;
  const groups = tuning.merge
    ? mergeClusters(clusters, lengths, edges, words, targetBytes, neighbours)
    : new IndexLists(
        Uint32Array.from({ length: clusters.count + 1 }, (_, k) => k),
        Uint32Array.from({ length: clusters.count }, (_, k) => k),
      );
  return layoutGroups(clusters, groups, tuning);
}
