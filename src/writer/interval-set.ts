/** A set of disjoint half-open byte ranges [start, end): the written parts of a staging file. */

/** One piece of a range split by an IntervalSet: inside the set (`inSet`) or not. */
export interface Segment {
  readonly start: number;
  readonly end: number;
  readonly inSet: boolean;
}

/** Sorted, merged, disjoint ranges. */
export class IntervalSet {
  /** starts and ends, interleaved: [s0, e0, s1, e1, ...], sorted, never touching */
  #r: number[] = [];

  get isEmpty(): boolean {
    return this.#r.length === 0;
  }

  /** Adds [start, end), merging with ranges it overlaps or touches. */
  add(start: number, end: number): void {
    if (end <= start) return;
    const r = this.#r;
    let i = 0;
    while (i < r.length && r[i + 1]! < start) i += 2;
    let j = i;
    let s = start;
    let e = end;
    while (j < r.length && r[j]! <= end) {
      s = Math.min(s, r[j]!);
      e = Math.max(e, r[j + 1]!);
      j += 2;
    }
    r.splice(i, j - i, s, e);
  }

  /** Drops everything at or after `size`. */
  clip(size: number): void {
    const r = this.#r;
    while (r.length > 0 && r[r.length - 2]! >= size) r.length -= 2;
    if (r.length > 0 && r[r.length - 1]! > size) r[r.length - 1] = size;
  }

  clear(): void {
    this.#r = [];
  }

  /** [start, end) cut into consecutive segments, each wholly inside or outside the set. */
  segments(start: number, end: number): Segment[] {
    const out: Segment[] = [];
    const r = this.#r;
    let pos = start;
    for (let i = 0; i < r.length && pos < end; i += 2) {
      const s = r[i]!;
      const e = r[i + 1]!;
      if (e <= pos) continue;
      if (s >= end) break;
      if (s > pos) out.push({ start: pos, end: s, inSet: false });
      const to = Math.min(e, end);
      out.push({ start: Math.max(s, pos), end: to, inSet: true });
      pos = to;
    }
    if (pos < end) out.push({ start: pos, end, inSet: false });
    return out;
  }
}
