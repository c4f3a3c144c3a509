/**
 * The layout rules of ARCHITECTURE.md, checked on the sources: imports between folders
 * run one way (down the rank list below), no file imports itself back through a cycle
 * (type-only and dynamic imports included), each third-party package is imported by
 * exactly one folder, and no source file grows past 300 lines.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";

/**
 * Folders of src/, highest first: a folder may import only folders after it. `index.ts`, the
 * package's entry (re-exports of api/, errors.ts, types.ts), ranks above them all.
 */
const RANK = [
  "index.ts",
  "cli",
  "api",
  "fuse",
  "maintain",
  "stats",
  "pack",
  "export",
  "location",
  "s3store",
  "writer",
  "reader",
  "store",
  "workingset",
  "meta",
  "blobstore",
  "zip",
  "superchunk",
  "similarity",
  "codec",
  "chunker",
  "glob",
  "hash",
  "workers",
  ".",
];

/** The one folder allowed to import each third-party package. */
const OWNER: Record<string, string> = {
  "better-sqlite3": "meta",
  "zstd-napi": "codec",
  "lzma-native": "codec",
  "lz4-napi": "codec",
  yauzl: "zip",
  yazl: "zip",
  "@aws-sdk/client-s3": "blobstore",
  picomatch: "glob",
  "node-gyp-build": "fuse",
};

const MAX_LINES = 300;
const SRC = path.resolve("src");

function sources(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) sources(p, out);
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

const SPEC =
  /(?:^|[\s;])(?:import|export)\s[^"';]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|new URL\(\s*["'](\.[^"']+)["']/g;

function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(SPEC)) out.push((m[1] ?? m[2] ?? m[3]) as string);
  return out;
}

function folderOf(file: string): string {
  const rel = path.relative(SRC, file);
  if (rel === "index.ts") return rel;
  return rel.includes(path.sep) ? (rel.split(path.sep)[0] as string) : ".";
}

function resolveLocal(from: string, spec: string): string {
  return path.resolve(path.dirname(from), spec).replace(/\.js$/, ".ts");
}

const files = sources(SRC);
const graph = new Map<string, string[]>();
for (const f of files) {
  const deps = importsOf(f)
    .filter((s) => s.startsWith("."))
    .map((s) => resolveLocal(f, s))
    .filter((t) => fs.existsSync(t));
  graph.set(f, deps);
}

test("layout - every src folder has a rank", () => {
  const folders = new Set(files.map(folderOf));
  const missing = [...folders].filter((f) => !RANK.includes(f));
  assert.equal(missing, [], `folders without a rank: ${missing.join(", ")}`);
});

test("layout - imports between folders run downward only", () => {
  const bad: string[] = [];
  for (const [f, deps] of graph) {
    const from = RANK.indexOf(folderOf(f));
    for (const d of deps) {
      const to = RANK.indexOf(folderOf(d));
      if (to < from) bad.push(`${path.relative(SRC, f)} -> ${path.relative(SRC, d)}`);
      else if (to === from && folderOf(f) !== folderOf(d))
        bad.push(`${path.relative(SRC, f)} -> ${path.relative(SRC, d)}`);
    }
  }
  assert.equal(bad, [], `upward imports:\n${bad.join("\n")}`);
});

test("layout - no import cycles between files", () => {
  const state = new Map<string, 1 | 2>();
  const cycles: string[] = [];
  const stack: string[] = [];
  const visit = (f: string): void => {
    state.set(f, 1);
    stack.push(f);
    for (const d of graph.get(f) ?? []) {
      const s = state.get(d);
      if (s === 1) {
        const loop = stack.slice(stack.indexOf(d)).concat(d);
        cycles.push(loop.map((x) => path.relative(SRC, x)).join(" -> "));
      } else if (s === undefined) visit(d);
    }
    stack.pop();
    state.set(f, 2);
  };
  for (const f of graph.keys()) if (!state.has(f)) visit(f);
  assert.equal(cycles, [], `cycles:\n${cycles.join("\n")}`);
});

test("layout - each third-party package is imported by one folder", () => {
  const bad: string[] = [];
  for (const f of files) {
    for (const s of importsOf(f)) {
      const pkg = Object.keys(OWNER).find((p) => s === p || s.startsWith(`${p}/`));
      if (pkg !== undefined && OWNER[pkg] !== folderOf(f))
        bad.push(`${path.relative(SRC, f)} imports ${pkg}`);
    }
  }
  assert.equal(bad, [], bad.join("\n"));
});

test(`layout - no source file over ${MAX_LINES} lines`, () => {
  const big = files
    .map((f) => [path.relative(SRC, f), fs.readFileSync(f, "utf8").split("\n").length - 1] as const)
    .filter(([, n]) => n > MAX_LINES)
    .map(([f, n]) => `${f}: ${n}`);
  assert.equal(big, [], `files over ${MAX_LINES} lines:\n${big.join("\n")}`);
});

test("layout - every folder says what it is, every file opens with its contract", () => {
  const bad: string[] = [];
  for (const folder of new Set(files.map(folderOf))) {
    if (folder === "." || folder === "index.ts") continue;
    const dir = path.join(SRC, folder);
    const index = path.join(dir, "index.ts");
    const hasIndexHeader = fs.existsSync(index) && fs.readFileSync(index, "utf8").startsWith("/**");
    if (!fs.existsSync(path.join(dir, "README.md")) && !hasIndexHeader)
      bad.push(`${folder}/: no README.md`);
  }
  for (const f of files) {
    const head = fs
      .readFileSync(f, "utf8")
      .replace(/^#!.*\n/, "")
      .trimStart();
    if (!head.startsWith("/**") && !head.startsWith("//"))
      bad.push(`${path.relative(SRC, f)}: no opening comment`);
  }
  assert.equal(bad, [], bad.join("\n"));
});

test.run();
