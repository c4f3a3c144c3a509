/**
 * Read-write FUSE mount tests: a store made with initStore, served read-write by a child process
 * running the real `mount --foreground` (so this process may use sync calls and shell tools on
 * the mount), then used through the kernel: cp -a, edits, links, attributes, permissions, fio,
 * a model-based random exerciser, and a kill -9 of the server in the middle of a copy.
 */
import { execFile, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { promisify } from "node:util";
import * as assert from "uvu/assert";
import { mountCommand } from "../../src/cli/cmd-mount.js";
import { umountCommand } from "../../src/cli/cmd-umount.js";
import type { EngineError } from "../../src/errors.js";
import { initStore } from "../../src/store/store-init.js";
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
import { IS_ROOT, makeSampleTree, seededBytes, tmpDir } from "../helpers/tree.js";

const run = promisify(execFile);
const { test, t: rwTest, skip, teardown } = suiteNeeding("fuse-rw", ["fuse"]);

let src = "";
let store = "";
let mnt = "";
let served: ServedStore | undefined;

const cliIO = () => captureIO({ runDir: true }).io;

/** Unmounts the current mount with the real umount command; checks the server exited 0. */
async function unmount(): Promise<void> {
  if (!served) return;
  assert.is(await umountCommand.run([mnt], cliIO()), 0);
  assert.is(await served.exited, 0, served.stderr());
  served = undefined;
  assert.not.ok(isMounted(mnt));
}

/** Serves the store again (read-write unless told), after unmounting the current one. */
async function remount(args: string[] = []): Promise<void> {
  await unmount();
  const mode = args.includes("--read-only") ? [] : ["-w"];
  served = await serveStore(store, mnt, [...mode, "-o", "allow_other", ...args]);
}

const m = (...parts: string[]) => path.join(mnt, ...parts);
const errCode = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    return (e as NodeJS.ErrnoException).code;
  }
  return undefined;
};

test.before(async () => {
  if (skip) return;
  src = tmpDir("rw-src");
  makeSampleTree(src);
  store = path.join(tmpDir("rw-store"), "store");
  initStore(store, { superChunkBytes: 2 * 1024 * 1024 });
  mnt = mountDir("rw");
  // other users must reach the mountpoint (the permission test runs as uid 65534)
  fs.chmodSync(path.dirname(mnt), 0o755);
  served = await serveStore(store, mnt, ["-w", "-o", "allow_other"]);
});

teardown(async () => {
  if (served && isMounted(mnt)) await umountCommand.run([mnt], cliIO());
});

rwTest("fuse-rw - a store directory mounts read-write; a second rw mount is refused", async () => {
  const info = fs.readFileSync("/proc/self/mountinfo", "utf8");
  const line = info.split("\n").find((l) => l.split(" ")[4] === mnt)!;
  assert.match(line, / - fuse\.superchunk /);
  assert.match(line.split(" ")[5]!, /^rw\b/);
  const other = mountDir("rw-second");
  try {
    await mountCommand.run([store, other, "-w", "--foreground"], cliIO());
    assert.unreachable("second mount");
  } catch (e) {
    assert.is((e as EngineError).code, "E_STORE_LOCKED");
  }
  assert.not.ok(isMounted(other), "nothing mounted");
});

rwTest("fuse-rw - cp -a a tree in; it survives unmount, a read-only and a rw remount", async () => {
  const t0 = performance.now();
  await run("cp", ["-a", src, m("tree")]);
  const ms = performance.now() - t0;
  const bytes = Number((await run("du", ["-sb", src])).stdout.split("\t")[0]);
  console.log(
    `fuse-rw: cp -a of the sample tree (${(bytes / 2 ** 20).toFixed(1)} MiB): ${ms.toFixed(0)} ms`,
  );
  assert.equal(compareMounted(src, m("tree")), [], "right after the copy");
  await remount(["--read-only"]);
  assert.equal(compareMounted(src, m("tree")), [], "read-only remount");
  assert.is(
    errCode(() => fs.writeFileSync(m("x"), "x")),
    "EROFS",
  );
  await remount();
  assert.equal(compareMounted(src, m("tree")), [], "read-write remount");
});

