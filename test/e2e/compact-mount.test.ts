/**
 * Background compaction on a real read-write mount: after `cp -a` of a tree of similar
 * versions and the idle grace the store shrinks toward a fresh pack with no command run;
 * a kill -9 of the mount server while a pass writes super-chunks leaves a store that opens,
 * fsck clean, with every file intact, and the next mount finishes the compaction.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import * as assert from "uvu/assert";
import { umountCommand } from "../../src/cli/cmd-umount.js";
import { fsckClean, fsckStore } from "../../src/maintain/fsck.js";
import { packTree } from "../../src/pack/pack.js";
import { initStore } from "../../src/store/store-init.js";
import { KIB } from "../../src/types.js";
import { captureIO } from "../helpers/cli-capture.js";
import {
  isMounted,
  lazyUnmountSync,
  mountDir,
  type ServedStore,
  serveStore,
} from "../helpers/mount.js";
import { compareMounted } from "../helpers/mount-compare.js";
import { suiteNeeding } from "../helpers/services.js";
import { tmpDir } from "../helpers/tree.js";
import { versionsTree, writeTree } from "../helpers/versions-tree.js";

const run = promisify(execFile);
const { test, t: cTest, skip, teardown } = suiteNeeding("compact-mount", ["fuse"]);
const SETTINGS = { codec: "zstd" as const, level: 19, superChunkBytes: 1024 * KIB };

let served: ServedStore | undefined;
let mnt = "";
teardown(async () => {
  if (served && isMounted(mnt)) await umountCommand.run([mnt], captureIO({ runDir: true }).io);
});

/** Ids and total bytes of the store's super-chunk files. */
function scFiles(store: string): { ids: number[]; bytes: number } {
  const ids: number[] = [];
  let bytes = 0;
  for (const e of fs.readdirSync(path.join(store, "sc"), {
    recursive: true,
    withFileTypes: true,
  })) {
    if (!e.isFile() || !e.name.endsWith(".sc")) continue;
    ids.push(Number.parseInt(e.name, 16));
    bytes += fs.statSync(path.join(e.parentPath ?? e.path, e.name)).size;
  }
  return { ids, bytes };
}

const openRaw = (store: string) =>
  fs.existsSync(path.join(store, "open")) ? fs.readdirSync(path.join(store, "open")).length : 0;

async function waitFor(what: string, cond: () => boolean, ms = 120_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) assert.unreachable(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

cTest(
  "compact-mount - kill -9 during background compaction: store opens, fsck clean, nothing lost; then it compacts",
  async () => {
    if (skip) return;
    const src = tmpDir("compact-src");
    writeTree(src, versionsTree({ versions: 10, files: 60, fileBytes: 32 * KIB, seed: 3 }));
    const packed = path.join(tmpDir("compact-pack"), "store");
    await packTree(src, packed, { ...SETTINGS, threads: 2 });
    const fresh = scFiles(packed).bytes;
    const store = path.join(tmpDir("compact-store"), "store");
    initStore(store, SETTINGS);
    mnt = mountDir("compact");
    served = await serveStore(store, mnt, ["-w", "--compact-idle", "1"]);
    await run("cp", ["-a", src, path.join(mnt, "tree")]);
    // the last open super-chunk freezes after its grace; compaction writes ids above all
    await waitFor("the last freeze", () => openRaw(store) === 0);
    const written = scFiles(store);
    const top = Math.max(...written.ids);
    await waitFor("compaction writing", () => scFiles(store).ids.some((id) => id > top));
    process.kill(served.pid, "SIGKILL");
    await served.exited;
    served = undefined;
    lazyUnmountSync(mnt);
    const atKill = scFiles(store);
    console.log(
      `compact-mount: killed with ${atKill.ids.filter((id) => id > top).length} compacted files written`,
    );
    assert.ok(
      written.ids.every((id) => atKill.ids.includes(id)),
      "the kill came before the switch: every old file is still there",
    );
    // reopen without compaction: recovery drops the orphans; every file intact; fsck clean
    served = await serveStore(store, mnt, ["-w", "--compact-idle", "0"]);
    assert.equal(compareMounted(src, path.join(mnt, "tree")), [], "every file intact");
    assert.is(await umountCommand.run([mnt], captureIO({ runDir: true }).io), 0);
    assert.is(await served.exited, 0, served.stderr());
    served = undefined;
    let report = await fsckStore(store, {});
    assert.ok(fsckClean(report), JSON.stringify(report.problems ?? report).slice(0, 800));
    // the next mount compacts (here: at unmount) and the store ends near a fresh pack
    served = await serveStore(store, mnt, ["-w", "--compact-idle", "3600"]);
    assert.equal(compareMounted(src, path.join(mnt, "tree")), [], "every file intact");
    assert.is(await umountCommand.run([mnt], captureIO({ runDir: true }).io), 0);
    assert.is(await served.exited, 0, served.stderr());
    served = undefined;
    report = await fsckStore(store, {});
    assert.ok(fsckClean(report), JSON.stringify(report.problems ?? report).slice(0, 800));
    const after = scFiles(store).bytes;
    console.log(
      `compact-mount: fresh pack ${fresh} B; written ${written.bytes} B (${(written.bytes / fresh).toFixed(2)}x); compacted ${after} B (${(after / fresh).toFixed(2)}x)`,
    );
    assert.ok(after / fresh <= 1.3, `within 1.3x of a fresh pack: ${after / fresh}`);
    served = await serveStore(store, mnt, ["--read-only"]);
    assert.equal(compareMounted(src, path.join(mnt, "tree")), [], "every file intact");
    assert.is(await umountCommand.run([mnt], captureIO({ runDir: true }).io), 0);
    served = undefined;
  },
);

test.run();
