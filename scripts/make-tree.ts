/**
 * `npm run make-tree -- DIR [--files N] [--dirs D] [--seed S]`: writes a deterministic
 * synthetic source tree of many small files, for measuring what pack holds per file and per
 * unique sub-block (spec/MEMORY.md). Defaults: 1,000,000 files in 10,000 directories (two
 * levels), sizes 0–16 KiB skewed towards small (mean about 3 KiB), text that compresses like
 * source code; about 10% of the files are exact copies of an earlier one and 10% near copies
 * (an earlier file with a line changed). File i's content depends only on the seed and i, so
 * the same arguments always write the same bytes. DIR must not exist or be empty.
 */

import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createPrng, randomBelow } from "./bench/prng.js";

/** Options of {@link makeTree}; every field has a default. */
export interface MakeTreeOptions {
  /** regular files to write; default 1,000,000 */
  readonly files?: number;
  /** leaf directories the files are spread over; default 10,000 */
  readonly dirs?: number;
  /** seed of the generator; default 1 */
  readonly seed?: number;
  /** share of files that are exact copies of an earlier file; default 0.1 */
  readonly duplicateShare?: number;
  /** share of files that are an earlier file with one line changed; default 0.1 */
  readonly nearShare?: number;
}

/** What {@link makeTree} wrote. */
export interface MakeTreeSummary {
  readonly files: number;
  readonly dirs: number;
  readonly bytes: number;
  readonly duplicates: number;
  readonly nearDuplicates: number;
}

/** Largest file written, bytes. */
export const MAKE_TREE_MAX_FILE_BYTES = 16 * 1024;

const WORDS = (
  "if else for while return const let var function class import export from new this " +
  "null undefined true false int char void static struct unsigned long size_t uint32_t " +
  "buffer length offset index count value result error status flags mode path name node " +
  "list next prev head tail data info state ctx dev inode page block chunk read write " +
  "open close lock unlock alloc free init exit start stop get set put add remove find " +
  "update check parse format print debug warn assert ret err tmp len ptr src dst key map"
).split(" ");
const PUNCT = ["(", ")", ";", ",", " = ", " == ", " + ", "->", ".", "{", "}", "[", "]", " && "];

/** Token bytes, picked with a skew so that some words are far more common than others. */
const TOKENS: Buffer[] = [...WORDS, ...PUNCT].map((t) => Buffer.from(t));

/** A mix of the seed and an index into a 32-bit generator seed. */
function seedOf(seed: number, i: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(i + 1, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x27d4eb2f);
  return (h ^ (h >>> 15)) >>> 0;
}

/** Size of file i: 1% empty, the rest u^3 × 16 KiB (many small, a few near the maximum). */
function sizeOf(next: () => number): number {
  if (next() < 0.01) return 0;
  const u = next();
  return Math.max(1, Math.floor(u * u * u * MAKE_TREE_MAX_FILE_BYTES));
}

/** Source-like text of `size` bytes into `out` (at least `size` long), from `next`. */
function fillText(out: Buffer, size: number, next: () => number): void {
  let pos = 0;
  let indent = 0;
  while (pos < size) {
    for (let k = 0; k < indent && pos < size; k++) out[pos++] = 0x20;
    const tokens = 3 + randomBelow(next, 10);
    for (let t = 0; t < tokens && pos < size; t++) {
      const u = next();
      const tok = TOKENS[Math.floor(u * u * TOKENS.length)]!;
      pos += tok.copy(out, pos, 0, Math.min(tok.length, size - pos));
      if (pos < size && next() < 0.6) out[pos++] = 0x20;
      if (pos < size && next() < 0.05) {
        // a number, as code and data have them
        const digits = String(randomBelow(next, 100000));
        pos += out.write(digits, pos, Math.min(digits.length, size - pos), "latin1");
      }
    }
    if (pos < size) out[pos++] = 0x0a;
    indent = Math.max(0, Math.min(16, indent + 2 * (randomBelow(next, 3) - 1)));
  }
}

/** The content of original file i (not a copy): determined by `seed` and i alone. */
function originalContent(seed: number, i: number, scratch: Buffer): Buffer {
  const next = createPrng(seedOf(seed, i));
  const size = sizeOf(next);
  fillText(scratch, size, next);
  return scratch.subarray(0, size);
}

/** Which earlier file file i copies, and how: none, exact or near. */
function kindOf(
  seed: number,
  i: number,
  dup: number,
  near: number,
): { kind: "own" | "exact" | "near"; of: number } {
  if (i === 0) return { kind: "own", of: 0 };
  const next = createPrng(seedOf(seed ^ 0x5bd1e995, i));
  const u = next();
  const of = randomBelow(next, i);
  if (u < dup) return { kind: "exact", of };
  if (u < dup + near) return { kind: "near", of };
  return { kind: "own", of: 0 };
}

