/**
 * Path → inode for the path-based ops of libfuse2's high-level API (it sends a full path of raw
 * bytes with every op). Walks one component at a time with `FsView.lookup` and keeps a bounded
 * cache of resolved paths: the store is immutable while mounted read-only, so an entry never
 * goes stale, except when a followed store switches generation (the view's `epoch` changes),
 * which drops the cache. (The read-write ops resolve through the store each time instead.)
 */
import type { FsView } from "../reader/fs-view.js";
import type { InodeId } from "../types.js";
import { ErrnoError } from "./errno.js";

/** Resolved paths kept; the cache is dropped whole when full (cheap, and refills fast). */
export const PATH_CACHE_ENTRIES = 8192;
const SLASH = 0x2f;

export class PathResolver {
  readonly #view: FsView;
  readonly #cache = new Map<string, InodeId>();
  #epoch: number | undefined;

  constructor(view: FsView) {
    this.#view = view;
  }

  /** The inode at `path` ("/" or "/a/b"); ErrnoError ENOENT when any component is missing. */
  resolve(path: Buffer): InodeId {
    const ino = this.tryResolve(path);
    if (ino === undefined) throw new ErrnoError("ENOENT", `${path.toString()}: not found`);
    return ino;
  }

  /** Like resolve, but undefined when missing. */
  tryResolve(path: Buffer): InodeId | undefined {
    if (path.length <= 1) return this.#view.root;
    if (this.#view.epoch !== this.#epoch) {
      this.#epoch = this.#view.epoch;
      this.#cache.clear();
    }
    const key = path.toString("latin1");
    const hit = this.#cache.get(key);
    if (hit !== undefined) return hit;
    const cut = path.lastIndexOf(SLASH);
    const parent = this.tryResolve(path.subarray(0, Math.max(cut, 1)));
    if (parent === undefined) return undefined;
    const ino = this.#view.lookup(parent, path.subarray(cut + 1));
    if (ino !== undefined) this.#remember(key, ino);
    return ino;
  }

  /** The inode of the directory holding `path` (the root for the root itself). */
  parentOf(path: Buffer): InodeId {
    const cut = path.lastIndexOf(SLASH);
    return this.resolve(path.subarray(0, Math.max(cut, 1)));
  }

  #remember(key: string, ino: InodeId): void {
    if (this.#cache.size >= PATH_CACHE_ENTRIES) this.#cache.clear();
    this.#cache.set(key, ino);
  }
}
