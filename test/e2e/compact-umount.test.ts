/**
 * Compaction after unmount, on real read-write mounts: `superchunk umount` returns once every
 * write is committed while the server compacts on alone (its lock marked yielding), and the
 * store ends compacted when it exits; whoever opens the store next (a read-only mount, a
 * read-write mount) stops that compaction and reads every file; a kill -9 during it leaves a
 * store that opens, fsck clean, nothing lost.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import * as assert from "uvu/assert";
import { umountCommand } from "../../src/cli/cmd-umount.js";
import { fsckClean, fsckStore } from "../../src/maintain/fsck.js";
import { readCompactPending } from "../../src/store/compact-pending.js";
import { initStore } from "../../src/store/store-init.js";
import { openStore } from "../../src/store/store-layout.js";
import { readStoreLock } from "../../src/store/store-lock.js";
import { KIB } from "../../src/types.js";
import { captureIO } from "../helpers/cli-capture.js";
import { isMounted, mountDir, type ServedStore, serveStoreCli } from "../helpers/mount.js";
import { compareMounted } from "../helpers/mount-compare.js";
import { suiteNeeding } from "../helpers/services.js";
import { tmpDir } from "../helpers/tree.js";
import { versionsTree, writeTree } from "../helpers/versions-tree.js";

const run = promisify(execFile);
const { t: cTest, test, skip, teardown } = suiteNeeding("compact-umount", ["fuse"]);
const SETTINGS = { codec: "zstd" as const, level: 19, superChunkBytes: 1024 * KIB };
/** an idle pass never comes first: the only pass is the one after the unmount */
const NO_IDLE = ["-w", "--compact-idle", "3600"];

const live = new Set<ServedStore>();
const mounts: string[] = [];
teardown(async () => {
  for (const m of mounts)
    if (isMounted(m)) await umountCommand.run([m], captureIO({ runDir: true }).io).catch(() => {});
  for (const s of live) process.kill(s.pid, "SIGKILL");
});

async function serve(store: string, mnt: string, args: string[]): Promise<ServedStore> {
  const s = await serveStoreCli(store, mnt, args);
  live.add(s);
  s.exited.then(() => live.delete(s));
  return s;
}

async function umount(mnt: string): Promise<void> {
  assert.is(await umountCommand.run([mnt], captureIO({ runDir: true }).io), 0);
  assert.not.ok(isMounted(mnt), "unmounted when umount returns");
}

/** Ids (from the file names) and bytes of the super-chunk files, open ones' ids too. */
function scFiles(store: string): { ids: number[]; bytes: number } {
  const ids: number[] = [];
  let bytes = 0;
  for (const sub of ["sc", "open"]) {
    const dir = path.join(store, sub);
    if (!fs.existsSync(dir)) continue;
    for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
      if (!e.isFile() || !/\.(sc|raw)$/.test(e.name)) continue;
      ids.push(Number.parseInt(e.name, 16));
      if (sub === "sc") bytes += fs.statSync(path.join(e.parentPath ?? e.path, e.name)).size;
    }
  }
  return { ids, bytes };
}

function pending(store: string): number[] {
  const { meta } = openStore(store, { readonly: true });
  try {
    return readCompactPending(meta);
  } finally {
    meta.close();
  }
}

async function fsckIsClean(store: string): Promise<void> {
  const report = await fsckStore(store, {});
  assert.ok(fsckClean(report), JSON.stringify(report.problems ?? report).slice(0, 800));
}

/**
 * A fresh store mounted read-write with a tree of similar versions (about 7 MiB, enough for
 * a pass of some seconds at zstd 19) copied in, then unmounted with `superchunk umount`;
 * checks that umount returned while the server still holds the store, yielding.
 */
async function writtenAndUnmounted(tag: string, seed: number) {
  const src = tmpDir(`${tag}-src`);
  writeTree(src, versionsTree({ versions: 8, files: 36, fileBytes: 24 * KIB, seed }));
  const store = path.join(tmpDir(`${tag}-store`), "store");
  initStore(store, SETTINGS);
  const mnt = mountDir(tag);
  mounts.push(mnt);
  const served = await serve(store, mnt, NO_IDLE);
  await run("cp", ["-a", src, path.join(mnt, "tree")]);
  const top = Math.max(...scFiles(store).ids);
  await umount(mnt);
  const lock = readStoreLock(store);
  assert.is(lock?.pid, served.pid, `the server still holds the store: ${JSON.stringify(lock)}`);
  assert.is(lock?.yields, true, "and yields");
  assert.match(lock?.purpose ?? "", `compaction after unmount of ${mnt}`);
  return { src, store, mnt, served, top };
}

