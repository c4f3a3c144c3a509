/**
 * Walks a source tree depth-first, parents before children, names sorted by their
 * bytes. Paths are Buffers end to end so names that are not valid UTF-8 survive.
 * Unreadable directories are reported through `onWarning` and skipped. An entry `keep`
 * refuses is left out, and a directory left out is not read.
 */

import type { BigIntStats } from "node:fs";
import * as fs from "node:fs";
import { type EngineWarning, wrapFsError } from "../errors.js";

export interface WalkEntry {
  /** index of the parent entry in walk order; -1 for the root */
  readonly parent: number;
  /** name within the parent (empty for the root) */
  readonly name: Buffer;
  /** path relative to the source root, '/'-separated (empty for the root) */
  readonly rel: Buffer;
  /** absolute path on disk */
  readonly abs: Buffer;
  readonly stat: BigIntStats;
}

const SLASH = Buffer.from("/");

/** Decides whether an entry below the root is walked (and, for a directory, read). */
export type WalkFilter = (e: Omit<WalkEntry, "parent">) => boolean;

/** All entries below `root` (including the root itself, first) that `keep` accepts. */
export function walkTree(
  root: string,
  onWarning: (w: EngineWarning) => void,
  keep: WalkFilter = () => true,
): WalkEntry[] {
  const rootAbs = Buffer.from(root);
  const out: WalkEntry[] = [
    { parent: -1, name: Buffer.alloc(0), rel: Buffer.alloc(0), abs: rootAbs, stat: lstat(rootAbs) },
  ];
  const stack: number[] = [0];
  while (stack.length > 0) {
    const dirIndex = stack.pop()!;
    const dir = out[dirIndex]!;
    const children = readDirSorted(dir.abs, onWarning);
    const firstChild = out.length;
    for (const name of children) {
      const abs = Buffer.concat([dir.abs, SLASH, name]);
      let stat: BigIntStats;
      try {
        stat = lstat(abs);
      } catch (err) {
        const e = wrapFsError(err, abs.toString(), "lstat");
        onWarning({ path: abs.toString(), code: e.code, message: e.message });
        continue;
      }
      const rel = dir.rel.length === 0 ? name : Buffer.concat([dir.rel, SLASH, name]);
      if (keep({ name, rel, abs, stat })) out.push({ parent: dirIndex, name, rel, abs, stat });
    }
    // push directories in reverse so they are visited in name order
    for (let i = out.length - 1; i >= firstChild; i--)
      if (out[i]!.stat.isDirectory()) stack.push(i);
  }
  return reorderDepthFirst(out);
}

function lstat(p: Buffer): BigIntStats {
  return fs.lstatSync(p, { bigint: true });
}

function readDirSorted(dir: Buffer, onWarning: (w: EngineWarning) => void): Buffer[] {
  try {
    const names = fs.readdirSync(dir, { encoding: "buffer" });
    return names.sort(Buffer.compare);
  } catch (err) {
    const e = wrapFsError(err, dir.toString(), "read directory");
    onWarning({ path: dir.toString(), code: e.code, message: e.message });
    return [];
  }
}

/**
 * The loop above appends children breadth-wise per directory; renumber so the
 * result is a true depth-first pre-order (a file's sub-blocks then follow the order
 * a person reads the tree in, which path-order packing relies on).
 */
function reorderDepthFirst(entries: WalkEntry[]): WalkEntry[] {
  const children: number[][] = entries.map(() => []);
  for (let i = 1; i < entries.length; i++) children[entries[i]!.parent]!.push(i);
  const order: number[] = [];
  const stack = [0];
  while (stack.length > 0) {
    const i = stack.pop()!;
    order.push(i);
    const c = children[i]!;
    for (let k = c.length - 1; k >= 0; k--) stack.push(c[k]!);
  }
  const newIndex = new Int32Array(entries.length);
  order.forEach((old, idx) => {
    newIndex[old] = idx;
  });
  return order.map((old) => {
    const e = entries[old]!;
    return { ...e, parent: e.parent < 0 ? -1 : newIndex[e.parent]! };
  });
}
