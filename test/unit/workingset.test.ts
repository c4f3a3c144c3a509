import { test } from "uvu";
import * as assert from "uvu/assert";
import { BufferPool } from "../../src/workingset/buffer-pool.js";
import { PrefetchQueue } from "../../src/workingset/prefetch-queue.js";
import { WorkingSet } from "../../src/workingset/working-set.js";

/** A load function that records its calls and can be held open or made to fail. */
function recorder(size = 100) {
  const calls: number[] = [];
  const gates = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  let holding = false;
  const load = async (key: number): Promise<Buffer> => {
    calls.push(key);
    if (holding) {
      await new Promise<void>((resolve, reject) => gates.set(key, { resolve, reject }));
    }
    return Buffer.alloc(size, key & 0xff);
  };
  return {
    load,
    calls,
    hold() {
      holding = true;
    },
    open(key: number) {
      gates.get(key)?.resolve();
    },
    fail(key: number, msg: string) {
      gates.get(key)?.reject(new Error(msg));
    },
  };
}

async function touch(ws: WorkingSet, key: number): Promise<void> {
  (await ws.acquire(key)).release();
}

test("workingset - a buffer pool's takeNow lends within its limit, reuses, never waits", async () => {
  const MIB = 1024 * 1024;
  const pool = new BufferPool();
  const a = pool.takeNow(MIB + 1, 3 * MIB)!;
  assert.is(a.length, MIB + 1);
  assert.is(pool.lentBytes, 2 * MIB, "rounded up to the class");
  const b = pool.takeNow(MIB, 3 * MIB)!;
  assert.is(pool.takeNow(MIB, 3 * MIB), undefined, "past the limit with memory lent: none");
  pool.giveBack(pool.slabOf(a)!);
  const again = pool.takeNow(2 * MIB, 3 * MIB)!;
  assert.is(again.buffer, a.buffer, "a slab given back serves the next take");
  // a take waiting for memory goes first: takeNow does not jump the queue
  const waiting = pool.take(2 * MIB, 3 * MIB, () => false);
  pool.giveBack(pool.slabOf(b)!);
  assert.is(pool.takeNow(MIB, 3 * MIB), undefined);
  pool.giveBack(pool.slabOf(again)!);
  assert.is((await waiting).length, 2 * MIB);
});

test("workingset - hit after miss, data is the loaded buffer", async () => {
  const r = recorder();
  const ws = new WorkingSet({ capacityBytes: 1000, entryOverheadBytes: 0 }, r.load);
  const a = await ws.acquire(7);
  assert.is(a.data.length, 100);
  assert.is(a.data[0], 7);
  a.release();
  const b = await ws.acquire(7);
  b.release();
  assert.equal(r.calls, [7]);
  const s = ws.stats();
  assert.is(s.hits, 1);
  assert.is(s.misses, 1);
  assert.is(s.loads, 1);
  assert.is(s.bytes, 100);
  assert.is(s.entries, 1);
});

test("workingset - byte bound evicts least recently used first", async () => {
  const r = recorder(100);
  const ws = new WorkingSet({ capacityBytes: 330, entryOverheadBytes: 10 }, r.load);
  await touch(ws, 1);
  await touch(ws, 2);
  await touch(ws, 3); // 3 * 110 = 330: fits
  assert.is(ws.stats().entries, 3);
  await touch(ws, 1); // 1 becomes most recent; 2 is now the oldest
  await touch(ws, 4); // 440 > 330: evict 2
  const s = ws.stats();
  assert.is(s.entries, 3);
  assert.is(s.bytes, 330);
  assert.is(s.evictions, 1);
  r.calls.length = 0;
  await touch(ws, 1);
  await touch(ws, 3);
  await touch(ws, 4);
  assert.equal(r.calls, [], "1, 3, 4 still cached");
  await touch(ws, 2);
  assert.equal(r.calls, [2], "2 was evicted");
});

test("workingset - entry overhead counts against capacity", async () => {
  const r = recorder(100);
  const ws = new WorkingSet({ capacityBytes: 250, entryOverheadBytes: 100 }, r.load);
  await touch(ws, 1);
  await touch(ws, 2); // 400 > 250
  assert.is(ws.stats().entries, 1);
  assert.is(ws.stats().bytes, 200);
});

test("workingset - single-flight: concurrent misses share one load", async () => {
  const r = recorder();
  r.hold();
  const ws = new WorkingSet({ capacityBytes: 1000 }, r.load);
  const p1 = ws.acquire(5);
  const p2 = ws.acquire(5);
  await Promise.resolve();
  r.open(5);
  const [a, b] = await Promise.all([p1, p2]);
  assert.is(a.data, b.data);
  assert.equal(r.calls, [5]);
  assert.is(ws.stats().misses, 2);
  assert.is(ws.stats().loads, 1);
  assert.is(ws.stats().pinned, 1);
  a.release();
  b.release();
  assert.is(ws.stats().pinned, 0);
});