rwTest("fuse-rw - append, overwrite in the middle, truncate, rename over", async () => {
  const base = seededBytes(300_000, 21);
  fs.writeFileSync(m("edit.bin"), base);
  fs.appendFileSync(m("edit.bin"), "tail");
  let want = Buffer.concat([base, Buffer.from("tail")]);
  const fd = fs.openSync(m("edit.bin"), "r+");
  fs.writeSync(fd, Buffer.from("MIDDLE"), 0, 6, 150_000);
  fs.closeSync(fd);
  want.write("MIDDLE", 150_000);
  assert.ok(fs.readFileSync(m("edit.bin")).equals(want), "append + overwrite");
  fs.truncateSync(m("edit.bin"), 100_000);
  want = want.subarray(0, 100_000);
  assert.is(fs.statSync(m("edit.bin")).size, 100_000);
  fs.truncateSync(m("edit.bin"), 120_000);
  want = Buffer.concat([want, Buffer.alloc(20_000)]);
  assert.ok(fs.readFileSync(m("edit.bin")).equals(want), "shrink then grow with zeros");
  fs.writeFileSync(m("other.txt"), "other");
  fs.renameSync(m("other.txt"), m("edit.bin"));
  assert.is(fs.readFileSync(m("edit.bin"), "utf8"), "other");
  assert.is(
    errCode(() => fs.statSync(m("other.txt"))),
    "ENOENT",
  );
  await remount();
  assert.is(fs.readFileSync(m("edit.bin"), "utf8"), "other", "after remount");
});

rwTest("fuse-rw - hard links: same ino and nlink right after link; symlinks", () => {
  fs.writeFileSync(m("orig"), "linked");
  fs.linkSync(m("orig"), m("alias"));
  const a = fs.statSync(m("orig"));
  const b = fs.statSync(m("alias"));
  assert.is(a.ino, b.ino);
  assert.is(a.nlink, 2, "the old name sees nlink 2 at once");
  assert.is(b.nlink, 2);
  fs.unlinkSync(m("alias"));
  assert.is(fs.statSync(m("orig")).nlink, 1);
  fs.symlinkSync("orig", m("sym"));
  assert.is(fs.readlinkSync(m("sym")), "orig");
  assert.ok(fs.lstatSync(m("sym")).isSymbolicLink());
  assert.is(fs.readFileSync(m("sym"), "utf8"), "linked");
  const raw = Buffer.concat([Buffer.from(`${mnt}/raw-`), Buffer.from([0xff, 0x80])]);
  fs.symlinkSync(Buffer.from([0xfe, 0x41]), raw);
  assert.ok(fs.readlinkSync(raw, "buffer").equals(Buffer.from([0xfe, 0x41])), "raw target");
});

rwTest("fuse-rw - xattrs set, get, list, remove", async () => {
  fs.writeFileSync(m("xa"), "x");
  const py = [
    "import os,sys",
    "p=sys.argv[1]",
    "os.setxattr(p,'user.color',b'blue')",
    "os.setxattr(p,'user.size',b'\\x00\\x01')",
    "print(os.getxattr(p,'user.color').decode())",
    "print(','.join(sorted(os.listxattr(p))))",
    "os.removexattr(p,'user.color')",
    "print(','.join(os.listxattr(p)))",
    "try:\n  os.getxattr(p,'user.color')\nexcept OSError as e:\n  print(e.errno)",
    // namespaces a local file system has no handler for: EOPNOTSUPP (95); a bare one EINVAL
    "for n in ('bogus.a','system.other','user.'):\n  try:\n    os.setxattr(p,n,b'1')\n  except OSError as e:\n    print(n, e.errno)",
    "for f in (os.removexattr, os.getxattr):\n  try:\n    f(p,'bogus.a')\n  except OSError as e:\n    print(e.errno)",
  ].join("\n");
  const { stdout } = await run("python3", ["-c", py, m("xa")]);
  assert.equal(stdout.trim().split("\n"), [
    "blue",
    "user.color,user.size,user.superchunk.info",
    "user.size,user.superchunk.info",
    "61",
    "bogus.a 95",
    "system.other 95",
    "user. 22",
    "95",
    "95",
  ]);
});

