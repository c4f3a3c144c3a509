/**
 * Native FUSE binding tests: an in-memory toy file system served through the binding by this
 * process and used through the real kernel. Every access to the mount is async (a sync call
 * would block the event loop that answers the kernel); shell tools run as child processes.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import { constants as osc } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import * as assert from "uvu/assert";
import {
  type FuseCaller,
  type FuseTime,
  type FuseTimeArg,
  mountNative,
  type NativeFuseOps,
  type NativeMount,
  type NativeStat,
  nativeFuseArgs,
  timeFromNs,
  timeToNs,
} from "../../src/fuse/native-fuse.js";
import { FUSERMOUNT, forceUnmountAll, isMounted, mountDir } from "../helpers/mount.js";
import { suiteNeeding } from "../helpers/services.js";
import { seededBytes } from "../helpers/tree.js";

const run = promisify(execFile);
const E = osc.errno;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const native = suiteNeeding("native-fuse", ["fuse"]);
/** tests without a mount */
const unit = native.test;
/** tests through a real mount: skipped without FUSE */
const test = native.t;

// ---------------------------------------------------------------- the toy file system

interface ToyNode {
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  data: Buffer;
  atime: FuseTime;
  mtime: FuseTime;
  ctime: FuseTime;
  xattrs: Map<string, Buffer>;
}

const errno = (name: keyof typeof E) => Object.assign(new Error(name), { errno: E[name] });
const nowTime = (): FuseTime => timeFromNs(BigInt(Date.now()) * 1_000_000n);
const key = (p: Buffer | string) => (typeof p === "string" ? p : p.toString("latin1"));
const parentOf = (k: string) => k.slice(0, Math.max(1, k.lastIndexOf("/")));
const baseOf = (k: string) => k.slice(k.lastIndexOf("/") + 1);

/** Everything the toy saw that tests check. */
interface ToyLog {
  creates: { path: string; caller: FuseCaller }[];
  utimens: { atime: FuseTimeArg; mtime: FuseTimeArg }[];
  fallocates: { mode: number; offset: number; length: number; fh: number }[];
  handles: Set<number>;
}

class Toy {
  readonly nodes = new Map<string, ToyNode>();
  readonly log: ToyLog = { creates: [], utimens: [], fallocates: [], handles: new Set() };
  private nextIno = 1000;
  private nextFh = 7;
  /** ms a read waits before answering (to keep requests in flight) */
  readDelayMs = 0;
  /** reads that reached the toy (started, finished or not) */
  readsStarted = 0;
  /** the last Buffer a write handler was given, kept (wrongly) past the answer */
  lastWriteView: Buffer | undefined;

  constructor() {
    this.add("/", S_IFDIR | 0o777, 0, 0);
  }

  add(k: string, mode: number, uid: number, gid: number, data: Buffer = Buffer.alloc(0)): ToyNode {
    const t = nowTime();
    const n: ToyNode = {
      ino: this.nextIno++,
      mode,
      uid,
      gid,
      nlink: 1,
      data,
      atime: t,
      mtime: t,
      ctime: t,
      xattrs: new Map(),
    };
    this.nodes.set(k, n);
    return n;
  }

  get(p: Buffer | string | null): ToyNode {
    const n = p === null ? undefined : this.nodes.get(key(p));
    if (!n) throw errno("ENOENT");
    return n;
  }

  stat(n: ToyNode): NativeStat {
    return {
      ino: n.ino,
      mode: n.mode,
      nlink: n.nlink,
      uid: n.uid,
      gid: n.gid,
      size: n.data.length,
      atime: n.atime,
      mtime: n.mtime,
      ctime: n.ctime,
    };
  }

  children(k: string): string[] {
    const out: string[] = [];
    for (const c of this.nodes.keys()) if (c !== "/" && c !== k && parentOf(c) === k) out.push(c);
    return out;
  }

  resize(n: ToyNode, size: number): void {
    const d = Buffer.alloc(size);
    n.data.copy(d, 0, 0, Math.min(size, n.data.length));
    n.data = d;
    n.mtime = n.ctime = nowTime();
  }

