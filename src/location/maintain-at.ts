/**
 * Opening the store at a location for maintenance (repack, fsck repairs). A store
 * directory is locked and opened in place (maintained-store.ts). An S3 store is checked
 * out into a temporary work directory under the writer's lease, maintained there like a
 * directory (its super-chunks read from and written to the bucket), and published as the
 * next generation when the step changed it (s3store/s3-maintain.ts). Archives are
 * read-only: E_UNSUPPORTED.
 */

import type { BlobStore } from "../blobstore/blob-store.js";
import { UnsupportedError } from "../errors.js";
import type { MetaDb } from "../meta/meta-db.js";
import type { S3MaintainOptions } from "../s3store/s3-maintain.js";
import { compressCopyPart } from "../store/meta-copy.js";
import { commitMetaCopy } from "../store/meta-copy-write.js";
import { openStore } from "../store/store-layout.js";
import { type MaintainedStore, openForMaintenance } from "./maintained-store.js";
import { resolveStoreLocation, storeKindOf } from "./store-kind.js";
import { openStoreSource } from "./store-source.js";

export type { S3MaintainOptions } from "../s3store/s3-maintain.js";
export type { MaintainedStore } from "./maintained-store.js";

/** Options of maintainStoreAt and previewStoreAt. */
export interface MaintainAtOptions {
  /** what the maintenance is, for the lock and the lease, e.g. "repack" */
  purpose: string;
  /** pack the database at close even when it was plain (maintained-store.ts) */
  packAtClose?: boolean;
  /** for s3:// stores: endpoint, region, credentials, work directory */
  s3?: S3MaintainOptions | undefined;
  /** why an archive cannot be maintained, after "<location>: " (a default names the purpose) */
  archiveRefusal?: string;
}

/**
 * Runs `step` on the store at `location` opened for maintenance writes, and answers its
 * result. `changed` tells from the result whether the store changed (an S3 store then
 * publishes a new generation). E_NOT_A_STORE when there is no store, E_UNSUPPORTED for an
 * archive, E_STORE_LOCKED while another writer holds the store.
 *
 * @example
 * const n = await maintainStoreAt("/srv/store", { purpose: "fix" }, async (ms) => 0, (n) => n > 0);
 */
export async function maintainStoreAt<T>(
  location: string,
  opts: MaintainAtOptions,
  step: (ms: MaintainedStore) => Promise<T>,
  changed: (result: T) => boolean,
): Promise<T> {
  const kind = maintainableKind(location, opts);
  const packAtClose = opts.packAtClose ?? false;
  if (kind === "dir") {
    return runStep(openForMaintenance(location, opts.purpose, packAtClose), step, changed);
  }
  const { maintainS3 } = await import("../s3store/s3-maintain.js");
  const s3 = opts.s3 ?? {};
  const { result } = await maintainS3(location, opts.purpose, s3, async (dir, blobs) => {
    const ms = openForMaintenance(dir, opts.purpose, packAtClose, blobs);
    const r = await runStep(ms, step, changed);
    return { result: r, changed: changed(r) };
  });
  return result;
}

/**
 * Runs `fn` on the database and super-chunks of the store at `location`, opened read-only,
 * refusing the stores maintainStoreAt refuses (what a dry run of a maintenance would see; no
 * lock, no lease).
 */
export async function previewStoreAt<T>(
  location: string,
  opts: MaintainAtOptions,
  fn: (meta: MetaDb, blobs: BlobStore) => T | Promise<T>,
): Promise<T> {
  if (maintainableKind(location, opts) === "dir") {
    const { meta, blobs } = openStore(location, { readonly: true });
    try {
      return await fn(meta, blobs);
    } finally {
      meta.close();
    }
  }
  const src = await openStoreSource(location, { readonly: true, s3: opts.s3 ?? {} });
  try {
    return await fn(src.meta, src.blobs);
  } finally {
    await src.close();
  }
}

/**
 * Runs `step`; when it changed the store, commits a new metadata copy (store/meta-copy-write:
 * its super-chunks are written, into the bucket for an S3 store, before the database is
 * packed or published, and older copies deleted after) before closing.
 */
async function runStep<T>(
  ms: MaintainedStore,
  step: (ms: MaintainedStore) => Promise<T>,
  changed: (result: T) => boolean,
) {
  try {
    const result = await step(ms);
    if (changed(result)) await commitMetaCopy(ms.meta, ms.blobs, compressCopyPart);
    return result;
  } finally {
    ms.close();
  }
}

/** A store directory or an S3 store; E_UNSUPPORTED for an archive. */
function maintainableKind(location: string, opts: MaintainAtOptions): "dir" | "s3" {
  const resolved = resolveStoreLocation(location);
  const kind = storeKindOf(resolved);
  if (kind === "dir" || kind === "s3") return kind;
  const why =
    opts.archiveRefusal ??
    `an archive can only be read (${opts.purpose} needs a store directory or an S3 store)`;
  throw new UnsupportedError("E_UNSUPPORTED", `${resolved}: ${why}`, { path: resolved, kind });
}
