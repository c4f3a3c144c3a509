/**
 * The *extent digest* (spec/FORMAT.md, contents.hkey): what a content written in place by
 * a read-write store is keyed by, instead of the SHA-256 of its bytes, so a commit costs
 * O(extents). Readers that check a content's bytes accept either key.
 */
import { createHash } from "node:crypto";
import type { Extent } from "../types.js";
import { hashKey } from "./hash-key.js";

/**
 * The SHA-256 of an extent list, each extent as 8 bytes of sub-block id (0 for a hole) and 8
 * of length, big-endian. Holes and unchanged extents cost nothing per byte.
 */
export function extentDigest(extents: readonly Extent[]): Buffer {
  const h = createHash("sha256");
  const rec = Buffer.alloc(16);
  for (const e of extents) {
    rec.writeBigUInt64BE(BigInt(e.subBlock ?? 0), 0);
    rec.writeBigUInt64BE(BigInt(e.length), 8);
    h.update(rec);
  }
  return h.digest();
}

/** True when `key` is a content's key for these bytes' SHA-256 or for its extent list. */
export function contentKeyMatches(
  key: bigint,
  bytesSha256: Uint8Array,
  extents: () => readonly Extent[],
): boolean {
  return hashKey(bytesSha256) === key || hashKey(extentDigest(extents())) === key;
}
