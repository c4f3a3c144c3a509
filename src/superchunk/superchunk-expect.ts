/**
 * What the metadata says a super-chunk file is, and the check that a decoded header agrees
 * with it (spec/FORMAT.md, super-chunk readers' rule 9a). A file found under a super-chunk's
 * name is the one the database means only when its codec, raw bytes, length and entry count
 * all match the row that named it: a file swapped with another, or copied over one, fails
 * here before its payload is inflated.
 */
import type { SuperChunkHeader, SuperChunkLocation } from "./superchunk-header.js";
import { superChunkCorrupt } from "./superchunk-header.js";

/** The identity of a super-chunk file as its metadata row records it (a `superchunks` row). */
export interface SuperChunkExpectation {
  /** codec name of the payload ("none" in the header is accepted for any: a writer's fallback) */
  readonly codec: string;
  /** length of the raw payload */
  readonly rawBytes: number;
  /** length of the whole file: header plus stored payload */
  readonly storedBytes: number;
  /** number of entries in the header */
  readonly subBlocks: number;
}

/**
 * Throws E_SUPERCHUNK_CORRUPT naming the super-chunk and every field that disagrees when
 * header `h` is not the file `want` describes. The file's length is judged from the header
 * (`header bytes + stored bytes`); readers of the whole file also check the file against
 * the header (rule 10).
 */
export function checkExpected(
  h: SuperChunkHeader,
  want: SuperChunkExpectation,
  where: SuperChunkLocation | undefined,
): void {
  const diffs: string[] = [];
  if (h.codec !== want.codec && h.codec !== "none") {
    diffs.push(`codec ${h.codec}, row says ${want.codec}`);
  }
  if (h.rawBytes !== want.rawBytes)
    diffs.push(`raw bytes ${h.rawBytes}, row says ${want.rawBytes}`);
  const fileBytes = h.headerBytes + h.storedBytes;
  if (fileBytes !== want.storedBytes) {
    diffs.push(`file bytes ${fileBytes}, row says ${want.storedBytes}`);
  }
  if (h.entries.length !== want.subBlocks) {
    diffs.push(`${h.entries.length} sub-blocks, row says ${want.subBlocks}`);
  }
  if (diffs.length === 0) return;
  throw superChunkCorrupt(
    where,
    0,
    `not the super-chunk its database row describes (wrong or swapped file): header has ${diffs.join("; ")}`,
  );
}
