/**
 * A zip file as the source of pack. The zip is validated whole first (ZipEntries:
 * names, duplicates, ratios, overlaps), then every entry is streamed into a private
 * staging directory, `.zip-source` inside the partial store pack is building, and
 * the staged tree is walked like any source. The walk's stats are then replaced by
 * the zip's own modes and times, so staged files stay private (0600/0700) whatever
 * the zip says. Temporary disk use: the zip's total uncompressed size, on the
 * destination's file system, removed before the store is installed (or with the
 * partial store on failure).
 *
 * Staging never follows a symlink: names are checked before anything is written,
 * no entry may lie below a symlink entry, files are created with O_EXCL|O_NOFOLLOW,
 * and symlinks are created last.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { pipeline } from "node:stream/promises";
import { ZipEntries, type ZipEntryInfo, type ZipLimits } from "../zip/zip-entries.js";

export { ZIP_LIMITS_DEFAULT, type ZipLimits } from "../zip/zip-entries.js";

import { type EngineWarning, wrapFsError } from "../errors.js";
import type { EntryStat, WalkTable } from "./walk-table.js";
import { type WalkFilter, walkTree } from "./walker.js";

/** Name of the staging directory inside the partial store. */
export const ZIP_STAGING_DIR = ".zip-source";
const ZIP_MAGIC = [Buffer.from("PK\x03\x04", "latin1"), Buffer.from("PK\x05\x06", "latin1")];
const DIR_MODE = 0o755;

/** True when `file` (a regular file) is to be read as a zip: a .zip name or zip magic. */
export function looksLikeZip(file: string): boolean {
  if (/\.zip$/i.test(file)) return true;
  const head = Buffer.alloc(4);
  let fd = -1;
  try {
    fd = fs.openSync(file, "r");
    const n = fs.readSync(fd, head, 0, 4, 0);
    return n === 4 && ZIP_MAGIC.some((m) => m.equals(head));
  } catch {
    return false;
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}

/**
 * Validates `zipPath`, stages its entries below `<buildDir>/.zip-source` and returns
 * the walk of the staged tree carrying the zip's modes and times (less what `keep` refuses).
 */
export async function stageZipSource(
  zipPath: string,
  buildDir: string,
  limits: Partial<ZipLimits>,
  onWarning: (w: EngineWarning) => void,
  keep?: WalkFilter,
): Promise<WalkTable> {
  const zip = await ZipEntries.open(zipPath, limits);
  const root = path.join(buildDir, ZIP_STAGING_DIR);
  try {
    fs.mkdirSync(root, { mode: 0o700 });
    await stageEntries(zip, Buffer.from(root));
  } catch (err) {
    throw wrapFsError(err, root, "stage zip entry");
  } finally {
    zip.close();
  }
  const byPath = new Map(zip.entries.map((e) => [e.path.toString("latin1"), e] as const));
  const rootTime = fs.statSync(zipPath).mtimeMs;
  return walkTree(root, onWarning, keep, {
    mapStat: (st, rel) => {
      const info = byPath.get(rel.toString("latin1"));
      return withAttrs(st, info?.mode ?? DIR_MODE, info?.mtimeMs ?? rootTime);
    },
  });
}

/** Removes the staging directory of `buildDir` (if any). */
export function removeZipStaging(buildDir: string): void {
  fs.rmSync(path.join(buildDir, ZIP_STAGING_DIR), { recursive: true, force: true });
}

async function stageEntries(zip: ZipEntries, root: Buffer): Promise<void> {
  const symlinks: ZipEntryInfo[] = [];
  for await (const { info, open } of zip) {
    if (info.path.length === 0) continue; // an explicit root entry ("./")
    const abs = Buffer.concat([root, Buffer.from("/"), info.path]);
    if (info.kind === "symlink") symlinks.push(info);
    else if (info.kind === "dir") fs.mkdirSync(abs, { recursive: true, mode: 0o700 });
    else {
      fs.mkdirSync(parentOf(abs), { recursive: true, mode: 0o700 });
      await writeEntry(abs, await open());
    }
  }
  for (const info of symlinks) {
    const abs = Buffer.concat([root, Buffer.from("/"), info.path]);
    fs.mkdirSync(parentOf(abs), { recursive: true, mode: 0o700 });
    const chunks: Buffer[] = [];
    for await (const c of await zip.openEntry(info)) chunks.push(c as Buffer);
    fs.symlinkSync(Buffer.concat(chunks), abs);
  }
}

function parentOf(abs: Buffer): Buffer {
  return abs.subarray(0, abs.lastIndexOf(0x2f));
}

async function writeEntry(abs: Buffer, data: NodeJS.ReadableStream): Promise<void> {
  const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
  const fd = fs.openSync(abs, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
  await pipeline(data, fs.createWriteStream("", { fd, autoClose: true }));
}

/**
 * `st` with the zip's permission bits and time (atime = ctime = mtime); the file type,
 * size and owner stay those of the staged file.
 */
function withAttrs(st: EntryStat, mode: number, mtimeMs: number): EntryStat {
  const ns = BigInt(Math.round(mtimeMs)) * 1_000_000n;
  return {
    ...st,
    mode: (st.mode & fs.constants.S_IFMT) | mode,
    atimeNs: ns,
    mtimeNs: ns,
    ctimeNs: ns,
  };
}
