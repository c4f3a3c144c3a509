/**
 * Pack's memory is bounded by design (spec/MEMORY.md): a synthetic tree of many small files
 * (scripts/make-tree.ts, the test-sized variant of the million-file tree) is packed by the
 * real CLI in a child process whose peak RSS, as GNU time counts it, stays under the budget
 * and under the spec's formula for that many files and sub-blocks; the store then mounts
 * read-only and serves the file count and a sample of files byte for byte.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import * as assert from "uvu/assert";
import { fileContent, filePath, makeTree } from "../../scripts/make-tree.js";
import { umountCommand } from "../../src/cli/cmd-umount.js";
import { captureIO } from "../helpers/cli-capture.js";
import { isMounted, mountDir, serveStoreCli } from "../helpers/mount.js";
import { suiteNeeding } from "../helpers/services.js";
import { tmpDir } from "../helpers/tree.js";

const { test, t } = suiteNeeding("pack-memory", ["fuse"]);

const FILES = 50_000;
const DIRS = 500;
const SEED = 7;
/** pack's default memory budget */
const BUDGET_BYTES = 512 * 1024 * 1024;
/** spec/MEMORY.md: fixed part, bytes per entry and per unique sub-block, with headroom */
const FIXED_BYTES = 340 * 1024 * 1024;
const PER_ENTRY_BYTES = 400;
const PER_SUB_BLOCK_BYTES = 700;
const MAIN = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

/** Runs `superchunk pack` under GNU time; its JSON summary and peak RSS in bytes. */
function packMeasured(src: string, store: string) {
  const rssFile = path.join(path.dirname(store), "rss.txt");
  const r = spawnSync(
    "/usr/bin/time",
    // zstd level 3: the default 19 takes minutes over 200 MB on two cores; the level changes
    // the codec workers' fixed share of memory, not what grows with the tree
    [
      "-f",
      "%M",
      "-o",
      rssFile,
      process.execPath,
      MAIN,
      "pack",
      src,
      store,
      "--json",
      "--level",
      "3",
    ],
    { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
  );
  assert.is(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as { fileCount: number; subBlockCount: number };
  const kib = Number(fs.readFileSync(rssFile, "utf8").trim().split("\n").pop());
  assert.ok(Number.isSafeInteger(kib) && kib > 0, "GNU time gave no peak RSS");
  return { summary, rss: kib * 1024 };
}

t("pack-memory - 50k small files pack under the memory budget and mount", async () => {
  const src = path.join(tmpDir("many-files"), "src");
  const made = makeTree(src, { files: FILES, dirs: DIRS, seed: SEED });
  assert.is(made.files, FILES);
  const store = path.join(tmpDir("many-files-store"), "store");
  const { summary, rss } = packMeasured(src, store);
  assert.is(summary.fileCount, FILES);
  const entries = FILES + DIRS + Math.ceil(Math.sqrt(DIRS)) + 1;
  const formula =
    FIXED_BYTES + PER_ENTRY_BYTES * entries + PER_SUB_BLOCK_BYTES * summary.subBlockCount;
  const mib = (b: number) => `${(b / 1048576).toFixed(0)} MiB`;
  assert.ok(rss < BUDGET_BYTES, `peak RSS ${mib(rss)} over the budget ${mib(BUDGET_BYTES)}`);
  assert.ok(rss < formula, `peak RSS ${mib(rss)} over the spec's ${mib(formula)}`);

  const mnt = mountDir("many-files");
  const served = await serveStoreCli(store, mnt);
  try {
    let count = 0;
    for (const top of fs.readdirSync(mnt))
      for (const sub of fs.readdirSync(path.join(mnt, top)))
        count += fs.readdirSync(path.join(mnt, top, sub)).length;
    assert.is(count, FILES);
    for (let k = 0; k < 200; k++) {
      const i = Math.floor((k * FILES) / 200) + (k % 7);
      const got = fs.readFileSync(path.join(mnt, filePath(i, FILES, DIRS)));
      assert.ok(got.equals(fileContent(SEED, i)), `file ${i} differs`);
    }
  } finally {
    if (isMounted(mnt)) await umountCommand.run([mnt], captureIO({ runDir: true }).io);
  }
  assert.is(await served.exited, 0, served.stderr());
});

test.run();
