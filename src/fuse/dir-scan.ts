/**
 * Tree-walk detection for the open files of a mount. Archivers and copiers (tar, cp -r,
 * rsync) walk a tree depth first, reading a directory's entries in the order readdir lists
 * them and descending into each subdirectory where it comes. When a reader opens a file
 * that comes after the last one opened in the same directory, the walk is taken as
 * sequential and the next files of that walk (this one first, then the following entries,
 * subdirectories expanded depth first) are returned, as many as make `lookaheadBytes` (a few
 * super-chunks' worth: many small files or a few big ones) up to `lookaheadFiles`, so the
 * store can start inflating what they need while the current file is being read. Any other
 * open returns just the file itself. A walk is hinted again only after it has opened half
 * the files of its last lookahead, not on every open: the store dedups the work anyway, and
 * fewer calls keep the per-open cost low.
 */
import type { FsView } from "../reader/fs-view.js";
import { type InodeId, InodeKind } from "../types.js";

/** What a DirScan reads: a read-only view, or a read-write store with its own epoch. */
export type DirSource = Pick<FsView, "epoch" | "getattr" | "readdir">;

/** Options of a DirScan. */
export interface DirScanOptions {
  /** most files returned from the opened file on, once a walk is sequential; default 1024 */
  lookaheadFiles?: number;
  /** files are returned until their sizes add up to this; default 16 MiB */
  lookaheadBytes?: number;
  /** directories a lookahead may descend into, at most; default 64 */
  lookaheadDirs?: number;
  /** directories tracked; all are forgotten when more are opened; default 256 */
  maxDirs?: number;
}

const DEFAULT_LOOKAHEAD_FILES = 1024;
const DEFAULT_LOOKAHEAD_BYTES = 16 * 1024 * 1024;
const DEFAULT_LOOKAHEAD_DIRS = 64;
const DEFAULT_MAX_DIRS = 256;

/** What a lookahead may still take: directories entered, files, bytes of those files. */
interface WalkBudget {
  dirs: number;
  files: number;
  bytes: number;
}

interface DirState {
  readonly inos: readonly InodeId[];
  /** position of each inode in `inos` (the first, for hard links in one directory) */
  readonly index: ReadonlyMap<number, number>;
  /** position of the entry opened last; -1 before the first */
  last: number;
  /** position of the first regular file, once asked */
  firstFile?: number;
}

export class DirScan {
  readonly #view: DirSource;
  readonly #lookahead: number;
  readonly #lookaheadBytes: number;
  /** files in the last lookahead returned */
  #lastLength = 0;
  readonly #lookaheadDirs: number;
  readonly #maxDirs: number;
  readonly #dirs = new Map<number, DirState>();
  /** sequential opens since the last lookahead was returned (any directory) */
  #sinceHint = Number.POSITIVE_INFINITY;
  /** the view's epoch the tracked directories were read in */
  #epoch: number | undefined;

  constructor(view: DirSource, opts: DirScanOptions = {}) {
    this.#view = view;
    this.#lookahead = opts.lookaheadFiles ?? DEFAULT_LOOKAHEAD_FILES;
    this.#lookaheadBytes = opts.lookaheadBytes ?? DEFAULT_LOOKAHEAD_BYTES;
    this.#lookaheadDirs = opts.lookaheadDirs ?? DEFAULT_LOOKAHEAD_DIRS;
    this.#maxDirs = opts.maxDirs ?? DEFAULT_MAX_DIRS;
  }

  /**
   * Records that `ino`, an entry of directory `dir`, was opened. Returns the inodes worth
   * loading now, in the order they will be read: `ino` alone, or in a sequential walk `ino`
   * and the files after it; undefined when a walk's earlier lookahead still covers it.
   */
  opened(dir: InodeId, ino: InodeId): InodeId[] | undefined {
    if (this.#view.epoch !== this.#epoch) {
      this.#epoch = this.#view.epoch;
      this.#dirs.clear();
      this.#sinceHint = Number.POSITIVE_INFINITY;
    }
    const st = this.#state(dir);
    const at = st.index.get(ino);
    if (at === undefined) return [ino];
    // a walk continues past the last file opened here, or starts at the first file
    const sequential = at > st.last && (st.last >= 0 || at === this.#firstFile(st));
    st.last = at;
    if (!sequential) {
      this.#sinceHint = Number.POSITIVE_INFINITY;
      return [ino];
    }
    // a walk that only starts here (no walk going on) gets a short lookahead, and the
    // full one at its next open: one read of a directory's first file stays cheap
    const starting = this.#sinceHint === Number.POSITIVE_INFINITY;
    if (!starting && ++this.#sinceHint < this.#lastLength / 2) return undefined;
    const out: InodeId[] = [];
    const part = starting ? 4 : 1;
    const files = Math.max(1, Math.ceil(this.#lookahead / part));
    const bytes = this.#lookaheadBytes / part;
    this.#walk(st, at, out, { dirs: this.#lookaheadDirs, files, bytes });
    // a short start is followed by the full lookahead at the walk's next open
    this.#lastLength = starting ? 0 : out.length;
    this.#sinceHint = 0;
    return out;
  }

  /**
   * `opened`, with the directory given by `dir()`, the files worth loading handed to
   * `prefetch`. A hint only: what resolving, listing or prefetching throws is dropped (the
   * reads themselves report real trouble).
   */
  hint(dir: () => InodeId, ino: InodeId, prefetch: (files: InodeId[]) => void): void {
    try {
      const files = this.opened(dir(), ino);
      if (files !== undefined) prefetch(files);
    } catch {
      // a hint only
    }
  }

  /** Position of the first regular file among the entries of `st`, or -1. */
  #firstFile(st: DirState): number {
    if (st.firstFile === undefined) {
      st.firstFile = st.inos.findIndex((i) => this.#view.getattr(i)?.kind === InodeKind.file);
    }
    return st.firstFile;
  }

  /** Appends the files of a depth-first walk of `st` from entry `from` on, up to the bounds. */
  #walk(st: DirState, from: number, out: InodeId[], budget: WalkBudget) {
    for (let i = from; i < st.inos.length && out.length < budget.files && budget.bytes > 0; i++) {
      const ino = st.inos[i]!;
      const a = this.#view.getattr(ino);
      const kind = a?.kind;
      if (kind === InodeKind.file) {
        out.push(ino);
        budget.bytes -= a!.size;
      } else if (kind === InodeKind.dir && budget.dirs > 0) {
        budget.dirs--;
        this.#walk(this.#state(ino), 0, out, budget);
      }
    }
  }

  #state(dir: InodeId): DirState {
    let st = this.#dirs.get(dir);
    if (st !== undefined) return st;
    const inos = this.#view.readdir(dir).map((e) => e.ino);
    const index = new Map<number, number>();
    inos.forEach((ino, i) => {
      if (!index.has(ino)) index.set(ino, i);
    });
    st = { inos, index, last: -1 };
    if (this.#dirs.size >= this.#maxDirs) this.#dirs.clear();
    this.#dirs.set(dir, st);
    return st;
  }
}
