/**
 * Read preloading for a tree walk over a mount whose files never change (a read-only mount
 * with kernel caching). When a read from the start of a file reaches JS, the files the walk
 * reads next (the following entries of that directory, subdirectories depth first, then the
 * entries after each parent: the order of tar, cp -r and rsync) are read through the view's
 * checked read path, when their bytes are at hand, and handed whole to the binding, which
 * answers their reads on the libfuse thread without a trip to JS (native/preload.c). A walk
 * hands over `batchFiles` files (or `batchBytes`) in slices between other requests, each
 * file told to `opened` as its open would be (so prefetching keeps ahead of the walk), and
 * stops at the first file whose bytes are not cached (or when the binding holds its limit
 * unread): that file's read reaches JS, loads it, and starts the next walk. While a walk runs, reads that reach JS (a file too big to hand
 * over, or a reader that got ahead of the walk, which soon overtakes it again) do not restart
 * it: it goes on and skips those files. Files handed over are not handed over again by a
 * later walk, until one of them is read through JS again (the kernel dropped its pages).
 * A hint only: what resolving, listing or reading throws is dropped (the reads report real
 * trouble). On a mount whose files can change (read-write), `reset` drops every file handed
 * over and stops the walk; it is called before any change to a file's bytes or to the tree's
 * names is answered, so no read that follows the change is answered from the copy.
 */
import type { FsView } from "../reader/fs-view.js";
import { type InodeId, InodeKind } from "../types.js";
import type { PathResolver } from "./path-resolver.js";

/** How a walk finds a directory by its path (a PathResolver). */
export type WalkPaths = Pick<PathResolver, "resolve">;

/** Where preloaded files go (a NativeMount). */
export interface PreloadSink {
  /** keeps a copy of `data` (the caller reuses its memory) */
  preload(path: Buffer, data: Buffer): boolean;
  preloadLimit(bytes: number): void;
}

/** What the preloader reads. */
export type PreloadView = Pick<FsView, "epoch" | "getattr" | "readdir" | "readCached">;

/** Options of a ReadPreloader; every field has a default. */
export interface ReadPreloadOptions {
  /** bytes of preloaded files the binding keeps; default 16 MiB */
  limitBytes?: number;
  /** files handed over per batch, at most; default 512 */
  batchFiles?: number;
  /** bytes handed over per batch, at most; default 8 MiB */
  batchBytes?: number;
  /** bigger files are left to the kernel's reads; default 1 MiB */
  maxFileBytes?: number;
  /** directories a walk enters, at most; default 128 */
  maxDirs?: number;
}

/** Counters, for tests and stats. */
export interface PreloadCounts {
  /** batches started (reads from a file's start that reached JS) */
  readonly batches: number;
  /** files handed to the binding */
  readonly files: number;
}

interface WalkFile {
  readonly path: Buffer;
  readonly ino: InodeId;
  readonly size: number;
}

const SLASH = 0x2f;
const SLASH_BUF = Buffer.from("/");
/** files read per turn of the event loop, so the reads that reach JS are not kept waiting */
const SLICE_FILES = 4;
/** files remembered as handed over; all are forgotten when more are */
const MAX_HANDED = 65_536;
/** The scratch buffer's first size; it grows to the biggest file handed over. */
const SCRATCH_BYTES = 256 * 1024;

/** One walk: its files, what it may still hand over, the paths it reached. */
interface Walk {
  readonly files: Generator<WalkFile>;
  readonly budget: { files: number; bytes: number };
  /** files read through JS while the walk ran (so not worth handing over), as latin1 keys */
  readonly read: Set<string>;
  /** the walk has stopped: its budget is spent, its files are, or one is not at hand */
  ended: boolean;
}

/** Preloads the files a tree walk reads next into the binding. */
export class ReadPreloader {
  readonly #view: PreloadView;
  readonly #paths: WalkPaths;
  readonly #o: Required<ReadPreloadOptions>;
  readonly #opened: (path: Buffer, ino: InodeId) => void;
  #sink: PreloadSink | undefined;
  /** the walk running: replaced (and so stopped) by a newer one */
  #walk: Walk | undefined;
  readonly #epoch: number | undefined;
  /** files handed over (latin1 keys): a later walk passes them by */
  readonly #handed = new Set<string>();
  /** where each file is read before the binding copies it: one, reused (no garbage per file) */
  #scratch: Buffer | undefined;
  #batches = 0;
  #files = 0;
  /** files were handed over since the binding's copies were last dropped */
  #holding = false;

