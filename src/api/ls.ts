/**
 * `ls(store, path, options)`: the entries of a store's directory in one call (opens the
 * store read-only, lists, closes). For many calls on one store, `openStore` keeps it open.
 */
import { cleanupAfter } from "../errors.js";
import type { Entry } from "./entry.js";
import { type LsOptions, type OpenStoreOptions, openStore } from "./store.js";

/**
 * The children of the directory `path` (default the root) of the store at `store`, sorted
 * by name; all its descendants, depth first, with `recursive`; the entry itself when
 * `path` is not a directory. Rejects with E_NOT_A_STORE, E_NOT_FOUND (no such path).
 *
 * @example
 * for (const e of await ls("photos.sc", "2024", { recursive: true })) console.log(e.path);
 */
export async function ls(
  store: string,
  path = "",
  options: LsOptions & OpenStoreOptions = {},
): Promise<Entry[]> {
  const s = await openStore(store, options);
  return cleanupAfter(
    () => s.ls(path, options),
    () => s.close(),
  );
}
