/**
 * What the libfuse 3 binding adds, through real mounts: renameat2 flags on a read-write store
 * (served by a child process, so this process may use sync calls; renameat2 is called through
 * python3's ctypes), one write request per 1 MiB write, and readdirplus (an `ls -l` of a
 * 1000-entry directory asks for no attributes per entry). The last two count requests in a
 * toy file system this process serves (shell tools run as child processes).
 */
import { execFile, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { Writable } from "node:stream";
import { promisify } from "node:util";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { umountCommand } from "../../src/cli/cmd-umount.js";
import { mountNative, type NativeFuseOps, type NativeStat } from "../../src/fuse/native-fuse.js";
import { initStore } from "../../src/store/store-init.js";
import {
  forceUnmountAll,
  fuseSkipReason,
  mountDir,
  runDirForTests,
  type ServedStore,
  serveStore,
} from "../helpers/mount.js";
import { cleanupTmp, tmpDir } from "../helpers/tree.js";

const run = promisify(execFile);
const SKIP = fuseSkipReason();
const fuseTest = SKIP ? test.skip : test;
if (SKIP) console.log(`fuse3-features: skipping: ${SKIP}`);

const RENAME_NOREPLACE = 1;
const RENAME_EXCHANGE = 2;
const RENAME_WHITEOUT = 4;
const MIB = 1024 * 1024;

/** renameat2(AT_FDCWD, from, AT_FDCWD, to, flags) in a child: "0" or the errno name. */
function renameat2(from: string, to: string, flags: number): string {
  const py = [
    "import ctypes, errno, sys",
    "libc = ctypes.CDLL(None, use_errno=True)",
    "r = libc.renameat2(-100, sys.argv[1].encode(), -100, sys.argv[2].encode(), int(sys.argv[3]))",
    "print(0 if r == 0 else errno.errorcode[ctypes.get_errno()])",
  ].join("\n");
  const r = spawnSync("python3", ["-c", py, from, to, String(flags)], { encoding: "utf8" });
  return r.stdout.trim() || r.stderr;
}

function cliIO() {
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  const env = { ...process.env, SUPERCHUNK_RUN_DIR: runDirForTests() };
  return { stdout: sink, stderr: sink, isTTY: false, env };
}

test.after(() => {
  forceUnmountAll();
  cleanupTmp();
});

fuseTest("fuse3 - renameat2 flags on a read-write mount", async () => {
  const store = path.join(tmpDir("f3-store"), "store");
  initStore(store, { superChunkBytes: 2 * MIB });
  const mnt = mountDir("f3-rw");
  const served: ServedStore = await serveStore(store, mnt, ["-w"]);
  try {
    const p = (n: string) => path.join(mnt, n);
    fs.writeFileSync(p("a"), "A");
    fs.writeFileSync(p("b"), "B");
    fs.mkdirSync(p("d"));
    fs.writeFileSync(p("d/inner"), "I");
    assert.is(renameat2(p("a"), p("b"), RENAME_NOREPLACE), "EEXIST");
    assert.is(fs.readFileSync(p("b"), "utf8"), "B", "noreplace left the target alone");
    assert.is(renameat2(p("a"), p("c"), RENAME_NOREPLACE), "0");
    assert.is(fs.readFileSync(p("c"), "utf8"), "A");
    assert.is(renameat2(p("c"), p("b"), RENAME_EXCHANGE), "0");
    assert.is(fs.readFileSync(p("c"), "utf8"), "B", "exchanged");
    assert.is(fs.readFileSync(p("b"), "utf8"), "A", "exchanged");
    // a file and a directory across parents: nlink of both parents follows
    const rootLinks = fs.statSync(mnt).nlink;
    assert.is(renameat2(p("c"), p("d/inner"), RENAME_EXCHANGE), "0");
    assert.is(fs.readFileSync(p("d/inner"), "utf8"), "B");
    assert.is(fs.readFileSync(p("c"), "utf8"), "I");
    assert.is(renameat2(p("d"), p("b"), RENAME_EXCHANGE), "0");
    assert.ok(fs.statSync(p("b")).isDirectory(), "the directory took the file's name");
    assert.is(fs.readFileSync(p("d"), "utf8"), "A");
    assert.is(fs.readFileSync(p("b/inner"), "utf8"), "B");
    assert.is(fs.statSync(mnt).nlink, rootLinks, "same number of subdirectories in /");
    assert.is(renameat2(p("b"), p("b/inner"), RENAME_EXCHANGE), "EINVAL", "not into itself");
    assert.is(renameat2(p("d"), p("nothing"), RENAME_EXCHANGE), "ENOENT");
    assert.is(renameat2(p("d"), p("c"), RENAME_WHITEOUT), "EINVAL");
    assert.is(renameat2(p("d"), p("c"), RENAME_NOREPLACE | RENAME_EXCHANGE), "EINVAL");
  } finally {
    assert.is(await umountCommand.run([mnt], cliIO()), 0);
    assert.is(await served.exited, 0, served.stderr());
  }
  const { stdout } = await run(process.execPath, [
    path.resolve("dist/src/cli/main.js"),
    "fsck",
    store,
  ]).catch((e: { stdout: string }) => ({ stdout: `fsck failed: ${e.stdout}` }));
  assert.not.match(stdout, /fsck failed/, stdout);
});

const T0 = { sec: 1_700_000_000, nsec: 0 };
const dirStat = (ino: number): NativeStat => ({
  ino,
  mode: 0o040755,
  nlink: 2,
  atime: T0,
  mtime: T0,
  ctime: T0,
});
const fileStat = (ino: number, size: number): NativeStat => ({
  ino,
  mode: 0o100644,
  size,
  atime: T0,
  mtime: T0,
  ctime: T0,
});

/** A flat toy directory of `n` empty files plus one writable file, counting requests. */
function countingToy(n: number) {
  const counts = { getattr: 0, writes: [] as number[] };
  let size = 0;
  const names = Array.from({ length: n }, (_, i) => `f${String(i).padStart(5, "0")}`);
  const ops: NativeFuseOps<string> = {
    getattr: (p) => {
      counts.getattr++;
      if (p === "/" || p === "/big") return dirStat(1);
      if (p === "/big/w") return fileStat(3, size);
      if (p.startsWith("/big/f")) return fileStat(100 + Number(p.slice(6)), 0);
      throw Object.assign(new Error("ENOENT"), { errno: 2 });
    },
    readdir: (p) => {
      if (p === "/") return [".", "..", { name: "big", stat: dirStat(2) }];
      return [
        { name: ".", stat: dirStat(2) },
        { name: "..", stat: dirStat(1) },
        ...names.map((name, i) => ({ name, stat: fileStat(100 + i, 0) })),
      ];
    },
    open: () => 1,
    create: () => 1,
    truncate: () => {},
    ftruncate: () => {},
    write: (_p, _fh, data, offset) => {
      counts.writes.push(data.length);
      size = Math.max(size, offset + data.length);
      return data.length;
    },
  };
  const setSize = (n: number) => {
    size = n;
  };
  return { ops, counts, setSize };
}

const CACHED = ["use_ino", "attr_timeout=60", "entry_timeout=60", "max_write=1048576"];

fuseTest("fuse3 - a 1 MiB write arrives as one request", async () => {
  const mnt = mountDir("f3-w");
  const { ops, counts } = countingToy(0);
  const m = await mountNative(mnt, ops, CACHED, { paths: "string" });
  try {
    await run("dd", [`of=${mnt}/big/w`, "if=/dev/zero", "bs=1M", "count=4", "conv=notrunc"]);
    assert.equal(counts.writes, [MIB, MIB, MIB, MIB], "four writes of 1 MiB each");
  } finally {
    await m.unmount();
  }
});

fuseTest("fuse3 - readdirplus: ls -l of 1000 entries needs no getattr per entry", async () => {
  const mnt = mountDir("f3-ls");
  const { ops, counts } = countingToy(1000);
  const m = await mountNative(mnt, ops, CACHED, { paths: "string" });
  try {
    await run("ls", ["-l", mnt]);
    const before = counts.getattr;
    const { stdout } = await run("ls", ["-l", "--time-style=+", `${mnt}/big`], {
      maxBuffer: 1 << 24,
    });
    assert.is(stdout.trim().split("\n").length, 1001, "total line and 1000 entries");
    const during = counts.getattr - before;
    assert.ok(during < 10, `${during} getattr/lookup requests for 1000 entries`);
    console.log(`fuse3-features: ls -l of 1000 entries: ${during} getattr/lookup requests`);
    const find = await run("find", [`${mnt}/big`, "-printf", "%i %s\n"], { maxBuffer: 1 << 24 });
    assert.ok(find.stdout.includes("\n1099 0\n"), "find sees our inode numbers and sizes");
  } finally {
    await m.unmount();
  }
});

fuseTest("fuse3 - invalidate(path) drops the kernel's cached attributes", async () => {
  const mnt = mountDir("f3-inv");
  const { ops, setSize } = countingToy(0);
  const m = await mountNative(mnt, ops, CACHED, { paths: "string" });
  const sizeOf = async () => (await run("stat", ["-c", "%s", `${mnt}/big/w`])).stdout.trim();
  try {
    assert.is(await sizeOf(), "0");
    setSize(4096);
    assert.is(await sizeOf(), "0", "cached for attr_timeout");
    assert.ok(m.invalidate("/big/w"), "queued");
    let seen = "0";
    for (let i = 0; i < 50 && seen === "0"; i++) {
      await new Promise((r) => setTimeout(r, 20));
      seen = await sizeOf();
    }
    assert.is(seen, "4096", "fresh after invalidate");
  } finally {
    await m.unmount();
  }
  assert.not.ok(m.invalidate("/big/w"), "refused once the mount has ended");
});

test.run();
