/**
 * Test helpers: temporary directories with teardown, a sample tree holding every
 * kind of file a store keeps, and a tree comparison by content and stat fields.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const made: string[] = [];

/** A fresh temporary directory, removed by cleanupTmp(). */
export function tmpDir(tag = "sc"): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `superchunk-${tag}-`));
  made.push(d);
  return d;
}

/** Removes every directory tmpDir() made. */
export function cleanupTmp(): void {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

/** Deterministic pseudo-random bytes (xorshift), so tests do not depend on luck. */
export function seededBytes(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/** Low-entropy text-like bytes: words drawn from a small vocabulary, with line breaks. */
export function seededText(length: number, seed: number): Uint8Array {
  const words = ["const", "function", "return", "typeof", "export", "interface", "=>", "{", "}"];
  const pick = seededBytes(length, seed);
  const parts: string[] = [];
  let n = 0;
  for (let i = 0; n < length; i++) {
    const w = `${words[pick[i % length]! % words.length]}${pick[i % length]! < 24 ? "\n" : " "}`;
    parts.push(w);
    n += w.length;
  }
  return new TextEncoder().encode(parts.join("")).subarray(0, length);
}

export const IS_ROOT = process.getuid?.() === 0;

/** Builds a tree with every kind of entry below `root` (which must exist). */
export function makeSampleTree(root: string): void {
  const p = (...parts: string[]) => path.join(root, ...parts);
  fs.mkdirSync(p("a", "b", "c"), { recursive: true });
  fs.mkdirSync(p("empty-dir"));
  fs.writeFileSync(p("hello.txt"), "hello, superchunk\n");
  fs.writeFileSync(p("empty"), "");
  fs.writeFileSync(p("a", "small.bin"), seededBytes(5000, 1));
  const big = seededBytes(5 * 1024 * 1024 + 123, 2);
  fs.writeFileSync(p("a", "b", "big.bin"), big);
  const edited = Buffer.from(big);
  edited.write("an edit in the middle", 2_000_000);
  fs.writeFileSync(p("a", "b", "big-v2.bin"), edited);
  fs.writeFileSync(p("a", "b", "c", "copy-of-big.bin"), big);
  const holey = Buffer.concat([
    seededBytes(100_000, 3),
    Buffer.alloc(1024 * 1024),
    seededBytes(50_000, 4),
  ]);
  fs.writeFileSync(p("holey.bin"), holey);
  fs.writeFileSync(p("text.txt"), "line of text\n".repeat(20000));
  fs.writeFileSync(p("mode640"), "x");
  fs.chmodSync(p("mode640"), 0o640);
  fs.writeFileSync(p("setuid"), "#!/bin/sh\n");
  fs.chmodSync(p("setuid"), 0o4755);
  fs.symlinkSync("hello.txt", p("link-to-hello"));
  fs.symlinkSync("/nonexistent/target", p("dangling"));
  fs.linkSync(p("a", "small.bin"), p("hardlink-to-small"));
  fs.writeFileSync(p("ünïcödé name.txt"), "utf-8 name");
  fs.writeFileSync(
    Buffer.concat([Buffer.from(`${root}/raw-`), Buffer.from([0xff, 0xfe]), Buffer.from(".bin")]),
    "bytes name",
  );
  fs.writeFileSync(p("n".repeat(255)), "long name");
  spawnSync("mkfifo", [p("fifo")]);
  if (IS_ROOT) spawnSync("mknod", [p("null-dev"), "c", "1", "3"]);
  fs.utimesSync(p("hello.txt"), 1_600_000_000.123456, 1_500_000_000.654321);
  fs.utimesSync(p("a", "b"), 1_600_000_000, 1_400_000_000.5);
}

export interface TreeDiff {
  readonly path: string;
  readonly what: string;
}

/** Compares two trees entry by entry; returns the differences (empty when equal). */
export function compareTrees(a: string, b: string): TreeDiff[] {
  const diffs: TreeDiff[] = [];
  const la = listTree(Buffer.from(a));
  const lb = listTree(Buffer.from(b));
  const keys = new Set([...la.keys(), ...lb.keys()]);
  const inoA = new Map<bigint, string>();
  const inoB = new Map<bigint, string>();
  for (const k of [...keys].sort()) {
    const x = la.get(k);
    const y = lb.get(k);
    if (!x || !y) {
      diffs.push({ path: k, what: x ? "missing in second" : "missing in first" });
      continue;
    }
    for (const d of compareEntry(x, y)) diffs.push({ path: k, what: d });
    if (x.st.isFile() && x.st.nlink > 1n) {
      const firstA = inoA.get(x.st.ino) ?? k;
      const firstB = inoB.get(y.st.ino) ?? k;
      inoA.set(x.st.ino, firstA);
      inoB.set(y.st.ino, firstB);
      if (firstA !== firstB)
        diffs.push({ path: k, what: `hard link group differs (${firstA} vs ${firstB})` });
    }
  }
  return diffs;
}

interface Listed {
  readonly abs: Buffer;
  readonly st: fs.BigIntStats;
}

function listTree(root: Buffer): Map<string, Listed> {
  const out = new Map<string, Listed>();
  const walk = (dir: Buffer, rel: string) => {
    for (const name of fs.readdirSync(dir, { encoding: "buffer" }).sort(Buffer.compare)) {
      const abs = Buffer.concat([dir, Buffer.from("/"), name]);
      const r = `${rel}/${name.toString("latin1")}`;
      const st = fs.lstatSync(abs, { bigint: true });
      out.set(r, { abs, st });
      if (st.isDirectory()) walk(abs, r);
    }
  };
  walk(root, "");
  return out;
}

function compareEntry(x: Listed, y: Listed): string[] {
  const d: string[] = [];
  const f = (name: string, u: unknown, v: unknown) => {
    if (u !== v) d.push(`${name}: ${String(u)} != ${String(v)}`);
  };
  f("type", x.st.mode & 0o170000n, y.st.mode & 0o170000n);
  if (!x.st.isSymbolicLink()) f("mode", x.st.mode & 0o7777n, y.st.mode & 0o7777n);
  if (IS_ROOT) {
    f("uid", x.st.uid, y.st.uid);
    f("gid", x.st.gid, y.st.gid);
  }
  if (!x.st.isDirectory()) f("size", x.st.size, y.st.size);
  if (x.st.isFile()) f("nlink", x.st.nlink, y.st.nlink);
  if (!x.st.isSymbolicLink()) f("mtime(us)", x.st.mtimeNs / 1000n, y.st.mtimeNs / 1000n);
  if (x.st.isCharacterDevice() || x.st.isBlockDevice()) f("rdev", x.st.rdev, y.st.rdev);
  if (x.st.isSymbolicLink()) {
    f(
      "target",
      fs.readlinkSync(x.abs, "buffer").toString("hex"),
      fs.readlinkSync(y.abs, "buffer").toString("hex"),
    );
  }
  // both regular files: reading a FIFO that stands where a file belongs would block
  if (x.st.isFile() && y.st.isFile()) f("content", sha(x.abs), sha(y.abs));
  return d;
}

function sha(p: Buffer): string {
  return createHash("sha256").update(fs.readFileSync(p)).digest("hex");
}
