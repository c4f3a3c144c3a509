/**
 * Reads a file's bytes as its handles see them: staged (unsaved) writes over the committed
 * content. Committed bytes come through the reader's one read path (ContentReader: extent
 * search, holes, working set, the writer's open super-chunks read raw); anything past the
 * committed end or a truncation reads as zeros.
 */
import type { ContentId } from "../meta/records.js";
import type { ContentReader } from "../reader/content-reader.js";
import type { StagingFile } from "./staging-file.js";

/** The committed side of a file: what it holds, and its size. */
export interface CommittedFile {
  readonly content: ContentId | null;
  readonly size: number;
}

/** Reads files, committed and staged. */
export class StagedReader {
  constructor(private readonly content: ContentReader) {}

  /**
   * Reads up to `target.length` bytes at `offset` into `target`; answers the count (short
   * only at the end of the file). Synchronous when no load is needed.
   */
  read(
    base: CommittedFile,
    staging: StagingFile | undefined,
    offset: number,
    target: Buffer,
  ): number | Promise<number> {
    const size = staging?.size ?? base.size;
    const end = Math.min(size, offset + target.length);
    if (offset >= end) return 0;
    if (staging === undefined) return this.content.readInto(this.#table(base), offset, target);
    const waits: Promise<void>[] = [];
    for (const s of staging.segments(offset, end)) {
      const at = s.start - offset;
      const n = s.end - s.start;
      if (s.inSet) staging.readStaged(s.start, n, target, at);
      else {
        const fromBase = Math.max(0, Math.min(s.end, staging.baseLimit) - s.start);
        const w = this.#readCommitted(base, s.start, target.subarray(at, at + fromBase));
        if (typeof w !== "number") waits.push(w.then(() => {}));
        target.fill(0, at + fromBase, at + n);
      }
    }
    const count = end - offset;
    return waits.length === 0 ? count : Promise.all(waits).then(() => count);
  }

  /** Committed bytes at `offset` filling `target`; zeros past the content's end. */
  #readCommitted(base: CommittedFile, offset: number, target: Buffer): number | Promise<number> {
    if (target.length === 0) return 0;
    const r = this.content.readInto(this.#table(base), offset, target);
    if (typeof r === "number") return zeroFrom(target, r);
    return r.then((n) => zeroFrom(target, n));
  }

  #table(base: CommittedFile) {
    return this.content.table(base.content, base.size);
  }
}

function zeroFrom(target: Buffer, n: number): number {
  target.fill(0, n);
  return n;
}
