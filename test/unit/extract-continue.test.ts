/**
 * extract --continue-on-error: with one super-chunk file damaged in its middle, every file
 * that does not need it is extracted (and equals its source), each one that does is listed
 * on stderr and in --json's "unreadable" and not left behind, and the status is 3; without
 * the flag the extract stops with the coded error, as before.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cli } from "../helpers/cli-capture.js";
import { cleanupTmp, seededBytes, tmpDir } from "../helpers/tree.js";

test.after(cleanupTmp);

/** The super-chunk files of a store directory (not the metadata copy's). */
function superChunkFiles(store: string): string[] {
  const sc = path.join(store, "sc");
  return fs
    .readdirSync(sc)
    .filter((d) => /^[0-9a-f]{2}$/.test(d))
    .flatMap((d) => fs.readdirSync(path.join(sc, d)).map((n) => path.join(sc, d, n)))
    .sort();
}

test("extract-continue - a damaged super-chunk: the rest extracted, the others listed, exit 3", async () => {
  const root = tmpDir("xcont");
  const src = path.join(root, "src");
  fs.mkdirSync(src);
  const names = Array.from({ length: 10 }, (_, i) => `f${i}.bin`);
  for (const [i, n] of names.entries())
    fs.writeFileSync(path.join(src, n), seededBytes(400_000, 50 + i));
  const store = path.join(root, "store");
  const packed = await cli("pack", src, store, "--quiet", "--superchunk-size", "1M");
  assert.is(packed.code, 0, packed.err);
  const files = superChunkFiles(store);
  assert.ok(files.length >= 3, `several super-chunks: ${files.length}`);
  const victim = files[Math.floor(files.length / 2)]!;
  const bytes = fs.readFileSync(victim);
  const mid = bytes.length >> 1;
  for (let i = mid; i < mid + 64; i++) bytes[i] = bytes[i]! ^ 0xff;
  fs.writeFileSync(victim, bytes);

  const plain = await cli("extract", store, path.join(root, "stop"), "--quiet");
  assert.is(plain.code, 1, plain.err);
  assert.match(plain.err, /\[E_SUPERCHUNK_CORRUPT\]|\[E_CORRUPT\]/);

  const out = path.join(root, "out");
  const r = await cli("extract", store, out, "--continue-on-error", "--json");
  assert.is(r.code, 3, r.err);
  const unreadable = (JSON.parse(r.out).unreadable as { path: string; code: string }[]).map((u) =>
    path.basename(u.path),
  );
  assert.ok(unreadable.length > 0 && unreadable.length < names.length, unreadable.join(" "));
  for (const n of names) {
    const at = path.join(out, n);
    if (unreadable.includes(n)) {
      assert.not.ok(fs.existsSync(at), `${n} is not left half-written`);
      assert.match(r.err, `could not extract ${at}: `);
    } else {
      assert.ok(fs.readFileSync(at).equals(fs.readFileSync(path.join(src, n))), `${n} intact`);
    }
  }
  assert.match(r.err, `${unreadable.length} file`);
});

test("extract-continue - refused with --zip", async () => {
  const r = await cli("extract", "s", "o.zip", "--zip", "--continue-on-error");
  assert.is(r.code, 2, r.err);
  assert.match(r.err, "[E_USAGE]");
});

test.run();
