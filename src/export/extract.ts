/**
 * extract: restores a store's tree (or some paths of it) into a directory, with
 * contents, modes, ownership (when run as root), times, symlinks, hard links,
 * FIFOs and device nodes. It never writes outside the destination, whatever the
 * store holds: the tree is checked as it is walked (names, missing inodes, cycles:
 * E_CORRUPT), every path is made only inside a directory this extract made itself
 * (checked with lstat, never followed: E_PATH_ESCAPE otherwise), existing symlinks in
 * the way are replaced rather than followed, files are created with
 * O_EXCL|O_NOFOLLOW, and a file is written only as far as its content reaches.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { CorruptError, cleanupAfter, type EngineWarning, wrapFsError } from "../errors.js";
import { openStoreReaderAt } from "../location/store-view.js";
import { contentKeyMatches } from "../meta/extent-digest.js";
import type { InodeAttr } from "../reader/fs-view.js";
import type { StoreReader } from "../reader/store-reader.js";
import { type Item, selectItems } from "./select-items.js";

export type { Item } from "./select-items.js";

import { storeIdOf } from "../store/store-id.js";
import { type Extent, type InodeId, InodeKind } from "../types.js";
import { ensureDir, MadeDirs, replaceWith } from "./dest-paths.js";

export interface ExtractHooks {
  onProgress?: (p: {
    filesDone: number;
    filesTotal: number;
    bytesDone: number;
    bytesTotal: number;
  }) => void;
  onWarning?: (w: EngineWarning) => void;
}

export interface ExtractSummary {
  /** the store's id (store/store-id.ts) */
  storeId: string | null;
  files: number;
  dirs: number;
  symlinks: number;
  other: number;
  bytes: number;
  seconds: number;
}

const READ_BYTES = 4 * 1024 * 1024;
const SLASH = Buffer.from("/");

/** Extracts `paths` (all when empty) of the store at `storeDir` below `dest`. */
export async function extractTree(
  storeDir: string,
  dest: string,
  paths: readonly string[] = [],
  hooks: ExtractHooks = {},
): Promise<ExtractSummary> {
  const started = process.hrtime.bigint();
  const reader = await openStoreReaderAt(storeDir);
  const work = async () => {
    const items = selectItems(reader, paths);
    fs.mkdirSync(dest, { recursive: true });
    const summary = await restore(reader, items, Buffer.from(path.resolve(dest)), hooks);
    summary.seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return summary;
  };
  return cleanupAfter(work, () => reader.close());
}

async function restore(
  reader: StoreReader,
  items: Item[],
  dest: Buffer,
  hooks: ExtractHooks,
): Promise<ExtractSummary> {
  const s: ExtractSummary = {
    storeId: storeIdOf(reader.meta),
    // the root, <dest> itself, counts as pack and stats count it
    ...{ files: 0, dirs: 1, symlinks: 0, other: 0, bytes: 0, seconds: 0 },
  };
  const firstPath = new Map<number, Buffer>();
  const attrs: { abs: Buffer; a: InodeAttr }[] = [];
  // every inode is read (and checked) before anything is written
  const bytesTotal = items.reduce((n, it) => n + fileSize(reader, it.ino), 0);
  const dirs = new MadeDirs(dest);
  let done = 0;
  for (const it of items) {
    const abs = it.rel.length === 0 ? dest : Buffer.concat([dest, SLASH, it.rel]);
    dirs.checkParent(it.rel);
    const a = reader.getattr(it.ino)!;
    if (a.kind === InodeKind.dir) dirs.made(it.rel);
    const linked = firstPath.get(it.ino);
    if (linked && a.kind !== InodeKind.dir) {
      replaceWith(abs, () => fs.linkSync(linked, abs));
    } else {
      await create(reader, abs, a, s, hooks);
      firstPath.set(it.ino, abs);
      attrs.push({ abs, a });
    }
    hooks.onProgress?.({
      filesDone: ++done,
      filesTotal: items.length,
      bytesDone: s.bytes,
      bytesTotal,
    });
  }
  for (let i = attrs.length - 1; i >= 0; i--) applyAttrs(attrs[i]!.abs, attrs[i]!.a, hooks);
  return s;
}

function fileSize(reader: StoreReader, ino: InodeId): number {
  const a = reader.getattr(ino);
  if (a === undefined) {
    const where = reader.meta.path;
    throw new CorruptError("E_CORRUPT", `${where}: inode ${ino}: missing`, { path: where, ino });
  }
  return a.kind === InodeKind.file ? a.size : 0;
}

