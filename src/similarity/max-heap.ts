/**
 * A binary max-heap of (priority, a, b) triples, ties broken by smaller (a, b) so that the
 * order of pops is deterministic.
 */

/** Max-heap of weighted pairs. */
export class PairMaxHeap {
  private readonly w: number[] = [];
  private readonly a: number[] = [];
  private readonly b: number[] = [];

  get size(): number {
    return this.w.length;
  }

  push(weight: number, a: number, b: number): void {
    this.w.push(weight);
    this.a.push(a);
    this.b.push(b);
    this.up(this.w.length - 1);
  }

  /** Removes and returns the top triple, or undefined when empty. */
  pop(): [number, number, number] | undefined {
    if (this.w.length === 0) return undefined;
    const top: [number, number, number] = [this.w[0]!, this.a[0]!, this.b[0]!];
    const last = this.w.length - 1;
    this.move(last, 0);
    this.w.pop();
    this.a.pop();
    this.b.pop();
    if (this.w.length > 0) this.down(0);
    return top;
  }

  /** True when entry i should sit above entry j. */
  private above(i: number, j: number): boolean {
    const wi = this.w[i]!;
    const wj = this.w[j]!;
    if (wi !== wj) return wi > wj;
    const ai = this.a[i]!;
    const aj = this.a[j]!;
    return ai !== aj ? ai < aj : this.b[i]! < this.b[j]!;
  }

  private move(from: number, to: number): void {
    this.w[to] = this.w[from]!;
    this.a[to] = this.a[from]!;
    this.b[to] = this.b[from]!;
  }

  private swap(i: number, j: number): void {
    [this.w[i], this.w[j]] = [this.w[j]!, this.w[i]!];
    [this.a[i], this.a[j]] = [this.a[j]!, this.a[i]!];
    [this.b[i], this.b[j]] = [this.b[j]!, this.b[i]!];
  }

  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.above(i, p)) return;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    const n = this.w.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.above(l, m)) m = l;
      if (r < n && this.above(r, m)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
}
