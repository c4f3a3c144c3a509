/**
 * The mutation fuzz's random numbers: a small seeded generator (mulberry32), so a seed and
 * a mutation's index always give the same damage, and a failing case can be replayed.
 */

/** A deterministic generator of 32-bit numbers and the choices the mutators make. */
export class Rng {
  #s: number;

  constructor(seed: number) {
    this.#s = seed >>> 0;
  }

  /** The generator of mutation `index` under `seed` (independent streams per index). */
  static forCase(seed: number, index: number): Rng {
    let h = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    return new Rng((h ^ (h >>> 16)) >>> 0);
  }

  /** A uniform 32-bit unsigned integer. */
  next(): number {
    this.#s = (this.#s + 0x6d2b79f5) >>> 0;
    let t = this.#s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in [0, n); n ≥ 1. */
  int(n: number): number {
    if (!(n >= 1)) throw new Error(`Rng.int: empty range ${n}`);
    return Math.floor((this.next() / 2 ** 32) * n);
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** One element of a non-empty list. */
  pick<T>(list: readonly T[]): T {
    if (list.length === 0) throw new Error("Rng.pick: empty list");
    return list[this.int(list.length)] as T;
  }

  /** Two different elements of a list of at least two. */
  pickTwo<T>(list: readonly T[]): [T, T] {
    const i = this.int(list.length);
    const j = (i + 1 + this.int(list.length - 1)) % list.length;
    return [list[i] as T, list[j] as T];
  }

  /** `n` random bytes. */
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.next() & 0xff;
    return b;
  }

  /** True with probability 1/2. */
  coin(): boolean {
    return (this.next() & 1) === 1;
  }
}
