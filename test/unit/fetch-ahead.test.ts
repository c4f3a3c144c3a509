import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { BlobStore, ByteRange } from "../../src/blobstore/blob-store.js";
import { FetchAheadBlobStore } from "../../src/blobstore/fetch-ahead.js";
import { MemoryBlobStore } from "../../src/blobstore/memory-blob-store.js";
import { CodecPool } from "../../src/codec/codec-pool.js";
import { isCode } from "../../src/errors.js";
import { packTree } from "../../src/pack/pack.js";
import { StoreReader } from "../../src/reader/store-reader.js";
import { openStore } from "../../src/store/store-layout.js";
import { cleanupTmp, makeSampleTree, seededBytes, tmpDir } from "../helpers/tree.js";

test.after(cleanupTmp);

/**
 * A memory store that counts whole-object reads by key, can hold them until released
 * (a slow network), and can fail them.
 */
class SlowStore extends MemoryBlobStore {
  readonly gets = new Map<string, number>();
  running = 0;
  maxRunning = 0;
  holding = false;
  readonly failing = new Set<string>();
  #waiters: (() => void)[] = [];

  override async get(key: string, range?: ByteRange): Promise<Buffer> {
    this.gets.set(key, (this.gets.get(key) ?? 0) + 1);
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      while (this.holding) await new Promise<void>((resolve) => this.#waiters.push(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      if (this.failing.has(key)) throw new Error(`${key}: injected failure`);
      return await super.get(key, range);
    } finally {
      this.running--;
    }
  }

  release(): void {
    this.holding = false;
    for (const w of this.#waiters.splice(0)) w();
  }

  count(key: string): number {
    return this.gets.get(key) ?? 0;
  }
}

function filled(n: number, bytes = 1000): SlowStore {
  const s = new SlowStore();
  for (let i = 0; i < n; i++) s.blobs.set(`k${i}`, Buffer.alloc(bytes, i));
  return s;
}

const hints = (from: number, to: number, bytes = 1000) =>
  Array.from({ length: to - from }, (_, i) => ({ key: `k${from + i}`, bytes }));

/** The message a promise rejects with ("" when it resolves). */
async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "";
  } catch (e) {
    return String(e);
  }
}

