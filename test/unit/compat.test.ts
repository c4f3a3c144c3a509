/**
 * The frozen fixtures of spec/compat/ (see its README.md), written by earlier versions, must
 * read with today's code: each version's store directory and archive is extracted and the
 * tree compared with its expected.json, and fsck finds nothing wrong. The fixtures are copied
 * first, so nothing here writes to spec/.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { extractTree } from "../../src/export/extract.js";
import { fsckClean, fsckStore } from "../../src/maintain/fsck.js";
import { FORMAT_VERSION } from "../../src/types.js";
import { describeTree, type ExpectedEntry } from "../helpers/compat-tree.js";
import { cleanupTmp, tmpDir } from "../helpers/tree.js";

const COMPAT = path.resolve("spec/compat");
/** The stored forms of each fixture: a store directory and the same store sealed. */
const FORMS = ["store", "store.zip"];

interface Expected {
  formatVersion: number;
  entries: Record<string, ExpectedEntry>;
}

const versions = fs
  .readdirSync(COMPAT)
  .filter((d) => /^v\d+$/.test(d))
  .sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));

test.after(cleanupTmp);

test("compat - there is a fixture of every format version up to today's", () => {
  const want = Array.from({ length: FORMAT_VERSION }, (_, i) => `v${i + 1}`);
  assert.equal(versions, want);
});

for (const v of versions) {
  const dir = path.join(COMPAT, v);
  const expected = JSON.parse(fs.readFileSync(path.join(dir, "expected.json"), "utf8")) as Expected;

  test(`compat - ${v}: expected.json names its version and a tree of every kind`, () => {
    assert.is(`v${expected.formatVersion}`, v);
    const kinds = new Set(Object.values(expected.entries).map((e) => e.kind));
    assert.equal([...kinds].sort(), ["dir", "file", "symlink"]);
    assert.ok(Object.values(expected.entries).some((e) => e.hardLinkTo !== undefined));
  });

  for (const form of FORMS) {
    test(`compat - ${v}/${form} extracts to exactly the expected tree`, async () => {
      const copy = copied(path.join(dir, form));
      const out = path.join(tmpDir(`compat-${v}-out`), "tree");
      await extractTree(copy, out);
      assert.equal(describeTree(out), expected.entries);
    });

    test(`compat - ${v}/${form} passes fsck`, async () => {
      const r = await fsckStore(copied(path.join(dir, form)));
      assert.ok(fsckClean(r), JSON.stringify(r.problems.slice(0, 5)));
      assert.is(r.warnings, 0, JSON.stringify(r.problems.slice(0, 5)));
      assert.ok(r.superChunks >= 2, `super-chunks: ${r.superChunks}`);
    });
  }
}

/** A private copy of the fixture file or directory at `src`. */
function copied(src: string): string {
  const dest = path.join(tmpDir("compat"), path.basename(src));
  fs.cpSync(src, dest, { recursive: true });
  return dest;
}

test.run();
