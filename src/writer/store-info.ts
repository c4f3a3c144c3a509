/** Attributes and space figures as a writable store reports them. */
import * as fs from "node:fs";
import type { InodeRecord } from "../meta/records.js";
import type { InodeAttr } from "../reader/fs-view.js";
import type { OpenFile } from "./open-files.js";

/** statfs figures: the store's file system's real free space. */
export interface StoreStatfs {
  readonly blockSize: number;
  readonly blocks: number;
  readonly blocksFree: number;
  readonly blocksAvailable: number;
  readonly files: number;
  readonly filesFree: number;
  readonly nameMax: number;
}

/** Free-space figures of the file system holding `dir`. */
export function statfsOf(dir: string): StoreStatfs {
  const s = fs.statfsSync(dir);
  return {
    blockSize: s.bsize,
    blocks: s.blocks,
    blocksFree: s.bfree,
    blocksAvailable: s.bavail,
    files: s.files,
    filesFree: s.ffree,
    nameMax: 255,
  };
}

/** The later of two times (ctime only moves forward: a write's or a later attribute change's). */
export function laterOf(a: bigint | undefined, b: bigint): bigint {
  return a !== undefined && a > b ? a : b;
}

/** An inode's attributes, with an open file's unflushed size and times. */
export function attrOf(rec: InodeRecord, f: OpenFile | undefined): InodeAttr {
  return {
    ino: rec.ino,
    kind: rec.kind,
    mode: rec.mode,
    uid: rec.uid,
    gid: rec.gid,
    size: f?.staging?.size ?? rec.size,
    nlink: rec.nlink,
    rdev: rec.rdev,
    atimeNs: rec.atimeNs,
    mtimeNs: f?.pendingMtime ?? rec.mtimeNs,
    ctimeNs: laterOf(f?.pendingCtime, rec.ctimeNs),
  };
}