/** Lets every pending callback and timer-free promise chain run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

test("fetch-ahead - hinted objects are fetched once and answered from memory", async () => {
  const inner = filled(8);
  const fa = new FetchAheadBlobStore(inner, { concurrency: 4 });
  assert.is(fa.hint(hints(0, 8)), 8);
  assert.is(fa.hint(hints(0, 8)), 0, "a second hint of the same keys adds nothing");
  await settle();
  for (let i = 0; i < 8; i++) {
    assert.ok((await fa.get(`k${i}`)).equals(Buffer.alloc(1000, i)), `k${i} bytes`);
    assert.is(inner.count(`k${i}`), 1, `k${i} fetched once`);
  }
  assert.is(inner.maxRunning, 4, "concurrency bound held and used");
  const s = fa.stats();
  assert.equal([s.started, s.hits, s.wasted, s.failed], [8, 8, 0, 0]);
  // getInto copies into the caller's buffer, from the kept copy
  const out = await fa.getInto("k3", async (n) => Buffer.alloc(n));
  assert.ok(out.equals(Buffer.alloc(1000, 3)));
  assert.is(inner.count("k3"), 1, "a read again is answered from the kept copy");
  assert.is(fa.stats().reused, 1);
  await fa.close();
});

test("fetch-ahead - a read joins the fetch in flight instead of starting another", async () => {
  const inner = filled(3);
  inner.holding = true;
  const fa = new FetchAheadBlobStore(inner);
  fa.hint(hints(0, 3));
  const reads = [fa.get("k1"), fa.get("k1"), fa.getInto("k2", async (n) => Buffer.alloc(n))];
  await settle();
  inner.release();
  const [a, b, c] = (await Promise.all(reads)) as [Buffer, Buffer, Buffer];
  assert.ok(a.equals(Buffer.alloc(1000, 1)) && b.equals(a));
  assert.ok(c.equals(Buffer.alloc(1000, 2)));
  assert.equal([inner.count("k1"), inner.count("k2")], [1, 1]);
  // a read of a key not hinted goes through, and a hint while it runs joins it
  const inner2 = filled(2);
  inner2.holding = true;
  const fb = new FetchAheadBlobStore(inner2);
  const direct = fb.get("k0");
  await settle();
  fb.hint(hints(0, 1));
  const second = fb.get("k0");
  await settle();
  inner2.release();
  assert.ok((await direct).equals(await second));
  assert.is(inner2.count("k0"), 1);
  await fa.close();
  await fb.close();
});

test("fetch-ahead - bytes held stay within the bound; reading makes room for the rest", async () => {
  const inner = filled(10, 1000);
  // room for three objects at a time
  const fa = new FetchAheadBlobStore(inner, { maxBytes: 3000, concurrency: 8 });
  fa.hint(hints(0, 10));
  await settle();
  assert.is(fa.stats().started, 3, "fetching ahead stops at the byte bound");
  assert.is(inner.maxRunning <= 3, true);
  for (let i = 0; i < 10; i++) {
    assert.ok((await fa.get(`k${i}`)).equals(Buffer.alloc(1000, i)));
    await settle();
  }
  for (let i = 0; i < 10; i++) assert.is(inner.count(`k${i}`), 1, `k${i} fetched once`);
  assert.is(fa.stats().hits, 10, "every read found its object fetched ahead");
  assert.is(fa.stats().wasted, 0);
  // an object larger than the bound is never fetched ahead
  assert.is(fa.hint([{ key: "big", bytes: 4000 }]), 0);
  await fa.close();
});

test("fetch-ahead - objects held unread too long give way to newer hints", async () => {
  const inner = filled(4, 1000);
  const fa = new FetchAheadBlobStore(inner, { maxBytes: 2000, staleMs: 0 });
  fa.hint(hints(0, 2));
  await settle();
  // the reader went elsewhere: k0 and k1 are stale, k2 and k3 take their room
  fa.hint(hints(2, 4));
  await settle();
  assert.is(fa.stats().wasted, 2);
  assert.ok((await fa.get("k3")).equals(Buffer.alloc(1000, 3)));
  assert.is(inner.count("k3"), 1);
  assert.ok((await fa.get("k0")).equals(Buffer.alloc(1000, 0)), "a dropped object reads again");
  assert.is(inner.count("k0"), 2);
  await fa.close();
});

test("fetch-ahead - a failed fetch ahead is forgotten; the read reports the store's own error", async () => {
  const inner = filled(2);
  inner.failing.add("k0");
  const fa = new FetchAheadBlobStore(inner);
  fa.hint([...hints(0, 2), { key: "gone", bytes: 10 }]);
  await settle();
  assert.is(fa.stats().failed, 2, "the injected failure and the missing key");
  assert.match(await failure(fa.get("k0")), /injected failure/);
  assert.is(inner.count("k0"), 2, "the read went to the store itself");
  inner.failing.delete("k0");
  assert.ok((await fa.get("k0")).equals(Buffer.alloc(1000, 0)), "and a later read succeeds");
  try {
    await fa.get("gone");
    assert.unreachable("a missing key is an error");
  } catch (e) {
    assert.ok(isCode(e, "E_SUPERCHUNK_MISSING"), String(e));
  }
  await fa.close();
});

test("fetch-ahead - put, delete and clear forget what was fetched; ranges go to the store", async () => {
  const inner = filled(3);
  const fa = new FetchAheadBlobStore(inner);
  fa.hint(hints(0, 3));
  await settle();
  await fa.put("k0", Buffer.from("replaced"));
  assert.equal((await fa.get("k0")).toString(), "replaced", "a put is never shadowed");
  await fa.delete("k1");
  assert.match(await failure(fa.get("k1")), /missing/);
  fa.clear();
  assert.is(fa.stats().wasted, 1, "k2 was fetched and never read (k1 was deleted)");
  assert.ok((await fa.get("k2")).equals(Buffer.alloc(1000, 2)));
  assert.is(inner.count("k2"), 2, "cleared objects are fetched again");
  const part = await fa.get("k2", { offset: 10, length: 5 });
  assert.ok(part.equals(Buffer.alloc(5, 2)));
  await fa.close();
  assert.is(fa.hint(hints(0, 3)), 0, "a closed store takes no hints");
});

/** A store that claims to be remote and counts whole-object reads; everything else passes. */
function remote(inner: BlobStore): BlobStore & { gets: Map<string, number> } {
  const gets = new Map<string, number>();
  return {
    location: inner.location,
    remote: true,
    gets,
    get: (key, range) => {
      if (range === undefined) gets.set(key, (gets.get(key) ?? 0) + 1);
      return inner.get(key, range);
    },
    size: (key) => inner.size(key),
    has: (key) => inner.has(key),
    put: (key, data) => inner.put(key, data),
    delete: (key) => inner.delete(key),
    list: (prefix) => inner.list(prefix),
    close: () => inner.close(),
  };
}

test("fetch-ahead - a reader over a remote store fetches ahead and reads the same bytes", async () => {
  const root = tmpDir("fetch-ahead");
  const src = path.join(root, "src");
  fs.mkdirSync(src);
  makeSampleTree(src);
  fs.writeFileSync(path.join(src, "long.bin"), seededBytes(6 * 1024 * 1024, 9));
  const store = path.join(root, "store");
  await packTree(src, store, { threads: 2, superChunkBytes: 256 * 1024 });
  for (const aheadBytes of [32 * 1024 * 1024, 0]) {
    const opened = openStore(store, { readonly: true });
    const blobs = remote(opened.blobs);
    const pool = new CodecPool({ threads: 1 });
    const r = new StoreReader(opened.meta, blobs, pool, 64 * 1024 * 1024, {
      fetchAheadBytes: aheadBytes,
    });
    try {
      for (const name of ["long.bin", "a/b/big-v2.bin", "holey.bin"]) {
        const want = fs.readFileSync(path.join(src, name));
        const ino = r.lookupPath(name)!;
        for (let off = 0; off < want.length; off += 128 * 1024) {
          const got = await r.read(ino, off, 128 * 1024);
          assert.ok(got.equals(want.subarray(off, off + 128 * 1024)), `${name} at ${off}`);
          // what the mount does for a sequential reader
          r.prefetchAfter(ino, off, got.length);
        }
      }
      const stats = r.fetchAheadStats();
      if (aheadBytes === 0) {
        assert.is(stats, undefined, "--fetch-ahead 0 turns it off");
      } else {
        assert.ok(stats !== undefined && stats.hits > 10, JSON.stringify(stats));
        assert.is(stats.failed, 0);
        const twice = [...blobs.gets].filter(([, n]) => n > 1);
        assert.equal(twice, [], "no super-chunk fetched twice");
      }
    } finally {
      await r.close();
    }
  }
});

test.run();
