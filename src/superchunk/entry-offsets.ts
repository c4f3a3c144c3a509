/** Where each sub-block of a super-chunk starts in its raw payload. */
import type { SuperChunkHeader } from "./superchunk-header.js";

/**
 * Cumulative offsets of the entries in the raw payload: `count + 1` values, entry `i`
 * spans [offsets[i], offsets[i + 1]) and the last value is `rawBytes`. Binary-search it
 * to find the entry holding a payload offset.
 */
export function entryOffsets(h: SuperChunkHeader): Float64Array {
  const offsets = new Float64Array(h.entries.length + 1);
  let pos = 0;
  for (let i = 0; i < h.entries.length; i++) {
    offsets[i] = pos;
    pos += h.entries[i]!.length;
  }
  offsets[h.entries.length] = pos;
  return offsets;
}
