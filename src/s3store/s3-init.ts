/**
 * Creating a store in an S3 bucket: the first generation of a new store (pack to S3,
 * `init s3://…`) is committed under the writer's lease, after checking that no store is
 * committed there yet. `init` commits an empty store (no super-chunk, a root directory),
 * to be filled through a read-write mount.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { S3BlobStore } from "../blobstore/s3-blob-store.js";
import type { S3Options } from "../blobstore/s3-client.js";
import { UsageError } from "../errors.js";
import { packDatabaseFile } from "../store/packed-db.js";
import {
  type InitOptions,
  type InitRoot,
  type InitSummary,
  initStore,
} from "../store/store-init.js";
import { DB_FILE } from "../store/store-layout.js";
import { commitGeneration } from "./s3-commit.js";
import { acquireS3Lease, type S3Lease, type S3LeaseOptions } from "./s3-lease.js";
import { readPointer } from "./s3-store.js";

/** S3 settings of a command creating a store. */
export interface NewS3StoreOptions extends S3Options {
  /** the writer's lease */
  lease?: S3LeaseOptions;
  /** directory for temporary local files; default os.tmpdir() */
  tmpDir?: string;
}

/**
 * Runs `fn` with the lease of a new store at `location`: the bucket is created when
 * missing; E_DEST_EXISTS when a store is committed there already, E_STORE_LOCKED when
 * another writer holds the lease. The lease is released afterwards, whatever happens.
 */
export async function withNewS3Store<T>(
  location: string,
  purpose: string,
  s3: NewS3StoreOptions,
  fn: (blobs: S3BlobStore, lease: S3Lease) => Promise<T>,
): Promise<T> {
  const blobs = S3BlobStore.open(location, s3);
  let lease: S3Lease | undefined;
  try {
    await blobs.ensureBucket();
    lease = await acquireS3Lease(blobs, purpose, s3.lease);
    if ((await readPointer(blobs)) !== undefined) {
      throw new UsageError("E_DEST_EXISTS", `${blobs.location}: a store already exists there`, {
        path: blobs.location,
      });
    }
    return await fn(blobs, lease);
  } finally {
    await lease?.release().catch(() => {});
    await blobs.close();
  }
}

/**
 * Creates an empty store at `location` (`s3://bucket/prefix`): generation 1 holds the
 * settings and a root directory owned by the caller.
 *
 * @example
 * await initS3Store("s3://data/proj", { codec: "zstd" }, {}, { endpoint: "http://127.0.0.1:7480" });
 */
export async function initS3Store(
  location: string,
  opts: Partial<InitOptions> = {},
  root: InitRoot = {},
  s3: NewS3StoreOptions = {},
): Promise<InitSummary> {
  return withNewS3Store(location, `init ${location}`, s3, async (blobs, lease) => {
    const tmp = fs.mkdtempSync(path.join(s3.tmpDir ?? os.tmpdir(), "superchunk-s3-init-"));
    try {
      const s = initStore(path.join(tmp, "store"), opts, root);
      const db = path.join(s.dir, DB_FILE);
      packDatabaseFile(db);
      await commitGeneration(blobs, fs.readFileSync(`${db}.zst`), undefined, lease);
      return { ...s, dir: blobs.location };
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
}
