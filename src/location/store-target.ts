/**
 * Creating a new store at a location. A *target* is where a new, complete store goes: a
 * store directory (built in place; pack builds under a temporary name and renames), an
 * archive (a name ending in .zip: built as a hidden store directory beside it, then
 * written as the archive, then removed), or an S3 store (built in a local temporary
 * directory under the writer's lease, then uploaded and committed as generation 1). The
 * caller fills the directory it is given; the target finishes it. `init` creates an empty
 * store for a read-write mount: a directory or an S3 store.
 */
import * as fs from "node:fs";
import type { S3Options } from "../blobstore/s3-client.js";
import { UsageError } from "../errors.js";
import type { S3UploadFigures, S3UploadOptions, S3UploadProgress } from "../s3store/s3-upload.js";
import { type InitOptions, type InitSummary, initStore } from "../store/store-init.js";
import { checkParentDir } from "../store/store-layout.js";
import { tempPath, writeDirArchive } from "./archive-write.js";
import { newStoreKindOf } from "./store-kind.js";

export type { S3UploadFigures, S3UploadOptions } from "../s3store/s3-upload.js";

/** What the summary of a built store holds that a target adjusts. */
export interface BuiltStore {
  /** bytes the store takes where it is kept */
  storedBytes: number;
  /** wall time, seconds */
  seconds: number;
}

/** What an archive target adds to the summary. */
export interface ArchiveFigures {
  archive: string;
  archiveBytes: number;
}

/** A built store's summary with what its target added. */
export type TargetSummary<T extends BuiltStore> = T | (T & ArchiveFigures) | (T & S3UploadFigures);

/** Where a new store goes. */
export interface StoreTarget {
  readonly location: string;
  /**
   * Has `fill` build a complete store in the directory it is given (missing, or an empty
   * directory), then finishes it where it goes; answers what `fill` answered, with the
   * target's figures (the archive's length as `storedBytes`, the upload's).
   */
  build<T extends BuiltStore>(fill: (dir: string) => Promise<T>): Promise<TargetSummary<T>>;
}

/** Options of storeTargetFor. */
export interface StoreTargetOptions {
  /** what an S3 store's lease says the writer is doing, e.g. "pack /src" */
  purpose: string;
  /** s3:// targets: endpoint, region, credentials, uploads */
  s3?: S3UploadOptions;
  /** s3:// targets: progress of the upload */
  onUpload?: S3UploadProgress;
}

/**
 * The target for a new store at `dest`: `s3://bucket/prefix`, a name ending in .zip (an
 * archive; E_DEST_EXISTS when it exists), else a store directory.
 *
 * @example
 * const s = await storeTargetFor("linux.zip", { purpose: "pack" }).build((dir) => packTree("linux", dir));
 */
export function storeTargetFor(dest: string, opts: StoreTargetOptions): StoreTarget {
  const kind = newStoreKindOf(dest, true);
  if (kind === "s3") return s3Target(dest, opts);
  if (kind === "archive") return archiveTarget(dest);
  return { location: dest, build: (fill) => fill(dest) };
}

function archiveTarget(out: string): StoreTarget {
  return {
    location: out,
    async build(fill) {
      if (fs.existsSync(out))
        throw new UsageError("E_DEST_EXISTS", `${out}: already exists`, { path: out });
      checkParentDir(out);
      const tmpStore = tempPath(out, "store");
      try {
        const summary = await fill(tmpStore);
        const started = process.hrtime.bigint();
        const archiveBytes = await writeDirArchive(tmpStore, out);
        const sealSeconds = Number(process.hrtime.bigint() - started) / 1e9;
        return {
          ...summary,
          storedBytes: archiveBytes,
          seconds: summary.seconds + sealSeconds,
          archive: out,
          archiveBytes,
        };
      } finally {
        fs.rmSync(tmpStore, { recursive: true, force: true });
      }
    },
  };
}

function s3Target(location: string, opts: StoreTargetOptions): StoreTarget {
  return {
    location,
    async build(fill) {
      const started = process.hrtime.bigint();
      // loaded on demand: the AWS SDK takes a while to import and only S3 stores need it
      const { buildS3Store } = await import("../s3store/s3-upload.js");
      const s3 = opts.s3 ?? {};
      const { result, upload } = await buildS3Store(
        location,
        opts.purpose,
        s3,
        fill,
        opts.onUpload,
      );
      return { ...result, ...upload, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
    },
  };
}

/**
 * Creates an empty store at `dest` for a read-write mount: a store directory (missing or
 * empty), or `s3://bucket/prefix` where no store is committed yet (the bucket is created
 * when missing).
 *
 * @example
 * await initStoreAt("s3://data/proj", { codec: "zstd" }, { endpoint: "http://127.0.0.1:7480" });
 */
export async function initStoreAt(
  dest: string,
  opts: Partial<InitOptions> = {},
  s3: S3Options = {},
): Promise<InitSummary> {
  if (newStoreKindOf(dest, false) === "dir") return initStore(dest, opts);
  const { initS3Store } = await import("../s3store/s3-init.js");
  return initS3Store(dest, opts, {}, s3);
}
