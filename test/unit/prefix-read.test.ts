import { randomBytes } from "node:crypto";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CodecPool } from "../../src/codec/codec-pool.js";
import { getCodec } from "../../src/codec/codec-registry.js";
import { isCode } from "../../src/errors.js";
import { planWith, SIMILARITY_DEFAULTS } from "../../src/similarity/plan.js";
import { prefixBytesFor } from "../../src/superchunk/superchunk-reader.js";
import { MIB } from "../../src/types.js";
import { BufferPool, POOL_CLASS_BYTES } from "../../src/workingset/buffer-pool.js";
import { WorkingSet } from "../../src/workingset/working-set.js";

/** Compressible but not trivial bytes. */
function sample(bytes: number): Buffer {
  const words = ["alpha ", "beta ", "gamma ", "delta ", "epsilon "];
  const parts: string[] = [];
  let n = 0;
  for (let i = 0; n < bytes; i++) {
    const w = words[(i * 7 + (i >> 3)) % words.length]! + String(i % 977);
    parts.push(w);
    n += w.length;
  }
  return Buffer.from(parts.join("")).subarray(0, bytes);
}

test("prefix - zstd inflates exactly a prefix into shared memory, or the whole payload", () => {
  const zstd = getCodec("zstd");
  const raw = sample(3 * MIB);
  const packed = zstd.compress(raw, 3) as Buffer;
  const shared = Buffer.from(new SharedArrayBuffer(raw.length), 0, 300_000);
  zstd.inflateInto!(packed, raw.length, shared);
  assert.ok(shared.equals(raw.subarray(0, 300_000)));
  const whole = Buffer.from(new SharedArrayBuffer(raw.length));
  zstd.inflateInto!(packed, raw.length, whole);
  assert.ok(whole.equals(raw));
});

test("prefix - a prefix longer than the stream, or a damaged stream, is refused", () => {
  const zstd = getCodec("zstd");
  const raw = sample(MIB);
  const packed = zstd.compress(raw, 3) as Buffer;
  // the stream holds MIB bytes but claims 2 MIB: asking for 1.5 MiB runs off its end
  const out = Buffer.alloc(1.5 * MIB);
  assert.throws(
    () => zstd.inflateInto!(packed, 2 * MIB, out),
    (e: unknown) => isCode(e, "E_INFLATE_BOUND"),
  );
  const bad = Buffer.from(packed);
  bad.fill(0xa5, 8, 200);
  assert.throws(
    () => zstd.inflateInto!(bad, MIB, Buffer.alloc(100_000)),
    (e: unknown) => isCode(e, "E_CORRUPT") || isCode(e, "E_INFLATE_BOUND"),
  );
});

test("prefix - the codec pool fills a shared buffer, and answers a CRC only for a whole payload", async () => {
  const pool = new CodecPool({ threads: 1 });
  try {
    for (const codec of ["zstd", "xz", "lz4", "none"] as const) {
      const raw = sample(MIB + 123);
      const packed = await pool.compress(codec, getCodec(codec).defaultLevel, raw);
      const into = Buffer.from(new SharedArrayBuffer(raw.length), 0, 4096);
      const part = await pool.inflateChecked(codec, packed, raw.length, { into });
      assert.is(part.raw.length, 4096, codec);
      assert.ok(part.raw.equals(raw.subarray(0, 4096)), codec);
      assert.is(part.crc32, undefined, codec);
      assert.is(part.raw.buffer, into.buffer, `${codec}: no copy`);
      const full = await pool.inflateChecked(codec, packed, raw.length, {
        into: Buffer.from(new SharedArrayBuffer(raw.length)),
      });
      assert.ok(full.raw.equals(raw), codec);
      assert.type(full.crc32, "number");
      // compressed input in shared memory is read in place, by every codec
      const shared = Buffer.from(new SharedArrayBuffer(packed.length));
      packed.copy(shared);
      const fromShared = await pool.inflateChecked(codec, shared, raw.length, {
        into: Buffer.from(new SharedArrayBuffer(raw.length)),
      });
      assert.ok(fromShared.raw.equals(raw), `${codec} from shared input`);
      assert.is(shared.length, packed.length, "shared input not detached");
    }
    let refused = false;
    await pool.inflateChecked("zstd", Buffer.alloc(8), 8, { into: Buffer.alloc(8) }).catch((e) => {
      refused = isCode(e, "E_USAGE");
    });
    assert.ok(refused, "a non-shared target is refused");
  } finally {
    await pool.close();
  }
});

test("prefix - prefix steps are an eighth, a quarter, a half or all", () => {
  const raw = 4 * MIB;
  assert.is(prefixBytesFor(1, raw), raw / 8);
  assert.is(prefixBytesFor(raw / 8, raw), raw / 8);
  assert.is(prefixBytesFor(raw / 8 + 1, raw), raw / 4);
  assert.is(prefixBytesFor(raw / 2 + 1, raw), raw);
  assert.is(prefixBytesFor(raw * 2, raw), raw);
  assert.is(prefixBytesFor(10, 7), 7);
});

