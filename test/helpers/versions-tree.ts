/**
 * A tree of similar versions, like releases of one project: `versions` folders with the
 * same `files` source-like text files, each version a few line edits away from the one
 * before. Deterministic (seeded). Written to disk, or listed as relative paths and bytes.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** Shape of the tree. */
export interface VersionsTreeOptions {
  versions: number;
  files: number;
  /** approximate bytes of each file */
  fileBytes: number;
  /** lines changed per file from one version to the next */
  editsPerVersion?: number;
  seed?: number;
}

const WORDS = (
  "const let function return if else for while import export from class extends new this " +
  "await async interface type string number boolean undefined null true false readonly " +
  "private public static value index buffer length offset store chunk reader writer meta " +
  "error code path file node data result options count bytes check throw catch finally"
).split(" ");

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

function line(r: () => number): string {
  const n = 3 + Math.floor(r() * 9);
  const indent = "  ".repeat(Math.floor(r() * 4));
  const words: string[] = [];
  for (let i = 0; i < n; i++) words.push(WORDS[Math.floor(r() * WORDS.length)]!);
  if (r() < 0.3) words.push(`v${Math.floor(r() * 100000)}`);
  return `${indent}${words.join(" ")};`;
}

/** Every file of the tree: relative path → bytes. */
export function versionsTree(o: VersionsTreeOptions): Map<string, Buffer> {
  const r = rng(o.seed ?? 7);
  const edits = o.editsPerVersion ?? 3;
  let files: string[][] = [];
  for (let f = 0; f < o.files; f++) {
    const lines: string[] = [];
    let bytes = 0;
    while (bytes < o.fileBytes) {
      const l = line(r);
      lines.push(l);
      bytes += l.length + 1;
    }
    files.push(lines);
  }
  const out = new Map<string, Buffer>();
  for (let v = 0; v < o.versions; v++) {
    if (v > 0) {
      files = files.map((lines) => {
        const next = [...lines];
        for (let e = 0; e < edits; e++) {
          const at = Math.floor(r() * next.length);
          if (r() < 0.5) next[at] = line(r);
          else next.splice(at, 0, line(r));
        }
        return next;
      });
    }
    files.forEach((lines, f) => {
      out.set(`v${v}/src/d${f % 7}/file${f}.ts`, Buffer.from(`${lines.join("\n")}\n`));
    });
  }
  return out;
}

/** Writes `tree` under `root`. */
export function writeTree(root: string, tree: Map<string, Buffer>): void {
  for (const [rel, data] of tree) {
    const p = join(root, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, data);
  }
}
