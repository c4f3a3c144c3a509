/**
 * What the binding keeps for a read-write mount (files handed over ahead of a walk, the
 * attributes of paths) never outlives a change: after a change through the mount, every read
 * and stat gives what the change made, through a real mount made as `mount -w` makes it.
 * Each case first has the binding hold the old bytes or attributes (counted by the mount's op
 * stats), then changes them, then reads. Shell tools run as child processes, so this process
 * stays free to answer the kernel.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import * as assert from "uvu/assert";
import type { FuseMount } from "../../src/fuse/fuse-mount.js";
import { packTree } from "../../src/pack/pack.js";
import { withRwMount } from "../helpers/mount.js";
import { suiteNeeding } from "../helpers/services.js";
import { seededBytes, tmpDir } from "../helpers/tree.js";

const run = promisify(execFile);
const fuse = suiteNeeding("rw-read-caches", ["fuse"]);
const test = fuse.test;

const FILES = 12;
let store = "";

test.before(async () => {
  if (fuse.skip) return;
  const src = tmpDir("rw-caches-src");
  fs.mkdirSync(path.join(src, "d"));
  for (let f = 0; f < FILES; f++) {
    fs.writeFileSync(path.join(src, "d", `f${f}`), seededBytes(2000 + f, f));
  }
  store = path.join(tmpDir("rw-caches-store"), "store");
  await packTree(src, store, { threads: 1 });
});

/** Runs `fn` on a fresh copy of the store mounted read-write; always unmounts. */
function withCopyMounted(name: string, fn: (m: FuseMount, mnt: string) => Promise<void>) {
  const copy = path.join(tmpDir(`${name}-store`), "store");
  fs.cpSync(store, copy, { recursive: true });
  return withRwMount(copy, name, fn);
}

const sh = async (script: string) => (await run("sh", ["-c", script])).stdout;

/**
 * Reads the directory's first two files (a read from a file's start starts a walk; the
 * first loads the super-chunk the others' bytes are in), then waits until the binding holds
 * the files after them.
 */
async function walkStarted(m: FuseMount, dir: string): Promise<void> {
  await sh(`cat ${dir}/f0 > /dev/null; cat ${dir}/f1 > /dev/null`);
  for (let i = 0; i < 100 && (m.opStats().preloaded?.files ?? 0) < FILES - 1; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok((m.opStats().preloaded?.files ?? 0) >= 3, "the binding holds the next files");
}

test("rw-read-caches - a file handed to the binding and then overwritten reads new", () =>
  withCopyMounted("rw-caches-write", async (m, mnt) => {
    const dir = path.join(mnt, "d");
    await walkStarted(m, dir);
    await sh(`printf new > ${dir}/f2`);
    assert.is(await sh(`cat ${dir}/f2`), "new");
  }));

test("rw-read-caches - truncate, rename and a new file by the old name read new", () =>
  withCopyMounted("rw-caches-names", async (m, mnt) => {
    const dir = path.join(mnt, "d");
    await walkStarted(m, dir);
    await sh(`truncate -s 3 ${dir}/f3`);
    assert.is((await sh(`cat ${dir}/f3 | wc -c`)).trim(), "3");
    await sh(`mv ${dir}/f4 ${dir}/moved && printf other > ${dir}/f4`);
    assert.is(await sh(`cat ${dir}/f4`), "other");
    // the moved file keeps its bytes under its new name
    assert.is((await sh(`cat ${dir}/moved | wc -c`)).trim(), String(2004));
    await sh(`mv ${dir}/f6 ${dir}/f5`);
    assert.is((await sh(`cat ${dir}/f5 | wc -c`)).trim(), String(2006));
  }));

test("rw-read-caches - attributes the binding keeps follow chmod, truncate and utimens", () =>
  withCopyMounted("rw-caches-attrs", async (m, mnt) => {
    const dir = path.join(mnt, "d");
    // a second name: a change through one name reaches the other's stat through the server
    await sh(`ln ${dir}/f7 ${dir}/h7`);
    const stat = (f: string) => sh(`stat -c '%a %s %Y' ${dir}/${f}`).then((s) => s.trim());
    assert.is(await stat("h7"), await stat("f7"));
    assert.ok((await stat("h7")).startsWith("644 2007 "));
    // the kernel drops h7's atime after each read: its next stat asks, and the binding answers
    const answered = m.opStats().attrs?.answered ?? 0;
    await sh(`cat ${dir}/h7 > /dev/null; stat ${dir}/h7 > /dev/null`);
    assert.ok((m.opStats().attrs?.answered ?? 0) > answered, "a stat answered by the binding");
    await sh(`chmod 600 ${dir}/f7`);
    assert.is((await stat("h7")).split(" ")[0], "600");
    await sh(`truncate -s 7 ${dir}/f7`);
    assert.is((await stat("h7")).split(" ")[1], "7");
    await sh(`touch -d @1234567890 ${dir}/f7`);
    assert.is((await stat("h7")).split(" ")[2], "1234567890");
  }));

test.run();