cTest(
  "compact-umount - umount returns before the compaction; the store ends compacted",
  async () => {
    if (skip) return;
    const { src, store, mnt, served } = await writtenAndUnmounted("cu-a", 21);
    const atUmount = scFiles(store).bytes;
    assert.is(await served.exited, 0, served.stderr());
    assert.match(served.stderr(), "compacting");
    assert.equal(pending(store), [], "nothing left pending once the server exited");
    const after = scFiles(store).bytes;
    console.log(`compact-umount: ${atUmount} B at umount, ${after} B after the background pass`);
    assert.ok(after < atUmount * 0.8, `compacted: ${after} B vs ${atUmount} B`);
    assert.not.ok(fs.existsSync(path.join(store, "superchunk.lock")), "lock released");
    await fsckIsClean(store);
    const ro = await serve(store, mnt, ["--read-only"]);
    assert.equal(compareMounted(src, path.join(mnt, "tree")), [], "every file intact");
    await umount(mnt);
    assert.is(await ro.exited, 0);
  },
);

cTest(
  "compact-umount - a read-only mount right after umount stops the compaction, reads every file",
  async () => {
    if (skip) return;
    const { src, store, served } = await writtenAndUnmounted("cu-b", 22);
    const mnt2 = mountDir("cu-b-ro");
    mounts.push(mnt2);
    const ro = await serve(store, mnt2, ["--read-only"]);
    // the read-only open waited for the compacting server to go before it read the database
    assert.is(readStoreLock(store), undefined, "the compacting server is gone");
    assert.equal(compareMounted(src, path.join(mnt2, "tree")), [], "every file intact");
    await umount(mnt2);
    assert.is(await ro.exited, 0);
    assert.is(await served.exited, 0, served.stderr());
    assert.match(served.stderr(), /SIGTERM: compaction after unmount of .* stopped/);
    await fsckIsClean(store);
  },
);

cTest("compact-umount - a read-write mount right after umount takes the lock over", async () => {
  if (skip) return;
  const { src, store, mnt, served } = await writtenAndUnmounted("cu-c", 23);
  const next = await serve(store, mnt, NO_IDLE);
  const lock = readStoreLock(store);
  assert.is(lock?.pid, next.pid, "the new mount holds the lock");
  assert.is(lock?.yields, undefined, "and does not yield while it serves");
  assert.is(await served.exited, 0, served.stderr());
  assert.match(served.stderr(), /compaction after unmount of .* stopped/);
  assert.equal(compareMounted(src, path.join(mnt, "tree")), [], "every file intact");
  fs.writeFileSync(path.join(mnt, "added.txt"), "written by the second mount\n");
  await umount(mnt);
  assert.is(await next.exited, 0, next.stderr());
  assert.equal(pending(store), [], "the second mount's unmount finished the compaction");
  await fsckIsClean(store);
  const ro = await serve(store, mnt, ["--read-only"]);
  assert.equal(compareMounted(src, path.join(mnt, "tree")), [], "every file intact");
  assert.is(fs.readFileSync(path.join(mnt, "added.txt"), "utf8"), "written by the second mount\n");
  await umount(mnt);
  assert.is(await ro.exited, 0);
});

cTest(
  "compact-umount - kill -9 during the compaction after umount: opens, fsck clean, nothing lost",
  async () => {
    if (skip) return;
    const { src, store, mnt, served, top } = await writtenAndUnmounted("cu-d", 24);
    const until = Date.now() + 120_000;
    while (!scFiles(store).ids.some((id) => id > top) && Date.now() < until)
      await new Promise((r) => setTimeout(r, 25));
    process.kill(served.pid, "SIGKILL");
    assert.is(await served.exited, null, "killed");
    console.log(
      `compact-umount: killed with ${scFiles(store).ids.filter((id) => id > top).length} compacted files written`,
    );
    await fsckIsClean(store);
    const rw = await serve(store, mnt, NO_IDLE);
    assert.equal(compareMounted(src, path.join(mnt, "tree")), [], "every file intact");
    await umount(mnt);
    assert.is(await rw.exited, 0, rw.stderr());
    assert.equal(pending(store), [], "the next mount's unmount finished the compaction");
    await fsckIsClean(store);
  },
);

test.run();
