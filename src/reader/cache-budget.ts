/**
 * How a reader's cache budget (`mount --cache-size`) is shared: inflated super-chunks get what
 * the database image and the caches that grow with the tree leave, so a mount's memory stays
 * within the budget plus the program itself.
 */

/**
 * What a reader's cache budget leaves for inflated super-chunks: the database image (held in
 * memory when the store is packed) and the caches that grow with the tree beside it (inodes,
 * directory listings, in JS and in the FUSE binding, and SQLite's own caches: about twice the
 * image again, IMAGE_FACTOR in all), plus
 * CACHE_SLACK_BYTES for loads in flight, come out of it first; at least a quarter stays, and
 * at least MIN_SHARE_BYTES (a working set smaller than a few super-chunks reloads them
 * again and again).
 */
export function workingSetShare(cacheBytes: number, imageBytes: number): number {
  const rest = cacheBytes - Math.ceil(imageBytes * IMAGE_FACTOR) - CACHE_SLACK_BYTES;
  return Math.max(Math.min(cacheBytes, MIN_SHARE_BYTES), Math.floor(cacheBytes / 4), rest);
}

/**
 * What the database image costs a mount in all, as a multiple of its size: the image, and
 * what grows with the tree beside it. Measured by cold tars of kernel trees (5.76 MiB of
 * resident memory outside the working set per MiB of image between a 15 MiB and a 25 MiB
 * image, part of it the JS heap, which the slack below covers).
 */
export const IMAGE_FACTOR = 3;

/**
 * Room in a reader's cache budget kept for what is not a super-chunk nor the database: loads
 * in flight, the binding's listings (at most 32 MiB) and preloaded files (at most 16 MiB),
 * and the JS heap and buffers a serving mount allocates between collections. Measured on a
 * cold tar of a 1.4 GB kernel tree (10 MiB database): with 64 MiB here the mount peaked at
 * 670-690 MiB for a 512 MiB budget; with 160 MiB (and the heap trimmed while serving) at
 * 579-583 MiB, within the budget plus 100 MiB for the program itself.
 */
export const CACHE_SLACK_BYTES = 160 * 1024 * 1024;

/** The least a working set keeps of a budget that large. */
export const MIN_SHARE_BYTES = 32 * 1024 * 1024;
