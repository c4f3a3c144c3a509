import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { isCode } from "../../src/errors.js";
import { extractTree } from "../../src/export/extract.js";
import { packTree } from "../../src/pack/pack.js";
import { openStoreReader } from "../../src/reader/store-reader.js";
import { cleanupTmp, compareTrees, makeSampleTree, tmpDir } from "../helpers/tree.js";

test.after(cleanupTmp);

async function packed(opts = {}) {
  const root = tmpDir("pack");
  const src = path.join(root, "src");
  fs.mkdirSync(src);
  makeSampleTree(src);
  const store = path.join(root, "store");
  const summary = await packTree(src, store, { threads: 2, ...opts });
  return { root, src, store, summary };
}

test("pack - extract round trip is identical by content and stat", async () => {
  const { root, src, store, summary } = await packed();
  assert.ok(summary.files >= 10);
  assert.ok(summary.uniqueBytes < summary.logicalBytes, "copies and hard links deduplicated");
  assert.ok(summary.hardLinks === 1);
  const out = path.join(root, "out");
  await extractTree(store, out);
  assert.equal(compareTrees(src, out), []);
});

test("pack - every codec and path order round trip", async () => {
  for (const codec of ["xz", "lz4", "none"] as const) {
    const { root, src, store } = await packed({ codec, order: "path" });
    const out = path.join(root, "out");
    await extractTree(store, out);
    assert.equal(compareTrees(src, out), [], codec);
  }
});

test("pack - whole-file dedup and zero runs stored as holes", async () => {
  const { store, summary } = await packed();
  const r = openStoreReader(store);
  try {
    const a = r.lookupPath("a/b/big.bin")!;
    const b = r.lookupPath("a/b/c/copy-of-big.bin")!;
    assert.is.not(a, b, "copies are distinct inodes");
    const holey = r.lookupPath("holey.bin")!;
    const mid = await r.read(holey, 100_000 + 4096, 65536);
    assert.ok(mid.every((x) => x === 0));
    assert.ok(
      summary.uniqueBytes < 5 * 1024 * 1024 * 1.2 + 400_000,
      "big copy and zero run not stored twice",
    );
  } finally {
    await r.close();
  }
});

test("pack - reads at odd offsets match the source", async () => {
  const { src, store } = await packed({ superChunkBytes: 256 * 1024 });
  const r = openStoreReader(store, { cacheBytes: 1024 * 1024 });
  try {
    const want = fs.readFileSync(path.join(src, "a/b/big-v2.bin"));
    const ino = r.lookupPath("a/b/big-v2.bin")!;
    for (const [off, len] of [
      [0, 1],
      [12345, 300000],
      [want.length - 10, 100],
      [2_000_000 - 7, 70000],
    ] as const) {
      const got = await r.read(ino, off, len);
      assert.ok(got.equals(want.subarray(off, off + len)), `${off}+${len}`);
    }
  } finally {
    await r.close();
  }
});

test("pack - readInto matches read, fills a dirty buffer's holes, answers synchronously once cached", async () => {
  const { src, store } = await packed({ superChunkBytes: 256 * 1024 });
  const r = openStoreReader(store, { cacheBytes: 64 * 1024 * 1024 });
  try {
    for (const name of ["holey.bin", "a/b/big-v2.bin"]) {
      const want = fs.readFileSync(path.join(src, name));
      const ino = r.lookupPath(name)!;
      for (const [off, len] of [
        [0, 4096],
        [90_000, 131_072],
        [want.length - 10, 100],
      ] as const) {
        const target = Buffer.alloc(len, 0xa5);
        const first = r.readInto(ino, off, target);
        const n = typeof first === "number" ? first : await first;
        const end = Math.min(want.length, off + len);
        assert.is(n, end - off, `${name} count at ${off}`);
        assert.ok(target.subarray(0, n).equals(want.subarray(off, end)), `${name} bytes at ${off}`);
        assert.ok((await r.read(ino, off, len)).equals(want.subarray(off, end)), `${name} read`);
        const again = r.readInto(ino, off, Buffer.alloc(len));
        assert.is(typeof again, "number", `${name} at ${off}: cached data answers synchronously`);
      }
    }
    assert.is(r.readInto(r.lookupPath("holey.bin")!, 1e9, Buffer.alloc(10)), 0, "past the end");
  } finally {
    await r.close();
  }
});

test("pack - prefetchFiles and prefetchAfter load in the background, then reads hit", async () => {
  const { store } = await packed({ superChunkBytes: 256 * 1024 });
  const r = openStoreReader(store, { cacheBytes: 64 * 1024 * 1024 });
  try {
    const ino = r.lookupPath("a/b/big-v2.bin")!;
    const size = r.getattr(ino)!.size;
    const wanted = r.superChunksFor(ino, 0, size);
    assert.ok(wanted.length > 2, `big file spans ${wanted.length} super-chunks`);
    r.prefetchFiles([r.root, ino]); // the root is not a file: ignored
    for (let i = 0; i < 200 && r.workingSetStats().entries < wanted.length; i++) {
      await new Promise((res) => setTimeout(res, 10));
    }
    const loaded = r.workingSetStats();
    assert.is(loaded.entries, wanted.length, "every super-chunk of the file loaded");
    assert.is(loaded.misses, 0, "nobody waited");
    assert.is(loaded.unusedPrefetchBytes, loaded.bytes, "all of it prefetched, none used yet");
    const n = await r.readInto(ino, 0, Buffer.alloc(size));
    assert.is(n, size);
    const after = r.workingSetStats();
    assert.is(after.loads, loaded.loads, "no load for the read");
    assert.is(after.unusedPrefetchBytes, 0);
  } finally {
    await r.close();
  }
});

test("pack - extract of selected paths only", async () => {
  const { root, store } = await packed();
  const out = path.join(root, "sel");
  await extractTree(store, out, ["a/b/c"]);
  assert.ok(fs.existsSync(path.join(out, "a/b/c/copy-of-big.bin")));
  assert.not.ok(fs.existsSync(path.join(out, "hello.txt")));
  assert.not.ok(fs.existsSync(path.join(out, "a/small.bin")));
});

test("pack - refuses a missing source, a non-empty destination and an existing store", async () => {
  const { root, src, store } = await packed();
  const codeOf = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      return (e as { code?: string }).code;
    }
    return "none";
  };
  assert.is(
    await codeOf(packTree(path.join(root, "nope"), path.join(root, "s2"))),
    "E_SOURCE_MISSING",
  );
  assert.is(
    await codeOf(packTree(path.join(src, "hello.txt"), path.join(root, "s3"))),
    "E_SOURCE_NOT_DIR",
  );
  assert.is(await codeOf(packTree(src, src)), "E_DEST_NOT_EMPTY");
  assert.is(await codeOf(packTree(src, store)), "E_DEST_EXISTS");
  try {
    openStoreReader(src);
    assert.unreachable();
  } catch (e) {
    assert.ok(isCode(e, "E_NOT_A_STORE"));
  }
});

test.run();
