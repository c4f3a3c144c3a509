/**
 * A mount's cache budget: the working set gets what the database image (and the tree's caches
 * that grow with it) and the slack for loads in flight leave, never less than a quarter; a
 * reader opened without `cacheHoldsTree` keeps the whole budget for super-chunks.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { packTree } from "../../src/pack/pack.js";
import { CACHE_SLACK_BYTES, IMAGE_FACTOR, workingSetShare } from "../../src/reader/cache-budget.js";
import { openStoreReader } from "../../src/reader/store-reader.js";
import { cleanupTmp, tmpDir } from "../helpers/tree.js";

test.after(cleanupTmp);

const MIB = 1024 * 1024;

test("cache-budget - the image and its caches come out of the budget first", () => {
  const image = 30 * MIB;
  assert.is(
    workingSetShare(512 * MIB, image),
    512 * MIB - IMAGE_FACTOR * image - CACHE_SLACK_BYTES,
  );
  assert.is(workingSetShare(512 * MIB, 0), 512 * MIB - CACHE_SLACK_BYTES);
});

test("cache-budget - a small budget keeps 32 MiB or a quarter for super-chunks", () => {
  assert.is(workingSetShare(64 * MIB, 30 * MIB), 32 * MIB);
  assert.is(workingSetShare(8 * MIB, 30 * MIB), 8 * MIB);
  assert.is(workingSetShare(256 * MIB, 200 * MIB), 64 * MIB);
  assert.is(workingSetShare(0, 1), 0);
});

test("cache-budget - only a reader told so shares its budget", async () => {
  const src = tmpDir("budget-src");
  fs.writeFileSync(path.join(src, "a.txt"), "alpha\n".repeat(1000));
  const store = path.join(tmpDir("budget"), "store");
  await packTree(src, store, { threads: 1 });
  const whole = openStoreReader(store, { cacheBytes: 256 * MIB });
  const shared = openStoreReader(store, { cacheBytes: 256 * MIB, cacheHoldsTree: true });
  try {
    assert.is(whole.workingSetStats().capacityBytes, 256 * MIB);
    const image = shared.meta.imageBytes();
    assert.ok(image > 0, "a packed store's image has pages");
    assert.is(shared.workingSetStats().capacityBytes, workingSetShare(256 * MIB, image));
  } finally {
    await whole.close();
    await shared.close();
  }
});

test.run();
