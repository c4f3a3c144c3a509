/**
 * Extent tables: a content's extents resolved to super-chunk locations, with their start
 * offsets in a typed array for the binary search (meta/extent-search.ts), cached by
 * content id. A content never changes once committed; a deleted one is forgotten, since
 * its id can be reused.
 */
import type { MetaDb } from "../meta/meta-db.js";
import type { ContentId, ResolvedExtent } from "../meta/records.js";

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

  /** The table of `content` (of `size` bytes), resolved once. */
  get(content: ContentId | null, size: number): ExtentTable {
    if (content === null) return EMPTY_TABLE;
    let t = this.#tables.get(content);
    if (t === undefined) {
      const extents = this.meta.resolveExtents(content);
      const starts = Float64Array.from(extents, (e) => e.fileOffset);
      t = { starts, extents, size };
      if (this.#tables.size >= this.maxEntries) this.#tables.clear();
      this.#tables.set(content, t);
    }
    return t;
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
