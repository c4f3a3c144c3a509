/**
 * DirCache: the listings of the directories listed last, kept compact (one buffer of names,
 * their offsets and inode numbers per directory: about 12 bytes an entry beyond its name),
 * so listing a directory again (a second walk) needs no query, and a lookup in a directory
 * listed (a walk resolving the paths it read: find descending, tar reading each file) is a
 * binary search instead of a query. Bounded by the names held, oldest directory dropped
 * first; for a store that does not change while read.
 */
import type { InodeId } from "../types.js";

/** Names held at most, over all directories kept (a few MiB for the most). */
export const DIR_CACHE_NAMES = 262_144;

interface Listing {
  /** the names, sorted by bytes as the store lists them, back to back */
  readonly names: Buffer;
  /** where each name starts in `names`, and one more: where the last ends */
  readonly offsets: Uint32Array;
  readonly inos: Float64Array;
}

export class DirCache {
  readonly #dirs = new Map<number, Listing>();
  #names = 0;

  /** Keeps the listing of `dir` (names sorted by bytes, as `readdir` answers them). */
  set(dir: InodeId, entries: readonly { name: Buffer; ino: InodeId }[]): void {
    if (entries.length > DIR_CACHE_NAMES) return;
    this.#drop(dir);
    while (this.#names + entries.length > DIR_CACHE_NAMES) {
      const oldest = this.#dirs.keys().next().value;
      if (oldest === undefined) break;
      this.#drop(oldest);
    }
    const offsets = new Uint32Array(entries.length + 1);
    const inos = new Float64Array(entries.length);
    entries.forEach((e, i) => {
      offsets[i + 1] = offsets[i]! + e.name.length;
      inos[i] = e.ino;
    });
    const names = Buffer.concat(entries.map((e) => e.name));
    this.#dirs.set(dir, { names, offsets, inos });
    this.#names += entries.length;
  }

  /** The kept listing of `dir` (names are views of the kept bytes), or undefined. */
  get(dir: InodeId): { name: Buffer; ino: InodeId }[] | undefined {
    const l = this.#dirs.get(dir);
    if (l === undefined) return undefined;
    const out: { name: Buffer; ino: InodeId }[] = new Array(l.inos.length);
    for (let i = 0; i < l.inos.length; i++) {
      out[i] = {
        name: l.names.subarray(l.offsets[i], l.offsets[i + 1]),
        ino: l.inos[i] as InodeId,
      };
    }
    return out;
  }

  /**
   * The child `name` of `dir`: its inode, null when the kept listing has no such name, or
   * undefined when `dir`'s listing is not kept.
   */
  lookup(dir: InodeId, name: Buffer): InodeId | null | undefined {
    const l = this.#dirs.get(dir);
    if (l === undefined) return undefined;
    let lo = 0;
    let hi = l.inos.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = l.names.compare(name, 0, name.length, l.offsets[mid], l.offsets[mid + 1]);
      if (c === 0) return l.inos[mid] as InodeId;
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return null;
  }

  /** Forgets every listing (a followed store switched generation). */
  clear(): void {
    this.#dirs.clear();
    this.#names = 0;
  }

  #drop(dir: number): void {
    const l = this.#dirs.get(dir);
    if (l === undefined) return;
    this.#dirs.delete(dir);
    this.#names -= l.inos.length;
  }
}
