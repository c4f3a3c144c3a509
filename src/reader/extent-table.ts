/**
 * Extent tables: a content's extents resolved to super-chunk locations, with their start
 * offsets in a typed array for the binary search (meta/extent-search.ts), cached by
 * content id. A content never changes once committed; a deleted one is forgotten, since
 * its id can be reused. The size asked for must be the size the extents cover, so no
 * read ever runs past the data (E_CORRUPT naming the store otherwise).
 */
import type { MetaDb } from "../meta/meta-db.js";
import type { ContentId, ResolvedExtent } from "../meta/records.js";
import { corruptRow } from "../meta/validate-records.js";

/** Extents of one content with their start offsets, and the content's size. */
export interface ExtentTable {
  readonly starts: Float64Array;
  readonly extents: readonly ResolvedExtent[];
  readonly size: number;
}

/** The table of an empty file (no content). */
export const EMPTY_TABLE: ExtentTable = { starts: new Float64Array(0), extents: [], size: 0 };

const DEFAULT_ENTRIES = 4096;

/** A bounded cache of extent tables by content id (emptied whole when full). */
export class ExtentTables {
  readonly #tables = new Map<number, ExtentTable>();

  /** @param maxEntries tables kept, at most; default 4096 */
  constructor(
    private meta: MetaDb,
    private readonly maxEntries = DEFAULT_ENTRIES,
  ) {}

  /**
   * The table of `content`, resolved once; E_CORRUPT unless its extents cover exactly
   * `size` bytes (an empty file, `content` null, must have size 0).
   */
  get(content: ContentId | null, size: number): ExtentTable {
    let t = content === null ? EMPTY_TABLE : this.#tables.get(content);
    if (t === undefined && content !== null) {
      const extents = this.meta.resolveExtents(content);
      const starts = Float64Array.from(extents, (e) => e.fileOffset);
      const last = extents[extents.length - 1];
      t = { starts, extents, size: last === undefined ? 0 : last.fileOffset + last.length };
      if (this.#tables.size >= this.maxEntries) this.#tables.clear();
      this.#tables.set(content, t);
    }
    if (t!.size !== size) {
      const problem = `a file of ${size} bytes whose content covers ${t!.size}`;
      throw corruptRow(this.meta.path, `content ${content}`, problem, { content, size });
    }
    return t!;
  }

  /** Drops the table of a deleted content (content ids can be reused). */
  forget(content: ContentId): void {
    this.#tables.delete(content);
  }

  /** Resolves from `meta` from now on, with every table dropped. */
  reset(meta: MetaDb): void {
    this.meta = meta;
    this.#tables.clear();
  }
}
