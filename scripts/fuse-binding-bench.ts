/**
 * Measures the native FUSE binding (src/fuse/native-fuse.ts) against fuse-native on the same
 * read-only toy file system served from memory by this process:
 *  - sequential read: `dd bs=1M` of a big file (a 16 MiB pattern repeated, copied per read);
 *  - metadata: `find -printf '%i %s'` over a tree of 100 dirs x 200 files (a getattr each).
 * Each run uses a fresh mount (cold kernel caches); the median of the runs is reported.
 * Usage: node dist/scripts/fuse-binding-bench.js [--mib 512] [--dirs 100] [--files 200] [--runs 3]
 *   [--only native|fuse-native]
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { mountNative, type NativeStat } from "../src/fuse/native-fuse.js";

const run = promisify(execFile);
const PATTERN_BYTES = 16 * 1024 * 1024;
const ENOENT = os.constants.errno.ENOENT;

interface Node {
  ino: number;
  dir: boolean;
  size: number;
  children?: string[];
}
interface Params {
  bigBytes: number;
  dirs: number;
  files: number;
  runs: number;
}

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

/** The toy tree: /big and /meta/dNNN/fNNN. */
function buildTree(p: Params): Map<string, Node> {
  const t = new Map<string, Node>();
  let ino = 100;
  const metaKids: string[] = [];
  t.set("/", { ino: 1, dir: true, size: 4096, children: ["big", "meta"] });
  t.set("/big", { ino: ino++, dir: false, size: p.bigBytes });
  for (let d = 0; d < p.dirs; d++) {
    const dn = `d${d}`;
    metaKids.push(dn);
    const kids: string[] = [];
    for (let f = 0; f < p.files; f++) {
      kids.push(`f${f}`);
      t.set(`/meta/${dn}/f${f}`, { ino: ino++, dir: false, size: f * 10 });
    }
    t.set(`/meta/${dn}`, { ino: ino++, dir: true, size: 4096, children: kids });
  }
  t.set("/meta", { ino: ino++, dir: true, size: 4096, children: metaKids });
  return t;
}

const pattern = Buffer.alloc(PATTERN_BYTES);
for (let i = 0; i < PATTERN_BYTES; i++) pattern[i] = (i * 131 + (i >> 12)) & 0xff;

/** Copies file bytes [off, off+len) of /big into buf; returns the count. */
function readBig(size: number, buf: Buffer, len: number, off: number): number {
  const n = Math.max(0, Math.min(len, size - off));
  let done = 0;
  while (done < n) {
    const at = (off + done) % PATTERN_BYTES;
    done += pattern.copy(buf, done, at, Math.min(PATTERN_BYTES, at + n - done));
  }
  return n;
}

const mode = (n: Node) => (n.dir ? 0o040755 : 0o100644);

/** Serves the tree with our binding; returns its unmount. */
async function serveNative(mnt: string, t: Map<string, Node>): Promise<() => Promise<void>> {
  const time = { sec: 1_700_000_000, nsec: 0 };
  const get = (p: string) => {
    const n = t.get(p);
    if (!n) throw { errno: ENOENT };
    return n;
  };
  const stat = (n: Node): NativeStat => ({
    ino: n.ino,
    mode: mode(n),
    size: n.size,
    atime: time,
    mtime: time,
    ctime: time,
  });
  const m = await mountNative(
    mnt,
    {
      getattr: (p) => stat(get(p)),
      readdir: (p) => [".", "..", ...(get(p).children ?? [])],
      open: (p) => {
        get(p);
        return 1;
      },
      read: (_p, _fh, buf, off) => readBig(t.get("/big")!.size, buf, buf.length, off),
    },
    ["fsname=bench-native"],
    { paths: "string" },
  );
  return () => m.unmount();
}

interface FuseNativeInstance {
  mount(cb: (err: Error | null) => void): void;
  unmount(cb: (err: Error | null) => void): void;
}
type Cb = (...a: unknown[]) => void;