  /**
   * @param opened told of each file handed over, in walk order, as of an open (the
   *   open-time prefetch hint its read no longer gives)
   */
  constructor(
    view: PreloadView,
    paths: WalkPaths,
    opened: (path: Buffer, ino: InodeId) => void,
    opts: ReadPreloadOptions = {},
  ) {
    this.#view = view;
    this.#paths = paths;
    this.#opened = opened;
    this.#epoch = view.epoch;
    this.#o = {
      limitBytes: opts.limitBytes ?? 16 * 1024 * 1024,
      batchFiles: opts.batchFiles ?? 512,
      batchBytes: opts.batchBytes ?? 8 * 1024 * 1024,
      maxFileBytes: opts.maxFileBytes ?? 1024 * 1024,
      maxDirs: opts.maxDirs ?? 128,
    };
  }

  /** Starts handing files to `sink` (the mount, once it runs). */
  attach(sink: PreloadSink): void {
    this.#sink = sink;
    sink.preloadLimit(this.#o.limitBytes);
  }

  /** Whether files are handed over (attached to a mount, over a view that can). */
  get active(): boolean {
    return this.#sink !== undefined && this.#view.readCached !== undefined;
  }

  /** Drops every file handed over (in the binding too) and stops the walk running. */
  reset(): void {
    this.#walk = undefined;
    if (!this.#holding) return;
    this.#holding = false;
    this.#handed.clear();
    // a limit of 0 drops every copy the binding holds; the limit then comes back
    this.#sink?.preloadLimit(0);
    this.#sink?.preloadLimit(this.#o.limitBytes);
  }

  counts(): PreloadCounts {
    return { batches: this.#batches, files: this.#files };
  }

  /**
   * A read from the start of `path` reached JS: a new walk starts after it, unless one is
   * running (the reader got ahead of it, or the file is too big to hand over), which then
   * goes on, past `path` once it gets there.
   */
  after(path: Buffer): void {
    if (!this.active || this.#view.epoch !== this.#epoch) return;
    // a file handed over read again: the kernel dropped its pages; hand everything again
    if (this.#handed.has(path.toString("latin1"))) this.#handed.clear();
    const running = this.#walk;
    if (running !== undefined && !running.ended) {
      running.read.add(path.toString("latin1"));
      return;
    }
    let files: Generator<WalkFile>;
    try {
      files = following(this.#view, this.#paths, Buffer.from(path), { dirs: this.#o.maxDirs });
    } catch {
      return;
    }
    this.#batches++;
    const walk: Walk = {
      files,
      budget: { files: this.#o.batchFiles, bytes: this.#o.batchBytes },
      read: new Set(),
      ended: false,
    };
    this.#walk = walk;
    // slices run between requests, the first once the read that started it is answered
    setImmediate(() => this.#slice(walk));
  }

  #scratchOf(size: number): Buffer {
    if (this.#scratch === undefined || this.#scratch.length < size) {
      this.#scratch = Buffer.allocUnsafeSlow(Math.max(size, SCRATCH_BYTES));
    }
    return this.#scratch.subarray(0, size);
  }

  #slice(walk: Walk): void {
    if (walk !== this.#walk) return;
    walk.ended = true;
    const { files, budget, read } = walk;
    try {
      for (let n = 0; n < SLICE_FILES; n++) {
        if (budget.files <= 0 || budget.bytes <= 0) return;
        const next = files.next();
        if (next.done) return;
        const f = next.value;
        if (f.size > this.#o.maxFileBytes || f.size === 0) continue;
        const key = f.path.toString("latin1");
        if (this.#handed.has(key) || (read.size > 0 && read.delete(key))) continue;
        const data = this.#scratchOf(f.size);
        // not at hand: its read reaches JS, loads it, and starts the next walk from there
        if (this.#view.readCached!(f.ino, 0, data) !== f.size) return;
        this.#holding = true;
        if (!this.#sink!.preload(f.path, data)) return;
        if (this.#handed.size >= MAX_HANDED) this.#handed.clear();
        this.#handed.add(key);
        this.#files++;
        budget.files--;
        budget.bytes -= f.size;
        this.#opened(f.path, f.ino);
      }
    } catch {
      return; // a hint only
    }
    walk.ended = false;
    setImmediate(() => this.#slice(walk));
  }
}

/**
 * The regular files a depth-first walk reaches after `path`, in listing order: the rest of
 * its directory (subdirectories entered where they come), then the rest of each parent.
 */
function* following(
  view: PreloadView,
  paths: WalkPaths,
  path: Buffer,
  budget: { dirs: number },
): Generator<WalkFile> {
  let cur = path;
  for (;;) {
    const cut = cur.lastIndexOf(SLASH);
    if (cut < 0) return;
    const dirPath = cur.subarray(0, cut);
    const list = view.readdir(paths.resolve(cut === 0 ? SLASH_BUF : dirPath));
    const name = cur.subarray(cut + 1);
    const at = list.findIndex((e) => e.name.equals(name));
    if (at < 0) return;
    yield* entriesFrom(view, dirPath, list, at + 1, budget);
    if (cut === 0) return;
    cur = dirPath;
  }
}

function* entriesFrom(
  view: PreloadView,
  dirPath: Buffer,
  list: readonly { name: Buffer; ino: InodeId }[],
  from: number,
  budget: { dirs: number },
): Generator<WalkFile> {
  for (let i = from; i < list.length; i++) {
    const e = list[i]!;
    const a = view.getattr(e.ino);
    if (a === undefined) continue;
    if (a.kind === InodeKind.file) {
      yield { path: Buffer.concat([dirPath, SLASH_BUF, e.name]), ino: e.ino, size: a.size };
    } else if (a.kind === InodeKind.dir && budget.dirs > 0) {
      budget.dirs--;
      const sub = Buffer.concat([dirPath, SLASH_BUF, e.name]);
      yield* entriesFrom(view, sub, view.readdir(e.ino), 0, budget);
    }
  }
}
