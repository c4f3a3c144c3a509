/**
 * A small seeded pseudo-random generator (mulberry32), so every tool in the benchmark
 * reads exactly the same offsets in the same order.
 */

/** Returns a function yielding uniform floats in [0, 1), fully determined by `seed`. */
export function createPrng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniform integer in [0, bound) drawn from `next`; `bound` must be a positive integer. */
export function randomBelow(next: () => number, bound: number): number {
  return Math.floor(next() * bound);
}
