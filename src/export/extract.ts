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
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  CorruptError,
  cleanupAfter,
  type EngineWarning,
  throwIfAborted,
  wrapFsError,
} from "../errors.js";
import { openStoreReaderAt } from "../location/store-view.js";
import { contentKeyMatches } from "../meta/extent-digest.js";
import type { InodeAttr } from "../reader/fs-view.js";
import type { StoreReader } from "../reader/store-reader.js";
import { type Item, selectItems } from "./select-items.js";
import { type UnreadableFile, unreadableFile } from "./unreadable.js";

export type { Item } from "./select-items.js";
export type { UnreadableFile } from "./unreadable.js";

import { storeIdOf } from "../store/store-id.js";
import { type Extent, type InodeId, InodeKind } from "../types.js";
import { ensureDir, MadeDirs, replaceWith } from "./dest-paths.js";
import { ExtractUndo } from "./extract-undo.js";
import { applyAttrs, makeSpecial } from "./node-attrs.js";

export interface ExtractHooks {
  onProgress?: (p: {
    filesDone: number;
    filesTotal: number;
    bytesDone: number;
    bytesTotal: number;
  }) => void;
  onWarning?: (w: EngineWarning) => void;
  /** the path of a regular file about to be written, then undefined once it is done */
  onWriting?: (path: string | undefined) => void;
  /**
   * --continue-on-error: when given, a file whose content cannot be read from the store is
   * removed and reported here, and the extract goes on (unreadable.ts); else it ends it
   */
  onUnreadable?: (f: UnreadableFile) => void;
  /**
   * Stops the extract between files and between 4 MiB reads: it rejects with AbortError
   * E_ABORTED after removing everything it had made (extract-undo.ts).
   */
  signal?: AbortSignal | undefined;
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
  throwIfAborted(hooks.signal, "extract");
  const reader = await openStoreReaderAt(storeDir);
  const work = async () => {
    const items = selectItems(reader, paths);
    const undo = new ExtractUndo(dest, !fs.existsSync(dest));
    fs.mkdirSync(dest, { recursive: true });
    const abs = Buffer.from(path.resolve(dest));
    const summary = await ExtractUndo.guard(undo, () => restore(reader, items, abs, hooks, undo));
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
  undo: ExtractUndo,
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
    if (it.rel.length > 0 && (a.kind !== InodeKind.dir || ExtractUndo.missing(abs))) {
      undo.made(abs, a.kind === InodeKind.dir);
    }
    const linked = firstPath.get(it.ino);
    if (linked && a.kind !== InodeKind.dir) {
      replaceWith(abs, () => fs.linkSync(linked, abs));
    } else if (await create(reader, abs, a, s, hooks)) {
      firstPath.set(it.ino, abs);
      attrs.push({ abs, a });
    }
    hooks.onProgress?.({
      filesDone: ++done,
      filesTotal: items.length,
      bytesDone: s.bytes,
      bytesTotal,
    });
    throwIfAborted(hooks.signal, "extract");
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
): Promise<boolean> {
  const where = abs.toString();
  try {
    switch (a.kind) {
      case InodeKind.dir:
        ensureDir(abs);
        s.dirs++;
        return true;
      case InodeKind.file: {
        const written = await writeFile(reader, abs, a, hooks);
        if (written === undefined) return false; // unreadable, reported
        s.bytes += written;
        s.files++;
        return true;
      }
      case InodeKind.symlink:
        replaceWith(abs, () => fs.symlinkSync(reader.readlink(a.ino), abs));
        s.symlinks++;
        return true;
      default:
        if (makeSpecial(abs, a, hooks)) s.other++;
        return true;
    }
  } catch (err) {
    throw wrapFsError(err, where, "extract");
  }
}

/** Writes a regular file; undefined when its content was unreadable and onUnreadable took it. */
async function writeFile(
  reader: StoreReader,
  abs: Buffer,
  a: InodeAttr,
  hooks: ExtractHooks,
): Promise<number | undefined> {
  let fd = -1;
  replaceWith(abs, () => {
    fd = fs.openSync(
      abs,
      fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW,
      0o600,
    );
  });
  hooks.onWriting?.(abs.toString());
  // the whole file's bytes must hash to its content's key: extents in the wrong order, or
  // any other edit that passes each sub-block's own check, end in E_CORRUPT
  const want = contentKeyOf(reader, a);
  const sha = want === undefined ? undefined : createHash("sha256");
  try {
    // each step writes bytes the content holds: a size the content does not back ends it
    for (let off = 0; off < a.size; ) {
      throwIfAborted(hooks.signal, "extract");
      const buf = await reader.read(a.ino, off, Math.min(READ_BYTES, a.size - off));
      if (buf.length === 0) {
        const msg = `${reader.meta.path}: inode ${a.ino} (${abs}): content ends at ${off} of ${a.size}`;
        throw new CorruptError("E_CORRUPT", msg, { ino: a.ino, size: a.size, offset: off });
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
      const msg = `${reader.meta.path}: inode ${a.ino} (${abs}): bytes do not hash to their content's key`;
      throw new CorruptError("E_CORRUPT", msg, { ino: a.ino });
    }
    return a.size;
  } catch (err) {
    // the file this call made holds bytes not all checked (or checked wrong): never left
    fs.closeSync(fd);
    fd = -1;
    fs.rmSync(abs, { force: true });
    const bad = hooks.onUnreadable && unreadableFile(abs.toString(), err);
    if (!bad) throw err;
    hooks.onUnreadable?.(bad);
    return undefined;
  } finally {
    if (fd >= 0) fs.closeSync(fd);
    hooks.onWriting?.(undefined);
  }
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