rwTest(
  "fuse-rw - writes ask nothing about file capabilities until one is set; a write drops it",
  async () => {
    await remount(["--op-stats"]);
    const fd = fs.openSync(m("plain"), "w");
    for (let i = 0; i < 64; i++) fs.writeSync(fd, Buffer.alloc(4096, i));
    fs.closeSync(fd);
    fs.writeFileSync(m("capped"), "x");
    const py = [
      "import os,sys",
      "p=sys.argv[1]",
      // a version-2 file capability: effective, permitted cap_net_raw
      "os.setxattr(p,'security.capability',bytes.fromhex('0100000200200000000000000000000000000000'))",
      "print(len(os.getxattr(p,'security.capability')))",
      "fd=os.open(p,os.O_WRONLY)\nos.write(fd,b'y')\nos.close(fd)",
      "try:\n  os.getxattr(p,'security.capability')\nexcept OSError as e:\n  print(e.errno)",
    ].join("\n");
    const { stdout } = await run("python3", ["-c", py, m("capped")]);
    assert.equal(stdout.trim().split("\n"), ["20", "61"], "the write removed the capability");
    const was = served!;
    await remount();
    const asked = was
      .stderr()
      .split("\n")
      .find((l) => /^ +getxattr /.test(l));
    const count = asked === undefined ? 0 : Number(asked.trim().split(/ +/)[1]);
    assert.ok(count >= 1 && count < 10, `getxattr requests: ${asked} (64 writes before the set)`);
  },
);

rwTest("fuse-rw - chmod, chown, utimens with nanoseconds, now and omit", async () => {
  fs.writeFileSync(m("attrs"), "a");
  fs.chmodSync(m("attrs"), 0o640);
  fs.chownSync(m("attrs"), 1234, 5678);
  await run("touch", ["-m", "-d", "@1600000000.123456789", m("attrs")]);
  let st = fs.statSync(m("attrs"), { bigint: true });
  assert.is(st.mode & 0o7777n, 0o640n);
  assert.is(st.uid, 1234n);
  assert.is(st.gid, 5678n);
  assert.is(st.mtimeNs, 1_600_000_000_123_456_789n);
  const atime = st.atimeNs;
  await run("touch", ["-a", "-d", "@1500000000.000000007", m("attrs")]);
  st = fs.statSync(m("attrs"), { bigint: true });
  assert.is(st.atimeNs, 1_500_000_000_000_000_007n);
  assert.is(st.mtimeNs, 1_600_000_000_123_456_789n, "mtime omitted");
  assert.ok(atime !== st.atimeNs);
  const before = BigInt(Date.now() - 5000) * 1_000_000n;
  await run("touch", ["-m", m("attrs")]);
  st = fs.statSync(m("attrs"), { bigint: true });
  assert.ok(st.mtimeNs > before, "now");
  await remount();
  st = fs.statSync(m("attrs"), { bigint: true });
  assert.is(st.atimeNs, 1_500_000_000_000_000_007n, "kept across remount");
});

const asNobody = (cmd: string) =>
  spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-c", cmd], {
    encoding: "utf8",
  });

(IS_ROOT && !skip ? test : test.skip)(
  "fuse-rw - permissions are enforced for a non-root user",
  () => {
    fs.writeFileSync(m("rootfile"), "root's");
    fs.chmodSync(m("rootfile"), 0o644);
    fs.mkdirSync(m("open"));
    fs.chmodSync(m("open"), 0o777);
    const w = asNobody(`echo x >> '${m("rootfile")}'`);
    assert.is.not(w.status, 0, "cannot write a 0644 root file");
    assert.match(w.stderr, /Permission denied/);
    assert.is(asNobody(`cat '${m("rootfile")}'`).stdout, "root's", "can read it");
    assert.is.not(asNobody(`chmod 777 '${m("rootfile")}'`).status, 0, "cannot chmod it");
    const c = asNobody(`echo mine > '${m("open", "mine")}'`);
    assert.is(c.status, 0, c.stderr);
    const st = fs.statSync(m("open", "mine"));
    assert.is(st.uid, 65534);
    assert.is(st.gid, 65534);
    assert.is(fs.readFileSync(m("open", "mine"), "utf8"), "mine\n");
  },
);

