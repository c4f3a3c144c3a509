/**
 * Commit phase of pack: one metadata transaction records the super-chunks, the
 * sub-blocks, the contents with their extents, and the tree (inodes, entries,
 * hard links). nlink counts links inside the packed tree only.
 */
import type { BigIntStats } from "node:fs";
import * as fs from "node:fs";
import type { MetaDb } from "../meta/meta-db.js";
import {
  type Extent,
  type InodeId,
  InodeKind,
  type SubBlockHash,
  type SubBlockId,
  type SuperChunkId,
} from "../types.js";
import type { PackIndex } from "./pack-index.js";
import type { WriteResult } from "./pack-write.js";

export function commitPack(meta: MetaDb, index: PackIndex, w: WriteResult): void {
  meta.transaction(() => {
    for (const sc of w.superChunks) {
      meta.insertSuperChunk({
        id: sc.id as SuperChunkId,
        codec: sc.codec,
        rawBytes: sc.rawBytes,
        storedBytes: sc.storedBytes,
        subBlocks: sc.count,
      });
    }
    const subIds = insertSubBlocks(meta, index, w);
    const contentIds = index.contents.map((c) =>
      meta.insertContent(c.hash, c.size, toExtents(c.refs, c.lengths, subIds)),
    );
    insertTree(meta, index, contentIds);
  });
}

function insertSubBlocks(meta: MetaDb, index: PackIndex, w: WriteResult): SubBlockId[] {
  const ids: SubBlockId[] = new Array(index.uHash.length);
  for (let u = 0; u < index.uHash.length; u++) {
    ids[u] = meta.insertSubBlock({
      hash: index.uHash[u]! as SubBlockHash,
      superChunk: w.uSuperChunk[u]! as SuperChunkId,
      offset: w.uOffset[u]!,
      length: index.uLength[u]!,
    });
  }
  return ids;
}

function toExtents(refs: Int32Array, lengths: Uint32Array, subIds: SubBlockId[]): Extent[] {
  const out: Extent[] = [];
  for (let i = 0; i < refs.length; i++) {
    const r = refs[i]!;
    const length = lengths[i]!;
    const prev = out[out.length - 1];
    if (r < 0 && prev && prev.subBlock === null) {
      out[out.length - 1] = { subBlock: null, length: prev.length + length };
    } else {
      out.push({ subBlock: r < 0 ? null : subIds[r]!, length });
    }
  }
  return out;
}

function insertTree(meta: MetaDb, index: PackIndex, contentIds: number[]): void {
  const { entries } = index;
  const inoOf = new Int32Array(entries.length).fill(-1);
  const nlink = countLinks(index);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (index.skipped.has(i) || (i > 0 && inoOf[e.parent]! < 0)) continue;
    const first = index.hardLinkOf.get(i);
    let ino: InodeId;
    if (first !== undefined) {
      if (inoOf[first]! < 0) continue;
      ino = inoOf[first]! as InodeId;
    } else {
      const content = index.files.get(i)?.content ?? -1;
      const size = content < 0 ? 0 : index.contents[content]!.size;
      const rec = inodeOf(
        e.stat,
        e.abs,
        nlink[i]!,
        size,
        content < 0 ? null : contentIds[content]!,
      );
      ino = meta.insertInode(rec);
      if (content >= 0) meta.addContentRef(contentIds[content]!, 1);
    }
    inoOf[i] = ino;
    if (i > 0) meta.addEntry(inoOf[e.parent]! as InodeId, e.name, ino);
  }
}

/** Links per inode inside the tree: directories 2 + subdirectories, files their hard links. */
function countLinks(index: PackIndex): Uint32Array {
  const { entries } = index;
  const n = new Uint32Array(entries.length);
  entries.forEach((e, i) => {
    if (index.skipped.has(i)) return;
    if (e.stat.isDirectory()) {
      n[i] = n[i]! + 2;
      if (e.parent >= 0) n[e.parent] = n[e.parent]! + 1;
    } else {
      const first = index.hardLinkOf.get(i) ?? i;
      n[first] = n[first]! + 1;
    }
  });
  return n;
}

function inodeOf(
  st: BigIntStats,
  abs: Buffer,
  nlink: number,
  fileSize: number,
  content: number | null,
) {
  const target = st.isSymbolicLink() ? fs.readlinkSync(abs, { encoding: "buffer" }) : null;
  return {
    kind: kindOf(st),
    mode: Number(st.mode & 0o7777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
    size: target ? target.length : st.isFile() ? fileSize : 0,
    atimeNs: st.atimeNs,
    mtimeNs: st.mtimeNs,
    ctimeNs: st.ctimeNs,
    nlink,
    rdev: st.isCharacterDevice() || st.isBlockDevice() ? Number(st.rdev) : 0,
    target,
    content,
  };
}

function kindOf(st: BigIntStats): InodeKind {
  if (st.isFile()) return InodeKind.file;
  if (st.isDirectory()) return InodeKind.dir;
  if (st.isSymbolicLink()) return InodeKind.symlink;
  if (st.isFIFO()) return InodeKind.fifo;
  if (st.isCharacterDevice()) return InodeKind.chardev;
  if (st.isBlockDevice()) return InodeKind.blockdev;
  return InodeKind.socket;
}