test("prefix - a short cached entry is replaced by a longer load when a reader needs more", async () => {
  const full = randomBytes(1000);
  const asked: number[] = [];
  const ws = new WorkingSet<number>({ capacityBytes: 10_000 }, async (_k, _p, need) => {
    asked.push(need);
    return Buffer.from(full.subarray(0, need >= 500 ? 1000 : 250));
  });
  const a = await ws.acquire(1, 100);
  assert.is(a.data.length, 250);
  a.release();
  assert.ok(ws.tryAcquire(1, 800) === undefined, "too short for 800 bytes");
  const b = await ws.acquire(1, 800);
  assert.ok(b.data.equals(full));
  b.release();
  const c = ws.tryAcquire(1, 100);
  assert.is(c?.data.length, 1000, "the longer entry replaced the short one");
  c?.release();
  assert.equal(asked, [100, 800]);
  assert.is(ws.stats().entries, 1);
});

test("prefix - two readers of one cold key needing different lengths both get enough", async () => {
  let loads = 0;
  const ws = new WorkingSet<number>({ capacityBytes: 10_000 }, async (_k, _p, need) => {
    loads++;
    await new Promise((r) => setTimeout(r, 5));
    return Buffer.alloc(need >= 500 ? 1000 : 250, 1);
  });
  const [x, y] = await Promise.all([ws.acquire(3, 100), ws.acquire(3, 900)]);
  assert.ok(x.data.length >= 100);
  assert.ok(y.data.length >= 900);
  x.release();
  y.release();
  assert.is(loads, 2);
});

test("prefix - the buffer pool reuses slabs and waits for memory rather than growing", async () => {
  const pool = new BufferPool();
  const limit = 2 * POOL_CLASS_BYTES;
  const a = await pool.take(1000, limit, () => false, POOL_CLASS_BYTES);
  const b = await pool.take(1000, limit, () => false, POOL_CLASS_BYTES);
  assert.is(pool.lentBytes, limit);
  let third: Buffer | undefined;
  const waiting = pool
    .take(10, limit, () => false)
    .then((buf) => {
      third = buf;
    });
  await new Promise((r) => setImmediate(r));
  assert.is(third, undefined, "over the limit: waits");
  assert.is(pool.waiting, 1);
  pool.giveBack(pool.slabOf(a)!);
  await waiting;
  assert.ok(third !== undefined);
  assert.is(pool.slabOf(third!), pool.slabOf(a), "the slab given back is reused");
  assert.is(pool.lentBytes, limit);
  pool.giveBack(pool.slabOf(b)!);
  pool.giveBack(pool.slabOf(third!)!);
  assert.is(pool.lentBytes, 0);
  assert.is(pool.freeBytes, limit);
});

test("prefix - a working set with a pool stays within its capacity, loads in flight included", async () => {
  const cap = 3 * POOL_CLASS_BYTES;
  let peak = 0;
  let inFlight = 0;
  const ws = new WorkingSet<number>({ capacityBytes: cap }, async (k, _p, _need, alloc) => {
    const buf = await alloc(POOL_CLASS_BYTES - 100, POOL_CLASS_BYTES);
    inFlight++;
    peak = Math.max(peak, inFlight);
    await new Promise((r) => setTimeout(r, 1));
    buf.fill(k & 0xff);
    inFlight--;
    return buf;
  });
  const keys = Array.from({ length: 40 }, (_, i) => i);
  const pins = await Promise.all(
    keys.map(async (k) => {
      const p = await ws.acquire(k);
      const ok = p.data[0] === (k & 0xff) && p.data[p.data.length - 1] === (k & 0xff);
      p.release();
      return ok;
    }),
  );
  assert.ok(pins.every(Boolean), "every reader saw its own bytes");
  assert.ok(ws.stats().bytes <= cap + 3 * 512, `cached ${ws.stats().bytes}`);
  assert.ok(peak <= 3, `at most 3 loads held memory at once, saw ${peak}`);
});

test("prefix - the planner lays each super-chunk out most recently used first", () => {
  const sketch = () => new Uint32Array(32);
  const items = [0, 1, 2, 3].map((i) => ({
    length: 10,
    sketch: sketch(),
    path: `f${i}`,
    fileOffset: 0,
    lastUse: [5, 1, 9, 1][i]!,
  }));
  const groups = planWith(items, { targetBytes: 1000, order: "similarity" }, SIMILARITY_DEFAULTS);
  assert.is(groups.length, 1);
  assert.equal([...groups[0]!], [2, 0, 3, 1]);
  const plain = planWith(
    items,
    { targetBytes: 1000, order: "similarity" },
    { ...SIMILARITY_DEFAULTS, recentFirst: false },
  );
  assert.is(plain[0]!.length, 4);
});

test.run();
