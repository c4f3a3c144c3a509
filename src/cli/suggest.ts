/**
 * "Did you mean …?": the nearest of a list of known words (commands, options, values) to a
 * word the user typed, or nothing when none is near enough to be a likely typo. The only
 * importer of fastest-levenshtein.
 */
import { distance } from "fastest-levenshtein";

/** Edits beyond which a word is not offered as a correction. */
const MAX_EDITS = 3;
/** Share of the longer word that must survive the edits (as commander.js judges typos). */
const MIN_SIMILARITY = 0.4;

/**
 * The candidate nearest to `typed` by edit distance, when it is a likely typo of it
 * (at most 3 edits, and more than 40 % of the longer word unchanged); else undefined.
 * @example nearest("mout", ["mount", "umount", "pack"]) // "mount"
 */
export function nearest(typed: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestEdits = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const edits = distance(typed.toLowerCase(), c.toLowerCase());
    const longer = Math.max(typed.length, c.length);
    if (edits > MAX_EDITS || (longer - edits) / longer <= MIN_SIMILARITY) continue;
    if (edits < bestEdits) {
      best = c;
      bestEdits = edits;
    }
  }
  return best;
}

/** " (did you mean X?)" when a candidate is near `typed`, else "". */
export function didYouMean(typed: string, candidates: readonly string[]): string {
  const n = nearest(typed, candidates);
  return n === undefined ? "" : ` (did you mean ${n}?)`;
}
