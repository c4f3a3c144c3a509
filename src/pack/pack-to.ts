/**
 * pack to wherever the new store goes: location/ makes the target (a store directory,
 * an archive for a name ending in .zip, or an S3 store for `s3://bucket/prefix`), pack
 * fills the directory it is given, the target finishes the store (writes the archive,
 * uploads and commits the S3 store).
 */
import * as path from "node:path";
import {
  type S3UploadOptions,
  storeTargetFor,
  type TargetSummary,
} from "../location/store-target.js";
import { type PackSummary, packTree } from "./pack.js";
import type { PackHooks, PackOptions } from "./pack-options.js";

/** What packTo did: the pack summary, with the target's figures (archive, upload). */
export type PackToSummary = TargetSummary<PackSummary>;

/**
 * Packs `source` (one source, or several: see pack.ts) into a new store at `dest` (a directory, `.zip` archive or
 * `s3://bucket/prefix`; `s3` holds the S3 settings). E_DEST_EXISTS when something is there.
 *
 * @example
 * await packTo("linux-src", "linux.zip", { codec: "zstd" });
 * await packTo("linux-src", "s3://archives/linux", {}, {}, { endpoint: "http://127.0.0.1:7480" });
 */
export function packTo(
  source: string | readonly string[],
  dest: string,
  opts: Partial<PackOptions> = {},
  hooks: PackHooks = {},
  s3: S3UploadOptions = {},
): Promise<PackToSummary> {
  const target = storeTargetFor(dest, {
    purpose: `pack ${(typeof source === "string" ? [source] : source).map((s) => path.resolve(s)).join(" ")}`,
    s3,
    ...(hooks.onProgress === undefined ? {} : { onUpload: hooks.onProgress }),
    signal: hooks.signal,
  });
  return target.build((dir) => packTree(source, dir, opts, hooks));
}
