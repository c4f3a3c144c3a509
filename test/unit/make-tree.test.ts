/**
 * scripts/make-tree.ts: the synthetic many-file tree is deterministic, within its sizes,
 * holds exact and near copies, and each file's content can be computed without the tree.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  fileContent,
  filePath,
  MAKE_TREE_MAX_FILE_BYTES,
  makeTree,
} from "../../scripts/make-tree.js";
import { cleanupTmp, tmpDir } from "../helpers/tree.js";

test.after(cleanupTmp);

test("make-tree - deterministic files with copies, within the size range", () => {
  const a = path.join(tmpDir("make-tree"), "a");
  const b = path.join(tmpDir("make-tree"), "b");
  const files = 2000;
  const s = makeTree(a, { files, dirs: 40, seed: 3 });
  makeTree(b, { files, dirs: 40, seed: 3 });
  assert.is(s.files, files);
  assert.ok(s.duplicates > 100 && s.nearDuplicates > 100, "about 10% copies of each kind");
  const seen = new Set<string>();
  let copies = 0;
  for (let i = 0; i < files; i++) {
    const rel = filePath(i, files, 40);
    const got = fs.readFileSync(path.join(a, rel));
    assert.ok(got.equals(fs.readFileSync(path.join(b, rel))), `${rel} differs between runs`);
    assert.ok(got.equals(fileContent(3, i)), `${rel} is not fileContent`);
    assert.ok(got.length <= MAKE_TREE_MAX_FILE_BYTES);
    const key = got.toString("latin1");
    if (seen.has(key)) copies++;
    seen.add(key);
  }
  assert.ok(copies >= s.duplicates, "exact copies are byte-equal to an earlier file");
  const other = fileContent(4, 5);
  assert.not.ok(other.equals(fileContent(3, 5)) && other.length > 0, "the seed matters");
  assert.throws(() => makeTree(a, { files: 1 }), /not empty/);
});

test.run();
