/**
 * A store's id: a random UUID written in the `meta` table (`store_id`) when the database
 * is created, kept by every later write, repair and copy, so reports and scripts can tell
 * stores apart whatever path or URL they are reached by. Stores created before the key
 * existed have none and read as before.
 */
import type { MetaDb } from "../meta/meta-db.js";
import { MetaKey } from "../meta/records.js";

/** The store's id, or null for a store written before ids existed. */
export function storeIdOf(meta: MetaDb): string | null {
  const v = meta.getMeta(MetaKey.storeId);
  return v === undefined || v === "" ? null : v;
}
