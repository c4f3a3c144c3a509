/**
 * KeyOrder (src/similarity/key-order.ts): the radix sort of one LSH band's items gives the
 * order a comparator sort on (key, item) gives, over the first m entries, reusably.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { KeyOrder } from "../../src/similarity/key-order.js";
import { Rng } from "../helpers/fuzz-rng.js";

/** Sorts items 0..keys.length-1 by KeyOrder; the (item, key) pairs in sorted order. */
function sorted(keyOf: readonly number[], capacity = keyOf.length): [number, number][] {
  const o = new KeyOrder(capacity);
  keyOf.forEach((k, i) => {
    o.items[i] = i;
    o.keys[i] = k;
  });
  o.sort(keyOf.length);
  return Array.from({ length: keyOf.length }, (_, s) => [o.items[s]!, o.keys[s]!]);
}

/** The same by a comparator sort on (key, item). */
function expected(keyOf: readonly number[]): [number, number][] {
  return keyOf.map((k, i): [number, number] => [i, k]).sort((x, y) => x[1] - y[1] || x[0] - y[0]);
}

test("key-order - sorts by key, then by item, as a comparator sort on both", () => {
  const rng = new Rng(1);
  const next = () => rng.next();
  // few distinct keys, so most keys repeat and the order among equals is checked
  const few = Array.from({ length: 5000 }, () => next() % 37);
  assert.equal(sorted(few), expected(few));
  // keys spread over all 32 bits, the extremes among them
  const spread = Array.from({ length: 5000 }, () => next());
  spread.push(0, 0xffffffff, 0x80000000, 0xffffffff, 0);
  assert.equal(sorted(spread), expected(spread));
});

test("key-order - sorts only the first m entries and is reusable", () => {
  const o = new KeyOrder(8);
  o.items.set([0, 1, 2, 3, 4, 5, 6, 7]);
  o.keys.set([9, 3, 9, 1, 0, 0, 0, 0]);
  o.sort(4);
  assert.equal([...o.items.subarray(0, 4)], [3, 1, 0, 2]);
  assert.equal([...o.keys.subarray(0, 4)], [1, 3, 9, 9]);
  o.items.set([5, 6, 7]);
  o.keys.set([2, 2, 1]);
  o.sort(3);
  assert.equal([...o.items.subarray(0, 3)], [7, 5, 6]);
  assert.equal(sorted([], 0), []);
});

test.run();
