import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { isCode } from "../../src/errors.js";
import { packTree } from "../../src/pack/pack.js";
import { readPackedDatabase } from "../../src/store/packed-db.js";
import { openStore } from "../../src/store/store-layout.js";
import { cleanupTmp, tmpDir } from "../helpers/tree.js";

test.after(cleanupTmp);

async function smallStore() {
  const root = tmpDir("pdb");
  const src = path.join(root, "src");
  fs.mkdirSync(src);
  fs.writeFileSync(path.join(src, "a.txt"), "alpha\n".repeat(1000));
  const store = path.join(root, "store");
  await packTree(src, store, { threads: 1 });
  return store;
}

test("packed-db - pack leaves only the packed database, readable in memory", async () => {
  const store = await smallStore();
  assert.not.ok(fs.existsSync(path.join(store, "superchunk.db")));
  assert.ok(fs.existsSync(path.join(store, "superchunk.db.zst")));
  const s = openStore(store, { readonly: true });
  assert.ok(s.meta.resolvePath("a.txt") !== undefined);
  s.meta.close();
  assert.not.ok(fs.existsSync(path.join(store, "superchunk.db")), "read-only open writes nothing");
});

test("packed-db - a writable open turns it back into a plain database", async () => {
  const store = await smallStore();
  const s = openStore(store, { readonly: false });
  assert.ok(s.meta.resolvePath("a.txt") !== undefined);
  s.meta.close();
  assert.ok(fs.existsSync(path.join(store, "superchunk.db")));
  assert.not.ok(fs.existsSync(path.join(store, "superchunk.db.zst")));
});

test("packed-db - a flipped byte or a truncation is E_CORRUPT", async () => {
  const store = await smallStore();
  const file = path.join(store, "superchunk.db.zst");
  const good = fs.readFileSync(file);
  for (const bad of [
    Buffer.concat([good.subarray(0, 40), Buffer.from([good[40]! ^ 1]), good.subarray(41)]),
    good.subarray(0, good.length - 5),
    good.subarray(0, 10),
  ]) {
    fs.writeFileSync(file, bad);
    try {
      readPackedDatabase(file);
      assert.unreachable();
    } catch (e) {
      assert.ok(isCode(e, "E_CORRUPT"), String(e));
    }
  }
});

test.run();
