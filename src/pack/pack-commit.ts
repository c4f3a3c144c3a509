/**
 * Commit phase of pack: one metadata transaction records the super-chunks, the
 * sub-blocks, the contents with their extents, and the tree (inodes, entries,
 * hard links). nlink counts links inside the packed tree only.
 */
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
import type { WalkTable } from "./walk-table.js";

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
    const contentIds = new Float64Array(index.contentCount);
    for (let k = 0; k < index.contentCount; k++) {
      const c = index.content(k);
      contentIds[k] = meta.insertContent(c.hash, c.size, toExtents(c.refs, c.lengths, subIds));
    }
    insertTree(meta, index, contentIds);
  });
}

function insertSubBlocks(meta: MetaDb, index: PackIndex, w: WriteResult): Float64Array {
  const ids = new Float64Array(index.uniqueCount);
  for (let u = 0; u < index.uniqueCount; u++) {
    ids[u] = meta.insertSubBlock({
      hash: index.uHash(u) as SubBlockHash,
      superChunk: w.uSuperChunk[u]! as SuperChunkId,
      offset: w.uOffset[u]!,
      length: index.uLength(u),
    });
  }
  return ids;
}

function toExtents(refs: Int32Array, lengths: Uint32Array, subIds: Float64Array): Extent[] {
  const out: Extent[] = [];
  for (let i = 0; i < refs.length; i++) {
    const r = refs[i]!;
    const length = lengths[i]!;
    const prev = out[out.length - 1];
    if (r < 0 && prev && prev.subBlock === null) {
      out[out.length - 1] = { subBlock: null, length: prev.length + length };
    } else {
      out.push({ subBlock: r < 0 ? null : (subIds[r]! as SubBlockId), length });
    }
  }
  return out;
}

function insertTree(meta: MetaDb, index: PackIndex, contentIds: Float64Array): void {
  const { entries } = index;
  const inoOf = new Int32Array(entries.length).fill(-1);
  const nlink = countLinks(index);
  for (let i = 0; i < entries.length; i++) {
    const parent = entries.parent(i);
    if (index.skipped.has(i) || (i > 0 && inoOf[parent]! < 0)) continue;
    const first = index.hardLinkOf.get(i);
    let ino: InodeId;
    if (first !== undefined) {
      if (inoOf[first]! < 0) continue;
      ino = inoOf[first]! as InodeId;
    } else {
      const content = index.contentOf(i);
      const size = content < 0 ? 0 : index.content(content).size;
      const cid = content < 0 ? null : contentIds[content]!;
      ino = meta.insertInode(inodeOf(entries, i, nlink[i]!, size, cid));
      if (cid !== null) meta.addContentRef(cid, 1);
    }
    inoOf[i] = ino;
    if (i > 0) meta.addEntry(inoOf[parent]! as InodeId, entries.name(i), ino);
  }
}

/** Links per inode inside the tree: directories 2 + subdirectories, files their hard links. */
function countLinks(index: PackIndex): Uint32Array {
  const { entries } = index;
  const n = new Uint32Array(entries.length);
  for (let i = 0; i < entries.length; i++) {
    if (index.skipped.has(i)) continue;
    if (entries.kind(i) === InodeKind.dir) {
      n[i] = n[i]! + 2;
      const parent = entries.parent(i);
      if (parent >= 0) n[parent] = n[parent]! + 1;
    } else {
      const first = index.hardLinkOf.get(i) ?? i;
      n[first] = n[first]! + 1;
    }
  }
  return n;
}

function inodeOf(
  entries: WalkTable,
  i: number,
  nlink: number,
  fileSize: number,
  content: number | null,
) {
  const st = entries.stat(i);
  const target =
    st.kind === InodeKind.symlink ? fs.readlinkSync(entries.abs(i), { encoding: "buffer" }) : null;
  const dev = st.kind === InodeKind.chardev || st.kind === InodeKind.blockdev;
  return {
    kind: st.kind,
    mode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
    size: target ? target.length : st.kind === InodeKind.file ? fileSize : 0,
    atimeNs: st.atimeNs,
    mtimeNs: st.mtimeNs,
    ctimeNs: st.ctimeNs,
    nlink,
    rdev: dev ? st.rdev : 0,
    target,
    content,
  };
}
