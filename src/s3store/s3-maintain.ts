/**
 * Maintenance of an S3 store (repack, fsck repairs): under the writer's lease, the committed
 * generation's database is checked out into a temporary work directory and the caller's
 * step (the same code as for a store directory) runs on it, its super-chunks read from and written to the
 * bucket (new ids only) and its deletes held back. When it changed anything, the packed
 * database is published as the next generation, and only then are the objects it no longer
 * names deleted. A crash at any point leaves the committed generation whole (plus objects
 * nothing names, removed by the next writer's recovery or `fsck --fix`).
 *
 * A read-write mount that died with changes it had not published yet left them in its work
 * directory; they are published first (by opening and closing that working copy), so
 * maintenance never discards them.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { DeferredDeleteBlobStore } from "../blobstore/deferred-deletes.js";
import type { S3Options } from "../blobstore/s3-client.js";
import { PACKED_DB_SUFFIX } from "../store/packed-db.js";
import { DB_FILE } from "../store/store-layout.js";
import { defaultWorkDir, S3Checkout } from "./s3-checkout.js";
import { openS3Writable } from "./s3-writable.js";

/** S3 settings of maintenance commands. */
export interface S3MaintainOptions extends S3Options {
  /** the work directory read-write mounts of this store use (default: theirs) */
  mountWorkDir?: string;
  /** where the temporary work directory goes; default os.tmpdir() */
  tmpDir?: string;
  log?: (line: string) => void;
}

/** What a maintenance step reports: its result, and whether it changed the store. */
export interface S3MaintainStep<T> {
  readonly result: T;
  readonly changed: boolean;
}

/**
 * Runs `step` on a fresh working copy of the S3 store at `location` and publishes the
 * outcome when it changed the store. Answers the step's result and the new generation.
 */
export async function maintainS3<T>(
  location: string,
  purpose: string,
  s3: S3MaintainOptions,
  step: (dir: string, blobs: DeferredDeleteBlobStore) => Promise<S3MaintainStep<T>>,
): Promise<{ result: T; generation: number | undefined }> {
  await publishLeftovers(location, s3);
  const tmp = fs.mkdtempSync(path.join(s3.tmpDir ?? os.tmpdir(), "superchunk-s3-work-"));
  let checkout: S3Checkout | undefined;
  try {
    checkout = await S3Checkout.open(location, { ...s3, purpose, workDir: tmp });
    const { result, changed } = await step(checkout.dir, checkout.blobs);
    if (!changed) return { result, generation: undefined };
    const packed = fs.readFileSync(path.join(checkout.dir, `${DB_FILE}${PACKED_DB_SUFFIX}`));
    const commit = await checkout.publish(packed);
    s3.log?.(
      `${checkout.location}: published generation ${commit.generation} (${commit.deleted} objects deleted)`,
    );
    return { result, generation: commit.generation };
  } finally {
    await checkout?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Publishes what a read-write mount that died left unpublished in its work directory. */
async function publishLeftovers(location: string, s3: S3MaintainOptions): Promise<void> {
  const probe = await import("../blobstore/s3-blob-store.js").then((m) =>
    m.S3BlobStore.open(location, s3),
  );
  const dir =
    s3.mountWorkDir ?? defaultWorkDir(probe.location, probe.settings.endpointName, s3.env);
  await probe.close();
  if (!fs.existsSync(dir)) return;
  const w = await openS3Writable(location, {
    ...s3,
    purpose: "publishing leftovers",
    workDir: dir,
  });
  if (!w.checkout.resumed) {
    await w.store.close();
    return;
  }
  s3.log?.(`${location}: publishing the changes a read-write mount left in ${dir}`);
  await w.store.close();
}