test("workingset - failed load: every waiter gets the error, nothing cached", async () => {
  const r = recorder();
  r.hold();
  const ws = new WorkingSet({ capacityBytes: 1000 }, r.load);
  const p1 = ws.acquire(9);
  const p2 = ws.acquire(9);
  await Promise.resolve();
  r.fail(9, "boom");
  const results = await Promise.allSettled([p1, p2]);
  for (const res of results) {
    assert.is(res.status, "rejected");
    if (res.status === "rejected") assert.is((res.reason as Error).message, "boom");
  }
  assert.is(ws.stats().entries, 0);
  assert.is(ws.stats().bytes, 0);
  const p3 = ws.acquire(9); // loads again
  await Promise.resolve();
  r.open(9);
  (await p3).release();
  assert.equal(r.calls, [9, 9]);
  assert.is(ws.stats().entries, 1);
});

test("workingset - a load that throws synchronously rejects and is not stuck", async () => {
  let n = 0;
  const ws = new WorkingSet<number>({ capacityBytes: 1000 }, (k) => {
    n++;
    if (n === 1) throw new Error(`sync ${k}`);
    return Promise.resolve(Buffer.alloc(1));
  });
  try {
    await ws.acquire(1);
    assert.unreachable();
  } catch (e) {
    assert.is((e as Error).message, "sync 1");
  }
  (await ws.acquire(1)).release();
  assert.is(n, 2);
});

test("workingset - pins prevent eviction; surplus is evicted on release", async () => {
  const r = recorder(100);
  const ws = new WorkingSet({ capacityBytes: 200, entryOverheadBytes: 0 }, r.load);
  const a = await ws.acquire(1);
  const b = await ws.acquire(2);
  const c = await ws.acquire(3); // 300 > 200 but all pinned
  assert.is(ws.stats().entries, 3);
  assert.is(ws.stats().bytes, 300);
  assert.is(ws.stats().pinned, 3);
  assert.is(ws.stats().evictions, 0);
  b.release();
  // 2 is unpinned and over budget: evicted at once, even though 1 is older (1 is pinned)
  assert.is(ws.stats().entries, 2);
  assert.is(ws.stats().bytes, 200);
  a.release();
  a.release(); // idempotent: must not unpin anyone else's pin
  c.release();
  assert.is(ws.stats().entries, 2);
  assert.is(ws.stats().pinned, 0);
  const c2 = await ws.acquire(3);
  const c3 = await ws.acquire(3);
  c2.release();
  c2.release();
  await touch(ws, 4); // needs room: 1 is the LRU unpinned one; 3 is still pinned by c3
  await touch(ws, 5);
  assert.ok(ws.stats().entries >= 1);
  r.calls.length = 0;
  await touch(ws, 3);
  assert.equal(r.calls, [], "3 stayed cached while pinned");
  c3.release();
});

test("workingset - an entry larger than capacity is served and then dropped", async () => {
  const r = recorder(500);
  const ws = new WorkingSet({ capacityBytes: 100, entryOverheadBytes: 0 }, r.load);
  const a = await ws.acquire(1);
  assert.is(a.data.length, 500);
  assert.is(ws.stats().entries, 1);
  a.release();
  assert.is(ws.stats().entries, 0);
  assert.is(ws.stats().bytes, 0);
});

test("workingset - a waiter's entry is not evicted before it resumes", async () => {
  const r = recorder(500);
  r.hold();
  const ws = new WorkingSet({ capacityBytes: 100, entryOverheadBytes: 0 }, r.load);
  const p = ws.acquire(1);
  await Promise.resolve();
  r.open(1);
  const a = await p;
  assert.is(ws.stats().pinned, 1);
  assert.is(ws.stats().evictions, 0);
  a.release();
  assert.is(ws.stats().evictions, 1);
});

test("workingset - prefetch loads in the background; a later acquire is a hit", async () => {
  const r = recorder();
  const ws = new WorkingSet({ capacityBytes: 1000 }, r.load);
  ws.prefetch(3);
  ws.prefetch(3); // already in flight: no second load
  assert.equal(r.calls, [3]);
  await new Promise((res) => setImmediate(res));
  assert.is(ws.stats().entries, 1);
  await touch(ws, 3);
  assert.is(ws.stats().hits, 1);
  assert.is(ws.stats().loads, 1);
  ws.prefetch(3); // present: nothing
  assert.is(ws.stats().loads, 1);
});

test("workingset - acquire joins a prefetch in flight; prefetch errors are swallowed", async () => {
  const r = recorder();
  r.hold();
  const ws = new WorkingSet({ capacityBytes: 1000 }, r.load);
  ws.prefetch(4);
  const p = ws.acquire(4);
  await Promise.resolve();
  r.open(4);
  (await p).release();
  assert.equal(r.calls, [4]);
  ws.prefetch(8);
  await Promise.resolve();
  r.fail(8, "bad"); // must not surface as an unhandled rejection
  await new Promise((res) => setImmediate(res));
  assert.is(ws.stats().entries, 1);
});

