/**
 * A super-chunk's header read alone, without its payload, through a read of its file's
 * first bytes (a ranged blob read, a file descriptor): one read when the header fits the
 * first guess, two for a long header.
 */
import { decodeHeader, headerLength } from "./decode-header.js";
import type { SuperChunkHeader, SuperChunkLocation } from "./superchunk-header.js";

/** The first read: most headers (a few hundred entries) fit in it. */
export const HEADER_GUESS_BYTES = 64 * 1024;

/**
 * Decodes the header of the file `readFirst` reads: `readFirst(n)` answers the file's first
 * `n` bytes (fewer when the file is shorter).
 */
export async function readHeader(
  readFirst: (length: number) => Buffer | Promise<Buffer>,
  where?: SuperChunkLocation,
): Promise<SuperChunkHeader> {
  const first = await readFirst(HEADER_GUESS_BYTES);
  const len = headerLength(first, where);
  const bytes = len <= first.length ? first : await readFirst(len);
  return decodeHeader(bytes.subarray(0, len), where);
}
