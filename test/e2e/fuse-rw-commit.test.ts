/**
 * The commit pipeline through a real read-write mount: a stat answers while a large sparse
 * file commits, truncate to 2^40 and fallocate of 2 GiB return at once and read as zeros,
 * a size past the largest gives EFBIG, and a kill -9 of the server during a loop of
 * close/fsync keeps every fsynced file (the store opens, fsck is clean). Bytes hashed are
 * counted in test/unit/writer-commit.test.ts.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import * as assert from "uvu/assert";
import { fsckCommand } from "../../src/cli/cmd-fsck.js";
import { umountCommand } from "../../src/cli/cmd-umount.js";
import { initStore } from "../../src/store/store-init.js";
import { MAX_FILE_BYTES } from "../../src/writer/file-data.js";
import { captureIO } from "../helpers/cli-capture.js";
import {
  isMounted,
  lazyUnmountSync,
  mountDir,
  type ServedStore,
  serveStore,
} from "../helpers/mount.js";
import { suiteNeeding } from "../helpers/services.js";
import { tmpDir } from "../helpers/tree.js";

const { test, t: rwTest, skip, teardown } = suiteNeeding("fuse-rw-commit", ["fuse"]);
const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

let store = "";
let mnt = "";
let served: ServedStore | undefined;
const cliIO = () => captureIO({ runDir: true }).io;
const m = (...parts: string[]) => path.join(mnt, ...parts);

async function unmount(): Promise<void> {
  if (!served) return;
  assert.is(await umountCommand.run([mnt], cliIO()), 0);
  assert.is(await served.exited, 0, served.stderr());
  served = undefined;
}

test.before(async () => {
  if (skip) return;
  store = path.join(tmpDir("rwc-store"), "store");
  initStore(store, { superChunkBytes: 2 * MIB });
  mnt = mountDir("rwc");
  served = await serveStore(store, mnt, ["-w"]);
});

teardown(async () => {
  if (served && isMounted(mnt)) await umountCommand.run([mnt], cliIO());
});

rwTest("fuse-rw-commit - a stat answers while an 8 GiB sparse file commits", async () => {
  fs.writeFileSync(m("other"), "x");
  const fh = await fsp.open(m("sparse"), "w");
  const pieces: [number, Buffer][] = [];
  for (let i = 0; i < 16; i++) pieces.push([i * (GIB / 2) + i * 4099, randomBytes(2 * MIB)]);
  for (const [at, data] of pieces) await fh.write(data, 0, data.length, at);
  await fh.truncate(8 * GIB);
  let closed = false;
  const closing = fh.close().then(() => {
    closed = true;
  });
  const took: number[] = [];
  while (!closed) {
    const t0 = performance.now();
    await fsp.stat(m("other"));
    took.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 2));
  }
  await closing;
  // the bound is generous: this machine may be shared (a stat used to wait for the whole
  // commit: seconds, or forever for a large enough hole)
  took.sort((a, b) => a - b);
  const median = took[took.length >> 1]!;
  const worst = took[took.length - 1]!;
  const summary = `${took.length} stats, median ${median.toFixed(1)} ms, slowest ${worst.toFixed(1)} ms`;
  assert.ok(median < 100 && worst < 2000, summary);
  assert.is(fs.statSync(m("sparse")).size, 8 * GIB);
  const fd = fs.openSync(m("sparse"), "r");
  try {
    for (const [at, data] of pieces) {
      const back = Buffer.alloc(data.length);
      fs.readSync(fd, back, 0, back.length, at);
      assert.ok(back.equals(data), `piece at ${at}`);
    }
  } finally {
    fs.closeSync(fd);
  }
  console.log(`fuse-rw-commit: during the commit: ${summary}`);
});

rwTest("fuse-rw-commit - truncate to 2^40 returns and reads zeros at the end", () => {
  const r = spawnSync("truncate", ["-s", "1T", m("tera")], { encoding: "utf8", timeout: 60_000 });
  assert.is(r.status, 0, r.stderr);
  assert.is(fs.statSync(m("tera")).size, 2 ** 40);
  const fd = fs.openSync(m("tera"), "r");
  try {
    const tail = Buffer.alloc(8192, 1);
    assert.is(fs.readSync(fd, tail, 0, tail.length, 2 ** 40 - 4096), 4096);
    assert.ok(tail.subarray(0, 4096).every((b) => b === 0));
  } finally {
    fs.closeSync(fd);
  }
  fs.unlinkSync(m("tera"));
});

rwTest("fuse-rw-commit - sizes up to the largest work, past it EFBIG", () => {
  const ok = spawnSync("truncate", ["-s", "999999999999999", m("huge")], {
    encoding: "utf8",
    timeout: 60_000,
  });
  assert.is(ok.status, 0, ok.stderr);
  assert.is(fs.statSync(m("huge")).size, 999_999_999_999_999);
  // just past the largest, and past 2^53 (a size JS cannot hold exactly): both EFBIG
  for (const big of [String(MAX_FILE_BYTES + 1), String(2n ** 62n)]) {
    const r = spawnSync("truncate", ["-s", big, m("huge")], { encoding: "utf8", timeout: 60_000 });
    assert.is.not(r.status, 0);
    assert.match(r.stderr, /File too large/, big);
  }
  assert.is(fs.statSync(m("huge")).size, 999_999_999_999_999);
  fs.unlinkSync(m("huge"));
});

rwTest("fuse-rw-commit - fallocate of 2 GiB returns and reads zeros", () => {
  const r = spawnSync("fallocate", ["-l", "2G", m("alloc")], { encoding: "utf8", timeout: 60_000 });
  assert.is(r.status, 0, r.stderr);
  assert.is(fs.statSync(m("alloc")).size, 2 * GIB);
  const fd = fs.openSync(m("alloc"), "r");
  try {
    const b = Buffer.alloc(4096, 1);
    fs.readSync(fd, b, 0, b.length, GIB);
    assert.ok(b.every((x) => x === 0));
  } finally {
    fs.closeSync(fd);
  }
  // KEEP_SIZE reserves without growing; punching a hole is not supported
  const keep = spawnSync("fallocate", ["-n", "-o", String(3 * GIB), "-l", "1M", m("alloc")], {
    encoding: "utf8",
  });
  assert.is(keep.status, 0, keep.stderr);
  assert.is(fs.statSync(m("alloc")).size, 2 * GIB);
  const punch = spawnSync("fallocate", ["-p", "-o", "0", "-l", "4096", m("alloc")], {
    encoding: "utf8",
  });
  assert.is.not(punch.status, 0);
  assert.match(punch.stderr, /unsupported|not supported/);
  fs.unlinkSync(m("alloc"));
});

/** The child of the kill test: writes files, fsyncs every third, says which after each. */
const CHILD = `
const fs = require("node:fs");
const [dir] = process.argv.slice(1);
const bytes = (n, seed) => { const b = Buffer.alloc(n); let x = seed >>> 0;
  for (let i = 0; i < n; i++) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; b[i] = x >>> 24; } return b; };
for (let i = 0; ; i++) {
  const f = dir + "/g" + i;
  const fd = fs.openSync(f, "w");
  fs.writeSync(fd, bytes(10000 + (i * 7919) % 150000, i + 1));
  const sync = i % 3 === 0;
  if (sync) fs.fsyncSync(fd);
  fs.closeSync(fd);
  process.stdout.write((sync ? "synced " : "closed ") + "g" + i + "\\n");
}`;

