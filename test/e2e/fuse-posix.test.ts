/**
 * POSIX details of a read-write mount, compared with ext4: each scenario (a python script
 * of test/helpers/posix-scenarios.ts) runs on an ext4 loop mount and on the mount, and the
 * outputs must be equal line by line. Covers chown to a supplementary group, a non-owner's
 * write to a set-id file, ENAMETOOLONG on every path op, ctime of a file with unsaved
 * writes, and the kernel caches a read-write mount keeps (hard links, rename over, truncate
 * by another process). Root only (loop mounts, uid switching).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as assert from "uvu/assert";
import { umountCommand } from "../../src/cli/cmd-umount.js";
import { initStore } from "../../src/store/store-init.js";
import { captureIO } from "../helpers/cli-capture.js";
import { type Ext4Mount, ext4Mount } from "../helpers/ext4.js";
import { isMounted, mountDir, type ServedStore, serveStore } from "../helpers/mount.js";
import {
  CHGRP_SUPPLEMENTARY,
  COHERENCE,
  CTIME_OPEN_FILE,
  LONG_NAMES,
  runPy,
  WRITE_SETID,
} from "../helpers/posix-scenarios.js";
import { suiteNeeding } from "../helpers/services.js";
import { IS_ROOT, tmpDir } from "../helpers/tree.js";

const { test, t: fuseTest, skip, teardown } = suiteNeeding("fuse-posix", ["fuse"]);

let ext4: Ext4Mount | undefined;
let mnt = "";
let served: ServedStore | undefined;
const rootTest = IS_ROOT && !skip ? fuseTest : test.skip;

test.before(async () => {
  if (skip || !IS_ROOT) return;
  const e = ext4Mount();
  if (typeof e === "string") throw new Error(`fuse-posix: no ext4 reference: ${e}`);
  ext4 = e;
  const store = path.join(tmpDir("posix-store"), "store");
  initStore(store);
  mnt = mountDir("posix");
  fs.chmodSync(path.dirname(mnt), 0o755);
  served = await serveStore(store, mnt, ["-w", "-o", "allow_other"]);
  fs.chmodSync(mnt, 0o777);
});

teardown(async () => {
  if (served && isMounted(mnt)) {
    await umountCommand.run([mnt], captureIO({ runDir: true }).io);
    assert.is(await served.exited, 0, served.stderr());
  }
  ext4?.close();
});

/** A fresh directory `name` (mode 0777) on both file systems; their paths, ext4's first. */
function both(name: string): [string, string] {
  const dirs: [string, string] = [path.join(ext4!.dir, name), path.join(mnt, name)];
  for (const d of dirs) {
    fs.mkdirSync(d);
    fs.chmodSync(d, 0o777);
  }
  return dirs;
}

/** Runs `script` in `name` on both and checks the outputs match; returns the mount's. */
function sameAsExt4(name: string, script: string, as?: { groups: number[] }): string {
  const [ref, ours] = both(name);
  const want = runPy(script, ref, as);
  const got = runPy(script, ours, as);
  assert.fixture(got, want);
  assert.not.match(want, /^exit /m, "the scenario ran to its end on ext4");
  return got;
}

rootTest("fuse-posix - chown to a supplementary group, as on ext4", () => {
  for (const d of both("g")) fs.mkdirSync(path.join(d, "sg"), { mode: 0o777 });
  for (const d of [path.join(ext4!.dir, "g", "sg"), path.join(mnt, "g", "sg")]) {
    fs.chmodSync(d, 0o777);
  }
  const [ref, ours] = [path.join(ext4!.dir, "g"), path.join(mnt, "g")];
  const as = { groups: [65534, 100] };
  const want = runPy(CHGRP_SUPPLEMENTARY, ref, as);
  assert.fixture(runPy(CHGRP_SUPPLEMENTARY, ours, as), want);
  assert.match(want, /chgrp to a supplementary group ok\ngid 100\n/);
});

rootTest("fuse-posix - a non-owner's write to a set-id file clears the bits, as on ext4", () => {
  const modes: Record<string, number> = { su: 0o4666, sg: 0o2666, sugx: 0o6676, tr: 0o6666 };
  const dirs = both("w");
  for (const d of dirs) {
    fs.mkdirSync(path.join(d, "setid"), { mode: 0o777 });
    for (const [name, mode] of Object.entries(modes)) {
      const f = path.join(d, "setid", name);
      fs.writeFileSync(f, "root's");
      fs.chmodSync(f, mode);
    }
  }
  const as = { groups: [65534] };
  const want = runPy(WRITE_SETID, dirs[0], as);
  assert.fixture(runPy(WRITE_SETID, dirs[1], as), want);
  assert.match(want, /append to su ok\nsu 0o666 7/);
});

rootTest("fuse-posix - a name over 255 bytes is ENAMETOOLONG on every path op", () => {
  const out = sameAsExt4("n", LONG_NAMES);
  assert.match(out, /stat last ENAMETOOLONG/);
  assert.match(out, /setxattr middle ENAMETOOLONG/);
});

rootTest("fuse-posix - ctime of a file with unsaved writes advances and is kept", () => {
  const out = sameAsExt4("c", CTIME_OPEN_FILE);
  assert.not.match(out, /False/);
});

rootTest("fuse-posix - kernel caches: hard links, rename over, truncate elsewhere", () => {
  const out = sameAsExt4("k", COHERENCE);
  assert.match(out, /after append via a: b b'hello world' \(11, '0o644', 2\)/);
});

test.run();