rwTest("fuse-rw - a file unlinked while open stays usable through its fd", () => {
  fs.writeFileSync(m("ghost"), "boo");
  const fd = fs.openSync(m("ghost"), "r+");
  try {
    fs.unlinkSync(m("ghost"));
    assert.is(
      errCode(() => fs.statSync(m("ghost"))),
      "ENOENT",
    );
    assert.is(fs.readFileSync(fd, "utf8"), "boo");
    fs.writeSync(fd, Buffer.from("!!"), 0, 2, 3);
    const buf = Buffer.alloc(5);
    assert.is(fs.readSync(fd, buf, 0, 5, 0), 5);
    assert.is(buf.toString(), "boo!!");
    assert.is(fs.fstatSync(fd).size, 5);
  } finally {
    fs.closeSync(fd);
  }
});

rwTest("fuse-rw - mknod makes a FIFO; statfs shows real free space", async () => {
  await run("mkfifo", [m("pipe")]);
  assert.ok(fs.lstatSync(m("pipe")).isFIFO());
  const sfs = fs.statfsSync(mnt);
  const host = fs.statfsSync(store);
  assert.ok(sfs.bavail > 0, "free space");
  assert.is(sfs.bsize, host.bsize);
});

rwTest("fuse-rw - fallocate extends; fsync works", async () => {
  const py = [
    "import os,sys",
    "fd=os.open(sys.argv[1],os.O_RDWR|os.O_CREAT,0o644)",
    "os.write(fd,b'abc')",
    "os.posix_fallocate(fd,0,10000)",
    "os.fsync(fd)",
    "print(os.fstat(fd).st_size)",
    "os.posix_fallocate(fd,0,100)",
    "print(os.fstat(fd).st_size)",
    "os.close(fd)",
  ].join("\n");
  const { stdout } = await run("python3", ["-c", py, m("falloc")]);
  assert.equal(stdout.trim().split("\n"), ["10000", "10000"]);
  const got = fs.readFileSync(m("falloc"));
  assert.ok(got.subarray(0, 3).equals(Buffer.from("abc")));
  assert.ok(got.subarray(3).every((b) => b === 0));
  const punch = spawnSync("fallocate", ["-p", "-o", "0", "-l", "10", m("falloc")], {
    encoding: "utf8",
  });
  assert.is.not(punch.status, 0, "punching a hole is not supported");
  assert.match(punch.stderr, /unsupported|not supported/i);
});

rwTest("fuse-rw - fio with crc32c verification passes (random and sequential)", async () => {
  fs.mkdirSync(m("fio"));
  for (const [rw, bs] of [
    ["randwrite", "4k"],
    ["write", "128k"],
  ] as const) {
    const args = [
      `--name=${rw}`,
      `--directory=${m("fio")}`,
      `--rw=${rw}`,
      `--bs=${bs}`,
      "--size=16M",
      "--numjobs=2",
      "--ioengine=psync",
      "--verify=crc32c",
      "--do_verify=1",
      "--verify_state_save=0",
      "--runtime=120",
      "--output-format=json",
    ];
    const r = await run("fio", args, { maxBuffer: 1 << 24 });
    const jobs = (JSON.parse(r.stdout) as { jobs: { error: number; write: { bw: number } }[] })
      .jobs;
    assert.is(jobs.length, 2);
    for (const j of jobs) assert.is(j.error, 0, rw);
    const kib = jobs.reduce((s, j) => s + j.write.bw, 0);
    console.log(
      `fuse-rw: fio ${rw} bs=${bs} 2 jobs: ${(kib / 1024).toFixed(1)} MiB/s write, verified`,
    );
  }
});

