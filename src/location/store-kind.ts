/**
 * location/: where a store lives, decided in one place. A *location* is what a user names
 * on a command line: a store directory, an archive (a zip file written by seal, opened by
 * content, not by name), the http(s) URL of an archive, or `s3://bucket/prefix` (a store
 * in an S3 bucket). Its *kind* comes from the URL scheme (the registry below) or, for a
 * local path, from what is there. The rest of location/ opens the store a location names:
 * for reading (store-source.ts, store-view.ts), for writing (store-view.ts), for
 * maintenance (maintain-at.ts), and creates new ones (store-target.ts). No other folder
 * asks what kind a store is; operations get an opened store.
 *
 * This file: the kinds, and the registry that tells them apart.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { isRemoteLocation, looksLikeZipFile } from "../blobstore/archive-source.js";
import { isS3Location } from "../blobstore/s3-location.js";
import { NotFoundError } from "../errors.js";

/**
 * What a store location names: a store directory, an archive file, an archive URL, or a
 * store in an S3 bucket.
 */
export type StoreKind = "dir" | "archive" | "url" | "s3";

/** The kinds recognised by URL scheme, in the order they are tried; a local path otherwise. */
const BY_SCHEME: readonly { readonly kind: StoreKind; matches(location: string): boolean }[] = [
  { kind: "url", matches: isRemoteLocation },
  { kind: "s3", matches: isS3Location },
];

/** The kind a location's scheme names, or undefined for a local path. */
function schemeKindOf(location: string): StoreKind | undefined {
  return BY_SCHEME.find((s) => s.matches(location))?.kind;
}

/** A location as given on a command line, made absolute unless it is a URL. */
export function resolveStoreLocation(location: string): string {
  return schemeKindOf(location) === undefined ? path.resolve(location) : location;
}

/**
 * The kind of store at `location`, by URL scheme or by content (zip magic), not by name.
 * E_NOT_A_STORE for a local path that is missing or neither a directory nor a zip file.
 */
export function storeKindOf(location: string): StoreKind {
  const byScheme = schemeKindOf(location);
  if (byScheme !== undefined) return byScheme;
  let st: fs.Stats;
  try {
    st = fs.statSync(location);
  } catch {
    throw new NotFoundError("E_NOT_A_STORE", `${location}: no such store`, { path: location });
  }
  if (st.isDirectory()) return "dir";
  if (st.isFile() && looksLikeZipFile(location)) return "archive";
  throw new NotFoundError(
    "E_NOT_A_STORE",
    `${location}: not a superchunk store (neither a store directory nor a zip archive)`,
    { path: location },
  );
}

/**
 * The kind of store to create at `dest`, by name: `s3://…` an S3 store, a name ending in
 * .zip an archive (when `archives` is set: pack writes them, init does not), else a
 * directory.
 */
export function newStoreKindOf(dest: string, archives: boolean): "dir" | "archive" | "s3" {
  if (schemeKindOf(dest) === "s3") return "s3";
  return archives && /\.zip$/i.test(dest) ? "archive" : "dir";
}
