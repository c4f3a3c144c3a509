/**
 * The one search for the extent holding a file offset: binary search over the extents'
 * cumulative start offsets (restic's cumsize). The read path keeps the starts of each
 * content it reads (reader/extent-table.ts); the database's findExtent uses it too.
 */

/**
 * Index of the extent holding `offset`: the last start ≤ offset (0 when `starts` is empty
 * or `offset` lies before the first start; the caller checks the extent's end).
 */
export function findExtent(starts: Float64Array, offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