/** A tiny deterministic PRNG. */
function prng(seed: number) {
  let x = seed >>> 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

rwTest("fuse-rw - model-based random writes/truncates/reads match an in-memory model", async () => {
  const rnd = prng(4242);
  const FILES = 4;
  const MAX = 600_000;
  const models: Buffer[] = [];
  const handles: (fsp.FileHandle | undefined)[] = [];
  const name = (i: number) => m(`model-${i}`);
  for (let i = 0; i < FILES; i++) models.push(Buffer.alloc(0));
  for (let i = 0; i < FILES; i++) await fsp.writeFile(name(i), "");
  const reopen = async (i: number) => {
    await handles[i]?.close();
    handles[i] = await fsp.open(name(i), "r+");
  };
  for (let i = 0; i < FILES; i++) await reopen(i);
  let ops = 0;
  try {
    for (; ops < 3000; ops++) {
      const i = rnd(FILES);
      const h = handles[i]!;
      const model = models[i]!;
      const op = rnd(100);
      if (op < 45) {
        const off = rnd(MAX);
        const data = seededBytes(1 + rnd(70_000), ops + 1);
        await h.write(data, 0, data.length, off);
        const grown = Buffer.alloc(Math.max(model.length, off + data.length));
        model.copy(grown);
        data.copy(grown, off);
        models[i] = grown;
      } else if (op < 55) {
        const size = rnd(MAX);
        await h.truncate(size);
        const t = Buffer.alloc(size);
        model.copy(t, 0, 0, Math.min(size, model.length));
        models[i] = t;
      } else if (op < 90) {
        const off = rnd(MAX);
        const len = rnd(100_000);
        const buf = Buffer.alloc(len);
        const { bytesRead } = await h.read(buf, 0, len, off);
        const want = model.subarray(Math.min(off, model.length), off + len);
        assert.is(bytesRead, want.length, `op ${ops}: read length at ${off}+${len}`);
        assert.ok(buf.subarray(0, bytesRead).equals(want), `op ${ops}: bytes at ${off}+${len}`);
      } else if (op < 95) {
        assert.is((await h.stat()).size, model.length, `op ${ops}: size`);
        if (rnd(2) === 0) await h.sync();
      } else {
        await reopen(i);
      }
    }
  } finally {
    for (const h of handles) await h?.close();
  }
  await remount();
  for (let i = 0; i < FILES; i++) {
    assert.ok((await fsp.readFile(name(i))).equals(models[i]!), `file ${i} after remount`);
  }
  console.log(`fuse-rw: model exerciser: ${ops} ops, no mismatch`);
});

rwTest("fuse-rw - kill -9 during a copy: every file whose close returned is intact", async () => {
  const from = tmpDir("rw-crash-src");
  for (let i = 0; i < 400; i++) {
    fs.writeFileSync(path.join(from, `f${i}`), seededBytes(20_000 + ((i * 7919) % 200_000), i + 7));
  }
  fs.mkdirSync(m("crash"));
  const script = `for f in "$1"/*; do cp "$f" "$2/" && echo "$(basename "$f")"; done; true`;
  const copier = spawn("sh", ["-c", script, "sh", from, m("crash")], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  let out = "";
  copier.stdout!.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const copied = new Promise<void>((r) => copier.once("exit", () => r()));
  const lines = () => out.split("\n").filter((l) => l !== "");
  while (lines().length < 40 && copier.exitCode === null) {
    await new Promise((r) => setTimeout(r, 20));
  }
  process.kill(served!.pid, "SIGKILL");
  await served!.exited;
  served = undefined;
  await copied;
  lazyUnmountSync(mnt);
  assert.equal(fs.readdirSync(mnt), [], "nothing written beside the dead mount");
  const done = lines();
  assert.ok(done.length >= 40, `${done.length} files copied before the kill`);
  assert.ok(done.length < 400, "the kill came before the copy finished");
  served = await serveStore(store, mnt, ["-w", "-o", "allow_other"]);
  for (const f of done) {
    const got = fs.readFileSync(m("crash", f));
    assert.ok(got.equals(fs.readFileSync(path.join(from, f))), f);
  }
  assert.equal(compareMounted(src, m("tree")), [], "earlier data intact");
  console.log(`fuse-rw: kill -9 after ${done.length} of 400 files: all intact after remount`);
});

rwTest("fuse-rw - SIGTERM and umount: the server commits, unmounts and exits 0", async () => {
  fs.writeFileSync(m("by-sigterm"), "term");
  process.kill(served!.pid, "SIGTERM");
  assert.is(await served!.exited, 0, served!.stderr());
  assert.not.ok(isMounted(mnt));
  served = await serveStore(store, mnt, ["-w"]);
  assert.is(fs.readFileSync(m("by-sigterm"), "utf8"), "term");
  fs.writeFileSync(m("last"), "last words");
  await unmount();
  served = await serveStore(store, mnt, ["--read-only"]);
  assert.is(fs.readFileSync(m("last"), "utf8"), "last words");
  await unmount();
});

test.run();
