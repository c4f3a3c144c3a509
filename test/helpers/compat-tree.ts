/**
 * The tree of the compatibility fixtures (spec/compat/): made by
 * scripts/make-compat-fixture.ts, and described the way expected.json records it, so
 * test/unit/compat.test.ts can describe an extracted tree the same way and compare.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/** One path of the tree, as expected.json records it. */
export interface ExpectedEntry {
  kind: "file" | "dir" | "symlink";
  /** permission bits, octal, e.g. "0644" */
  mode: string;
  /** modification time, whole seconds */
  mtime: number;
  /** files: length in bytes */
  size?: number;
  /** files: SHA-256 of the content, hex */
  sha256?: string;
  /** symlinks: the target as written */
  target?: string;
  /** files with more than one name: the first name (sorted) of the same file */
  hardLinkTo?: string;
}

/** Every mtime of the tree, so two runs write the same metadata. */
const MTIME_S = 1_700_000_000;

/** Deterministic text that compresses well but not to nothing (xorshift over a word list). */
function prose(bytes: number, seed: number): Buffer {
  const words = "super chunk block store archive extent hole zip mount read write pack seal";
  const list = words.split(" ");
  let x = seed >>> 0 || 1;
  let out = "";
  while (out.length < bytes) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out += `${list[(x >>> 0) % list.length]}${(x & 7) === 0 ? ".\n" : " "}`;
  }
  return Buffer.from(out.slice(0, bytes));
}

/** The tree: shared content, an empty file, links of both kinds, modes, a big file. */
export function makeCompatTree(root: string): void {
  const p = (...parts: string[]) => path.join(root, ...parts);
  fs.mkdirSync(p("docs", "deeper"), { recursive: true });
  fs.mkdirSync(p("empty-dir"));
  const big = prose(150_000, 7);
  fs.writeFileSync(p("big.txt"), big);
  fs.writeFileSync(p("docs", "copy-of-big.txt"), big);
  const edited = Buffer.concat([
    big.subarray(0, 60_000),
    Buffer.from("an edit\n"),
    big.subarray(60_000),
  ]);
  fs.writeFileSync(p("docs", "big-edited.txt"), edited);
  fs.writeFileSync(p("README.txt"), "a compatibility fixture of superchunk\n");
  fs.writeFileSync(p("empty"), "");
  fs.writeFileSync(p("docs", "deeper", "secret.bin"), prose(3000, 11));
  fs.chmodSync(p("docs", "deeper", "secret.bin"), 0o600);
  fs.writeFileSync(p("run.sh"), "#!/bin/sh\necho hello\n");
  fs.chmodSync(p("run.sh"), 0o755);
  fs.linkSync(p("README.txt"), p("docs", "hard-link-to-readme"));
  fs.symlinkSync("docs/copy-of-big.txt", p("link-to-copy"));
  fs.symlinkSync("../nowhere/at/all", p("docs", "dangling"));
  const all = listPaths(root).reverse(); // children before their directories
  for (const rel of [...all, "."]) fs.lutimesSync(p(rel), MTIME_S, MTIME_S);
}

/** Every path below `root` (not the root), sorted, '/'-separated. */
export function listPaths(root: string, rel = ""): string[] {
  const out: string[] = [];
  for (const name of fs.readdirSync(path.join(root, rel)).sort()) {
    const r = rel === "" ? name : `${rel}/${name}`;
    out.push(r);
    if (fs.lstatSync(path.join(root, r)).isDirectory()) out.push(...listPaths(root, r));
  }
  return out;
}

/** What expected.json records of the tree at `root`, keyed by path. */
export function describeTree(root: string): Record<string, ExpectedEntry> {
  const out: Record<string, ExpectedEntry> = {};
  const firstName = new Map<number, string>();
  for (const rel of listPaths(root)) {
    const full = path.join(root, rel);
    const st = fs.lstatSync(full);
    const mode = `0${(st.mode & 0o7777).toString(8)}`;
    const mtime = Math.floor(st.mtimeMs / 1000);
    if (st.isDirectory()) out[rel] = { kind: "dir", mode, mtime };
    else if (st.isSymbolicLink()) {
      out[rel] = { kind: "symlink", mode, mtime, target: fs.readlinkSync(full) };
    } else {
      const data = fs.readFileSync(full);
      const sha256 = createHash("sha256").update(data).digest("hex");
      const e: ExpectedEntry = { kind: "file", mode, mtime, size: data.length, sha256 };
      const first = firstName.get(st.ino);
      if (first !== undefined) e.hardLinkTo = first;
      else if (st.nlink > 1) firstName.set(st.ino, rel);
      out[rel] = e;
    }
  }
  return out;
}
