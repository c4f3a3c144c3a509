/**
 * Confirms dedup candidates against the full hash: the sub-block index holds 64-bit hash
 * keys only, so a candidate is used only once its super-chunk shows the same SHA-256 (a
 * frozen super-chunk's header, read alone through the reader's SuperChunkLoader; for an open
 * one, the hash it was appended with, or its bytes hashed again after a restart). Headers
 * are cached by super-chunk; a deleted one is forgotten.
 */
import { createHash } from "node:crypto";
import type { SubBlockRecord } from "../meta/records.js";
import { entryOffsets } from "../superchunk/entry-offsets.js";
import type { SuperChunkHeader } from "../superchunk/superchunk-header.js";
import type { OpenSuperChunks } from "./open-superchunks.js";

/** Entries of a frozen super-chunk's header: offset in the raw payload → full hash. */
type HeaderIndex = Map<number, Buffer>;
const HEADER_CACHE_ENTRIES = 256;

/** Checks dedup candidates by full hash. */
export class DedupCheck {
  readonly #headers = new Map<number, HeaderIndex>();

  /**
   * @param open the writer's open super-chunks
   * @param loadHeader reads a frozen super-chunk's header (ContentReader.loadHeader)
   */
  constructor(
    private readonly open: OpenSuperChunks,
    private readonly loadHeader: (id: number) => Promise<SuperChunkHeader>,
  ) {}

  /** True when candidate `c` really holds the sub-block whose SHA-256 is `hash`. */
  confirm(c: SubBlockRecord, hash: Buffer): boolean | Promise<boolean> {
    if (this.open.isOpen(c.superChunk)) {
      const known = this.open.knownHash(c.superChunk, c.offset);
      if (known !== undefined) return known.equals(hash);
      const buf = Buffer.allocUnsafe(c.length);
      this.open.read(c.superChunk, c.offset, c.length, buf, 0);
      return createHash("sha256").update(buf).digest().equals(hash);
    }
    const known = this.#headers.get(c.superChunk);
    if (known !== undefined) return known.get(c.offset)?.equals(hash) === true;
    return this.#header(c.superChunk).then((h) => h.get(c.offset)?.equals(hash) === true);
  }

  /** Drops what is cached about a deleted super-chunk. */
  forget(sc: number): void {
    this.#headers.delete(sc);
  }

  clear(): void {
    this.#headers.clear();
  }

  async #header(sc: number): Promise<HeaderIndex> {
    const header = await this.loadHeader(sc);
    const offsets = entryOffsets(header);
    const h: HeaderIndex = new Map(header.entries.map((e, i) => [offsets[i]!, e.hash]));
    if (this.#headers.size >= HEADER_CACHE_ENTRIES) this.#headers.clear();
    this.#headers.set(sc, h);
    return h;
  }
}
