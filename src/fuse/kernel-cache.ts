/**
 * Keeps the kernel's caches of a read-write mount true (spec/FUSE.md, "Kernel caches on a
 * read-write mount"). libfuse's high-level API gives each *name* its own kernel inode, so a
 * change through one name of a hard-linked file leaves the kernel's attributes and pages of
 * its other names stale: after such a change every other name is invalidated. Changes are
 * batched per event-loop turn (one listing of an inode's names per turn, however many writes
 * came), and the request that made the change is answered once the kernel has dropped the
 * stale caches, so the caller sees them gone when its system call returns.
 *
 * What needs nothing: an inode with one name (the kernel saw the change through that name
 * itself: write, truncate, setattr, link, unlink and rename update or expire its caches).
 *
 * A wait is bounded (INVALIDATE_WAIT_MS): the kernel's invalidation of a name waits for the
 * page locks of a read or write in flight on that name, and if that request is itself waiting
 * here (two writers on two names of one file at once) only the bound breaks the cycle; the
 * invalidation still completes after the request is answered.
 */
import type { InodeId } from "../types.js";

/** The mount's invalidation calls (NativeMount). */
export interface Invalidator {
  invalidate(path: Buffer): boolean;
  invalidated(): Promise<void>;
}

/** The longest a request waits for the kernel to drop other names' caches. */
export const INVALIDATE_WAIT_MS = 1000;

interface Pending {
  /** the names the kernel saw the change through (not invalidated); null: invalidate all */
  seen: Set<string> | null;
}

/** Batches "inode changed" notes into invalidations of its names. */
export class KernelCache {
  #mount: Invalidator | undefined;
  readonly #pathsOf: (ino: InodeId) => Buffer[];
  #pending = new Map<InodeId, Pending>();
  #batch: Promise<void> | undefined;
  /** paths handed to the kernel for invalidation (for tests and stats) */
  invalidations = 0;

  constructor(pathsOf: (ino: InodeId) => Buffer[]) {
    this.#pathsOf = pathsOf;
  }

  /** Starts invalidating through `mount` (nothing is cached by the kernel before it). */
  attach(mount: Invalidator): void {
    this.#mount = mount;
  }

  /**
   * `ino` (with `nlink` names) changed through `via` (the name the kernel saw it through; null:
   * it saw none of its names change). Resolves when every other name has been invalidated:
   * at once when there are no other names.
   */
  changed(ino: InodeId, nlink: number, via: Buffer | null): Promise<void> | undefined {
    if (this.#mount === undefined || (nlink <= 1 && via !== null)) return undefined;
    const p = this.#pending.get(ino);
    if (via === null) this.#pending.set(ino, { seen: null });
    else if (p === undefined) this.#pending.set(ino, { seen: new Set([via.toString("latin1")]) });
    else p.seen?.add(via.toString("latin1"));
    this.#batch ??= new Promise((resolve) => setImmediate(() => this.#flush().then(resolve)));
    return this.#batch;
  }

  async #flush(): Promise<void> {
    const pending = this.#pending;
    this.#pending = new Map();
    this.#batch = undefined;
    const mount = this.#mount;
    if (mount === undefined) return;
    let queued = 0;
    for (const [ino, { seen }] of pending) {
      // a name the kernel saw the change through is fresh only when it was the only one
      const skip = seen !== null && seen.size === 1 ? seen : undefined;
      for (const path of this.#pathsOf(ino)) {
        if (skip?.has(path.toString("latin1"))) continue;
        if (mount.invalidate(path)) queued++;
      }
    }
    this.invalidations += queued;
    if (queued === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((r) => {
      timer = setTimeout(r, INVALIDATE_WAIT_MS);
    });
    await Promise.race([mount.invalidated(), bound]);
    clearTimeout(timer);
  }
}