  ops(): NativeFuseOps {
    return {
      getattr: (p) => this.stat(this.get(p)),
      fgetattr: (p) => this.stat(this.get(p)),
      readdir: (p) => {
        const k = key(p);
        const entries = this.children(k).map((c) => ({
          name: Buffer.from(baseOf(c), "latin1"),
          stat: this.stat(this.get(c)),
        }));
        return [".", "..", ...entries];
      },
      mkdir: (p, mode, c) => void this.add(key(p), S_IFDIR | mode, c.uid, c.gid),
      create: (p, mode, _flags, c) => {
        this.log.creates.push({ path: key(p), caller: c });
        this.add(key(p), S_IFREG | mode, c.uid, c.gid);
        return this.openFh();
      },
      open: (p) => {
        this.get(p);
        return this.openFh();
      },
      release: (_p, fh) => void this.log.handles.delete(fh),
      read: async (p, _fh, buf, offset) => {
        this.readsStarted++;
        if (this.readDelayMs) await new Promise((r) => setTimeout(r, this.readDelayMs));
        const n = this.get(p);
        return n.data.copy(buf, 0, offset, Math.min(n.data.length, offset + buf.length));
      },
      write: (p, _fh, data, offset) => {
        const n = this.get(p);
        this.lastWriteView = data;
        if (offset + data.length > n.data.length) this.resize(n, offset + data.length);
        data.copy(n.data, offset);
        return data.length;
      },
      truncate: (p, size) => this.resize(this.get(p), size),
      ftruncate: (p, size) => this.resize(this.get(p), size),
      unlink: (p) => {
        this.get(p);
        this.nodes.delete(key(p));
      },
      rmdir: (p) => {
        if (this.children(key(p)).length) throw errno("ENOTEMPTY");
        this.nodes.delete(key(p));
      },
      rename: (from, to) => {
        const n = this.get(from);
        this.nodes.delete(key(from));
        this.nodes.set(key(to), n);
      },
      symlink: (p, target, c) =>
        void this.add(key(p), S_IFLNK | 0o777, c.uid, c.gid, Buffer.from(target)),
      readlink: (p) => this.get(p).data,
      chmod: (p, mode) => {
        const n = this.get(p);
        n.mode = (n.mode & ~0o7777) | (mode & 0o7777);
      },
      chown: (p, uid, gid) => {
        const n = this.get(p);
        if (uid !== -1) n.uid = uid;
        if (gid !== -1) n.gid = gid;
      },
      utimens: (p, atime, mtime) => {
        const n = this.get(p);
        this.log.utimens.push({ atime, mtime });
        const pick = (t: FuseTimeArg, old: FuseTime) =>
          t === "omit" ? old : t === "now" ? nowTime() : t;
        n.atime = pick(atime, n.atime);
        n.mtime = pick(mtime, n.mtime);
        n.ctime = nowTime();
      },
      fallocate: (p, mode, offset, length, fh) => {
        this.log.fallocates.push({ mode, offset, length, fh });
        const n = this.get(p);
        if (!(mode & 1) && offset + length > n.data.length) this.resize(n, offset + length);
      },
      setxattr: (p, name, value) => void this.get(p).xattrs.set(name, Buffer.from(value)),
      getxattr: (p, name) => {
        const v = this.get(p).xattrs.get(name);
        if (!v) throw errno("ENODATA");
        return v;
      },
      listxattr: (p) => [...this.get(p).xattrs.keys()],
      removexattr: (p, name) => {
        if (!this.get(p).xattrs.delete(name)) throw errno("ENODATA");
      },
      statfs: () => ({
        bsize: 4096,
        blocks: 1000,
        bfree: 500,
        bavail: 500,
        files: 100,
        ffree: 50,
        namemax: 255,
      }),
    };
  }

  private openFh(): number {
    const fh = this.nextFh++;
    this.log.handles.add(fh);
    return fh;
  }
}

const OPTIONS = [
  "use_ino",
  "allow_other",
  "fsname=toyfs",
  "subtype=toy",
  "max_write=1048576",
  "attr_timeout=0",
  "entry_timeout=0",
];

/** Mounts a fresh toy on a fresh dir others can reach; runs `body`; always unmounts. */
async function withToy(
  body: (mnt: string, toy: Toy, m: NativeMount) => Promise<void>,
): Promise<void> {
  const mnt = mountDir("native");
  fs.chmodSync(path.dirname(mnt), 0o755);
  const toy = new Toy();
  const m = await mountNative(mnt, toy.ops(), OPTIONS);
  try {
    await body(mnt, toy, m);
  } finally {
    await m.unmount();
    assert.not.ok(isMounted(mnt), "unmounted");
  }
}

