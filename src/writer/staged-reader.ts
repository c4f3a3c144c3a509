/**
 * Reads a file's bytes as its handles see them: staged writes over the committed
 * content, committed bytes resolved through the extent list to sub-blocks (holes and
 * anything past the committed end or a truncation read as zeros).
 */

import type { MetaDb } from "../meta/meta-db.js";
import type { ContentId, ResolvedExtent } from "../meta/records.js";
import { findExtent } from "../reader/store-reader.js";
import type { BlockSource } from "./block-source.js";
import type { StagingFile } from "./staging-file.js";

interface ExtentTable {
  readonly starts: Float64Array;
  readonly extents: readonly ResolvedExtent[];
}

const TABLE_CACHE_ENTRIES = 1024;

/** The committed side of a file: what it holds, and its size. */
export interface CommittedFile {
  readonly content: ContentId | null;
  readonly size: number;
}

/** Reads files, committed and staged. */
export class ContentReader {
  readonly #tables = new Map<number, ExtentTable>();

  constructor(
    private readonly meta: MetaDb,
    private readonly blocks: BlockSource,
  ) {}

  /** Forgets the cached extents of a deleted content (content ids can be reused). */
  forget(content: ContentId): void {
    this.#tables.delete(content);
  }

  /**
   * Reads up to `target.length` bytes at `offset` into `target`; resolves with the count
   * (short only at the end of the file).
   */
  async read(
    base: CommittedFile,
    staging: StagingFile | undefined,
    offset: number,
    target: Buffer,
  ): Promise<number> {
    const size = staging?.size ?? base.size;
    const end = Math.min(size, offset + target.length);
    if (offset >= end) return 0;
    if (staging === undefined) {
      await this.readCommitted(base, offset, end - offset, target, 0);
      return end - offset;
    }
    const waits: Promise<void>[] = [];
    for (const s of staging.segments(offset, end)) {
      const at = s.start - offset;
      const n = s.end - s.start;
      if (s.inSet) staging.readStaged(s.start, n, target, at);
      else {
        const fromBase = Math.max(0, Math.min(s.end, staging.baseLimit) - s.start);
        if (fromBase > 0) waits.push(this.readCommitted(base, s.start, fromBase, target, at));
        target.fill(0, at + fromBase, at + n);
      }
    }
    await Promise.all(waits);
    return end - offset;
  }

  /** Committed bytes [offset, offset+n) into target at `at`; zeros past the content's end. */
  async readCommitted(
    base: CommittedFile,
    offset: number,
    n: number,
    target: Buffer,
    at: number,
  ): Promise<void> {
    const avail = base.content === null ? 0 : Math.max(0, Math.min(n, base.size - offset));
    target.fill(0, at + avail, at + n);
    if (avail === 0 || base.content === null) return;
    const t = this.#table(base.content);
    const waits: Promise<void>[] = [];
    let i = findExtent(t.starts, offset);
    for (let pos = offset; pos < offset + avail; i++) {
      const ext = t.extents[i]!;
      const from = pos - ext.fileOffset;
      const k = Math.min(ext.length - from, offset + avail - pos);
      const to = at + (pos - offset);
      if (ext.superChunk === null) target.fill(0, to, to + k);
      else {
        const w = this.blocks.copy(ext.superChunk, ext.offset + from, k, target, to);
        if (w !== undefined) waits.push(w);
      }
      pos += k;
    }
    await Promise.all(waits);
  }

  #table(content: ContentId): ExtentTable {
    let t = this.#tables.get(content);
    if (t === undefined) {
      const extents = this.meta.resolveExtents(content);
      t = { starts: Float64Array.from(extents, (e) => e.fileOffset), extents };
      if (this.#tables.size >= TABLE_CACHE_ENTRIES) this.#tables.clear();
      this.#tables.set(content, t);
    }
    return t;
  }
}
