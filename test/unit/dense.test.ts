import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { CodecPool } from "../../src/codec/codec-pool.js";
import { getCodec } from "../../src/codec/codec-registry.js";
import { DENSE_MIN_BYTES, isDense, levelFor } from "../../src/codec/dense.js";
import { type RewriteItem, writeGroups } from "../../src/maintain/repack-write.js";
import { packTree } from "../../src/pack/pack.js";
import { type PlanItem, type PlanOptions, planSuperChunks } from "../../src/similarity/plan.js";
import { sketchSubBlock } from "../../src/similarity/sketch.js";
import type { SubBlockHash, SuperChunkId } from "../../src/types.js";
import { cleanupTmp, seededBytes, seededText, tmpDir } from "../helpers/tree.js";

test.after(cleanupTmp);

test("dense - random and gzip'd bytes are dense; text, zeros, short pieces, patterns are not", () => {
  assert.ok(isDense(seededBytes(32 * 1024, 1)));
  assert.ok(isDense(gzipSync(seededText(512 * 1024, 2), { level: 9 }).subarray(0, 32 * 1024)));
  assert.not.ok(isDense(seededText(32 * 1024, 3)));
  assert.not.ok(isDense(Buffer.alloc(32 * 1024)));
  assert.not.ok(isDense(seededBytes(DENSE_MIN_BYTES - 1, 4)));
  // random prefix, compressible rest: the whole piece decides, not the probe
  const mixed = Buffer.concat([seededBytes(8 * 1024, 5), seededText(24 * 1024, 6)]);
  assert.not.ok(isDense(mixed));
  // every byte value equally often, yet a repeating pattern: entropy 8, and compressible
  const ramp = Buffer.alloc(32 * 1024);
  for (let j = 0; j < ramp.length; j++) ramp[j] = (j * 7 + (j >> 9)) & 0xff;
  assert.not.ok(isDense(ramp));
});

test("dense - the dense level only ever lowers the chosen level", () => {
  const zstd = getCodec("zstd");
  assert.is(levelFor(zstd, 19, true), zstd.denseLevel);
  assert.is(levelFor(zstd, 19, false), 19);
  assert.is(levelFor(zstd, 3, true), 3);
  assert.is(levelFor(getCodec("lz4"), 0, true), 0);
  assert.is(levelFor(getCodec("none"), 0, true), 0);
  assert.ok((getCodec("xz").denseLevel ?? 99) < getCodec("xz").defaultLevel);
});

function items(n: number, seed: number): PlanItem[] {
  const r = seededBytes(n * 2, seed);
  return Array.from({ length: n }, (_, i) => ({
    length: 1024 + r[2 * i]! * 64,
    sketch: sketchSubBlock(seededBytes(256, seed * 1000 + (i % 7))),
    path: `f${Math.floor(i / 5)}`,
    fileOffset: (i % 5) * 4096,
    dense: r[2 * i + 1]! % 3 === 0,
  }));
}

test("dense - the plan never puts dense and other items in one group, both orders", () => {
  const list = items(400, 7);
  for (const order of ["path", "similarity"] as PlanOptions["order"][]) {
    const groups = planSuperChunks(list, { targetBytes: 64 * 1024, order });
    const seen = new Set<number>();
    for (const g of groups) {
      const kinds = new Set(Array.from(g, (i) => list[i]!.dense));
      assert.is(kinds.size, 1, `${order}: a group mixes dense and other items`);
      let bytes = 0;
      for (const i of g) {
        assert.not.ok(seen.has(i));
        seen.add(i);
        bytes += list[i]!.length;
      }
      assert.ok(bytes <= 64 * 1024 || g.length === 1);
    }
    assert.is(seen.size, list.length);
  }
});

test("dense - pack codes dense super-chunks at the codec's dense level and reports their bytes", async () => {
  const root = tmpDir("dense-src");
  let denseTotal = 0;
  for (let i = 0; i < 4; i++) {
    const random = seededBytes(200 * 1024 + i * 7000, 40 + i);
    fs.writeFileSync(path.join(root, `blob${i}.bin`), random);
    denseTotal += random.length;
    fs.writeFileSync(path.join(root, `doc${i}.txt`), seededText(150 * 1024, 50 + i));
  }
  const s = await packTree(root, path.join(tmpDir("dense-store"), "s"), { level: 19 });
  // all of the random files but their last pieces, when shorter than DENSE_MIN_BYTES
  assert.ok(s.denseBytes <= denseTotal && s.denseBytes > denseTotal - 4 * DENSE_MIN_BYTES);
  const low = await packTree(root, path.join(tmpDir("dense-store"), "s"), { level: 5 });
  assert.is(low.denseBytes, 0, "a level at or below the dense level is kept");
});

test("dense - repack's writer compresses a dense group at the dense level, others at the chosen", async () => {
  const levels: number[] = [];
  const pool = {
    threads: 1,
    compress: async (codec: "zstd", level: number, raw: Uint8Array) => {
      levels.push(level);
      return getCodec(codec).compress(raw, level);
    },
    inflate: async (codec: "zstd", data: Uint8Array, rawLength: number) =>
      getCodec(codec).inflate(data, rawLength),
  } as unknown as CodecPool;
  const bytes = [seededBytes(40 * 1024, 60), seededText(40 * 1024, 61)];
  const item = (i: number, dense: boolean): RewriteItem => ({
    id: (i + 1) as RewriteItem["id"],
    hash: createHash("sha256").update(bytes[i]!).digest() as SubBlockHash,
    length: bytes[i]!.length,
    dense,
  });
  await writeGroups(
    {
      blobs: { put: async () => {} },
      pool,
      codec: "zstd",
      level: 19,
      firstId: 1 as SuperChunkId,
      fetch: (it) => Buffer.from(bytes[it.id - 1]!),
    },
    [[item(0, true)], [item(1, false)]],
  );
  assert.equal(levels, [getCodec("zstd").denseLevel, 19]);
});

test.run();
