/**
 * Candidate pairs of similar sub-blocks by locality-sensitive hashing of their sketches.
 *
 * A sketch of W words is cut into bands of `rows` words; two sketches that agree on a whole
 * band land in the same bucket of that band. Each band's items are sorted by bucket key, and
 * each item is paired with the next `maxBucket` items of its bucket (all pairs in a small
 * bucket, a sliding window in a large one), so the cost stays O(n log n) per band even when
 * many sub-blocks share boilerplate. Every candidate pair is scored by its number of equal
 * sketch words.
 */

import { assert } from "../errors.js";
import { KeyOrder } from "./key-order.js";

/** Candidate edges: parallel arrays, a[i] < b[i], score[i] = equal sketch words. */
export interface CandidateEdges {
  readonly a: Uint32Array;
  readonly b: Uint32Array;
  readonly score: Uint16Array;
}

/** Tuning of the candidate search. */
export interface LshParams {
  /** Sketch words per band; default 1 (each word is a band: high recall, scored afterwards). */
  rows: number;
  /** Most neighbours an item is paired with inside one bucket; default 24. */
  maxBucket: number;
  /** Least number of equal sketch words for a pair to be kept; default 3. */
  minScore: number;
}

const EMPTY_WORD = 0xffffffff;

/** Sketches of n items, `words` words each, one after another in `data`. */
export interface FlatSketches {
  readonly data: Uint32Array;
  readonly words: number;
  readonly count: number;
}

/** `sketches` (all of one length) as one flat array. */
export function flattenSketches(sketches: readonly Uint32Array[]): FlatSketches {
  const words = sketches[0]?.length ?? 0;
  const data = new Uint32Array(sketches.length * words);
  sketches.forEach((s, i) => {
    data.set(s, i * words);
  });
  return { data, words, count: sketches.length };
}

/** Bucket key of one band of item i's sketch, or -1 when the band holds an empty word. */
function bandKey(sk: FlatSketches, i: number, band: number, rows: number): number {
  let h = Math.imul(band + 1, 0x9e3779b1);
  const base = i * sk.words;
  for (let r = band * rows; r < (band + 1) * rows; r++) {
    const w = sk.data[base + r]!;
    if (w === EMPTY_WORD) return -1;
    h = Math.imul(h ^ w, 0x85ebca6b);
    h ^= h >>> 13;
  }
  return h >>> 0;
}

/**
 * Item indices with a non-empty key in this band, sorted by (key, index), in `scratch`'s
 * items and keys (every band reuses them: at a million sub-blocks a band's arrays are
 * 13 MiB, and one set per band left to the collector made a transient of a hundred MiB and
 * more); the number of them.
 */
function bucketOrder(sk: FlatSketches, band: number, rows: number, scratch: KeyOrder): number {
  const { items, keys } = scratch;
  let m = 0;
  for (let i = 0; i < sk.count; i++) {
    const key = bandKey(sk, i, band, rows);
    if (key < 0) continue;
    items[m] = i;
    keys[m++] = key;
  }
  scratch.sort(m);
  return m;
}

/** Number of equal non-empty words of two sketches. */
export function equalWords(x: Uint32Array, y: Uint32Array): number {
  let same = 0;
  for (let i = 0; i < x.length; i++) if (x[i] === y[i] && x[i] !== EMPTY_WORD) same++;
  return same;
}

/** Number of equal non-empty words of the sketches of items i and j. */
function equalWordsAt(sk: FlatSketches, i: number, j: number): number {
  let same = 0;
  const a = i * sk.words;
  const b = j * sk.words;
  for (let k = 0; k < sk.words; k++) {
    const w = sk.data[a + k]!;
    if (w === sk.data[b + k] && w !== EMPTY_WORD) same++;
  }
  return same;
}

/** A growable list of pair keys (a * n + b, exact in a double while n < 2^26). */
class PairKeys {
  keys = new Float64Array(1024);
  length = 0;
  #distinctAt = 1024;

  push(key: number): void {
    if (this.length === this.keys.length) {
      const bigger = new Float64Array(this.keys.length * 2);
      bigger.set(this.keys);
      this.keys = bigger;
    }
    this.keys[this.length++] = key;
  }

  /** The distinct keys, ascending. */
  distinct(): Float64Array {
    const sorted = this.keys.subarray(0, this.length).sort();
    let m = 0;
    for (let k = 0; k < sorted.length; k++)
      if (m === 0 || sorted[k] !== sorted[m - 1]) sorted[m++] = sorted[k]!;
    this.length = m;
    return sorted.subarray(0, m);
  }

  /**
   * Drops repeated keys once the list has doubled since the last time: a pair of near
   * copies is found in most bands, and each band's repeats would otherwise be held until
   * the end (at a million sub-blocks, a hundred MiB and more).
   */
  compactSometimes(): void {
    if (this.length < 2 * this.#distinctAt) return;
    this.distinct();
    this.#distinctAt = Math.max(1024, this.length);
  }
}

/**
 * Adds the pairs of one band that reach `minScore` to `pairs`. Scoring a pair when a band
 * finds it, rather than once at the end, keeps only the pairs that can become edges: at a
 * million small files of source-like text, bands pair 12 million distinct sub-blocks that
 * share a common line or two, of which 240,000 reach the score, and holding them all as keys
 * was the plan's peak (a 128 MiB list and its copy while it doubled).
 */
function collectBand(
  sk: FlatSketches,
  band: number,
  p: Readonly<LshParams>,
  pairs: PairKeys,
  scratch: KeyOrder,
): void {
  const n = sk.count;
  const m = bucketOrder(sk, band, p.rows, scratch);
  const { items: order, keys } = scratch;
  for (let s = 0; s < m; s++) {
    const i = order[s]!;
    const end = Math.min(m, s + 1 + p.maxBucket);
    for (let t = s + 1; t < end; t++) {
      if (keys[t] !== keys[s]) break;
      const j = order[t]!;
      if (equalWordsAt(sk, i, j) >= p.minScore) pairs.push(i * n + j);
    }
  }
}

/** Candidate edges among `sketches` (all of the same length), scored and filtered. */
export function candidateEdges(
  sketches: readonly Uint32Array[],
  p: Readonly<LshParams>,
): CandidateEdges {
  return candidateEdgesFlat(flattenSketches(sketches), p);
}

/** candidateEdges over flat sketches (what pack holds). */
export function candidateEdgesFlat(sk: FlatSketches, p: Readonly<LshParams>): CandidateEdges {
  const n = sk.count;
  assert(n < 2 ** 26, "too many sub-blocks for one plan", { n });
  const pairs = new PairKeys();
  const scratch = new KeyOrder(n);
  for (let band = 0; band < Math.floor(sk.words / p.rows); band++) {
    collectBand(sk, band, p, pairs, scratch);
    pairs.compactSometimes();
  }
  const keys = pairs.distinct();
  const a = new Uint32Array(keys.length);
  const b = new Uint32Array(keys.length);
  const score = new Uint16Array(keys.length);
  keys.forEach((key, m) => {
    const i = Math.floor(key / n);
    a[m] = i;
    b[m] = key - i * n;
    score[m] = equalWordsAt(sk, i, b[m]!); // at least minScore: collectBand kept no other pair
  });
  return { a, b, score };
}