// ---------------------------------------------------------------- unit: no kernel involved

unit("native-fuse - time conversion keeps nanoseconds, negative times floor", () => {
  assert.equal(timeFromNs(1_614_834_367_123_456_789n), { sec: 1_614_834_367, nsec: 123_456_789 });
  assert.equal(timeFromNs(-1n), { sec: -1, nsec: 999_999_999 });
  assert.is(timeToNs({ sec: -1, nsec: 999_999_999 }), -1n);
});

unit("native-fuse - option argv: one -o per option, commas escaped", () => {
  assert.equal(nativeFuseArgs(["use_ino", "fsname=a,b", "-d"]), [
    "-o",
    "use_ino",
    "-o",
    "fsname=a\\,b",
    "-d",
  ]);
});

// ---------------------------------------------------------------- real mounts

const buf1M = 1024 * 1024;

test("native-fuse - write and read back at offsets, 1 MiB reads, use_ino", async () => {
  await withToy(async (mnt, toy, m) => {
    const f = path.join(mnt, "a.bin");
    const big = seededBytes(3 * 1024 * 1024 + 17, 5);
    await fsp.writeFile(f, big);
    assert.ok(toy.get("/a.bin").data.equals(big), "toy holds the bytes written");
    assert.is(toy.lastWriteView?.length, 0, "write views are detached once answered");
    assert.ok((await fsp.readFile(f)).equals(big), "read back whole");
    const fh = await fsp.open(f, "r+");
    try {
      const buf = Buffer.alloc(1024 * 1024);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 12345);
      assert.is(bytesRead, buf.length);
      assert.ok(buf.equals(big.subarray(12345, 12345 + buf.length)), "1 MiB read at an offset");
      await fh.write(Buffer.from("hello"), 0, 5, 2_000_000);
      const five = Buffer.alloc(5);
      await fh.read(five, 0, 5, 2_000_000);
      assert.is(five.toString(), "hello");
    } finally {
      await fh.close();
    }
    const st = await fsp.stat(f, { bigint: true });
    assert.is(Number(st.ino), toy.get("/a.bin").ino, "st_ino is ours (use_ino)");
    assert.is(Number(st.size), big.length);
    // every request is counted by op: what was written and read went through write and read
    const by = new Map(m.opStats().ops.map((o) => [o.op, o]));
    assert.is(by.get("write")?.bytes, big.length + 5, "bytes written");
    assert.ok((by.get("read")?.bytes ?? 0) >= big.length + buf1M, "bytes read");
    assert.ok((by.get("open")?.count ?? 0) >= 2, "opens");
    assert.ok(m.opStats().maxInFlight >= 1);
  });
});

test("native-fuse - readdir round-trips non-UTF-8 names and carries our inode numbers", async () => {
  await withToy(async (mnt, toy) => {
    const raw = Buffer.from([0x72, 0xff, 0xfe, 0x2e, 0x80]);
    const full = Buffer.concat([Buffer.from(`${mnt}/`), raw]);
    await fsp.writeFile(full, "x");
    assert.ok(toy.nodes.has(`/${raw.toString("latin1")}`), "the toy got the raw bytes");
    await fsp.mkdir(path.join(mnt, "ünï"));
    const names = await fsp.readdir(Buffer.from(mnt), { encoding: "buffer", withFileTypes: true });
    const found = names.find((d) => Buffer.from(d.name).equals(raw));
    assert.ok(found?.isFile(), "non-UTF-8 name listed as a file");
    assert.ok(names.some((d) => d.name.toString() === "ünï" && d.isDirectory()));
    const { stdout } = await run("ls", ["-i", "-1", "-a", mnt], { encoding: "buffer" });
    const dirIno = toy.get(Buffer.from("/ünï")).ino;
    assert.ok(stdout.toString().includes(`${dirIno} ünï`), "readdir ino is ours");
  });
});