rwTest(
  "fuse-rw-commit - kill -9 during close/fsync: every fsynced file intact, fsck clean",
  async () => {
    fs.mkdirSync(m("loop"));
    const child = spawn(process.execPath, ["-e", CHILD, m("loop")], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    const lines = () => out.split("\n").filter((l) => l !== "");
    while (lines().length < 60 && child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 10));
    }
    process.kill(served!.pid, "SIGKILL");
    await served!.exited;
    served = undefined;
    await exited;
    lazyUnmountSync(mnt);
    const done = lines().map((l) => l.split(" ") as [string, string]);
    const synced = done.filter(([how]) => how === "synced").map(([, f]) => f);
    assert.ok(synced.length >= 20, `${synced.length} files fsynced before the kill`);
    served = await serveStore(store, mnt, ["-w"]); // the store opens (recovery)
    const want = (i: number) => seededBytesLike(10000 + ((i * 7919) % 150000), i + 1);
    for (const f of synced) {
      assert.ok(fs.readFileSync(m("loop", f)).equals(want(Number(f.slice(1)))), f);
    }
    let closedIntact = 0;
    for (const [how, f] of done) {
      if (how !== "closed") continue;
      const p = m("loop", f);
      if (fs.existsSync(p) && fs.readFileSync(p).equals(want(Number(f.slice(1))))) closedIntact++;
    }
    const closed = done.length - synced.length;
    console.log(
      `fuse-rw-commit: kill -9 after ${done.length} files: ${synced.length} fsynced all intact, ` +
        `${closedIntact} of ${closed} closed-only intact`,
    );
    await unmount();
    const io = captureIO({ runDir: true });
    assert.is(await fsckCommand.run([store], io.io), 0, io.out() + io.err());
  },
);

/** The child's bytes, computed here the same way. */
function seededBytesLike(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

test.run();
