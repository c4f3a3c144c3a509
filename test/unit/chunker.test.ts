import { test } from "uvu";
import * as assert from "uvu/assert";
import { type ChunkerParams, chunkerParams } from "../../src/chunker/chunker-params.js";
import { cutAll, nextCut } from "../../src/chunker/fastcdc.js";
import { GEAR, GEAR_SEED } from "../../src/chunker/gear-table.js";
import { isCode } from "../../src/errors.js";
import { CHUNK_AVG_BYTES, CHUNK_MAX_BYTES, CHUNK_MIN_BYTES, KIB, MIB } from "../../src/types.js";
import { seededText } from "../helpers/tree.js";

/** Deterministic pseudo-random bytes (xorshift32), so every run sees the same data. */
function randomBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed | 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Cut positions (cumulative ends) from sub-block lengths. */
function positions(lengths: number[]): number[] {
  let p = 0;
  return lengths.map((l) => {
    p += l;
    return p;
  });
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

/**
 * The documented cut rule, transcribed as plainly as possible (unsigned arithmetic, one byte
 * at a time, no unrolling, no re-warming): the implementation must agree with it exactly.
 */
function referenceCuts(data: Uint8Array, p: ChunkerParams): number[] {
  const bits = Math.log2(p.avgBytes);
  const easy = 2 ** (32 - (bits - 2)); // fp < easy <=> top (bits - 2) bits are zero
  const hard = 2 ** (32 - (bits + 2));
  const out: number[] = [];
  for (let s = 0; s < data.length; ) {
    const limit = Math.min(data.length, s + p.maxBytes);
    let cut = limit;
    if (data.length - s > p.minBytes) {
      let fp = 0;
      for (let j = Math.max(s, s + p.minBytes - 32); j < limit - 1; j++) {
        fp = (fp * 2 + (GEAR[data[j]!]! >>> 0)) % 2 ** 32;
        const len = j + 1 - s;
        if (len >= p.minBytes && fp < (len < p.avgBytes ? hard : easy)) {
          cut = j + 1;
          break;
        }
      }
    }
    out.push(cut - s);
    s = cut;
  }
  return out;
}

test("chunker - gear table is the documented one", () => {
  assert.is(GEAR.length, 256);
  assert.is(GEAR_SEED, 0x53436731);
  const u = Array.from(GEAR, (v) => v >>> 0);
  assert.ok(u.every((v) => v !== 0 && v < 0xff000000));
  assert.equal(u.slice(0, 4), GOLDEN_GEAR_HEAD);
  let h = 0;
  for (const v of u) h = (Math.imul(h, 31) + v) | 0;
  assert.is(h >>> 0, GOLDEN_GEAR_FOLD);
});

test("chunker - deterministic cuts pinned across versions", () => {
  const data = randomBytes(1 * MIB, 42);
  const p = chunkerParams();
  assert.equal(cutAll(data, p), cutAll(data, p));
  assert.equal(cutAll(data, p), GOLDEN_DEFAULT_1MIB);
  assert.equal(cutAll(data.subarray(0, 64 * KIB), chunkerParams({ avgBytes: 4 * KIB })), [
    ...GOLDEN_AVG4K_64KIB,
  ]);
});

test("chunker - matches the reference rule on varied inputs and params", () => {
  const inputs = [
    randomBytes(3 * MIB, 7),
    seededText(2 * MIB, 9),
    new Uint8Array(600 * KIB),
    new Uint8Array(300 * KIB).map((_, i) => (i % 3 === 0 ? 97 : 98)),
  ];
  const params = [
    chunkerParams(),
    chunkerParams({ avgBytes: 1 * KIB }),
    chunkerParams({ avgBytes: 8 * KIB, minBytes: 100, maxBytes: 9 * KIB }),
    chunkerParams({ avgBytes: 64 * KIB, minBytes: 60 * KIB, maxBytes: 200 * KIB + 3 }),
  ];
  for (const data of inputs) {
    for (const p of params) assert.equal(cutAll(data, p), referenceCuts(data, p));
  }
});

test("chunker - min and max respected on random and text data", () => {
  for (const data of [randomBytes(4 * MIB, 3), seededText(4 * MIB, 5)]) {
    for (const p of [chunkerParams(), chunkerParams({ avgBytes: 4 * KIB })]) {
      const lengths = cutAll(data, p);
      assert.is(sum(lengths), data.length);
      const inner = lengths.slice(0, -1);
      assert.ok(inner.length > 10);
      assert.ok(Math.min(...inner) >= p.minBytes, `min ${Math.min(...inner)}`);
      assert.ok(Math.max(...lengths) <= p.maxBytes, `max ${Math.max(...lengths)}`);
      assert.ok(lengths.at(-1)! > 0);
    }
  }
});

test("chunker - all-zero data cuts at max", () => {
  const zeros = new Uint8Array(300_000);
  assert.equal(cutAll(zeros, chunkerParams()), [CHUNK_MAX_BYTES, CHUNK_MAX_BYTES, 37_856]);
  const p = chunkerParams({ avgBytes: 1 * KIB });
  assert.equal(cutAll(new Uint8Array(10 * KIB), p), [4096, 4096, 2048]);
});

test("chunker - a run of any single byte value cuts at max", () => {
  for (const p of [chunkerParams({ avgBytes: 1 * KIB }), chunkerParams()]) {
    const run = new Uint8Array(p.maxBytes * 2 + 5);
    for (let b = 0; b < 256; b++) {
      run.fill(b);
      assert.equal(cutAll(run, p), [p.maxBytes, p.maxBytes, 5], `byte ${b}`);
    }
  }
});

test("chunker - an insertion near the start leaves later cuts unchanged", () => {
  const original = randomBytes(2 * MIB, 11);
  const insert = new Uint8Array([1, 2, 3, 4, 5]);
  const at = 1000;
  const edited = new Uint8Array(original.length + insert.length);
  edited.set(original.subarray(0, at), 0);
  edited.set(insert, at);
  edited.set(original.subarray(at), at + insert.length);
  const p = chunkerParams();
  const before = positions(cutAll(original, p));
  const after = new Set(positions(cutAll(edited, p)).map((x) => x - insert.length));
  assert.ok(before.length > 40);
  const later = before.slice(2);
  const kept = later.filter((x) => after.has(x));
  assert.is(kept.length, later.length, `${later.length - kept.length} later cuts moved`);
});

test("chunker - fixed mode cuts at exact multiples", () => {
  const p = chunkerParams({ mode: "fixed", avgBytes: 4 * KIB });
  const data = randomBytes(4 * KIB * 10 + 123, 1);
  const lengths = cutAll(data, p);
  assert.is(lengths.length, 11);
  assert.ok(lengths.slice(0, 10).every((l) => l === 4 * KIB));
  assert.is(lengths[10], 123);
  assert.is(nextCut(data, 5, data.length, p), 5 + 4 * KIB);
  assert.equal(cutAll(new Uint8Array(8 * KIB), p), [4 * KIB, 4 * KIB]);
});

test("chunker - sizes average near avgBytes on random data", () => {
  const data = randomBytes(16 * MIB, 23);
  for (const avgBytes of [4 * KIB, 32 * KIB, 128 * KIB]) {
    const lengths = cutAll(data, chunkerParams({ avgBytes })).slice(0, -1);
    const mean = sum(lengths) / lengths.length;
    assert.ok(mean > avgBytes * 0.75 && mean < avgBytes * 1.25, `avg ${avgBytes}: mean ${mean}`);
  }
});

test("chunker - params defaults", () => {
  assert.equal(chunkerParams(), {
    avgBytes: CHUNK_AVG_BYTES,
    minBytes: CHUNK_MIN_BYTES,
    maxBytes: CHUNK_MAX_BYTES,
    mode: "cdc",
  });
  assert.equal(chunkerParams({ avgBytes: 4 * KIB, mode: "fixed" }), {
    avgBytes: 4 * KIB,
    minBytes: 1 * KIB,
    maxBytes: 16 * KIB,
    mode: "fixed",
  });
});

test("chunker - params validation errors have code E_USAGE", () => {
  const bad: Partial<ChunkerParams>[] = [
    { avgBytes: 3000 },
    { avgBytes: 512 },
    { avgBytes: 32 * MIB },
    { avgBytes: 1.5 },
    { minBytes: CHUNK_AVG_BYTES },
    { maxBytes: CHUNK_AVG_BYTES },
    { minBytes: 10 },
    { minBytes: Number.NaN },
    { avgBytes: 16 * MIB, maxBytes: 128 * MIB },
    { mode: "rabin" as "cdc" },
  ];
  for (const opts of bad) {
    try {
      chunkerParams(opts);
      assert.unreachable(`accepted ${JSON.stringify(opts)}`);
    } catch (e) {
      assert.ok(isCode(e, "E_USAGE"), `${JSON.stringify(opts)}: ${String(e)}`);
    }
  }
});

test("chunker - nextCut honours its range contract", () => {
  const p = chunkerParams();
  const data = randomBytes(1 * MIB, 99);
  assert.is(nextCut(data, 100, 100 + p.minBytes - 1, p), 100 + p.minBytes - 1);
  assert.is(nextCut(data, 100, 101, p), 101);
  for (let start = 0; start < 200 * KIB; start += 7919) {
    const q = nextCut(data, start, data.length, p);
    assert.ok(q - start >= p.minBytes && q - start <= p.maxBytes);
    // a cut depends on the bytes from start on, not on where the buffer begins
    assert.is(nextCut(data.slice(start), 0, data.length - start, p), q - start);
  }
  assert.throws(
    () => nextCut(data, 10, 10, p),
    (e: unknown) => isCode(e, "E_INTERNAL"),
  );
  assert.throws(
    () => nextCut(data, 0, data.length + 1, p),
    (e: unknown) => isCode(e, "E_INTERNAL"),
  );
});

test("chunker - windowed feeding gives the same cuts as cutAll", () => {
  for (const [data, p] of [
    [randomBytes(3 * MIB, 5), chunkerParams()],
    [seededText(1 * MIB, 6), chunkerParams({ avgBytes: 2 * KIB })],
  ] as const) {
    const feed = randomBytes(4096, 77);
    const lengths: number[] = [];
    let window = new Uint8Array(0); // bytes not yet cut; compacted, so offsets keep changing
    let fed = 0;
    for (let k = 0; fed < data.length || window.length > 0; k++) {
      const piece = Math.min(data.length - fed, 1 + feed[k % feed.length]! * 997);
      const next = new Uint8Array(window.length + piece);
      next.set(window, 0);
      next.set(data.subarray(fed, fed + piece), window.length);
      fed += piece;
      window = next;
      const eof = fed === data.length;
      let s = 0;
      while (s < window.length && (eof || window.length - s >= p.maxBytes)) {
        const q = nextCut(window, s, window.length, p);
        lengths.push(q - s);
        s = q;
      }
      window = window.slice(s);
    }
    assert.equal(lengths, cutAll(data, p));
  }
});

// Golden values: computed once from this implementation (which the reference test checks
// against the documented rule). If they change, stores written before cut differently.
const GOLDEN_GEAR_HEAD = [0x5c69cc69, 0x79b03b51, 0xe5978d59, 0xfcdfac19];
const GOLDEN_GEAR_FOLD = 0xaf6564fa;
const GOLDEN_DEFAULT_1MIB = [
  46542, 53009, 34945, 34757, 12512, 34528, 36043, 42585, 29367, 38348, 36438, 33274, 47404, 52059,
  33120, 39550, 33415, 38935, 55482, 37887, 46123, 51077, 37822, 33426, 36617, 40551, 32760,
];
const GOLDEN_AVG4K_64KIB = [
  4195, 4794, 6416, 1434, 5185, 3219, 4434, 4601, 5165, 6333, 4293, 4509, 4394, 4930, 1634,
];

test.run();
