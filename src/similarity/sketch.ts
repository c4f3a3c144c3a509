/**
 * Min-hash sketch of a sub-block's content, used to find sub-blocks worth compressing together.
 *
 * Features are content-anchored shingles: a gear rolling hash runs over the bytes, and every
 * position whose hash has its top `sampleBits` bits zero is an anchor (about one position in
 * 2^sampleBits). The feature of an anchor is the gear hash itself, a hash of the `shingleBytes`
 * bytes that end there. Anchors depend only on local content, so two versions of a region that
 * differ by a few edits share most of their features whatever their offsets.
 *
 * The sketch holds `words` min-hashes of the feature set. By default it is a one-permutation
 * min-hash (Li, Owen, Zhang 2012): each feature is mixed once, the mix picks its word (bin) and
 * each word keeps the least mix of its bin; a word whose bin got no feature stays EMPTY_WORD.
 * The "kmins" scheme (word i = least perm_i(f) over all features) costs `words` mixes a feature
 * and measured no better. The fraction of equal non-empty words of two sketches estimates the
 * Jaccard similarity of their feature sets.
 *
 * Sketches are never stored: they only steer the planner, so changing them changes no format.
 */

import { GEAR } from "../chunker/gear-table.js";
import { UsageError } from "../errors.js";

/** Number of 32-bit words in a sketch made by sketchSubBlock. */
export const SKETCH_WORDS = 32;

/** Tuning of the sketch. Every field changes the sketch, so stored sketches (if any) need it. */
export interface SketchParams {
  /** Number of min-hash words; default SKETCH_WORDS. */
  words: number;
  /** Length in bytes of a shingle: 16, 32 or 64; default 32. */
  shingleBytes: 16 | 32 | 64;
  /** log2 of the mean spacing of anchors; default 5 (one feature per 32 bytes). */
  sampleBits: number;
  /**
   * "kmins": word i is the minimum of its own permutation over all features (words × features
   * mixes); "oph": one-permutation hashing, each feature goes to one word (bin) chosen by its
   * hash and each word keeps the minimum of its bin (one mix per feature). Default "oph".
   */
  scheme: "kmins" | "oph";
}

/** The defaults of SketchParams, the ones sketchSubBlock uses. */
export const SKETCH_DEFAULTS: Readonly<SketchParams> = {
  words: SKETCH_WORDS,
  shingleBytes: 32,
  sampleBits: 5,
  scheme: "oph",
};

/** Value of an empty sketch word (a sub-block shorter than one shingle has no features). */
const EMPTY_WORD = 0xffffffff;

/** Most words a sketch may have. */
export const SKETCH_MAX_WORDS = 64;

/** Per-word keys of the "kmins" permutations. */
const KEYS: Uint32Array = makeKeys(SKETCH_MAX_WORDS);

function makeKeys(n: number): Uint32Array {
  const keys = new Uint32Array(n * 2);
  let x = 0x9e3779b9;
  for (let i = 0; i < keys.length; i++) {
    x = (x + 0x6d2b79f5) | 0;
    let t = Math.imul(x ^ (x >>> 15), x | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    keys[i] = (t ^ (t >>> 14)) | 1;
  }
  return keys;
}

/** murmur3 finaliser: a bijective 32-bit mix. */
function fmix32(h: number): number {
  let x = h ^ (h >>> 16);
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** One-permutation hashing: the feature's hash goes to one bin and competes only there. */
function addFeatureOph(sketch: Uint32Array, feature: number): void {
  const x = fmix32(feature ^ 0x5bd1e995);
  const bin = Math.floor((x / 0x100000000) * sketch.length);
  const v = Math.imul(x, 0x2c1b3c6d) >>> 0;
  if (v < sketch[bin]!) sketch[bin] = v;
}

/** Folds one feature into the running minima of all words (k independent permutations). */
function addFeatureKmins(sketch: Uint32Array, feature: number): void {
  const x = fmix32(feature);
  for (let i = 0; i < sketch.length; i++) {
    let v = Math.imul(x ^ KEYS[2 * i]!, KEYS[2 * i + 1]!);
    v = (v ^ (v >>> 15)) >>> 0;
    if (v < sketch[i]!) sketch[i] = v;
  }
}

type AddFeature = (sketch: Uint32Array, feature: number) => void;

/** Features of 16- or 32-byte shingles: the gear hash itself at each anchor. */
function scanShort(
  data: Uint8Array,
  shift: number,
  topMask: number,
  sk: Uint32Array,
  add: AddFeature,
) {
  const warm = Math.min(data.length, 32 / shift - 1);
  let h = 0;
  for (let i = 0; i < warm; i++) h = ((h << shift) + GEAR[data[i]!]!) | 0;
  for (let i = warm; i < data.length; i++) {
    h = ((h << shift) + GEAR[data[i]!]!) | 0;
    if ((h & topMask) === 0) add(sk, h);
  }
}

/** Features of 64-byte shingles: the gear hash at the anchor mixed with the one 32 bytes back. */
function scanLong(data: Uint8Array, topMask: number, sk: Uint32Array, add: AddFeature) {
  const ring = new Int32Array(32);
  let h = 0;
  for (let i = 0; i < data.length; i++) {
    h = ((h << 1) + GEAR[data[i]!]!) | 0;
    const back = ring[(i + 1) & 31]!;
    ring[i & 31] = h;
    if (i >= 63 && (h & topMask) === 0) add(sk, h ^ Math.imul(back, 0x27d4eb2f));
  }
}

function checkParams(p: Readonly<SketchParams>): void {
  const ok =
    Number.isInteger(p.words) &&
    p.words >= 1 &&
    p.words <= SKETCH_MAX_WORDS &&
    (p.shingleBytes === 16 || p.shingleBytes === 32 || p.shingleBytes === 64) &&
    Number.isInteger(p.sampleBits) &&
    p.sampleBits >= 0 &&
    p.sampleBits <= 16 &&
    (p.scheme === "oph" || p.scheme === "kmins");
  if (!ok) throw new UsageError("E_USAGE", "invalid sketch params", { ...p });
}

/**
 * Sketch of `data` with explicit tuning (the similarity lab compares settings with it).
 * Pure and deterministic: the same bytes and params always give the same words.
 */
export function sketchWith(data: Uint8Array, params: Readonly<SketchParams>): Uint32Array {
  checkParams(params);
  const sketch = new Uint32Array(params.words).fill(EMPTY_WORD);
  const add = params.scheme === "oph" ? addFeatureOph : addFeatureKmins;
  const topMask = ~(0xffffffff >>> params.sampleBits);
  if (params.shingleBytes === 64) scanLong(data, topMask, sketch, add);
  else scanShort(data, params.shingleBytes === 16 ? 2 : 1, topMask, sketch, add);
  return sketch;
}

/**
 * Min-hash sketch of a sub-block's content, SKETCH_WORDS words. Pure, deterministic.
 * @example
 * const a = sketchSubBlock(v1), b = sketchSubBlock(v2);
 * const similar = sketchAgreement(a, b) > 0.5;
 */
export function sketchSubBlock(data: Uint8Array): Uint32Array {
  return sketchWith(data, SKETCH_DEFAULTS);
}

/** Fraction of equal words of two sketches of the same length (an estimate of Jaccard similarity). */
export function sketchAgreement(a: Uint32Array, b: Uint32Array): number {
  const n = Math.min(a.length, b.length);
  if (n === 0) return 0;
  let same = 0;
  for (let i = 0; i < n; i++) if (a[i] === b[i] && a[i] !== EMPTY_WORD) same++;
  return same / n;
}
