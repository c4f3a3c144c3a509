/**
 * Read planning: which super-chunks a byte range of a content needs, in file order, and
 * how many leading bytes of each (a working-set load may inflate only a prefix). What
 * prefetching and `superChunksFor` ask before anything is read.
 */
import { findExtent } from "../meta/extent-search.js";
import type { ExtentTable } from "./extent-table.js";

/** What a plan collects into, and what it leaves out. */
export interface PlanInto {
  /** super-chunk ids collected, in file order */
  readonly ids: number[];
  /** leading bytes of each super-chunk the range reaches */
  readonly needs: Map<number, number>;
  /** `ids` holds at most this many */
  readonly max: number;
  /** when given, super-chunks for which it answers true are left out of `ids` */
  readonly have?: (id: number, needBytes: number) => boolean;
  /** super-chunks left out entirely */
  readonly skip?: ReadonlyMap<number, number>;
}

/**
 * Appends to `into.ids` the super-chunks of extents overlapping [from, to) that are not in
 * `needs` or `skip`, until `ids` holds `max`, and records in `needs` how many leading bytes
 * of each those extents reach. Super-chunks `have` accepts are left out (and do not count
 * against `max`).
 */
export function planRange(t: ExtentTable, from: number, to: number, into: PlanInto): void {
  const { ids, needs, max, have, skip } = into;
  const end = Math.min(t.size, to);
  if (from >= end) return;
  for (let i = findExtent(t.starts, from); i < t.extents.length; i++) {
    const e = t.extents[i]!;
    if (e.fileOffset >= end) break;
    const id = e.superChunk;
    if (id === null || skip?.has(id)) continue;
    const need = e.offset + e.length;
    const known = needs.get(id);
    if (known !== undefined) {
      if (need > known) needs.set(id, need);
      continue;
    }
    if (ids.length >= max) break;
    needs.set(id, need);
    if (have === undefined || !have(id, need)) ids.push(id);
  }
  if (have !== undefined) {
    const missing = ids.filter((id) => !have(id, needs.get(id) ?? 0));
    ids.splice(0, ids.length, ...missing);
  }
}
