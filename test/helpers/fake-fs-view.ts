/**
 * A small in-memory FsView for FUSE tests: files, directories, symlinks, xattrs, hard links,
 * and files whose reads fail like a damaged super-chunk. Records reads and prefetch hints.
 */

import { CorruptError, NotFoundError } from "../../src/errors.js";
import type { FsUsage, FsView, InodeAttr } from "../../src/reader/fs-view.js";
import { type InodeId, InodeKind } from "../../src/types.js";

interface Node {
  attr: InodeAttr;
  data?: Buffer;
  target?: Buffer;
  entries?: Map<string, InodeId>;
  xattrs: Map<string, Buffer>;
  /** reads of this file fail with a CorruptError naming this super-chunk */
  damagedSuperChunk?: number;
}

/** Fixed times used by the fake tree: 2020-09-13T12:26:40.123456789Z and friends. */
export const FAKE_MTIME_NS = 1_600_000_000_123_456_789n;
export const FAKE_ATIME_NS = 1_600_000_100_000_000_000n;
export const FAKE_CTIME_NS = 1_600_000_200_987_000_000n;

export class FakeFsView implements FsView {
  readonly root = 1 as InodeId;
  readonly nodes = new Map<InodeId, Node>();
  readonly reads: { ino: InodeId; offset: number; length: number }[] = [];
  readonly prefetches: { ino: InodeId; offset: number; length: number }[] = [];
  closed = false;
  #next = 2;

  constructor() {
    this.nodes.set(this.root, this.#node(this.root, InodeKind.dir, 0o755, 0));
    this.nodes.get(this.root)!.entries = new Map();
  }

  #node(ino: InodeId, kind: InodeKind, mode: number, size: number): Node {
    const attr: InodeAttr = {
      ino,
      kind,
      mode,
      uid: 1234,
      gid: 5678,
      size,
      nlink: kind === InodeKind.dir ? 2 : 1,
      rdev: 0,
      atimeNs: FAKE_ATIME_NS,
      mtimeNs: FAKE_MTIME_NS,
      ctimeNs: FAKE_CTIME_NS,
    };
    return { attr, xattrs: new Map() };
  }

  #add(parentPath: string, name: string | Buffer, node: Node): InodeId {
    const parent = this.nodes.get(this.lookupPath(parentPath)!)!;
    parent.entries!.set(Buffer.from(name).toString("latin1"), node.attr.ino);
    this.nodes.set(node.attr.ino, node);
    return node.attr.ino;
  }

  mkdir(parentPath: string, name: string, mode = 0o755): InodeId {
    const n = this.#node(this.#next++ as InodeId, InodeKind.dir, mode, 0);
    n.entries = new Map();
    return this.#add(parentPath, name, n);
  }

  file(parentPath: string, name: string | Buffer, data: Buffer, mode = 0o644): InodeId {
    const n = this.#node(this.#next++ as InodeId, InodeKind.file, mode, data.length);
    n.data = data;
    return this.#add(parentPath, name, n);
  }

  symlink(parentPath: string, name: string, target: string | Buffer): InodeId {
    const t = Buffer.from(target);
    const n = this.#node(this.#next++ as InodeId, InodeKind.symlink, 0o777, t.length);
    n.target = t;
    return this.#add(parentPath, name, n);
  }

  /** A second name for an existing inode. */
  link(parentPath: string, name: string, ino: InodeId): void {
    const node = this.nodes.get(ino)!;
    node.attr = { ...node.attr, nlink: node.attr.nlink + 1 };
    const parent = this.nodes.get(this.lookupPath(parentPath)!)!;
    parent.entries!.set(Buffer.from(name).toString("latin1"), ino);
  }

  damage(ino: InodeId, superChunkId: number): void {
    this.nodes.get(ino)!.damagedSuperChunk = superChunkId;
  }

  setXattr(ino: InodeId, name: string, value: Buffer): void {
    this.nodes.get(ino)!.xattrs.set(name, value);
  }

  getattr(ino: InodeId): InodeAttr | undefined {
    return this.nodes.get(ino)?.attr;
  }

  lookupPath(path: Buffer | string): InodeId | undefined {
    let ino: InodeId | undefined = this.root;
    for (const part of Buffer.from(path).toString("latin1").split("/")) {
      if (part === "" || ino === undefined) continue;
      ino = this.nodes.get(ino)?.entries?.get(part);
    }
    return ino;
  }

  lookup(parent: InodeId, name: Buffer): InodeId | undefined {
    return this.nodes.get(parent)?.entries?.get(name.toString("latin1"));
  }

  readdir(dir: InodeId): { name: Buffer; ino: InodeId }[] {
    const entries = this.nodes.get(dir)?.entries;
    if (!entries) throw new NotFoundError("E_NOT_FOUND", `inode ${dir} is not a directory`);
    return [...entries]
      .map(([name, ino]) => ({ name: Buffer.from(name, "latin1"), ino }))
      .sort((a, b) => Buffer.compare(a.name, b.name));
  }

  readlink(ino: InodeId): Buffer {
    const t = this.nodes.get(ino)?.target;
    if (!t) throw new NotFoundError("E_NOT_FOUND", `inode ${ino} is not a symlink`, { ino });
    return t;
  }

  async read(ino: InodeId, offset: number, length: number): Promise<Buffer> {
    this.reads.push({ ino, offset, length });
    await new Promise((r) => setImmediate(r));
    const n = this.nodes.get(ino);
    if (!n?.data) throw new NotFoundError("E_NOT_FOUND", `inode ${ino} is not a file`, { ino });
    if (n.damagedSuperChunk !== undefined) {
      throw new CorruptError(
        "E_SUPERCHUNK_CORRUPT",
        `super-chunk ${n.damagedSuperChunk} fails its checksum`,
        {
          superChunkId: n.damagedSuperChunk,
          offset: 0,
        },
      );
    }
    return Buffer.from(n.data.subarray(offset, offset + length));
  }

  prefetchAfter(ino: InodeId, offset: number, length: number): void {
    this.prefetches.push({ ino, offset, length });
  }

  listxattr(ino: InodeId): Buffer[] {
    return [...(this.nodes.get(ino)?.xattrs.keys() ?? [])].map((k) => Buffer.from(k));
  }

  getxattr(ino: InodeId, name: Buffer): Buffer | undefined {
    return this.nodes.get(ino)?.xattrs.get(name.toString());
  }

  usage(): FsUsage {
    let logical = 0;
    for (const n of this.nodes.values()) logical += n.data?.length ?? 0;
    return { logicalBytes: logical, storedBytes: Math.ceil(logical / 3), inodes: this.nodes.size };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
