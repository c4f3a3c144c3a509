import { test } from "uvu";
import * as assert from "uvu/assert";
import * as zstd from "zstd-napi";
import { isCode } from "../../src/errors.js";
import { clusterCapped } from "../../src/similarity/cluster.js";
import { candidateEdges } from "../../src/similarity/lsh-candidates.js";
import {
  type PlanItem,
  type PlanOptions,
  planColumns,
  planSuperChunks,
  SIMILARITY_DEFAULTS,
} from "../../src/similarity/plan.js";
import {
  SKETCH_DEFAULTS,
  SKETCH_WORDS,
  sketchAgreement,
  sketchSubBlock,
  sketchWith,
} from "../../src/similarity/sketch.js";

const KIB = 1024;

/** Deterministic pseudo-random bytes (mulberry32). */
function rng(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

function randomBytes(n: number, seed: number): Uint8Array {
  const next = rng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = next() & 0xff;
  return out;
}

/** A copy of `data` with `edits` random bytes overwritten. */
function mutate(data: Uint8Array, edits: number, seed: number): Uint8Array {
  const next = rng(seed);
  const out = data.slice();
  for (let e = 0; e < edits; e++) out[next() % out.length] = next() & 0xff;
  return out;
}

/** `versions` versions of `blocks` random blocks, each version a few bytes off the previous, in path order. */
function versionedCorpus(blocks: number, versions: number, size: number) {
  const data: Uint8Array[] = [];
  const blockOf: number[] = [];
  let current = Array.from({ length: blocks }, (_, b) => randomBytes(size, 1000 + b));
  for (let v = 0; v < versions; v++) {
    if (v > 0) current = current.map((d, b) => mutate(d, 4, v * 7919 + b));
    current.forEach((d, b) => {
      data.push(d);
      blockOf.push(b);
    });
  }
  const items: PlanItem[] = data.map((d, i) => ({
    length: d.length,
    sketch: sketchSubBlock(d),
    path: `v${Math.floor(i / blocks)}/file`,
    fileOffset: (i % blocks) * size,
  }));
  return { data, blockOf, items };
}

/** Random items of random lengths (sketches random too), for the structural checks. */
function randomItems(n: number, maxLength: number, seed: number): PlanItem[] {
  const next = rng(seed);
  return Array.from({ length: n }, (_, i) => ({
    length: 1 + (next() % maxLength),
    sketch: Uint32Array.from({ length: SKETCH_WORDS }, () => next() % 7),
    path: `f${i % 13}`,
    fileOffset: i,
  }));
}

function assertPartition(groups: Uint32Array[], n: number): void {
  const seen = new Uint8Array(n);
  for (const g of groups) {
    assert.ok(g.length > 0, "no empty group");
    for (const i of g) {
      assert.ok(i < n, `index ${i} in range`);
      assert.is(seen[i], 0, `index ${i} appears once`);
      seen[i] = 1;
    }
  }
  assert.is(
    seen.reduce((s, x) => s + x, 0),
    n,
    "every index appears",
  );
}

function groupBytes(g: Uint32Array, items: readonly PlanItem[]): number {
  let sum = 0;
  for (const i of g) sum += items[i]!.length;
  return sum;
}

const ORDERS: PlanOptions["order"][] = ["path", "similarity"];

test("similarity - every index exactly once, both orders", () => {
  const items = randomItems(500, 40 * KIB, 1);
  for (const order of ORDERS) {
    assertPartition(planSuperChunks(items, { targetBytes: 256 * KIB, order }), items.length);
  }
});

test("similarity - group byte bound respected", () => {
  const items = randomItems(800, 64 * KIB, 2);
  const corpus = versionedCorpus(12, 6, 16 * KIB).items;
  for (const set of [items, corpus]) {
    for (const order of ORDERS) {
      for (const g of planSuperChunks(set, { targetBytes: 200 * KIB, order })) {
        assert.ok(
          g.length === 1 || groupBytes(g, set) <= 200 * KIB,
          `group within bound (${order})`,
        );
      }
    }
  }
});

test("similarity - an oversized item is alone", () => {
  const items = randomItems(50, 10 * KIB, 3);
  items[17] = { ...items[17]!, length: 900 * KIB };
  items[18] = { ...items[18]!, sketch: items[17]!.sketch.slice() };
  for (const order of ORDERS) {
    const groups = planSuperChunks(items, { targetBytes: 100 * KIB, order });
    assertPartition(groups, items.length);
    const holder = groups.find((g) => g.includes(17))!;
    assert.equal([...holder], [17], `oversized item alone (${order})`);
  }
});

test("similarity - path order keeps input order", () => {
  const items = randomItems(300, 30 * KIB, 4);
  const groups = planSuperChunks(items, { targetBytes: 128 * KIB, order: "path" });
  const flat = groups.flatMap((g) => [...g]);
  assert.equal(
    flat,
    items.map((_, i) => i),
  );
  for (let k = 0; k + 1 < groups.length; k++) {
    const next = items[groups[k + 1]![0]!]!.length;
    assert.ok(groupBytes(groups[k]!, items) + next > 128 * KIB, "a group closes only when full");
  }
});

test("similarity - empty input gives no groups", () => {
  assert.equal(planSuperChunks([], { targetBytes: 1024, order: "similarity" }), []);
});

test("similarity - bad options are usage errors", () => {
  const items = randomItems(3, 100, 5);
  const bad: PlanOptions[] = [
    { targetBytes: 0, order: "path" },
    { targetBytes: 1.5, order: "similarity" },
    { targetBytes: 1024, order: "size" as PlanOptions["order"] },
  ];
  for (const opts of bad) {
    try {
      planSuperChunks(items, opts);
      assert.unreachable("should throw");
    } catch (e) {
      assert.ok(isCode(e, "E_USAGE"), String(e));
    }
  }
});

test("similarity - versions of a block land in the same group", () => {
  const { items, blockOf } = versionedCorpus(20, 10, 32 * KIB);
  const groups = planSuperChunks(items, { targetBytes: 1024 * KIB, order: "similarity" });
  assertPartition(groups, items.length);
  const groupOf = new Map<number, Set<number>>();
  groups.forEach((g, k) => {
    for (const i of g) {
      const b = blockOf[i]!;
      if (!groupOf.has(b)) groupOf.set(b, new Set());
      groupOf.get(b)!.add(k);
    }
  });
  for (const [b, set] of groupOf) assert.is(set.size, 1, `block ${b} in one group`);
});

test("similarity - similarity order compresses much better than path order", () => {
  const { items, data } = versionedCorpus(20, 10, 32 * KIB);
  const packed = (order: PlanOptions["order"]) => {
    let total = 0;
    for (const g of planSuperChunks(items, { targetBytes: 1024 * KIB, order })) {
      const buf = Buffer.concat([...g].map((i) => data[i]!));
      total += zstd.compress(buf, { compressionLevel: 3 }).length;
    }
    return total;
  };
  const path = packed("path");
  const sim = packed("similarity");
  assert.ok(sim * 2 < path, `similarity ${sim} vs path ${path}`);
});

test("similarity - plan is deterministic", () => {
  const { items } = versionedCorpus(15, 6, 8 * KIB);
  const once = planSuperChunks(items, { targetBytes: 256 * KIB, order: "similarity" });
  const again = planSuperChunks(
    items.map((it) => ({ ...it, sketch: it.sketch.slice() })),
    { targetBytes: 256 * KIB, order: "similarity" },
  );
  assert.equal(
    again.map((g) => [...g]),
    once.map((g) => [...g]),
  );
});

test("similarity - the columns' sketches are released once, and emptying them then changes nothing", () => {
  const { items } = versionedCorpus(15, 6, 8 * KIB);
  const opts: PlanOptions = { targetBytes: 256 * KIB, order: "similarity" };
  const want = planSuperChunks(items, opts);
  const words = items[0]!.sketch.length;
  const data = new Uint32Array(items.length * words);
  for (const [i, it] of items.entries()) data.set(it.sketch, i * words);
  const sketches = { data, words, count: items.length };
  let released = 0;
  const groups = planColumns(
    {
      lengths: items.map((it) => it.length),
      sketches,
      lastUse: items.map((_, i) => i),
      releaseSketches: () => {
        released++;
        sketches.data = new Uint32Array(0); // what pack does: nothing may read them after
      },
    },
    opts,
  );
  assert.is(released, 1);
  assert.equal(
    groups.map((g) => [...g]),
    want.map((g) => [...g]),
  );
});

test("similarity - clusters stay within their cap", () => {
  const { items } = versionedCorpus(4, 10, 16 * KIB);
  const lengths = items.map((it) => it.length);
  const edges = candidateEdges(
    items.map((it) => it.sketch),
    SIMILARITY_DEFAULTS,
  );
  assert.ok(edges.a.length > 0, "versions are candidates");
  for (const c of clusterCapped(lengths, edges, 64 * KIB)) {
    assert.ok(c.members.length * 16 * KIB <= 64 * KIB, "cluster within cap");
  }
  const whole = clusterCapped(lengths, edges, 1 << 30);
  assert.is(whole.length, 4, "uncapped: one cluster per block");
});

test("similarity - sketchWith rejects bad params", () => {
  const bad = [
    { ...SKETCH_DEFAULTS, words: 0 },
    { ...SKETCH_DEFAULTS, words: 65 },
    { ...SKETCH_DEFAULTS, shingleBytes: 24 as 32 },
    { ...SKETCH_DEFAULTS, scheme: "simhash" as "oph" },
  ];
  for (const p of bad) {
    try {
      sketchWith(new Uint8Array(100), p);
      assert.unreachable("should throw");
    } catch (e) {
      assert.ok(isCode(e, "E_USAGE"), String(e));
    }
  }
});

test("similarity - sketch is deterministic and of SKETCH_WORDS words", () => {
  const data = randomBytes(40 * KIB, 6);
  const a = sketchSubBlock(data);
  assert.is(a.length, SKETCH_WORDS);
  assert.equal([...sketchSubBlock(data.slice())], [...a]);
});

test("similarity - similar blocks agree far more than unrelated ones", () => {
  const base = randomBytes(32 * KIB, 7);
  const near = mutate(base, 8, 8);
  const shifted = new Uint8Array(base.length + 100);
  shifted.set(randomBytes(100, 9));
  shifted.set(base, 100);
  const other = randomBytes(32 * KIB, 10);
  const s = sketchSubBlock(base);
  assert.ok(sketchAgreement(s, sketchSubBlock(near)) >= 0.7, "a few edits");
  assert.ok(sketchAgreement(s, sketchSubBlock(shifted)) >= 0.7, "a shift");
  assert.ok(sketchAgreement(s, sketchSubBlock(other)) <= 0.1, "unrelated");
});

test("similarity - a block shorter than a shingle has an empty sketch", () => {
  const tiny = sketchSubBlock(new Uint8Array([1, 2, 3]));
  assert.is(sketchAgreement(tiny, tiny), 0);
});

test.run();