test("native-fuse - nanosecond mtime via touch -d, UTIME_OMIT and UTIME_NOW reach JS", async () => {
  await withToy(async (mnt, toy) => {
    const f = path.join(mnt, "t");
    await fsp.writeFile(f, "t");
    await run("touch", ["-d", "@1614834367.123456789", f]);
    let st = await fsp.stat(f, { bigint: true });
    assert.is(st.mtimeNs, 1_614_834_367_123_456_789n, "mtime keeps nanoseconds");
    assert.is(st.atimeNs, 1_614_834_367_123_456_789n);
    const { stdout } = await run("stat", ["-c", "%y", f], { env: { TZ: "UTC" } });
    assert.ok(stdout.includes("2021-03-04 05:06:07.123456789"), stdout);
    toy.log.utimens.length = 0;
    await run("touch", ["-a", "-d", "@1700000000.000000001", f]);
    assert.equal(toy.log.utimens.at(-1), { atime: { sec: 1_700_000_000, nsec: 1 }, mtime: "omit" });
    st = await fsp.stat(f, { bigint: true });
    assert.is(st.mtimeNs, 1_614_834_367_123_456_789n, "touch -a leaves mtime");
    assert.is(st.atimeNs, 1_700_000_000_000_000_001n);
    await run("touch", ["-m", f]);
    assert.equal(toy.log.utimens.at(-1), { atime: "omit", mtime: "now" });
  });
});

test("native-fuse - caller uid/gid of a create made by user nobody", async () => {
  if (process.getuid?.() !== 0) return console.log("skipped: needs root for setpriv");
  await withToy(async (mnt, toy) => {
    const f = path.join(mnt, "by-nobody");
    await run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "touch", f]);
    const c = toy.log.creates.find((x) => x.path === "/by-nobody")?.caller;
    assert.ok(c, "create reached JS");
    assert.is(c!.uid, 65534);
    assert.is(c!.gid, 65534);
    assert.ok(c!.pid > 0, "pid is known");
    const st = await fsp.stat(f);
    assert.is(st.uid, 65534);
    assert.is(st.gid, 65534);
  });
});

test("native-fuse - fallocate, xattr size probes, symlinks, statfs", async () => {
  await withToy(async (mnt, toy) => {
    const f = path.join(mnt, "fa");
    await fsp.writeFile(f, "");
    await run("fallocate", ["-o", "4096", "-l", "65536", f]);
    const fa = toy.log.fallocates.at(-1);
    assert.equal(
      { mode: fa?.mode, offset: fa?.offset, length: fa?.length },
      { mode: 0, offset: 4096, length: 65536 },
    );
    assert.ok(toy.log.handles.has(fa!.fh) || fa!.fh >= 7, "fallocate got the open handle");
    assert.is((await fsp.stat(f)).size, 4096 + 65536);
    const py = `import os,sys
f=sys.argv[1]; v=bytes(range(256))*2
os.setxattr(f,'user.big',v); os.setxattr(f,'user.s',b'1')
assert os.getxattr(f,'user.big')==v
print(sorted(os.listxattr(f)))`;
    const { stdout } = await run("python3", ["-c", py, f]);
    assert.is(stdout.trim(), "['user.big', 'user.s']");
    await fsp.symlink("target/ü", path.join(mnt, "ln"));
    assert.is(await fsp.readlink(path.join(mnt, "ln")), "target/ü");
    const sfs = await fsp.statfs(mnt);
    assert.equal([sfs.blocks, sfs.bfree, sfs.files], [1000, 500, 100]);
  });
});

test("native-fuse - 8 concurrent readers get the right bytes", async () => {
  await withToy(async (mnt, toy) => {
    const data = seededBytes(4 * 1024 * 1024, 9);
    toy.add("/shared", S_IFREG | 0o644, 0, 0, data);
    toy.readDelayMs = 1;
    const reads = await Promise.all(
      Array.from({ length: 8 }, () => fsp.readFile(path.join(mnt, "shared"))),
    );
    for (const r of reads) assert.ok(r.equals(data));
    const cats = await Promise.all(
      Array.from({ length: 8 }, () => run("sha256sum", [path.join(mnt, "shared")])),
    );
    const sums = new Set(cats.map((c) => c.stdout.split(" ")[0]));
    assert.is(sums.size, 1, "all eight readers agree");
  });
});

