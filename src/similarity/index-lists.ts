/**
 * Lists of indices in one flat array (compressed sparse rows): list k is
 * `items[start[k]] .. items[start[k + 1] - 1]`. How the planner holds clusters, groups and
 * runs, a few bytes per item, where an array per list would cost a hundred and more.
 */

export class IndexLists {
  /** `start` has count + 1 offsets into `items`. */
  constructor(
    readonly start: Uint32Array,
    readonly items: Uint32Array,
  ) {}

  get count(): number {
    return this.start.length - 1;
  }

  /** List k (a view). */
  at(k: number): Uint32Array {
    return this.items.subarray(this.start[k]!, this.start[k + 1]!);
  }

  /** The lists of `arrays`, in order. */
  static from(arrays: readonly (readonly number[] | Uint32Array)[]): IndexLists {
    const start = new Uint32Array(arrays.length + 1);
    arrays.forEach((a, k) => {
      start[k + 1] = start[k]! + a.length;
    });
    const items = new Uint32Array(start[arrays.length]!);
    arrays.forEach((a, k) => {
      items.set(a, start[k]!);
    });
    return new IndexLists(start, items);
  }

  /** Each list as an array. */
  toArrays(): number[][] {
    return Array.from({ length: this.count }, (_, k) => [...this.at(k)]);
  }
}

/** Builds IndexLists list by list without an array per list. */
export class IndexListsBuilder {
  #start: number[] = [0];
  #items: Uint32Array;
  #used = 0;

  constructor(capacity: number) {
    this.#items = new Uint32Array(Math.max(1, capacity));
  }

  push(i: number): void {
    if (this.#used === this.#items.length) {
      const bigger = new Uint32Array(this.#items.length * 2);
      bigger.set(this.#items);
      this.#items = bigger;
    }
    this.#items[this.#used++] = i;
  }

  /** Ends the current list (an empty one too). */
  close(): void {
    this.#start.push(this.#used);
  }

  /** Reverses the items of the list being built so far, from `from` (an items offset). */
  reverseFrom(from: number): void {
    this.#items.subarray(from, this.#used).reverse();
  }

  get used(): number {
    return this.#used;
  }

  done(): IndexLists {
    return new IndexLists(Uint32Array.from(this.#start), this.#items.slice(0, this.#used));
  }
}
