import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { superChunkKey } from "../../src/blobstore/blob-store.js";
import { fsckCommand } from "../../src/cli/cmd-fsck.js";
import { isCode } from "../../src/errors.js";
import { extractTree } from "../../src/export/extract.js";
import { fsckClean, fsckStore } from "../../src/maintain/fsck.js";
import { StoreRewrite } from "../../src/meta/store-rewrite.js";
import { packTree } from "../../src/pack/pack.js";
import type { PackOptions } from "../../src/pack/pack-options.js";
import { DB_FILE, openStore } from "../../src/store/store-layout.js";
import { acquireStoreLock } from "../../src/store/store-lock.js";
import type { SubBlockId, SuperChunkId } from "../../src/types.js";
import { captureIO } from "../helpers/cli-capture.js";
import { cleanupTmp, compareTrees, makeSampleTree, seededBytes, tmpDir } from "../helpers/tree.js";

test.after(cleanupTmp);

/** Text-like, compressible files that share pieces, so super-chunks are zstd. */
function makeTextTree(root: string): void {
  const words = seededBytes(200_000, 9)
    .toString("base64")
    .match(/.{1,7}/g)!;
  const doc = (n: number, seed: number) => {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(words[(i * 7919 + seed * 104729) % words.length]!);
    return out.join(" ");
  };
  fs.mkdirSync(path.join(root, "v1"), { recursive: true });
  fs.mkdirSync(path.join(root, "v2"), { recursive: true });
  for (let f = 0; f < 4; f++) {
    const body = doc(60_000, f);
    fs.writeFileSync(path.join(root, "v1", `f${f}.txt`), body);
    fs.writeFileSync(
      path.join(root, "v2", `f${f}.txt`),
      `${body.slice(0, 100_000)}EDIT${body.slice(100_000)}`,
    );
  }
}

async function packed(kind: "sample" | "text", opts: Partial<PackOptions> = {}) {
  const root = tmpDir("fsck");
  const src = path.join(root, "src");
  fs.mkdirSync(src);
  if (kind === "sample") makeSampleTree(src);
  else makeTextTree(src);
  const store = path.join(root, "store");
  await packTree(src, store, { threads: 2, superChunkBytes: 512 * 1024, ...opts });
  return { root, src, store };
}

function flipByte(file: string, at: number): void {
  const b = fs.readFileSync(file);
  b[at] = b[at]! ^ 0x5a;
  fs.writeFileSync(file, b);
}

/** Inodes using each sub-block, as the metadata says (MetaDb.inodesUsingSubBlock). */
function usersOf(store: string, ids: readonly number[]): Map<number, number[]> {
  const { meta } = openStore(store, { readonly: true });
  try {
    return new Map(
      ids.map((id) => [id, meta.inodesUsingSubBlock(id as SubBlockId).sort((a, b) => a - b)]),
    );
  } finally {
    meta.close();
  }
}

async function extractsLike(store: string, src: string, root: string): Promise<void> {
  const out = path.join(root, `out-${Date.now()}`);
  await extractTree(store, out);
  assert.equal(compareTrees(src, out), []);
}

test("fsck - a packed store is clean", async () => {
  const { store } = await packed("sample");
  const r = await fsckStore(store);
  assert.is(r.errors, 0, JSON.stringify(r.problems.slice(0, 3)));
  assert.ok(fsckClean(r));
  assert.ok(r.bytesVerified > 0 && r.superChunks > 1);
});

test("fsck - a flipped payload byte names exactly the files using the damaged sub-block", async () => {
  const { root, src, store } = await packed("sample");
  const { meta } = openStore(store, { readonly: true });
  const sc = meta
    .listSuperChunks()
    .find((s) => s.rawBytes === s.storedBytes - (48 + 36 * s.subBlocks))!;
  assert.ok(sc, "an uncompressed (codec none) super-chunk");
  const rows = meta.listSubBlocks(sc.id);
  const target = rows[Math.floor(rows.length / 2)]!;
  meta.close();
  const headerBytes = 48 + 36 * sc.subBlocks;
  flipByte(path.join(store, superChunkKey(sc.id)), headerBytes + target.offset + 10);
  const r = await fsckStore(store);
  assert.ok(!fsckClean(r));
  assert.equal(r.damagedSubBlocks, [target.id]);
  const want = usersOf(store, [target.id]).get(target.id)!;
  assert.ok(want.length > 0);
  const got = r.damaged[0]!.affected.map((f) => f.ino).sort((a, b) => a - b);
  assert.equal(got, want);
  for (const f of r.damaged[0]!.affected)
    for (const [, len] of f.ranges) assert.is(len, target.length);
  const fixed = await fsckStore(store, { repairFrom: src });
  assert.is(fixed.repairs.subBlocksRestored, 1);
  assert.ok(fsckClean(fixed), JSON.stringify(fixed.after?.problems));
  assert.ok(fsckClean(await fsckStore(store)));
  await extractsLike(store, src, root);
});

