/**
 * One window of a commit's bytes cut into sub-blocks: FastCDC cuts, the SHA-256 of each
 * sub-block, and which are all zeros (they become holes, and are not hashed); optionally
 * the bytes cut also feed a whole-file hash. Pure, no I/O:
 * run inline on the serving thread for small windows and by the commit worker
 * (commit-worker.ts) for large ones.
 */
import { createHash, type Hash } from "node:crypto";
import type { ChunkerParams } from "../chunker/chunker-params.js";
import { nextCut } from "../chunker/fastcdc.js";
import { HASH_BYTES } from "../types.js";

/** Sub-blocks cut from the front of a window, as flat arrays. */
export interface WindowCuts {
  /** bytes of the window cut (the rest waits for more data, unless the run ended) */
  readonly consumed: number;
  readonly lengths: Uint32Array;
  /** count × 32 bytes of SHA-256 (zeros for a zero sub-block) */
  readonly hashes: Uint8Array;
  /** 1 where the sub-block is all zeros */
  readonly zero: Uint8Array;
  /** bytes hashed (those of the non-zero sub-blocks) */
  readonly hashedBytes: number;
}

/**
 * Cuts `data` from its start. With `last` the data ends the run (its tail is the run's
 * last sub-block); otherwise cutting stops once fewer than maxBytes remain, so a later
 * window (starting with the rest) sees every cut a single pass would.
 */
export function cutWindow(
  data: Uint8Array,
  params: ChunkerParams,
  last: boolean,
  whole?: Hash,
): WindowCuts {
  const cuts: number[] = [];
  let pos = 0;
  while (pos < data.length && (last || data.length - pos >= params.maxBytes)) {
    const cut = nextCut(data, pos, data.length, params);
    cuts.push(cut - pos);
    pos = cut;
  }
  whole?.update(data.subarray(0, pos));
  const lengths = Uint32Array.from(cuts);
  const hashes = new Uint8Array(cuts.length * HASH_BYTES);
  const zero = new Uint8Array(cuts.length);
  let at = 0;
  let hashedBytes = 0;
  for (let i = 0; i < cuts.length; i++) {
    const piece = data.subarray(at, at + cuts[i]!);
    at += cuts[i]!;
    if (isZero(piece)) {
      zero[i] = 1;
      continue;
    }
    hashes.set(createHash("sha256").update(piece).digest(), i * HASH_BYTES);
    hashedBytes += piece.length;
  }
  return { consumed: pos, lengths, hashes, zero, hashedBytes };
}

let zeros = new Uint8Array(0);

/** True when every byte is zero (one memcmp against a zero buffer). */
export function isZero(b: Uint8Array): boolean {
  if (zeros.length < b.length) zeros = new Uint8Array(b.length);
  return Buffer.from(b.buffer, b.byteOffset, b.length).equals(zeros.subarray(0, b.length));
}