test("native-fuse - unmount: idle, with requests in flight, and from outside", async () => {
  const idle = mountDir("native");
  const m1 = await mountNative(idle, new Toy().ops(), ["use_ino"]);
  assert.ok(isMounted(idle));
  await m1.unmount();
  await m1.unmount();
  assert.not.ok(isMounted(idle), "idle unmount");

  const busy = mountDir("native");
  const toy = new Toy();
  toy.add("/slow", S_IFREG | 0o644, 0, 0, seededBytes(512 * 1024, 3));
  toy.readDelayMs = 50;
  const m2 = await mountNative(busy, toy.ops(), ["use_ino"]);
  const reading = run("cat", [path.join(busy, "slow")], { encoding: "buffer", maxBuffer: 1 << 22 });
  // unmount only once cat's reads are under way (a fixed wait raced cat's start on a busy
  // machine: unmounted before it opened the file, it failed with ENOENT)
  for (let i = 0; i < 3000 && toy.readsStarted === 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(toy.readsStarted > 0, "cat's first read reached the file system");
  await m2.unmount();
  const { stdout } = await reading;
  assert.is(stdout.length, 512 * 1024, "the in-flight reader finished");
  assert.not.ok(isMounted(busy), "unmounted after the reader left");

  const ext = mountDir("native");
  let told = false;
  const m3 = await mountNative(ext, new Toy().ops(), ["use_ino"], {
    onUnmounted: () => {
      told = true;
    },
  });
  await (FUSERMOUNT ? run(FUSERMOUNT, ["-u", ext]) : run("umount", [ext]));
  await m3.gone;
  assert.ok(told, "onUnmounted called");
  assert.not.ok(isMounted(ext));
  await m3.unmount();
});

test("native-fuse - errors: thrown errno reaches the caller, bad mountpoint refused", async () => {
  await withToy(async (mnt, _toy, m) => {
    const e1 = await fsp.stat(path.join(mnt, "nope")).catch((e: NodeJS.ErrnoException) => e);
    assert.is((e1 as NodeJS.ErrnoException).code, "ENOENT");
    const lookups = m.opStats().ops.find((o) => o.op === "getattr");
    assert.ok(lookups !== undefined && lookups.errors >= 1, "the failed lookup is counted");
    await fsp.mkdir(path.join(mnt, "d"));
    await fsp.writeFile(path.join(mnt, "d", "x"), "");
    const e2 = await fsp.rmdir(path.join(mnt, "d")).catch((e: NodeJS.ErrnoException) => e);
    assert.is((e2 as NodeJS.ErrnoException).code, "ENOTEMPTY");
    const e3 = await run("mkfifo", [path.join(mnt, "fifo")]).catch((e: { stderr: string }) => e);
    assert.match((e3 as { stderr: string }).stderr, /not implemented/, "no mknod handler: ENOSYS");
  });
  const err = await mountNative("/nonexistent/mnt", {}, []).catch((e: { code?: string }) => e);
  assert.is((err as { code?: string }).code, "E_IO");
});

test("native-fuse - malformed answers become EIO, the mount keeps serving", async () => {
  const mnt = mountDir("native");
  const toy = new Toy();
  toy.add("/bad", S_IFREG | 0o644, 0, 0);
  const ops = toy.ops();
  const getattr = ops.getattr!;
  const errs: string[] = [];
  ops.getattr = (p, c) =>
    key(p) === "/bad" ? ({ nonsense: true } as unknown as NativeStat) : getattr(p, c);
  ops.readdir = () => [Buffer.from("a/\0b")];
  const m = await mountNative(mnt, ops, ["use_ino"], { onError: (op) => void errs.push(op) });
  try {
    const e1 = await fsp.stat(path.join(mnt, "bad")).catch((e: NodeJS.ErrnoException) => e);
    assert.ok(e1 instanceof Error, "stat failed");
    assert.ok(errs.includes("getattr"), "the bad answer was reported through onError");
    const e2 = await fsp.readdir(mnt).catch((e: NodeJS.ErrnoException) => e);
    assert.is((e2 as NodeJS.ErrnoException).code, "EIO", "a name with NUL is refused");
    assert.ok((await fsp.stat(mnt)).isDirectory(), "the mount still serves");
  } finally {
    await m.unmount();
  }
  assert.not.ok(isMounted(mnt));
});

native.teardown(() => {
  const left = forceUnmountAll();
  if (left.length) throw new Error(`mounts left behind: ${left.join(", ")}`);
});

unit.run();
