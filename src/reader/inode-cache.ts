/**
 * InodeCache: the checked inode records of a store that does not change while read, kept
 * compact so a whole tree fits: columns of typed arrays indexed by inode number (64 bytes
 * an inode, grown on demand), symlink targets in a map. A tree of 165,000 inodes costs
 * about 10 MiB. Inode numbers beyond DENSE_INODES (a store that has had very many) go to a
 * small map instead, dropped whole when full, so memory stays bounded whatever the numbers.
 */
import type { ContentId, InodeRecord } from "../meta/records.js";
import type { InodeId, InodeKind } from "../types.js";

/** Highest inode number kept in the arrays (at most 64 MiB of them). */
export const DENSE_INODES = 1 << 20;
/** Records of higher numbers kept in the spill map, at most. */
const SPILL_ENTRIES = 65_536;
const MIN_SLOTS = 1024;

/** Columns of `#u32`, per inode: kind (0: not cached), mode, uid, gid, nlink, rdev. */
const U = 6;
/** Columns of `#f64`: size, content (-1: none). */
const F = 2;
/** Columns of `#ns`: atime, mtime, ctime. */
const T = 3;

export class InodeCache {
  #u32 = new Uint32Array(0);
  #f64 = new Float64Array(0);
  #ns = new BigInt64Array(0);
  readonly #targets = new Map<number, Buffer>();
  readonly #spill = new Map<number, InodeRecord>();

  /** Inodes held (for tests and stats). */
  get size(): number {
    let n = this.#spill.size;
    for (let i = 0; i < this.#u32.length; i += U) if (this.#u32[i] !== 0) n++;
    return n;
  }

  /** The cached record of `ino`, or undefined. */
  get(ino: InodeId): InodeRecord | undefined {
    if (ino >= DENSE_INODES) return this.#spill.get(ino);
    const u = ino * U;
    const kind = this.#u32[u];
    if (kind === undefined || kind === 0) return undefined;
    const f = ino * F;
    const t = ino * T;
    const content = this.#f64[f + 1]!;
    return {
      ino,
      kind: kind as InodeKind,
      mode: this.#u32[u + 1]!,
      uid: this.#u32[u + 2]!,
      gid: this.#u32[u + 3]!,
      nlink: this.#u32[u + 4]!,
      rdev: this.#u32[u + 5]!,
      size: this.#f64[f]!,
      content: content < 0 ? null : (content as ContentId),
      atimeNs: this.#ns[t]!,
      mtimeNs: this.#ns[t + 1]!,
      ctimeNs: this.#ns[t + 2]!,
      target: this.#targets.get(ino) ?? null,
    };
  }

  /** Keeps `rec` (a checked record). */
  set(rec: InodeRecord): void {
    const ino = rec.ino;
    if (ino >= DENSE_INODES || !fitsU32(rec)) {
      if (this.#spill.size >= SPILL_ENTRIES) this.#spill.clear();
      this.#spill.set(ino, rec);
      return;
    }
    this.#grow(ino);
    const u = ino * U;
    this.#u32[u] = rec.kind;
    this.#u32[u + 1] = rec.mode;
    this.#u32[u + 2] = rec.uid;
    this.#u32[u + 3] = rec.gid;
    this.#u32[u + 4] = rec.nlink;
    this.#u32[u + 5] = rec.rdev;
    this.#f64[ino * F] = rec.size;
    this.#f64[ino * F + 1] = rec.content ?? -1;
    const t = ino * T;
    this.#ns[t] = rec.atimeNs;
    this.#ns[t + 1] = rec.mtimeNs;
    this.#ns[t + 2] = rec.ctimeNs;
    if (rec.target !== null) this.#targets.set(ino, rec.target);
  }

  /** Forgets everything (a followed store switched generation). */
  clear(): void {
    this.#u32 = new Uint32Array(0);
    this.#f64 = new Float64Array(0);
    this.#ns = new BigInt64Array(0);
    this.#targets.clear();
    this.#spill.clear();
  }

  /** Makes room for inode `ino`: the arrays double until they cover it. */
  #grow(ino: number): void {
    const slots = this.#u32.length / U;
    if (ino < slots) return;
    let n = Math.max(MIN_SLOTS, slots);
    while (n <= ino) n *= 2;
    n = Math.min(n, DENSE_INODES);
    const u32 = new Uint32Array(n * U);
    u32.set(this.#u32);
    const f64 = new Float64Array(n * F);
    f64.set(this.#f64);
    const ns = new BigInt64Array(n * T);
    ns.set(this.#ns);
    this.#u32 = u32;
    this.#f64 = f64;
    this.#ns = ns;
  }
}

const U32_MAX = 0xffff_ffff;
const isU32 = (v: number) => Number.isInteger(v) && v >= 0 && v <= U32_MAX;

/** True when the record's small numbers fit the 32-bit columns (ids, modes, counts do). */
function fitsU32(r: InodeRecord): boolean {
  return isU32(r.mode) && isU32(r.uid) && isU32(r.gid) && isU32(r.nlink) && isU32(r.rdev);
}
