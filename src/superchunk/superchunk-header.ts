/**
 * The decoded form of a super-chunk header, and where a super-chunk lives (carried by
 * every error about it).
 */
import type { CodecName } from "../codec/codec.js";
import { CorruptError } from "../errors.js";
import type { SubBlockHash } from "../types.js";

/** One sub-block listed in a super-chunk, in payload order. */
export interface SuperChunkEntry {
  /** SHA-256 of the sub-block's bytes */
  hash: SubBlockHash;
  /** length in bytes, at least 1 */
  length: number;
}

/** Everything a super-chunk header says. */
export interface SuperChunkHeader {
  /** format version the file was written with */
  version: number;
  /** codec of the stored payload */
  codec: CodecName;
  /** length of the inflated payload: the sum of the entry lengths */
  rawBytes: number;
  /** length of the stored payload that follows the header */
  storedBytes: number;
  /** CRC-32 (ISO-HDLC, as zlib) of the raw payload */
  rawCrc: number;
  /** CRC-32 of the stored payload */
  storedCrc: number;
  /** the sub-blocks, in payload order */
  entries: SuperChunkEntry[];
  /** length of the header: prefix plus table; the payload starts here */
  headerBytes: number;
}

/** Where a super-chunk lives, for error messages and `data`. */
export interface SuperChunkLocation {
  superChunkId?: number;
  path?: string;
}

/** A CorruptError E_SUPERCHUNK_CORRUPT naming the super-chunk and the byte offset. */
export function superChunkCorrupt(
  where: SuperChunkLocation | undefined,
  offset: number,
  detail: string,
  cause?: unknown,
): CorruptError {
  const name =
    where?.path ??
    (where?.superChunkId === undefined ? "super-chunk" : `super-chunk ${where.superChunkId}`);
  return new CorruptError(
    "E_SUPERCHUNK_CORRUPT",
    `${name}: ${detail} (offset ${offset})`,
    { superChunkId: where?.superChunkId, path: where?.path, offset },
    cause,
  );
}
