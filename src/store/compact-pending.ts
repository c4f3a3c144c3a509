/**
 * Which frozen super-chunks still wait for compaction: those a writer froze at its fast
 * level, in the order files were written (spec/FORMAT.md, "Compaction"). Recorded in the
 * `meta` table under `compact_pending` as id ranges, `"3-40,44,47-52"`; this file is the
 * only reader and writer of that key. An id without a `superchunks` row is ignored (a repack
 * or a reap retired it), so the list never has to be exact, only a superset.
 */
import type { MetaDb } from "../meta/meta-db.js";

/** The `meta` key. On disk: never rename. */
const KEY = "compact_pending";

/** Ids listed as waiting for compaction, ascending (rows may be gone). */
export function readCompactPending(meta: MetaDb): number[] {
  return parseRanges(meta.getMeta(KEY) ?? "");
}

/** Adds `id` to the list; run inside the transaction that freezes it. */
export function markCompactPending(meta: MetaDb, id: number): void {
  const ids = readCompactPending(meta);
  if (ids.includes(id)) return;
  ids.push(id);
  meta.setMeta(KEY, formatRanges(ids));
}

/** Replaces the list with `ids` (after a compaction: what is still waiting). */
export function writeCompactPending(meta: MetaDb, ids: Iterable<number>): void {
  meta.setMeta(KEY, formatRanges([...ids]));
}

/** `"3-5,9"` → [3, 4, 5, 9]; malformed parts are skipped (the list is only advice). */
export function parseRanges(text: string): number[] {
  const out = new Set<number>();
  for (const part of text.split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (m === null) continue;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    for (let i = a; i <= b && i - a < 1e7; i++) out.add(i);
  }
  return [...out].sort((x, y) => x - y);
}

/** [3, 4, 5, 9] → `"3-5,9"`. */
export function formatRanges(ids: readonly number[]): string {
  const sorted = [...new Set(ids)].sort((x, y) => x - y);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}
