/**
 * Open files and their handles. Every inode with at least one handle has one OpenFile:
 * its staging (unflushed writes, created on the first change) and the times those
 * writes set. A handle is a number the caller passes back to read, write, flush and
 * release; it carries the open flags.
 */
import { UsageError } from "../errors.js";
import type { InodeId } from "../types.js";
import type { StagingFile } from "./staging-file.js";

/** Access mode and flags of an open handle (from open(2) flags). */
export interface OpenMode {
  readonly read: boolean;
  readonly write: boolean;
  readonly append: boolean;
}

/** Decodes open(2) flags (O_ACCMODE, O_APPEND; O_TRUNC is applied by open itself). */
export function openModeOf(flags: number): OpenMode {
  const acc = flags & 3;
  return { read: acc !== 1, write: acc !== 0, append: (flags & 0o2000) !== 0 };
}

/** The per-inode state shared by all handles of one file. */
export class OpenFile {
  handles = 0;
  staging: StagingFile | undefined;
  /** times set by writes not yet committed (mtime undefined once utimens overrode it) */
  pendingMtime: bigint | undefined;
  pendingCtime: bigint | undefined;
  /** a commit is needed: something was written or truncated since the last one */
  dirty = false;
  /** bumped by every change, so a commit knows whether changes came in while it ran */
  gen = 0;

  constructor(readonly ino: InodeId) {}
}

interface Handle {
  readonly file: OpenFile;
  readonly mode: OpenMode;
}

/** Handle numbers to open files. */
export class HandleTable {
  readonly #handles = new Map<number, Handle>();
  readonly #files = new Map<number, OpenFile>();
  #next = 1;

  /** The open file of `ino`, if any handle is open on it. */
  file(ino: InodeId): OpenFile | undefined {
    return this.#files.get(ino);
  }

  /** Every open file. */
  files(): IterableIterator<OpenFile> {
    return this.#files.values();
  }

  /** Opens a handle on `ino`; returns its number. */
  open(ino: InodeId, mode: OpenMode): number {
    let f = this.#files.get(ino);
    if (f === undefined) {
      f = new OpenFile(ino);
      this.#files.set(ino, f);
    }
    f.handles++;
    const fh = this.#next++;
    this.#handles.set(fh, { file: f, mode });
    return fh;
  }

  /** The handle `fh`; E_BAD_HANDLE if unknown (or lacking the access asked). */
  get(fh: number, need?: "read" | "write"): Handle {
    const h = this.#handles.get(fh);
    if (h === undefined) throw new UsageError("E_BAD_HANDLE", `no open handle ${fh}`, { fh });
    if (need !== undefined && !h.mode[need]) {
      throw new UsageError("E_BAD_HANDLE", `handle ${fh} is not open for ${need}`, { fh });
    }
    return h;
  }

  /** Closes `fh`; returns its file and whether it was the file's last handle. */
  close(fh: number): { file: OpenFile; last: boolean } {
    const { file } = this.get(fh);
    this.#handles.delete(fh);
    file.handles--;
    const last = file.handles === 0;
    if (last) this.#files.delete(file.ino);
    return { file, last };
  }

  /** True when `fh` is the only handle left on its file. */
  isLast(fh: number): boolean {
    return this.get(fh).file.handles === 1;
  }
}