test("fsck - damage in a zstd payload: every damaged sub-block's files; repair from the source", async () => {
  const { root, src, store } = await packed("text");
  const { meta } = openStore(store, { readonly: true });
  const sc = meta.listSuperChunks().find((s) => s.storedBytes < s.rawBytes / 2)!;
  meta.close();
  assert.ok(sc, "a compressed super-chunk");
  flipByte(path.join(store, superChunkKey(sc.id)), sc.storedBytes - 200);
  const r = await fsckStore(store);
  assert.ok(r.damagedSubBlocks.length >= 1);
  const users = usersOf(store, r.damagedSubBlocks);
  for (const d of r.damaged) {
    assert.is(d.superChunk, sc.id);
    assert.equal(
      d.affected.map((f) => f.ino).sort((a, b) => a - b),
      users.get(d.subBlock),
    );
  }
  const fixed = await fsckStore(store, { repairFrom: src });
  assert.ok(fsckClean(fixed), JSON.stringify(fixed.after?.problems.slice(0, 3)));
  await extractsLike(store, src, root);
});

test("fsck - a deleted super-chunk file is reported with the files it affects", async () => {
  const { store } = await packed("text");
  const { meta } = openStore(store, { readonly: true });
  const sc = meta.listSuperChunks()[0]!;
  const ids = meta.listSubBlocks(sc.id).map((s) => s.id as number);
  meta.close();
  fs.rmSync(path.join(store, superChunkKey(sc.id)));
  const r = await fsckStore(store);
  const p = r.problems.find((x) => x.kind === "superchunk-missing")!;
  assert.ok(p, "missing super-chunk reported");
  assert.is(p.code, "E_SUPERCHUNK_MISSING");
  const want = new Set([...usersOf(store, ids).values()].flat());
  assert.equal(new Set(p.affected!.map((f) => f.ino)), want);
  assert.equal(
    r.damagedSubBlocks,
    [...ids].sort((a, b) => a - b),
  );
  const io = captureIO({ env: {} });
  assert.is(await fsckCommand.run([store], io.io), 1);
  assert.match(io.out(), /affects /);
});

test("fsck - an orphan file is reported, and removed only with --fix", async () => {
  const { store } = await packed("text");
  const orphan = path.join(store, superChunkKey(0xabcdef));
  fs.mkdirSync(path.dirname(orphan), { recursive: true });
  fs.copyFileSync(path.join(store, superChunkKey(1)), orphan);
  const r = await fsckStore(store);
  assert.ok(r.problems.some((p) => p.kind === "orphan" && p.key === superChunkKey(0xabcdef)));
  assert.ok(fsckClean(r), "an orphan is harmless");
  assert.ok(fs.existsSync(orphan));
  const fixed = await fsckStore(store, { fix: true });
  assert.is(fixed.repairs.orphansRemoved, 1);
  assert.not.ok(fs.existsSync(orphan));
  assert.is(fixed.after!.warnings, 0);
});

test("fsck - a wrong refcount is found, and fixed with --fix", async () => {
  const { store } = await packed("text");
  const { meta } = openStore(store, { readonly: false });
  const ino = meta.resolvePath("v1/f0.txt")!;
  meta.addContentRef(meta.getInode(ino)!.content!, 1);
  meta.close();
  const r = await fsckStore(store);
  assert.ok(
    r.problems.some((p) => p.kind === "refcount"),
    JSON.stringify(r.problems),
  );
  assert.not.ok(fsckClean(r));
  const fixed = await fsckStore(store, { fix: true });
  assert.ok(fixed.repairs.refcountRowsFixed >= 1);
  assert.ok(fsckClean(fixed));
});

test("fsck - --rebuild-index puts a misplaced index row back from the headers", async () => {
  const { root, src, store } = await packed("text");
  const { meta } = openStore(store, { readonly: false });
  const sb = meta.listSubBlocks(1 as SuperChunkId)[1]!;
  meta.close();
  const rw = StoreRewrite.open(path.join(store, DB_FILE));
  rw.transaction(() => rw.moveSubBlock(sb.id, 1 as SuperChunkId, sb.offset + 1));
  rw.close();
  const r = await fsckStore(store);
  assert.ok(r.problems.some((p) => p.kind === "subblock-missing" && p.subBlock === sb.id));
  const fixed = await fsckStore(store, { rebuildIndex: true });
  assert.is(fixed.repairs.rowsRelocated, 1);
  assert.ok(fsckClean(fixed), JSON.stringify(fixed.after?.problems));
  await extractsLike(store, src, root);
});

test("fsck - repairs are refused while the store is locked; CLI says could not run (2)", async () => {
  const { store } = await packed("text");
  const lock = acquireStoreLock(store, "mount /mnt/test");
  try {
    await fsckStore(store, { fix: true }).then(
      () => assert.unreachable("should refuse"),
      (err) => assert.ok(isCode(err, "E_STORE_LOCKED"), String(err)),
    );
    const io = captureIO({ env: {} });
    assert.is(await fsckCommand.run([store, "--fix"], io.io), 2);
    assert.match(io.err(), /E_STORE_LOCKED/);
    assert.ok(fsckClean(await fsckStore(store)), "a read-only check still runs");
  } finally {
    lock.release();
  }
  const io = captureIO({ env: {} });
  assert.is(await fsckCommand.run([path.join(store, "nope")], io.io), 2);
});

test.run();
