/**
 * The BlobStore contract (src/blobstore/blob-store.ts) as one suite run against every
 * backend, as restic's internal/backend/test runs against each of its backends. The read
 * half (whole and ranged reads, ranges past the end, the not-found code, size, has, list by
 * prefix, close twice) runs on every backend; the write half (put makes a blob visible and
 * replaces one atomically, the caller's buffer is not kept, delete, delete of a missing key,
 * durability seen by a second store on the same location) only on writable ones.
 */
import { suite, type Test } from "uvu";
import * as assert from "uvu/assert";
import {
  type BlobStore,
  openSuperChunkKey,
  superChunkKey,
} from "../../src/blobstore/blob-store.js";
import { isCode } from "../../src/errors.js";
import type { ZipInput } from "../../src/zip/zip-writer.js";
import { rejectsWith } from "./cli-capture.js";
import { seededBytes } from "./tree.js";

/** Makes a fresh store, at a location no other call uses, holding exactly `blobs`. */
export type MakeStore = (blobs: ReadonlyMap<string, Buffer>) => Promise<BlobStore>;

/** What the suite may do with a backend beyond reading. */
export interface ContractOptions {
  /** put and delete are refused (an archive): only the read half runs; default false */
  readOnly?: boolean;
  /** A second store on the location `store` uses, to see that a put outlives its store. */
  reopen?: (store: BlobStore) => Promise<BlobStore>;
  /**
   * the test function (a suite's, or its skip) the tests are added to, whose owner runs the
   * suite; default a new suite named `name`, run at once
   */
  test?: Test["skip"];
}

/** The blobs every store starts with: super-chunk keys, a nested key, an empty blob. */
export function contractBlobs(): Map<string, Buffer> {
  return new Map([
    [superChunkKey(1), seededBytes(70_000, 1)],
    [superChunkKey(2), seededBytes(1000, 2)],
    [superChunkKey(0x102), seededBytes(5000, 3)],
    [openSuperChunkKey(7), Buffer.from("raw tail")],
    ["superchunk.db.zst", seededBytes(300, 4)],
    ["empty", Buffer.alloc(0)],
  ]);
}

/**
 * The contract's tests, named "<name> - …", added to `opts.test`, or to a new suite that is
 * run at once.
 *
 * @example
 * blobStoreContract("blob-store memory", async (blobs) => filled(new MemoryBlobStore(), blobs));
 */
export function blobStoreContract(
  name: string,
  makeStore: MakeStore,
  opts: ContractOptions = {},
): void {
  const own = opts.test === undefined ? suite(name) : undefined;
  addTests(name, makeStore, opts, opts.test ?? own!);
  own?.run();
}

/** What every group of tests shares. */
interface Ctx {
  readonly name: string;
  readonly t: Test["skip"];
  readonly makeStore: MakeStore;
  readonly blobs: Map<string, Buffer>;
  /** runs `fn` on a fresh store, closed afterwards */
  withStore(fn: (s: BlobStore) => Promise<void>): () => Promise<void>;
}

/** The key of the largest blob. */
const BIG = superChunkKey(1);

function addTests(name: string, makeStore: MakeStore, opts: ContractOptions, t: Test["skip"]) {
  const blobs = contractBlobs();
  const withStore = (fn: (s: BlobStore) => Promise<void>) => async () => {
    const s = await makeStore(blobs);
    try {
      await fn(s);
    } finally {
      await s.close();
    }
  };
  const ctx: Ctx = { name, t, makeStore, blobs, withStore };
  readTests(ctx);
  listTests(ctx);
  if (opts.readOnly) return refusedTests(ctx);
  writeTests(ctx);
  if (opts.reopen) durabilityTest(ctx, opts.reopen);
}