/** The original file behind file i (following copies of copies back to an original). */
function originOf(seed: number, i: number, dup: number, near: number): number {
  let k = i;
  for (let c = kindOf(seed, k, dup, near); c.kind !== "own"; c = kindOf(seed, k, dup, near))
    k = c.of;
  return k;
}

/** An earlier file's content with one line in the middle replaced by fresh text. */
function nearCopy(base: Buffer, seed: number, i: number, scratch: Buffer): Buffer {
  const next = createPrng(seedOf(seed ^ 0x27d4eb2f, i));
  const at = base.length === 0 ? 0 : randomBelow(next, base.length);
  const lineEnd = base.indexOf(0x0a, at);
  const cut = lineEnd < 0 ? base.length : lineEnd;
  const fresh = 16 + randomBelow(next, 48);
  const room = Math.min(fresh, MAKE_TREE_MAX_FILE_BYTES - base.length + (cut - at));
  base.copy(scratch, 0, 0, at);
  fillText(scratch.subarray(at), Math.max(0, room), next);
  const tail = base.subarray(cut);
  tail.copy(scratch, at + Math.max(0, room));
  return scratch.subarray(0, at + Math.max(0, room) + tail.length);
}

/** The content of file i of a tree. */
export function fileContent(seed: number, i: number, dup = 0.1, near = 0.1): Buffer {
  const scratch = Buffer.allocUnsafe(2 * MAKE_TREE_MAX_FILE_BYTES);
  const c = kindOf(seed, i, dup, near);
  if (c.kind === "own") return Buffer.from(originalContent(seed, i, scratch));
  const base = Buffer.from(originalContent(seed, originOf(seed, c.of, dup, near), scratch));
  return c.kind === "exact" ? base : Buffer.from(nearCopy(base, seed, i, scratch));
}

/** Relative path of file i of a tree of `files` files over `dirs` leaf directories. */
export function filePath(i: number, files: number, dirs: number): string {
  const d = Math.min(dirs - 1, Math.floor((i * dirs) / files));
  const top = Math.ceil(Math.sqrt(dirs));
  const ext = [".c", ".h", ".ts", ".txt"][i % 4]!;
  return `d${Math.floor(d / top)}/s${d % top}/f${i}${ext}`;
}

/** Writes the tree under `root` (created; must be empty if it exists). */
export function makeTree(root: string, opts: MakeTreeOptions = {}): MakeTreeSummary {
  const files = opts.files ?? 1_000_000;
  const dirs = Math.max(1, Math.min(opts.dirs ?? 10_000, Math.max(1, files)));
  const seed = opts.seed ?? 1;
  const dup = opts.duplicateShare ?? 0.1;
  const near = opts.nearShare ?? 0.1;
  mkdirSync(root, { recursive: true });
  if (readdirSync(root).length > 0) throw new Error(`${root}: not empty`);
  let bytes = 0;
  let duplicates = 0;
  let nearDuplicates = 0;
  let lastDir = "";
  for (let i = 0; i < files; i++) {
    const rel = filePath(i, files, dirs);
    const dir = rel.slice(0, rel.lastIndexOf("/"));
    if (dir !== lastDir) mkdirSync(join(root, dir), { recursive: true });
    lastDir = dir;
    const kind = kindOf(seed, i, dup, near).kind;
    if (kind === "exact") duplicates++;
    if (kind === "near") nearDuplicates++;
    const content = fileContent(seed, i, dup, near);
    writeFileSync(join(root, rel), content);
    bytes += content.length;
  }
  return { files, dirs, bytes, duplicates, nearDuplicates };
}

function parseArgs(argv: string[]): { root: string; opts: MakeTreeOptions } {
  const opts: Record<string, number> = {};
  let root: string | undefined;
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k]!;
    const m = /^--(files|dirs|seed)$/.exec(a);
    if (m) {
      const v = Number(argv[++k]);
      if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${a} needs a whole number`);
      opts[m[1]!] = v;
    } else if (root === undefined && !a.startsWith("-")) root = a;
    else throw new Error(`unexpected argument ${a}`);
  }
  if (root === undefined) throw new Error("usage: make-tree DIR [--files N] [--dirs D] [--seed S]");
  return { root, opts };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const { root, opts } = parseArgs(process.argv.slice(2));
    const s = makeTree(root, opts);
    console.log(
      `${root}: ${s.files} files in ${s.dirs} directories, ${s.bytes} bytes ` +
        `(${s.duplicates} exact copies, ${s.nearDuplicates} near copies)`,
    );
  } catch (err) {
    console.error(`make-tree: ${(err as Error).message}`);
    process.exit(1);
  }
}
