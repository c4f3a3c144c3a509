/**
 * One file's facts in a few lines, for the `user.superchunk.info` extended attribute of a
 * mount: extents, holes, super-chunks touched, bytes only it references versus bytes shared
 * with other files. Uses only MetaDb's per-file queries (no whole-store scan), so it is
 * cheap enough to answer a getxattr; the inode and its extents are checked as every read
 * checks them (E_CORRUPT naming the store).
 */
import { UsageError } from "../errors.js";
import type { MetaDb } from "../meta/meta-db.js";
import { type InodeId, InodeKind, type SubBlockId, type SuperChunkId } from "../types.js";

/** What `fileInfo` tells about one file. */
export interface FileInfo {
  ino: number;
  size: number;
  extents: number;
  holes: number;
  holeBytes: number;
  /** super-chunk ids its extents live in, ascending */
  superChunks: number[];
  /** bytes of sub-blocks no other file references */
  uniqueBytes: number;
  /** bytes of sub-blocks other files (or identical copies of this one) reference too */
  sharedBytes: number;
  /** raw bytes a cold sequential read inflates (its super-chunks, whole) */
  inflatedBytes: number;
}

/**
 * Facts of the regular file `ino`, or undefined when it is not a regular file.
 * @example
 * const info = fileInfo(meta, ino);
 * if (info) setXattr("user.superchunk.info", formatFileInfo(info));
 */
export function fileInfo(meta: MetaDb, ino: InodeId): FileInfo | undefined {
  const r = meta.readInode(ino);
  if (r?.kind !== InodeKind.file) return undefined;
  const info: FileInfo = {
    ino,
    size: r.size,
    extents: 0,
    holes: 0,
    holeBytes: 0,
    superChunks: [],
    uniqueBytes: 0,
    sharedBytes: 0,
    inflatedBytes: 0,
  };
  if (r.content === null) return info;
  const copies = meta.getContent(r.content)?.refcount ?? 1;
  const uses = new Map<number, number>();
  const scs = new Set<number>();
  for (const e of meta.resolveExtents(r.content)) {
    info.extents++;
    if (e.subBlock === null) {
      info.holes++;
      info.holeBytes += e.length;
      continue;
    }
    uses.set(e.subBlock, (uses.get(e.subBlock) ?? 0) + 1);
    scs.add(e.superChunk!);
  }
  for (const [id, n] of uses) {
    const sb = meta.getSubBlock(id as SubBlockId);
    if (sb === undefined) continue;
    if (copies <= 1 && n >= sb.refcount) info.uniqueBytes += sb.length;
    else info.sharedBytes += sb.length;
  }
  info.superChunks = [...scs].sort((a, b) => a - b);
  for (const id of info.superChunks)
    info.inflatedBytes += meta.getSuperChunk(id as SuperChunkId)?.rawBytes ?? 0;
  return info;
}

/** Version of the xattr's JSON object (spec/JSON.md, "user.superchunk.info"). */
export const FILE_INFO_VERSION = 1;

/**
 * The text of the xattr: one JSON object on one line, the unit in every number's name
 * (spec/JSON.md, "user.superchunk.info").
 */
export function formatFileInfo(info: FileInfo): string {
  return `${JSON.stringify({
    version: FILE_INFO_VERSION,
    sizeBytes: info.size,
    extentCount: info.extents,
    holeCount: info.holes,
    holeBytes: info.holeBytes,
    superChunkCount: info.superChunks.length,
    superChunkIds: info.superChunks,
    uniqueBytes: info.uniqueBytes,
    sharedBytes: info.sharedBytes,
    coldReadInflatedBytes: info.inflatedBytes,
  })}\n`;
}

/** Name of the read-only extended attribute a mount shows on every regular file. */
export const INFO_XATTR = Buffer.from("user.superchunk.info");

/** The info xattr's value for `ino`, or undefined when it is not a regular file. */
export function infoXattr(meta: MetaDb, ino: InodeId): Buffer | undefined {
  const info = fileInfo(meta, ino);
  return info === undefined ? undefined : Buffer.from(formatFileInfo(info));
}

/** `names` plus the info xattr's name when `ino` is a regular file. */
export function withInfoXattr(meta: MetaDb, ino: InodeId, names: Buffer[]): Buffer[] {
  return meta.readInode(ino)?.kind === InodeKind.file ? [...names, INFO_XATTR] : names;
}

/** E_NOT_PERMITTED when `name` is the computed info xattr, which cannot be set or removed. */
export function refuseInfoXattr(name: Buffer): void {
  if (name.equals(INFO_XATTR)) {
    throw new UsageError("E_NOT_PERMITTED", `${INFO_XATTR.toString()} is read-only`, {
      name: INFO_XATTR.toString(),
    });
  }
}
