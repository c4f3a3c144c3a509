/**
 * Path → inode for the path-based ops of fuse-native (libfuse2's high-level API sends a full
 * path with every op). Walks one component at a time with `FsView.lookup` and keeps a bounded
 * cache of resolved paths: the store is immutable while mounted read-only, so an entry never goes
 * stale. Escaped names (see display-name.ts) are found by a directory scan when the direct lookup
 * misses.
 */
import type { FsView } from "../engine/fs-view.js";
import type { InodeId } from "../types.js";
import { displayName, mayBeEscaped } from "./display-name.js";
import { ErrnoError } from "./errno.js";

/** Resolved paths kept; the cache is dropped whole when full (cheap, and refills fast). */
export const PATH_CACHE_ENTRIES = 8192;

export class PathResolver {
  readonly #view: FsView;
  readonly #cache = new Map<string, InodeId>();

  constructor(view: FsView) {
    this.#view = view;
  }

  /** The inode at `path` ("/" or "/a/b"); ErrnoError ENOENT when any component is missing. */
  resolve(path: string): InodeId {
    const ino = this.tryResolve(path);
    if (ino === undefined) throw new ErrnoError("ENOENT", `${path}: not found`);
    return ino;
  }

  /** Like resolve, but undefined when missing. */
  tryResolve(path: string): InodeId | undefined {
    if (path === "/" || path === "") return this.#view.root;
    const hit = this.#cache.get(path);
    if (hit !== undefined) return hit;
    const cut = path.lastIndexOf("/");
    const parent = this.tryResolve(cut <= 0 ? "/" : path.slice(0, cut));
    if (parent === undefined) return undefined;
    const ino = this.#lookup(parent, path.slice(cut + 1));
    if (ino !== undefined) this.#remember(path, ino);
    return ino;
  }

  /** The inode of the directory holding `path` (the root for the root itself). */
  parentOf(path: string): InodeId {
    const cut = path.lastIndexOf("/");
    return this.resolve(cut <= 0 ? "/" : path.slice(0, cut));
  }

  #lookup(parent: InodeId, name: string): InodeId | undefined {
    const direct = this.#view.lookup(parent, Buffer.from(name, "utf8"));
    if (direct !== undefined || !mayBeEscaped(name)) return direct;
    for (const e of this.#view.readdir(parent)) {
      if (displayName(e.name) === name) return e.ino;
    }
    return undefined;
  }

  #remember(path: string, ino: InodeId): void {
    if (this.#cache.size >= PATH_CACHE_ENTRIES) this.#cache.clear();
    this.#cache.set(path, ino);
  }
}
