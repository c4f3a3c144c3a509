/**
 * Read preloading through the kernel, counted (never timed): a cold `tar` of a read-only
 * mount of a packed tree of small files has most reads answered by the binding from files
 * handed over ahead of the kernel (fuse/read-preload.ts, native/preload.c), and only a few
 * reach the JS read handler; the extracted tree is byte for byte the source. A mount that
 * cannot keep kernel caches preloads nothing. Shell tools run as child processes, so this
 * process stays free to answer the kernel.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import * as assert from "uvu/assert";
import { mountFsView } from "../../src/fuse/fuse-mount.js";
import { packTree } from "../../src/pack/pack.js";
import { openStoreReader } from "../../src/reader/store-reader.js";
import { mountDir } from "../helpers/mount.js";
import { suiteNeeding } from "../helpers/services.js";
import { compareTrees, seededBytes, tmpDir } from "../helpers/tree.js";

const run = promisify(execFile);
const fuse = suiteNeeding("read-preload", ["fuse"]);
const test = fuse.test;

/** 8 directories of 120 small files and a subdirectory of 20; one file of 2 MiB. */
function makeTree(root: string): number {
  let files = 0;
  for (let d = 0; d < 8; d++) {
    const dir = path.join(root, `d${d}`);
    fs.mkdirSync(path.join(dir, "sub"), { recursive: true });
    for (let f = 0; f < 120; f++) {
      fs.writeFileSync(path.join(dir, `f${f}.c`), seededBytes(300 + ((d * 13 + f) % 40) * 211, f));
      files++;
    }
    for (let f = 0; f < 20; f++) {
      fs.writeFileSync(path.join(dir, "sub", `g${f}.h`), seededBytes(500 + f, d * 50 + f));
      files++;
    }
  }
  fs.writeFileSync(path.join(root, "d3", "big.bin"), seededBytes(2 << 20, 7));
  return files + 1;
}

let src = "";
let store = "";
let files = 0;

test.before(async () => {
  if (fuse.skip) return;
  src = tmpDir("preload-src");
  files = makeTree(src);
  store = path.join(tmpDir("preload-store"), "store");
  await packTree(src, store, { threads: 2 });
});

/** A cold tar of the store mounted read-only, extracted and compared with the source. */
async function tarThrough(kernelCache: boolean) {
  const reader = openStoreReader(store, { cacheBytes: 64 << 20 });
  const mnt = mountDir("preload");
  const out = tmpDir("preload-out");
  const m = await mountFsView(reader, mnt, { log: () => {}, kernelCache });
  try {
    // the first read starts a walk, which has handed files over by the time tar comes
    const first = `cat ${mnt}/d0/f0.c > /dev/null && sleep 1`;
    const tar = `tar --format=posix -cf - -C ${mnt} . | tar xf - -C ${out}`;
    await run("sh", ["-c", `${first} && ${tar}`]);
  } finally {
    await m.unmount();
    await reader.close();
  }
  assert.equal(compareTrees(src, out), [], "the extracted tree is the source");
  const report = m.opStats();
  const reads = report.ops.find((o) => o.op === "read")?.count ?? 0;
  return { reads, preloaded: report.preloaded };
}

fuse.t(
  "read-preload - a cold tar: most reads answered by the binding, the bytes the source's",
  async () => {
    const { reads, preloaded } = await tarThrough(true);
    console.log(
      `read-preload: tar of ${files} files: ${reads} reads in JS, ` +
        `${preloaded?.reads ?? 0} in the binding (${preloaded?.files ?? 0} files handed over)`,
    );
    assert.ok(preloaded !== undefined, "files were handed to the binding");
    assert.ok(reads + preloaded.reads >= files, "every file read through the mount");
    // how many depends on how far ahead of tar the walks keep: at least half, with room
    assert.ok(preloaded.reads >= files / 2, `${preloaded.reads} reads in the binding`);
    assert.ok(reads <= files / 2, `${reads} reads reached JS`);
  },
);

fuse.t("read-preload - a mount without kernel caching preloads nothing", async () => {
  const { reads, preloaded } = await tarThrough(false);
  assert.is(preloaded, undefined);
  assert.ok(reads >= files, `${reads} reads in JS for ${files} files`);
});

test.run();