async function create(
  reader: StoreReader,
  abs: Buffer,
  a: InodeAttr,
  s: ExtractSummary,
  hooks: ExtractHooks,
) {
  const where = abs.toString();
  try {
    switch (a.kind) {
      case InodeKind.dir:
        ensureDir(abs);
        s.dirs++;
        return;
      case InodeKind.file:
        s.bytes += await writeFile(reader, abs, a);
        s.files++;
        return;
      case InodeKind.symlink:
        replaceWith(abs, () => fs.symlinkSync(reader.readlink(a.ino), abs));
        s.symlinks++;
        return;
      default:
        if (makeSpecial(abs, a, hooks)) s.other++;
    }
  } catch (err) {
    throw wrapFsError(err, where, "extract");
  }
}

async function writeFile(reader: StoreReader, abs: Buffer, a: InodeAttr): Promise<number> {
  let fd = -1;
  replaceWith(abs, () => {
    fd = fs.openSync(
      abs,
      fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW,
      0o600,
    );
  });
  // the whole file's bytes must hash to its content's key: extents in the wrong order, or
  // any other edit that passes each sub-block's own check, end in E_CORRUPT
  const want = contentKeyOf(reader, a);
  const sha = want === undefined ? undefined : createHash("sha256");
  try {
    // each step writes bytes the content holds: a size the content does not back ends it
    for (let off = 0; off < a.size; ) {
      const buf = await reader.read(a.ino, off, Math.min(READ_BYTES, a.size - off));
      if (buf.length === 0) {
        throw new CorruptError("E_CORRUPT", `inode ${a.ino}: content ends at ${off} of ${a.size}`, {
          ino: a.ino,
          size: a.size,
          offset: off,
        });
      }
      fs.writeSync(fd, buf, 0, buf.length, off);
      sha?.update(buf);
      off += buf.length;
    }
    if (
      sha !== undefined &&
      want !== undefined &&
      !contentKeyMatches(want.key, sha.digest(), want.extents)
    ) {
      throw new CorruptError(
        "E_CORRUPT",
        `inode ${a.ino}: bytes do not hash to their content's key`,
        {
          ino: a.ino,
        },
      );
    }
    return a.size;
  } finally {
    fs.closeSync(fd);
  }
}

function makeSpecial(abs: Buffer, a: InodeAttr, hooks: ExtractHooks): boolean {
  const p = abs.toString();
  let args: string[];
  if (a.kind === InodeKind.fifo) args = [p, "p"];
  else if (a.kind === InodeKind.chardev || a.kind === InodeKind.blockdev) {
    if (process.getuid?.() !== 0) {
      hooks.onWarning?.({
        path: p,
        code: "E_UNSUPPORTED",
        message: `${p}: device node needs root, skipped`,
      });
      return false;
    }
    args = [
      p,
      a.kind === InodeKind.chardev ? "c" : "b",
      String(major(a.rdev)),
      String(minor(a.rdev)),
    ];
  } else {
    hooks.onWarning?.({ path: p, code: "E_UNSUPPORTED", message: `${p}: socket not restored` });
    return false;
  }
  replaceWith(abs, () => {
    const r = spawnSync("mknod", args, { stdio: ["ignore", "ignore", "pipe"] });
    if (r.status !== 0) throw new Error(`mknod failed: ${r.stderr?.toString().trim()}`);
  });
  return true;
}

/** Linux dev_t encoding (glibc gnu_dev_major/minor). */
function major(dev: number): number {
  const d = BigInt(dev);
  return Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn));
}
function minor(dev: number): number {
  const d = BigInt(dev);
  return Number((d & 0xffn) | ((d >> 12n) & ~0xffn));
}

function applyAttrs(abs: Buffer, a: InodeAttr, hooks: ExtractHooks): void {
  try {
    if (process.getuid?.() === 0) fs.lchownSync(abs, a.uid, a.gid);
    if (a.kind !== InodeKind.symlink) fs.chmodSync(abs, a.mode);
    fs.lutimesSync(abs, nsToSeconds(a.atimeNs), nsToSeconds(a.mtimeNs));
  } catch (err) {
    const e = wrapFsError(err, abs.toString(), "set attributes");
    hooks.onWarning?.({ path: abs.toString(), code: e.code, message: e.message });
  }
}

/**
 * Seconds as a double for utimes. A double near 2e9 s resolves about 240 ns and
 * libuv truncates to whole nanoseconds, so aim at the middle of the microsecond:
 * the restored time is then exact to the microsecond.
 */
function nsToSeconds(ns: bigint): number {
  return (Number(ns / 1000n) + 0.5) / 1e6;
}

/** The key of the content file `a` holds and its extents, or undefined for an empty file. */
function contentKeyOf(
  reader: StoreReader,
  a: InodeAttr,
): { key: bigint; extents: () => Extent[] } | undefined {
  const content = reader.meta.getInode(a.ino)?.content;
  if (content === null || content === undefined) return undefined;
  const key = reader.meta.getContent(content)?.hkey;
  return key === undefined ? undefined : { key, extents: () => reader.meta.getExtents(content) };
}
