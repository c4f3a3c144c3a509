/**
 * The walked tree of a pack held compactly: one row per entry in walk order (depth-first,
 * parents first) as columns of typed arrays and all names in one byte buffer, about 70
 * bytes per entry plus its name (spec/MEMORY.md), instead of a stat object and three path
 * Buffers each. Paths are rebuilt from the parent chain when asked for.
 */
import type { BigIntStats } from "node:fs";
import { InodeKind } from "../types.js";
import { Column } from "./column.js";

const SLASH = Buffer.from("/");

/** Everything pack keeps of an entry's lstat. */
export interface EntryStat {
  readonly kind: InodeKind;
  /** st_mode: type and permission bits */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly nlink: number;
  readonly rdev: number;
  readonly atimeNs: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
}

/** The kind of inode `st` describes. */
export function kindOfStat(st: BigIntStats): InodeKind {
  if (st.isFile()) return InodeKind.file;
  if (st.isDirectory()) return InodeKind.dir;
  if (st.isSymbolicLink()) return InodeKind.symlink;
  if (st.isFIFO()) return InodeKind.fifo;
  if (st.isCharacterDevice()) return InodeKind.chardev;
  if (st.isBlockDevice()) return InodeKind.blockdev;
  return InodeKind.socket;
}

/** The entries of a walk, in walk order; entry 0 is the root. */
export class WalkTable {
  length = 0;
  readonly #parent = new Column(new Int32Array(1024));
  readonly #nameEnd = new Column(new Float64Array(1024));
  readonly #kind = new Column(new Uint8Array(1024));
  readonly #mode = new Column(new Uint32Array(1024));
  readonly #uid = new Column(new Uint32Array(1024));
  readonly #gid = new Column(new Uint32Array(1024));
  readonly #nlink = new Column(new Uint32Array(1024));
  readonly #size = new Column(new Float64Array(1024));
  readonly #rdev = new Column(new Float64Array(1024));
  readonly #times = new Column(new BigInt64Array(3 * 1024));
  #names = Buffer.allocUnsafe(64 * 1024);
  #namesUsed = 0;
  /** absolute path of entries not found below their parent's (roots of sources) */
  readonly #absOf = new Map<number, Buffer>();
  /** rel of entries whose rel is not their parent's rel + name (the roots) */
  readonly #relOf = new Map<number, Buffer>();
  /** "dev:ino" of files with more than one link, for hard-link groups */
  readonly #inode = new Map<number, string>();

  /**
   * Appends an entry and returns its index. `abs` is given for an entry whose path is not
   * its parent's path + name (a root); `rel` likewise.
   */
  push(parent: number, name: Buffer, st: EntryStat, where: { abs?: Buffer; rel?: Buffer } = {}) {
    const i = this.length++;
    this.#parent.put(i, parent);
    this.#kind.put(i, st.kind);
    this.#mode.put(i, st.mode);
    this.#uid.put(i, st.uid);
    this.#gid.put(i, st.gid);
    this.#nlink.put(i, st.nlink);
    this.#size.put(i, st.size);
    this.#rdev.put(i, st.rdev);
    this.#times.put(3 * i, st.atimeNs);
    this.#times.put(3 * i + 1, st.mtimeNs);
    this.#times.put(3 * i + 2, st.ctimeNs);
    if (this.#namesUsed + name.length > this.#names.length) {
      const bigger = Buffer.allocUnsafe(Math.max(2 * this.#names.length, name.length * 2));
      this.#names.copy(bigger, 0, 0, this.#namesUsed);
      this.#names = bigger;
    }
    this.#namesUsed += name.copy(this.#names, this.#namesUsed);
    this.#nameEnd.put(i, this.#namesUsed);
    if (where.abs !== undefined) this.#absOf.set(i, where.abs);
    if (where.rel !== undefined) this.#relOf.set(i, where.rel);
    return i;
  }

  /** Records the device and inode of entry `i` (files with several links). */
  setInode(i: number, key: string): void {
    this.#inode.set(i, key);
  }

  /** "dev:ino" of entry `i` when it was recorded (a file with several links). */
  inodeKey(i: number): string | undefined {
    return this.#inode.get(i);
  }

  parent(i: number): number {
    return this.#parent.a[i]!;
  }

  /** The entry's name (a view into the table: copy it to keep it). */
  name(i: number): Buffer {
    const start = i === 0 ? 0 : this.#nameEnd.a[i - 1]!;
    return this.#names.subarray(start, this.#nameEnd.a[i]!);
  }

  kind(i: number): InodeKind {
    return this.#kind.a[i]! as InodeKind;
  }

  isFile(i: number): boolean {
    return this.#kind.a[i] === InodeKind.file;
  }

  /** Size in bytes at walk time. */
  size(i: number): number {
    return this.#size.a[i]!;
  }

  stat(i: number): EntryStat {
    return {
      kind: this.kind(i),
      mode: this.#mode.a[i]!,
      uid: this.#uid.a[i]!,
      gid: this.#gid.a[i]!,
      size: this.#size.a[i]!,
      nlink: this.#nlink.a[i]!,
      rdev: this.#rdev.a[i]!,
      atimeNs: this.#times.a[3 * i]!,
      mtimeNs: this.#times.a[3 * i + 1]!,
      ctimeNs: this.#times.a[3 * i + 2]!,
    };
  }

  /** Absolute path on disk. */
  abs(i: number): Buffer {
    return this.#path(i, this.#absOf);
  }

  /** Path relative to the tree's root, '/'-separated (empty for the root). */
  rel(i: number): Buffer {
    if (i === 0) return this.#relOf.get(0) ?? Buffer.alloc(0);
    return this.#path(i, this.#relOf);
  }

  #path(i: number, known: Map<number, Buffer>): Buffer {
    const parts: Buffer[] = [];
    let k = i;
    for (; !known.has(k) && k > 0; k = this.parent(k)) parts.push(this.name(k), SLASH);
    const base = known.get(k) ?? Buffer.alloc(0);
    if (base.length > 0) parts.push(base);
    else parts.pop(); // no leading '/' below an empty base
    return Buffer.concat(parts.reverse());
  }
}

/** What pack keeps of `st`. */
export function entryStatOf(st: BigIntStats): EntryStat {
  return {
    kind: kindOfStat(st),
    mode: Number(st.mode),
    uid: Number(st.uid),
    gid: Number(st.gid),
    size: Number(st.size),
    nlink: Number(st.nlink),
    rdev: Number(st.rdev),
    atimeNs: st.atimeNs,
    mtimeNs: st.mtimeNs,
    ctimeNs: st.ctimeNs,
  };
}
