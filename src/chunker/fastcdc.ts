/**
 * chunker: cuts a byte stream into sub-blocks. Pure, no I/O.
 *
 * Terms: a *cut* is the offset where one sub-block ends and the next begins. In "cdc" mode cuts
 * are content-defined (FastCDC, Xia et al. 2016/2020): a 32-bit gear hash
 * `fp = (fp << 1) + GEAR[byte]` (mod 2^32) rolls over the bytes, so fp at byte i depends only on
 * the 32 bytes ending at i. A sub-block starting at `s` ends after byte i (length L = i + 1 - s)
 * at the first i where:
 * - L <  minBytes: never (only the last 32 of those bytes are hashed, to fill the window);
 * - minBytes <= L < avgBytes: the top log2(avg)+2 bits of fp are zero (harder mask);
 * - avgBytes <= L < maxBytes: the top log2(avg)-2 bits of fp are zero (easier mask);
 * - L = maxBytes: always.
 * The hash restarts at zero for each sub-block, at byte max(s, s + minBytes - 32); so the
 * decision at a candidate depends only on its 32-byte window and its distance from `s`.
 * The data's end always ends the last sub-block. In "fixed" mode every sub-block but the last
 * is avgBytes long.
 */

import { assert } from "../errors.js";
import type { ChunkerParams } from "./chunker-params.js";
import { GEAR } from "./gear-table.js";

/** Normalization level: the harder mask has log2(avg)+NC bits, the easier log2(avg)-NC. */
const NORMALIZATION_LEVEL = 2;

/** Mask of the top `bits` bits of a 32-bit word, as a signed int. */
function topMask(bits: number): number {
  return (-1 << (32 - bits)) | 0;
}

/**
 * Position of the next cut in data[start, end): returns p with start < p <= end.
 * The caller passes at least params.maxBytes bytes after start unless the data ends at `end`
 * (EOF), in which case a result of `end` means "the rest is the last sub-block". Never returns a
 * sub-block shorter than minBytes unless end - start < minBytes, never longer than maxBytes.
 * @example
 * for (let s = 0, p = 0; s < buf.length; s = p) {
 *   p = nextCut(buf, s, buf.length, params);
 *   emit(buf.subarray(s, p));
 * }
 */
export function nextCut(
  data: Uint8Array,
  start: number,
  end: number,
  params: ChunkerParams,
): number {
  const length = data.length;
  assert(0 <= start && start < end && end <= length, "nextCut range", { start, end, length });
  if (params.mode === "fixed") return Math.min(end, start + params.avgBytes);
  const { minBytes, avgBytes, maxBytes } = params;
  if (end - start <= minBytes) return end;
  const limit = Math.min(end, start + maxBytes);
  const normal = Math.min(limit, start + avgBytes);
  const bits = 31 - Math.clz32(avgBytes);
  const maskS = topMask(bits + NORMALIZATION_LEVEL);
  const maskL = topMask(bits - NORMALIZATION_LEVEL);
  // fp at byte i depends only on the hashed bytes among i-31..i, so phase two may re-warm
  // from normal - 32 and still see the fp of one continuous pass.
  const from = Math.max(start, start + minBytes - 32);
  const cut = findCut(data, from, start + minBytes - 1, normal - 1, maskS);
  if (cut >= 0) return cut;
  const late = findCut(data, Math.max(from, normal - 32), normal - 1, limit - 1, maskL);
  return late >= 0 ? late : limit;
}

/**
 * The hot loop. Hashes data[from, test) without testing, then for each i in [test, stop) rolls
 * byte i in and returns i + 1 (a cut after byte i) at the first fp with no bit of `mask` set;
 * -1 when none. Unrolled by 8: measured 2-4x faster in V8 than the plain loop.
 */
function findCut(data: Uint8Array, from: number, test: number, stop: number, mask: number): number {
  const gear = GEAR;
  let fp = 0;
  let i = from;
  for (; i < test; i++) fp = ((fp << 1) + gear[data[i]!]!) | 0;
  for (; i + 7 < stop; i += 8) {
    fp = ((fp << 1) + gear[data[i + 0]!]!) | 0;
    if ((fp & mask) === 0) return i + 1;
    fp = ((fp << 1) + gear[data[i + 1]!]!) | 0;
    if ((fp & mask) === 0) return i + 2;
    fp = ((fp << 1) + gear[data[i + 2]!]!) | 0;
    if ((fp & mask) === 0) return i + 3;
    fp = ((fp << 1) + gear[data[i + 3]!]!) | 0;
    if ((fp & mask) === 0) return i + 4;
    fp = ((fp << 1) + gear[data[i + 4]!]!) | 0;
    if ((fp & mask) === 0) return i + 5;
    fp = ((fp << 1) + gear[data[i + 5]!]!) | 0;
    if ((fp & mask) === 0) return i + 6;
    fp = ((fp << 1) + gear[data[i + 6]!]!) | 0;
    if ((fp & mask) === 0) return i + 7;
    fp = ((fp << 1) + gear[data[i + 7]!]!) | 0;
    if ((fp & mask) === 0) return i + 8;
  }
  for (; i < stop; i++) {
    fp = ((fp << 1) + gear[data[i]!]!) | 0;
    if ((fp & mask) === 0) return i + 1;
  }
  return -1;
}

/**
 * Convenience for tests and small inputs: lengths of all sub-blocks of a whole buffer.
 * @example
 * cutAll(new Uint8Array(300_000), chunkerParams()); // [131072, 131072, 37856]
 */
export function cutAll(data: Uint8Array, params: ChunkerParams): number[] {
  const lengths: number[] = [];
  let s = 0;
  while (s < data.length) {
    const p = nextCut(data, s, data.length, params);
    lengths.push(p - s);
    s = p;
  }
  return lengths;
}
