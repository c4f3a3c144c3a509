/**
 * What pack reads: its sources walked into one tree, less what is left out. One source
 * (a directory, or a zip staged by zip-source.ts) is the store's root; several sources
 * (directories or single entries, as borg takes them) each become a top-level entry named
 * by their base name, under a root with the first source's owner and times. Left out,
 * and counted: entries the exclude patterns match, and with `oneFileSystem` entries on
 * another file system than their source (mount points are not crossed). Left out always,
 * by device and inode whatever their names: the store being built and its destination,
 * so a store inside its own source never stores itself.
 */
import type { BigIntStats } from "node:fs";
import * as fs from "node:fs";
import * as path from "node:path";
import { type EngineWarning, UsageError, wrapFsError } from "../errors.js";
import { excludeMatcher } from "../glob/path-glob.js";
import { InodeKind } from "../types.js";
import type { PackOptions } from "./pack-options.js";
import { type EntryStat, entryStatOf, WalkTable } from "./walk-table.js";
import { type WalkFilter, walkTree } from "./walker.js";
import { looksLikeZip, stageZipSource } from "./zip-source.js";

/** The walked tree and how many entries were left out by the options. */
export interface WalkedSources {
  readonly entries: WalkTable;
  /** entries left out by `exclude` or `oneFileSystem` (their contents are not counted) */
  readonly excluded: number;
}

/** Where the pack writes: never stored, whatever its name. */
export interface OwnOutput {
  /** the directory the store is being built in */
  readonly buildDir: string;
  /** the destination the store is renamed to (it may be an empty directory already) */
  readonly dest: string;
}

/**
 * E_SOURCE_MISSING for a source that is not there; E_SOURCE_NOT_DIR for a single source
 * that is neither a directory nor a zip; E_USAGE for no source, or two with one base name.
 */
export function checkSources(sources: readonly string[]): void {
  if (sources.length === 0) throw new UsageError("E_USAGE", "pack needs a source");
  for (const s of sources) checkExists(s, sources.length === 1 ? fs.statSync : fs.lstatSync);
  const [only] = sources;
  if (sources.length === 1 && only !== undefined) {
    const st = fs.statSync(only);
    if (!st.isDirectory() && !(st.isFile() && looksLikeZip(only)))
      throw new UsageError("E_SOURCE_NOT_DIR", `${only}: source is not a directory`, {
        path: only,
      });
    return;
  }
  const seen = new Map<string, string>();
  for (const s of sources) {
    const name = path.basename(path.resolve(s));
    if (name === "") throw new UsageError("E_USAGE", `${s}: a source among several needs a name`);
    const other = seen.get(name);
    if (other !== undefined)
      throw new UsageError(
        "E_USAGE",
        `${other} and ${s}: two sources named "${name}" (each source is stored under its base name)`,
        { path: s },
      );
    seen.set(name, s);
  }
}

function checkExists(source: string, stat: (p: string) => fs.Stats): void {
  try {
    stat(source);
  } catch (err) {
    const e = wrapFsError(err, source, "stat source");
    throw new UsageError("E_SOURCE_MISSING", `${source}: source not found`, { path: source }, e);
  }
}

/** Walks `sources` (checked by checkSources) into one tree; a single zip is staged in the build dir. */
export async function walkSources(
  sources: readonly string[],
  own: OwnOutput,
  opts: Pick<PackOptions, "exclude" | "oneFileSystem" | "zipLimits">,
  onWarning: (w: EngineWarning) => void,
): Promise<WalkedSources> {
  const counter = { excluded: 0 };
  const ownIds = new Set([own.buildDir, own.dest].flatMap(idOf));
  const filterFor = (root: BigIntStats) =>
    walkFilter(opts.oneFileSystem ? root.dev : undefined, ownIds, opts.exclude, counter);
  const [only] = sources;
  if (sources.length === 1 && only !== undefined) {
    const entries = fs.statSync(only).isDirectory()
      ? walkTree(only, onWarning, filterFor(fs.statSync(only, { bigint: true })))
      : await stageZipSource(
          only,
          own.buildDir,
          opts.zipLimits,
          onWarning,
          walkFilter(undefined, new Set(), opts.exclude, counter),
        );
    return { entries, excluded: counter.excluded };
  }
  const named = sources
    .map((s) => ({ src: s, name: Buffer.from(path.basename(path.resolve(s))) }))
    .sort((a, b) => Buffer.compare(a.name, b.name));
  const first = fs.lstatSync(sources[0]!, { bigint: true });
  const out = new WalkTable();
  out.push(-1, Buffer.alloc(0), rootStat(first), { abs: Buffer.alloc(0), rel: Buffer.alloc(0) });
  for (const { src, name } of named) {
    const st = fs.lstatSync(src, { bigint: true });
    walkTree(src, onWarning, filterFor(st), { into: out, parent: 0, name });
  }
  return { entries: out, excluded: counter.excluded };
}

/**
 * The walk filter of one source: leaves out `ownIds`, entries `exclude` matches and, when
 * `rootDev` is given, entries on another device.
 */
function walkFilter(
  rootDev: bigint | undefined,
  ownIds: ReadonlySet<string>,
  exclude: readonly string[],
  counter: { excluded: number },
): WalkFilter {
  const match = excludeMatcher(exclude);
  return (e) => {
    if (ownIds.has(`${e.stat.dev}:${e.stat.ino}`)) return false;
    const out =
      (rootDev !== undefined && e.stat.dev !== rootDev) ||
      (match?.({ rel: e.rel.toString(), name: e.name.toString(), isDir: e.stat.isDirectory() }) ??
        false);
    if (out) counter.excluded++;
    return !out;
  };
}

/** "dev:ino" of `p`, or nothing when it is not there. */
function idOf(p: string): string[] {
  try {
    const st = fs.lstatSync(p, { bigint: true });
    return [`${st.dev}:${st.ino}`];
  } catch {
    return [];
  }
}

/** The stat of the root above several sources: a 0755 directory with `like`'s owner and times. */
function rootStat(like: BigIntStats): EntryStat {
  return {
    ...entryStatOf(like),
    kind: InodeKind.dir,
    mode: fs.constants.S_IFDIR | 0o755,
    nlink: 2,
    size: 0,
    rdev: 0,
  };
}