test("workingset - clear drops entries; pinned buffers stay valid", async () => {
  const r = recorder();
  const ws = new WorkingSet({ capacityBytes: 1000 }, r.load);
  const a = await ws.acquire(1);
  await touch(ws, 2);
  ws.clear();
  assert.is(ws.stats().entries, 0);
  assert.is(ws.stats().bytes, 0);
  assert.is(a.data[0], 1);
  a.release();
  assert.is(ws.stats().bytes, 0);
  await touch(ws, 1);
  assert.equal(r.calls, [1, 2, 1]);
});

test("workingset - string keys", async () => {
  const ws = new WorkingSet<string>({ capacityBytes: 10 }, async (k) => Buffer.from(k));
  const a = await ws.acquire("ab");
  assert.is(a.data.toString(), "ab");
  a.release();
});

test("workingset - tryAcquire pins a cached entry synchronously; a miss loads nothing", async () => {
  const r = recorder();
  const ws = new WorkingSet({ capacityBytes: 1000 }, r.load);
  assert.is(ws.tryAcquire(5), undefined);
  assert.equal(r.calls, []);
  assert.is(ws.stats().misses, 0, "a synchronous miss is not counted");
  await touch(ws, 5);
  const pin = ws.tryAcquire(5);
  assert.ok(pin !== undefined);
  assert.is(pin.data[0], 5);
  assert.is(ws.stats().pinned, 1);
  pin.release();
  assert.is(ws.stats().pinned, 0);
  assert.is(ws.stats().hits, 1);
  assert.ok(ws.has(5));
  assert.not.ok(ws.has(6));
});

test("workingset - load is told whether it is a prefetch; prefetched bytes are unused until acquired", async () => {
  const kinds: boolean[] = [];
  const ws = new WorkingSet(
    { capacityBytes: 1000, entryOverheadBytes: 0 },
    async (key, prefetch) => {
      kinds.push(prefetch);
      return Buffer.alloc(100, key);
    },
  );
  await ws.prefetch(1);
  await touch(ws, 2);
  assert.equal(kinds, [true, false]);
  assert.is(ws.stats().unusedPrefetchBytes, 100);
  await touch(ws, 1);
  assert.is(ws.stats().unusedPrefetchBytes, 0);
  await ws.prefetch(3);
  ws.clear();
  assert.is(ws.stats().unusedPrefetchBytes, 0);
});

test("workingset - prefetch queue starts keys in order, a bounded number at once, skipping present ones", async () => {
  const r = recorder();
  r.hold();
  const ws = new WorkingSet({ capacityBytes: 10_000 }, r.load);
  const q = new PrefetchQueue(ws, { maxInFlight: 2, entryBytesGuess: 100 });
  assert.is(q.push([1, 2, 3, 2, 4]), 4, "duplicates dropped");
  assert.equal(r.calls, [1, 2]);
  assert.is(q.inFlight, 2);
  assert.is(q.pending, 2);
  assert.is(q.push([3, 1]), 0, "waiting or loading already");
  r.open(1);
  await new Promise((res) => setImmediate(res));
  assert.equal(r.calls, [1, 2, 3]);
  r.open(2);
  r.open(3);
  await new Promise((res) => setImmediate(res));
  r.open(4);
  await new Promise((res) => setImmediate(res));
  assert.equal(r.calls, [1, 2, 3, 4]);
  assert.is(q.inFlight, 0);
  assert.is(q.push([1, 4]), 0, "cached keys are not queued");
  q.close();
  assert.is(q.push([9]), 0, "closed");
});

test("workingset - prefetch queue stops while unused prefetched bytes fill its share of the capacity", async () => {
  const r = recorder(100);
  const ws = new WorkingSet({ capacityBytes: 1000, entryOverheadBytes: 0 }, r.load);
  const q = new PrefetchQueue(ws, { maxInFlight: 1, maxUnusedFraction: 0.3, entryBytesGuess: 100 });
  q.push([1, 2, 3, 4, 5]);
  for (let i = 0; i < 10; i++) await new Promise((res) => setImmediate(res));
  assert.equal(r.calls, [1, 2, 3], "300 bytes of unused prefetches is the share");
  assert.is(q.pending, 2);
  await touch(ws, 1); // used: room for one more, taken at the next push
  q.push([]);
  for (let i = 0; i < 10; i++) await new Promise((res) => setImmediate(res));
  assert.equal(r.calls, [1, 2, 3, 4]);
  assert.is(ws.stats().evictions, 0, "prefetching never evicted its own work");
});

test.run();
