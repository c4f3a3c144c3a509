/**
 * Compares a source tree with the same tree read through a superchunk mount (or any copy), as
 * `stat`, `readlink` and `cat` see them: names (raw bytes), type, mode, uid/gid, size, nlink,
 * mtime (to the nanosecond unless told otherwise), symlink targets, device numbers, content, and
 * hard-link identity (the same partition of paths by inode).
 * Uses sync calls: the mount must be served by another process.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";

export interface MountDiff {
  readonly path: string;
  readonly what: string;
}

/** What to compare besides the always-compared fields. */
export interface CompareOptions {
  /** mtime resolution in ns; default 1 (exact) */
  mtimeResolutionNs?: bigint;
  /** compare uid/gid; default true */
  owners?: boolean;
}

interface Pair {
  readonly rel: string;
  readonly src: Buffer;
  readonly mnt: Buffer;
}

const SLASH = Buffer.from("/");

/** The differences between `src` and `mnt` (empty when they match). */
export function compareMounted(src: string, mnt: string, opts: CompareOptions = {}): MountDiff[] {
  const diffs: MountDiff[] = [];
  const pairs: Pair[] = [];
  walk(Buffer.from(src), Buffer.from(mnt), "", pairs, diffs);
  const srcGroups = new Map<bigint, string[]>();
  const mntGroups = new Map<bigint, string[]>();
  for (const p of pairs) {
    const a = fs.lstatSync(p.src, { bigint: true });
    const b = fs.lstatSync(p.mnt, { bigint: true });
    for (const what of compareStats(p, a, b, opts)) diffs.push({ path: p.rel, what });
    if (!a.isDirectory()) {
      srcGroups.set(a.ino, [...(srcGroups.get(a.ino) ?? []), p.rel]);
      mntGroups.set(b.ino, [...(mntGroups.get(b.ino) ?? []), p.rel]);
    }
  }
  const norm = (g: Map<bigint, string[]>) => [...g.values()].map((v) => v.sort().join("|")).sort();
  const sg = norm(srcGroups);
  const mg = norm(mntGroups);
  if (sg.join("\n") !== mg.join("\n")) {
    diffs.push({
      path: "/",
      what: `hard-link groups differ: ${sg.filter((x) => !mg.includes(x))}`,
    });
  }
  return diffs;
}

function walk(srcDir: Buffer, mntDir: Buffer, rel: string, out: Pair[], diffs: MountDiff[]): void {
  const srcNames = fs.readdirSync(srcDir, { encoding: "buffer" });
  const mntNames = new Set(
    fs.readdirSync(mntDir, { encoding: "buffer" }).map((n) => n.toString("hex")),
  );
  for (const raw of srcNames) {
    const r = `${rel}/${raw.toString()}`;
    if (!mntNames.delete(raw.toString("hex"))) {
      diffs.push({ path: r, what: "missing in the mount" });
      continue;
    }
    const pair = {
      rel: r,
      src: Buffer.concat([srcDir, SLASH, raw]),
      mnt: Buffer.concat([mntDir, SLASH, raw]),
    };
    out.push(pair);
    if (fs.lstatSync(pair.src).isDirectory()) walk(pair.src, pair.mnt, r, out, diffs);
  }
  for (const extra of mntNames) {
    diffs.push({ path: `${rel}/${Buffer.from(extra, "hex")}`, what: "only in the mount" });
  }
}

function compareStats(
  p: Pair,
  a: fs.BigIntStats,
  b: fs.BigIntStats,
  opts: CompareOptions,
): string[] {
  const d: string[] = [];
  const f = (name: string, u: unknown, v: unknown) => {
    if (u !== v) d.push(`${name}: ${String(u)} != ${String(v)}`);
  };
  const res = opts.mtimeResolutionNs ?? 1n;
  f("type", a.mode & 0o170000n, b.mode & 0o170000n);
  if (!a.isSymbolicLink()) f("mode", a.mode & 0o7777n, b.mode & 0o7777n);
  if (opts.owners !== false) {
    f("uid", a.uid, b.uid);
    f("gid", a.gid, b.gid);
  }
  if (!a.isDirectory()) f("size", a.size, b.size);
  if (!a.isDirectory()) f("nlink", a.nlink, b.nlink);
  f("mtime", (a.mtimeNs / res) * res, (b.mtimeNs / res) * res);
  if (a.isCharacterDevice() || a.isBlockDevice()) f("rdev", a.rdev, b.rdev);
  if (a.isSymbolicLink()) {
    f("target", fs.readlinkSync(p.src, "buffer").toString("hex"), readlinkHex(p.mnt));
  }
  if (a.isFile()) f("content", sha(p.src), sha(p.mnt));
  return d;
}

function readlinkHex(p: Buffer): string {
  return fs.readlinkSync(p, "buffer").toString("hex");
}

function sha(p: Buffer): string {
  return createHash("sha256").update(fs.readFileSync(p)).digest("hex");
}