/** Serves the tree with fuse-native; returns its unmount. */
async function serveFuseNative(mnt: string, t: Map<string, Node>): Promise<() => Promise<void>> {
  const Fuse = createRequire(import.meta.url)("fuse-native") as {
    new (mnt: string, ops: object, opts: object): FuseNativeInstance;
    ENOENT: number;
  };
  const date = new Date(1_700_000_000_000);
  const ops = {
    getattr: (p: string, cb: Cb) => {
      const n = t.get(p);
      if (!n) return cb(Fuse.ENOENT);
      cb(0, {
        ino: n.ino,
        mode: mode(n),
        size: n.size,
        uid: 0,
        gid: 0,
        nlink: 1,
        atime: date,
        mtime: date,
        ctime: date,
      });
    },
    readdir: (p: string, cb: Cb) => {
      const n = t.get(p);
      if (!n) return cb(Fuse.ENOENT);
      cb(0, [".", "..", ...(n.children ?? [])]);
    },
    open: (p: string, _flags: number, cb: Cb) => (t.get(p) ? cb(0, 1) : cb(Fuse.ENOENT)),
    read: (_p: string, _fd: number, buf: Buffer, len: number, off: number, cb: Cb) =>
      cb(readBig(t.get("/big")!.size, buf, len, off)),
  };
  const f = new Fuse(mnt, ops, { fsname: "bench-fuse-native" });
  await new Promise<void>((res, rej) => f.mount((e) => (e ? rej(e) : res())));
  return () => new Promise<void>((res, rej) => f.unmount((e) => (e ? rej(e) : res())));
}

/** Wall seconds of `cmd`, and CPU seconds this (serving) process spent meanwhile. */
async function timed(cmd: string): Promise<[number, number]> {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  await run("sh", ["-c", cmd], { maxBuffer: 1 << 26 });
  const c = process.cpuUsage(c0);
  return [Number(process.hrtime.bigint() - t0) / 1e9, (c.user + c.system) / 1e6];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

type Serve = (mnt: string, t: Map<string, Node>) => Promise<() => Promise<void>>;

/** Median wall and server-CPU seconds of `cmd` over fresh mounts. */
async function measure(serve: Serve, t: Map<string, Node>, mnt: string, cmd: string, runs: number) {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const unmount = await serve(mnt, t);
    try {
      const [w, c] = await timed(cmd.replaceAll("MNT", mnt));
      wall.push(w);
      cpu.push(c);
    } finally {
      await unmount();
    }
  }
  return [median(wall), median(cpu)] as const;
}

async function main(): Promise<void> {
  const p: Params = {
    bigBytes: arg("mib", 512) * 1024 * 1024,
    dirs: arg("dirs", 100),
    files: arg("files", 200),
    runs: arg("runs", 3),
  };
  const t = buildTree(p);
  const mnt = fs.mkdtempSync(path.join(os.tmpdir(), "superchunk-bench-fuse-"));
  const entries = p.dirs * (p.files + 1);
  const read = "dd if=MNT/big of=/dev/null bs=1M 2>/dev/null";
  const meta = "find MNT/meta -printf '%i %s\\n' > /dev/null";
  try {
    const only = process.argv.includes("--only")
      ? process.argv[process.argv.indexOf("--only") + 1]
      : undefined;
    const all = [
      ["native", serveNative],
      ["fuse-native", serveFuseNative],
    ] as const;
    for (const [name, serve] of all.filter(([n]) => only === undefined || n === only)) {
      const [rs, rc] = await measure(serve, t, mnt, read, p.runs);
      const [ms, mc] = await measure(serve, t, mnt, meta, p.runs);
      const mibs = p.bigBytes / 1024 / 1024 / rs;
      console.log(
        `${name.padEnd(12)} read ${mibs.toFixed(0)} MiB/s (${rs.toFixed(2)} s, server cpu ${rc.toFixed(2)} s)` +
          `  find+stat ${entries} entries ${ms.toFixed(2)} s (${(entries / ms).toFixed(0)}/s, server cpu ${mc.toFixed(2)} s)`,
      );
    }
  } finally {
    fs.rmdirSync(mnt);
  }
}

await main();
