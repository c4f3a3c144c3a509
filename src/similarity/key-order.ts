/**
 * Sorting item indices by a 32-bit key without a comparator: a stable least-significant-digit
 * radix sort over four 8-bit digits, in scratch arrays a caller allocates once and reuses.
 * Items that come in ascending come out by (key, item), as a comparator sort on (key, item)
 * would put them. The candidate search sorts every LSH band this way: a typed array sorted
 * with a comparator is copied into two heap arrays (at a million sub-blocks, 7 MiB a band),
 * left to the collector, and takes several times longer.
 */

const DIGIT_BITS = 8;
const DIGITS = 1 << DIGIT_BITS;
const DIGIT_MASK = DIGITS - 1;

/** Room to sort up to `capacity` items; `items` and `keys` are where the caller puts them. */
export class KeyOrder {
  /** the items to sort, then sorted: the first `m` of them */
  readonly items: Uint32Array;
  /** the key of each entry of `items`, moved with it */
  readonly keys: Uint32Array;
  readonly #items2: Uint32Array;
  readonly #keys2: Uint32Array;
  readonly #count = new Uint32Array(DIGITS);

  constructor(capacity: number) {
    this.items = new Uint32Array(capacity);
    this.keys = new Uint32Array(capacity);
    this.#items2 = new Uint32Array(capacity);
    this.#keys2 = new Uint32Array(capacity);
  }

  /**
   * Sorts the first `m` entries of `items` (with their `keys`) by key, stably: equal keys
   * keep their order. Both arrays hold the result.
   */
  sort(m: number): void {
    // an even number of passes: the last one writes back into items and keys
    for (let shift = 0; shift < 32; shift += 2 * DIGIT_BITS) {
      this.#pass(this.items, this.keys, this.#items2, this.#keys2, m, shift);
      this.#pass(this.#items2, this.#keys2, this.items, this.keys, m, shift + DIGIT_BITS);
    }
  }

  /** One counting pass by the digit at `shift`, from (items, keys) into (toItems, toKeys). */
  #pass(
    items: Uint32Array,
    keys: Uint32Array,
    toItems: Uint32Array,
    toKeys: Uint32Array,
    m: number,
    shift: number,
  ): void {
    const count = this.#count;
    count.fill(0);
    for (let s = 0; s < m; s++) count[(keys[s]! >>> shift) & DIGIT_MASK]!++;
    let at = 0;
    for (let d = 0; d < DIGITS; d++) {
      const c = count[d]!;
      count[d] = at;
      at += c;
    }
    for (let s = 0; s < m; s++) {
      const key = keys[s]!;
      const to = count[(key >>> shift) & DIGIT_MASK]!++;
      toItems[to] = items[s]!;
      toKeys[to] = key;
    }
  }
}
