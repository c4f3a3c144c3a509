/**
 * The 64-bit lookup key under which the database indexes a SHA-256 (of a sub-block or of
 * a whole file). The key is a prefix, not an identity: two hashes may share it, so a key
 * match only names candidates, and the full hash decides (see spec/FORMAT.md).
 */
import { assert } from "../errors.js";
import { HASH_BYTES } from "../types.js";

/** Bytes of the hash that form the key. */
export const HASH_KEY_BYTES = 8;

/** The key of a 32-byte SHA-256: its first 8 bytes read as a signed big-endian int64. */
export function hashKey(hash: Uint8Array): bigint {
  assert(hash.length === HASH_BYTES, "hash must be 32 bytes", { len: hash.length });
  const view = new DataView(hash.buffer, hash.byteOffset, HASH_KEY_BYTES);
  return view.getBigInt64(0, false);
}
