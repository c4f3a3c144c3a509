/**
 * DirCache: the names of the directories listed last, so a lookup in a directory just
 * listed (a walk resolving the paths it read: find descending, tar opening each file) is a
 * binary search over the listing instead of a query. Bounded by the names held, oldest
 * directory dropped first; for a store that does not change while read.
 */
import type { InodeId } from "../types.js";

/** Names held at most, over all directories kept (about 100 bytes each). */
export const DIR_CACHE_NAMES = 65_536;

interface Listing {
  /** sorted by bytes, as the store lists them */
  readonly names: readonly Buffer[];
  readonly inos: readonly InodeId[];
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
    const names = entries.map((e) => e.name);
    const inos = entries.map((e) => e.ino);
    this.#dirs.set(dir, { names, inos });
    this.#names += names.length;
  }

  /**
   * The child `name` of `dir`: its inode, null when the kept listing has no such name, or
   * undefined when `dir`'s listing is not kept.
   */
  lookup(dir: InodeId, name: Buffer): InodeId | null | undefined {
    const l = this.#dirs.get(dir);
    if (l === undefined) return undefined;
    let lo = 0;
    let hi = l.names.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = Buffer.compare(l.names[mid]!, name);
      if (c === 0) return l.inos[mid]!;
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
    this.#names -= l.names.length;
  }
}
