/**
 * The reading side of a read-write mount (fuse-rw-ops.ts): reads through a store handle, and
 * the prefetch hints a read-only mount gives too: a handle read sequentially keeps the next
 * super-chunks of its file loading (read-pattern.ts), and an open that continues a tree walk
 * (tar, cp -r) queues the files after it (dir-scan.ts). The walk detection lists directories
 * through the store; any change to the tree's names starts it over (`treeChanged`).
 */
import type { InodeId } from "../types.js";
import type { WritableStore } from "../writer/index.js";
import { DirScan } from "./dir-scan.js";
import { ReadPattern } from "./read-pattern.js";

/** Ops that change which names a directory holds: the walk detection starts over after one. */
export const TREE_CHANGE_OPS: ReadonlySet<string> = new Set([
  "mkdir",
  "mknod",
  "symlink",
  "link",
  "unlink",
  "rmdir",
  "rename",
  "create",
]);

export class RwReads {
  readonly #s: WritableStore;
  /** open handle → how it has been read (made at its first read) */
  readonly #patterns = new Map<number, ReadPattern>();
  /** changes to the tree's names so far: the epoch of the walk detection's listings */
  #treeEpoch = 0;
  readonly #scan: DirScan;

  constructor(store: WritableStore) {
    this.#s = store;
    const self = this;
    this.#scan = new DirScan({
      get epoch() {
        return self.#treeEpoch;
      },
      getattr: (ino) => store.getattr(ino),
      readdir: (ino) => store.readdir(ino),
    });
  }

  /** A name was added, removed or moved somewhere in the tree. */
  treeChanged(): void {
    this.#treeEpoch++;
  }

  /** `ino` was opened for reading by the name `p`: what it and a walk it continues will read. */
  opened(p: Buffer, ino: InodeId): void {
    const s = this.#s;
    this.#scan.hint(
      () => s.parentOf(p).parent,
      ino,
      (files) => s.prefetchFiles(files),
    );
  }

  /** Reads handle `fh` of `ino`; synchronous when the store has the data at hand. */
  read(fh: number, ino: InodeId | undefined, buf: Buffer, pos: number): number | Promise<number> {
    const r = this.#s.readHandle(fh, buf, pos);
    if (typeof r === "number") return this.#afterRead(fh, ino, pos, r);
    return r.then((n) => this.#afterRead(fh, ino, pos, n));
  }

  /** Handle `fh` was released. */
  released(fh: number): void {
    this.#patterns.delete(fh);
  }

  /** Feeds the handle's read pattern; a streaming reader gets a prefetch hint. */
  #afterRead(fh: number, ino: InodeId | undefined, pos: number, n: number): number {
    let pattern = this.#patterns.get(fh);
    if (pattern === undefined) {
      pattern = new ReadPattern();
      this.#patterns.set(fh, pattern);
    }
    pattern.observeThen(pos, n, () => {
      if (ino !== undefined) this.#s.prefetchAfter(ino, pos, n);
    });
    return n;
  }
}
