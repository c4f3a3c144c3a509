/**
 * A typed array that grows by doubling: how pack keeps per-file and per-sub-block state
 * as flat columns (a few bytes a row) instead of an object per row.
 */

type Typed = Float64Array | Int32Array | Uint32Array | Uint8Array | BigInt64Array;

/** One growable column; `a` is the backing array (longer than what is used). */
export class Column<T extends Typed> {
  constructor(public a: T) {}

  /** Makes room for indices below `n`. */
  ensure(n: number): void {
    if (n <= this.a.length) return;
    let len = this.a.length * 2;
    while (len < n) len *= 2;
    const bigger = new (this.a.constructor as new (n: number) => T)(len);
    bigger.set(this.a as never);
    this.a = bigger;
  }

  put(i: number, v: T[number]): void {
    if (i >= this.a.length) this.ensure(i + 1);
    this.a[i] = v;
  }
}