function readTests({ name, t, blobs, withStore }: Ctx): void {
  const big = BIG;
  const bigData = blobs.get(big)!;

  t(
    `${name} - get answers every blob whole; size and has agree`,
    withStore(async (s) => {
      for (const [key, data] of blobs) {
        assert.ok((await s.get(key)).equals(data), key);
        assert.is(await s.size(key), data.length, key);
        assert.ok(await s.has(key), key);
      }
      // a key's folder is not a blob
      assert.not.ok(await s.has("sc/01"));
      await rejectsWith(s.get("sc/01"), "E_SUPERCHUNK_MISSING");
      await rejectsWith(s.size("sc/01"), "E_SUPERCHUNK_MISSING");
    }),
  );

  t(
    `${name} - get of a range answers exactly those bytes`,
    withStore(async (s) => {
      for (const [offset, length] of [
        [0, 1],
        [0, 4096],
        [12_345, 20_000],
        [bigData.length - 1, 1],
        [bigData.length - 100, 100],
        [3, 0],
      ] as const) {
        const got = await s.get(big, { offset, length });
        assert.ok(got.equals(bigData.subarray(offset, offset + length)), `${offset}+${length}`);
      }
    }),
  );

  t(
    `${name} - a range past the end answers the bytes that exist, possibly none`,
    withStore(async (s) => {
      const tail = await s.get(big, { offset: bigData.length - 10, length: 100 });
      assert.ok(tail.equals(bigData.subarray(bigData.length - 10)));
      assert.is((await s.get(big, { offset: bigData.length, length: 10 })).length, 0);
      assert.is((await s.get(big, { offset: bigData.length + 999, length: 10 })).length, 0);
      assert.is((await s.get("empty", { offset: 0, length: 10 })).length, 0);
    }),
  );

  t(
    `${name} - a missing key: get, getInto and size fail with E_SUPERCHUNK_MISSING naming it; has is false`,
    withStore(async (s) => {
      const key = superChunkKey(0xdead);
      await missing(s.get(key), key);
      await missing(s.get(key, { offset: 0, length: 10 }), key);
      await missing(s.size(key), key);
      if (s.getInto)
        await missing(
          s.getInto(key, async (n) => Buffer.alloc(n)),
          key,
        );
      assert.not.ok(await s.has(key));
    }),
  );

  t(
    `${name} - getInto fills the one buffer alloc answers, sized by the blob`,
    withStore(async (s) => {
      if (!s.getInto) return;
      for (const [key, data] of blobs) {
        const sizes: number[] = [];
        let given: Buffer | undefined;
        const got = await s.getInto(key, async (n) => {
          sizes.push(n);
          given = Buffer.alloc(n, 0xee);
          return given;
        });
        assert.equal(sizes, [data.length], key);
        assert.ok(got.equals(data), key);
        assert.is(got.buffer, given!.buffer, `${key}: the caller's memory`);
      }
    }),
  );
}

function listTests({ name, t, makeStore, blobs, withStore }: Ctx): void {
  const big = BIG;
  const bigData = blobs.get(big)!;
  t(
    `${name} - list answers every key under a prefix, once`,
    withStore(async (s) => {
      const all = [...blobs.keys()].sort();
      assert.equal(await listed(s, ""), all);
      assert.equal(
        await listed(s, "sc/"),
        all.filter((k) => k.startsWith("sc/")),
      );
      assert.equal(await listed(s, "sc/02/"), [superChunkKey(2), superChunkKey(0x102)].sort());
      assert.equal(await listed(s, "sc/0"), all.filter((k) => k.startsWith("sc/0")).sort());
      assert.equal(await listed(s, "nothing/"), []);
    }),
  );

  t(`${name} - close is idempotent`, async () => {
    const s = await makeStore(blobs);
    assert.ok((await s.get(big)).equals(bigData));
    await s.close();
    await s.close();
  });
}

function refusedTests({ name, t, blobs, withStore }: Ctx): void {
  const big = BIG;
  const bigData = blobs.get(big)!;
  t(
    `${name} - put and delete are refused with E_READ_ONLY; nothing changes`,
    withStore(async (s) => {
      await refused(s.put("new", Buffer.from("x")));
      await refused(s.put(big, Buffer.from("x")));
      await refused(s.delete(big));
      assert.ok((await s.get(big)).equals(bigData));
      assert.not.ok(await s.has("new"));
    }),
  );
}

