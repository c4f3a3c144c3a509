/**
 * Walks a source tree depth-first, parents before children, names sorted by their
 * bytes, straight into a compact WalkTable (walk-table.ts). Paths are Buffers end to end
 * so names that are not valid UTF-8 survive. Unreadable directories are reported through
 * `onWarning` and skipped. An entry `keep` refuses is left out, and a directory left out
 * is not read. Only the directories on the current path are held open as lists of names.
 */

import type { BigIntStats } from "node:fs";
import * as fs from "node:fs";
import { type EngineWarning, wrapFsError } from "../errors.js";
import { type EntryStat, entryStatOf, WalkTable } from "./walk-table.js";

/** One entry as the walk filter sees it. */
export interface WalkEntry {
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
export type WalkFilter = (e: WalkEntry) => boolean;

/** Changes what is kept of an entry's stat (zip sources carry the zip's modes and times). */
export type StatMap = (st: EntryStat, rel: Buffer) => EntryStat;

/** A directory being walked: its children left to emit, lstat'ed and kept. */
interface Frame {
  readonly index: number;
  readonly abs: Buffer;
  readonly rel: Buffer;
  readonly children: { name: Buffer; stat: BigIntStats }[];
  next: number;
}

/**
 * All entries below `root` (including the root itself, first) that `keep` accepts, appended
 * to `into` (a new table by default) under `parent` (-1: `root` is the table's root).
 */
export function walkTree(
  root: string,
  onWarning: (w: EngineWarning) => void,
  keep: WalkFilter = () => true,
  opts: { into?: WalkTable; parent?: number; name?: Buffer; mapStat?: StatMap } = {},
): WalkTable {
  const table = opts.into ?? new WalkTable();
  const map = opts.mapStat ?? ((st: EntryStat) => st);
  const rootAbs = Buffer.from(root);
  const rootStat = lstat(rootAbs);
  const rootRel = opts.name ?? Buffer.alloc(0);
  const rootIndex = table.push(
    opts.parent ?? -1,
    opts.name ?? Buffer.alloc(0),
    map(entryStatOf(rootStat), Buffer.alloc(0)),
    {
      abs: rootAbs,
      rel: rootRel,
    },
  );
  if (rootStat.isFile() && rootStat.nlink > 1n)
    table.setInode(rootIndex, `${rootStat.dev}:${rootStat.ino}`);
  if (!rootStat.isDirectory()) return table;
  const stack: Frame[] = [open(rootIndex, rootAbs, Buffer.alloc(0), keep, onWarning)];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const child = top.children[top.next++];
    if (child === undefined) {
      stack.pop();
      continue;
    }
    const rel = top.rel.length === 0 ? child.name : Buffer.concat([top.rel, SLASH, child.name]);
    const i = table.push(top.index, child.name, map(entryStatOf(child.stat), rel));
    if (child.stat.isFile() && child.stat.nlink > 1n)
      table.setInode(i, `${child.stat.dev}:${child.stat.ino}`);
    if (child.stat.isDirectory()) {
      const abs = Buffer.concat([top.abs, SLASH, child.name]);
      stack.push(open(i, abs, rel, keep, onWarning));
    }
  }
  return table;
}

/** Reads directory `abs` and lstats its children, keeping those `keep` accepts. */
function open(
  index: number,
  abs: Buffer,
  rel: Buffer,
  keep: WalkFilter,
  onWarning: (w: EngineWarning) => void,
): Frame {
  const children: Frame["children"] = [];
  for (const name of readDirSorted(abs, onWarning)) {
    const childAbs = Buffer.concat([abs, SLASH, name]);
    let stat: BigIntStats;
    try {
      stat = lstat(childAbs);
    } catch (err) {
      const e = wrapFsError(err, childAbs.toString(), "lstat");
      onWarning({ path: childAbs.toString(), code: e.code, message: e.message });
      continue;
    }
    const childRel = rel.length === 0 ? name : Buffer.concat([rel, SLASH, name]);
    if (keep({ name, rel: childRel, abs: childAbs, stat })) children.push({ name, stat });
  }
  return { index, abs, rel, children, next: 0 };
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
