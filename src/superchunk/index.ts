/**
 * superchunk/: the on-disk unit. A super-chunk is 2–4 MiB of sub-blocks compressed as
 * one payload, preceded by a header listing each sub-block's SHA-256 and length, and
 * CRC-32s of the header, the raw payload and the stored payload. Immutable once
 * written. The layout is in superchunk-layout.ts and spec/FORMAT.md.
 *
 * - {@link SuperChunkBuilder} (write): add sub-blocks, finalize to file bytes.
 * - {@link decodeHeader} / {@link headerLength} (read the header, e.g. by range).
 * - {@link inflateSuperChunk} (read a whole file, checked and bounded).
 * - {@link entryOffsets} (where each sub-block sits in the raw payload).
 */
export { decodeHeader, headerLength } from "./decode-header.js";
export { encodeHeader, type SuperChunkHeaderInput } from "./encode-header.js";
export { entryOffsets } from "./entry-offsets.js";
export {
  type FinishedSuperChunk,
  SuperChunkBuilder,
  type SuperChunkBuilderOptions,
} from "./superchunk-builder.js";
export { checkExpected, type SuperChunkExpectation } from "./superchunk-expect.js";
export type { SuperChunkEntry, SuperChunkHeader, SuperChunkLocation } from "./superchunk-header.js";
export {
  SUPERCHUNK_ENTRY_BYTES,
  SUPERCHUNK_MAGIC,
  SUPERCHUNK_MAX_ENTRIES,
  SUPERCHUNK_PREFIX_BYTES,
} from "./superchunk-layout.js";
export { type InflatedSuperChunk, inflateSuperChunk } from "./superchunk-reader.js";