function writeTests({ name, t, blobs, withStore }: Ctx): void {
  const big = BIG;
  t(
    `${name} - put makes a blob visible at once; putting again replaces it`,
    withStore(async (s) => {
      const key = superChunkKey(0x1234);
      const first = seededBytes(40_000, 9);
      await s.put(key, first);
      assert.ok((await s.get(key)).equals(first));
      assert.is(await s.size(key), first.length);
      assert.ok(await s.has(key));
      assert.ok((await s.get(key, { offset: 100, length: 50 })).equals(first.subarray(100, 150)));
      const second = Buffer.from("shorter");
      await s.put(key, second);
      assert.ok((await s.get(key)).equals(second), "replaced");
      assert.is(await s.size(key), second.length);
      await s.put("empty-too", new Uint8Array(0));
      assert.is((await s.get("empty-too")).length, 0);
      const keys = await listed(s, "");
      assert.equal(keys, [...blobs.keys(), key, "empty-too"].sort(), "no temporary names left");
    }),
  );

  t(
    `${name} - put keeps the bytes as they were: the caller may reuse its buffer`,
    withStore(async (s) => {
      const data = seededBytes(10_000, 10);
      const copy = Buffer.from(data);
      await s.put("reused", data);
      data.fill(0);
      assert.ok((await s.get("reused")).equals(copy));
      const got = await s.get("reused");
      got.fill(1);
      assert.ok((await s.get("reused")).equals(copy), "nor does a reader's buffer alias it");
    }),
  );

  t(
    `${name} - delete removes a blob; deleting a missing key is not an error`,
    withStore(async (s) => {
      await s.delete(big);
      assert.not.ok(await s.has(big));
      await missing(s.get(big), big);
      assert.not.ok((await listed(s, "")).includes(big));
      await s.delete(big);
      await s.delete(superChunkKey(0xbeef));
      assert.ok(
        (await s.get(superChunkKey(2))).equals(blobs.get(superChunkKey(2))!),
        "others stay",
      );
    }),
  );
}

function durabilityTest(
  { name, t, makeStore, blobs }: Ctx,
  reopen: (store: BlobStore) => Promise<BlobStore>,
): void {
  const big = BIG;
  const bigData = blobs.get(big)!;
  t(`${name} - a put blob is there for a second store on the same location`, async () => {
    const s = await makeStore(blobs);
    const data = seededBytes(20_000, 11);
    try {
      await s.put(superChunkKey(0x77), data);
      await s.delete(superChunkKey(2));
    } finally {
      await s.close();
    }
    const again = await reopen(s);
    try {
      assert.ok((await again.get(superChunkKey(0x77))).equals(data));
      assert.not.ok(await again.has(superChunkKey(2)));
      assert.ok((await again.get(big)).equals(bigData));
    } finally {
      await again.close();
    }
  });
}

async function listed(s: BlobStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const k of s.list(prefix)) keys.push(k);
  return keys.sort();
}

async function missing(p: Promise<unknown>, key: string): Promise<void> {
  try {
    await p;
  } catch (err) {
    assert.ok(isCode(err, "E_SUPERCHUNK_MISSING"), `${key}: ${String(err)}`);
    assert.match((err as Error).message, key, "the message names the key");
    return;
  }
  assert.unreachable(`${key}: expected E_SUPERCHUNK_MISSING`);
}

async function refused(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    assert.ok(isCode(err, "E_READ_ONLY"), String(err));
    return;
  }
  assert.unreachable("expected E_READ_ONLY");
}

/** The entries of a zip archive holding `blobs` (for the read-only backends). */
export function zipOf(blobs: ReadonlyMap<string, Buffer>): ZipInput[] {
  return [...blobs].map(([key, data]) => ({ key, data }));
}
