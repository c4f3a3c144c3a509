/**
 * StagingFile (writer/staging-file.ts): staged bytes read back the same whether they are in
 * memory or spilled to the staging folder, truncation forgets bytes in both, and only files
 * that outgrow the memory limits touch the disk.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { STAGING_DIR, StagingFile } from "../../src/writer/staging-file.js";
import { cleanupTmp, seededBytes, tmpDir } from "../helpers/tree.js";

const MIB = 1024 * 1024;

test.after(() => cleanupTmp());

function spillFiles(store: string): string[] {
  const dir = join(store, STAGING_DIR);
  return existsSync(dir) ? readdirSync(dir) : [];
}

function readBack(s: StagingFile, offset: number, n: number): Buffer {
  const out = Buffer.alloc(n, 0xee);
  s.readStaged(offset, n, out, 0);
  return out;
}

test("staging - small writes stay in memory; truncation zeroes what it cut", async () => {
  const store = tmpDir("staging");
  const s = new StagingFile(store, 0);
  const a = seededBytes(300_000, 1);
  s.write(a, 0);
  s.write(a.subarray(0, 1000), 500_000);
  assert.ok(s.inMemory);
  assert.equal(spillFiles(store), [], "nothing on disk");
  assert.ok(readBack(s, 0, a.length).equals(a));
  assert.ok(readBack(s, 300_000, 10).equals(Buffer.alloc(10)), "a gap reads zeros");
  s.truncate(1000);
  s.truncate(600_000);
  assert.ok(readBack(s, 1000, 10).equals(Buffer.alloc(10)), "cut bytes read zeros");
  const async = Buffer.alloc(1000);
  await s.readStagedAsync(0, async);
  assert.ok(async.equals(a.subarray(0, 1000)));
  assert.equal(
    s.segments(0, 600_000).map((g) => [g.start, g.end, g.inSet]),
    [
      [0, 1000, true],
      [1000, 600_000, false],
    ],
  );
  s.dispose();
});

test("staging - memory another file gave back reads zeros in a gap and past a cut", () => {
  const store = tmpDir("staging-reuse");
  // files that fill their memory with ones, then end: their memory goes to the pool
  for (const size of [100_000, 200_000, 400_000]) {
    const old = new StagingFile(store, 0);
    old.write(Buffer.alloc(size, 0xff), 0);
    old.dispose();
  }
  for (const size of [100_000, 200_000, 400_000]) {
    const s = new StagingFile(store, 0);
    s.write(Buffer.from("head"), 0);
    s.write(Buffer.from("tail"), size - 4);
    const all = readBack(s, 0, size);
    assert.is(all.subarray(0, 4).toString(), "head");
    assert.is(all.subarray(size - 4).toString(), "tail");
    assert.ok(all.subarray(4, size - 4).equals(Buffer.alloc(size - 8)), `a gap of ${size}`);
    s.truncate(2);
    s.write(Buffer.from("x"), 10);
    assert.ok(readBack(s, 2, 8).equals(Buffer.alloc(8)), "cut bytes read zeros");
    s.dispose();
  }
});

test("staging - a write past the memory limit spills everything to a file, deleted at dispose", async () => {
  const store = tmpDir("staging");
  const s = new StagingFile(store, 0);
  const a = seededBytes(2 * MIB, 2);
  s.write(a, 0);
  assert.ok(s.inMemory);
  const far = seededBytes(4096, 3);
  s.write(far, 2 * 1024 * MIB);
  assert.not.ok(s.inMemory, "spilled");
  assert.is(spillFiles(store).length, 1);
  assert.ok(readBack(s, 0, a.length).equals(a), "what memory held moved to the file");
  assert.ok(readBack(s, 2 * 1024 * MIB, 4096).equals(far));
  const tail = Buffer.alloc(4096);
  await s.readStagedAsync(2 * 1024 * MIB, tail);
  assert.ok(tail.equals(far));
  s.truncate(10);
  assert.ok(readBack(s, 10, 10).equals(Buffer.alloc(10)));
  s.dispose();
  s.dispose();
  assert.equal(spillFiles(store), [], "deleted");
});

test("staging - all files together stay within the memory budget", () => {
  const store = tmpDir("staging");
  const files = Array.from({ length: 12 }, () => new StagingFile(store, 0));
  const data = seededBytes(8 * MIB, 4);
  for (const f of files) f.write(data, 0);
  const inMemory = files.filter((f) => f.inMemory).length;
  assert.ok(inMemory >= 4 && inMemory < 12, `${inMemory} of 12 files of 8 MiB in memory`);
  for (const f of files) assert.ok(readBack(f, 0, data.length).equals(data));
  for (const f of files) f.dispose();
  // memory given back: a new file fits again
  const again = new StagingFile(store, 0);
  again.write(data, 0);
  assert.ok(again.inMemory);
  again.dispose();
});

test.run();
