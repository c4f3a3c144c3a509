/**
 * Opening the store at a location to be served as a file system: read-only (a
 * StoreReader over any kind), read-write (a WritableStore over a store directory, or over
 * an S3 store's local working copy, publishing generations), or read-only following an S3
 * store's newer generations. Every kind is served read-only unless asked read-write: a
 * store directory (then its writer takes the lock), an S3 store (its writer takes the
 * lease); an archive never. A read-only view writes nothing into the store.
 */
import type { HttpSourceOptions } from "../blobstore/http-byte-source.js";
import type { S3Options } from "../blobstore/s3-client.js";
import { UsageError } from "../errors.js";
import { readerFor, type StoreReader, type StoreReaderOptions } from "../reader/store-reader.js";
import type { FollowingS3Reader, S3FollowOptions } from "../s3store/s3-follow.js";
import { type ClosingStore, type Compactor, WritableStore } from "../writer/index.js";
import { type StoreKind, storeKindOf } from "./store-kind.js";
import { openStoreSource, type StoreSourceOptions } from "./store-source.js";

export type { FollowingS3Reader } from "../s3store/s3-follow.js";

/**
 * Opens a complete store read-only as a file system, wherever it is: a store directory,
 * an archive file, an archive's http(s) URL, or an S3 store (`s3://bucket/prefix`; its
 * committed generation), detected by content and scheme.
 *
 * @example
 * const r = await openStoreReaderAt("https://example.org/linux.zip", { http: { timeoutMs: 10_000 } });
 */
export async function openStoreReaderAt(
  location: string,
  opts: StoreReaderOptions & Pick<StoreSourceOptions, "http" | "s3"> = {},
): Promise<StoreReader> {
  const { http, s3 } = opts;
  const store = await openStoreSource(location, { readonly: true, http, s3 });
  return readerFor(store.meta, store.blobs, opts);
}

/** True when the store at `location` can be followed (it gets new generations: S3). */
export function canFollow(location: string): boolean {
  return storeKindOf(location) === "s3";
}

/** How openStoreView opens a store, and the settings of each way. */
export interface StoreViewOptions {
  /** read-only, the default; kept so callers may say so (E_USAGE with `readWrite`) */
  readOnly?: boolean;
  /** open a store directory or an S3 store for writing; E_USAGE for an archive */
  readWrite?: boolean;
  /** poll an S3 store's pointer and serve each newer generation (read-only) */
  follow?: S3FollowOptions | undefined;
  /**
   * bytes of memory for caches; read-only: inflated super-chunks get what the database
   * image and the tree's caches leave (reader/cache-budget.ts)
   */
  cacheBytes: number;
  /** remote stores: bytes of compressed super-chunks fetched ahead of the reads */
  fetchAheadBytes?: number | undefined;
  /** what the writer's lock or lease says it is doing, e.g. "mount /mnt/x" */
  purpose: string;
  log: (line: string) => void;
  /** errors of a writable store's background work */
  onBackgroundError?: (err: unknown) => void;
  /** a writable store directory compacts itself with this (maintain/compact.ts) */
  compactor?: Compactor;
  /** quiet time before a compaction pass; default the writer's (COMPACT_IDLE_MS) */
  compactIdleMs?: number;
  /**
   * a writable store directory: called at close once everything is committed and durable,
   * before the last compaction pass (WritableStoreOptions.onCommitted)
   */
  onCommitted?: (closing: ClosingStore) => void | Promise<void>;
  /** s3:// stores: endpoint, region, credentials, timeouts */
  s3?: S3Options;
  /** http(s) archives: timeouts, retries */
  http?: HttpSourceOptions;
  /** s3:// read-write: the local work directory, and the quiet time before publishing */
  workDir?: string | undefined;
  publishIdleMs?: number | undefined;
}

/** A store opened to be served: how, and the view to serve. */
export type StoreView =
  | { readonly mode: "read-write"; readonly view: WritableStore }
  | { readonly mode: "read-only"; readonly view: StoreReader }
  | { readonly mode: "follow"; readonly view: FollowingS3Reader };

/**
 * Opens the store at `location` to be served as a file system (see the file comment for
 * which way). E_USAGE for `readWrite` on an archive or with `readOnly`,
 * E_NOT_A_STORE when there is no store, E_STORE_LOCKED while another writer holds it.
 *
 * @example
 * const { mode, view } = await openStoreView("/srv/store", { cacheBytes: 512 << 20, purpose: "mount /mnt", log: console.error });
 */
export async function openStoreView(location: string, o: StoreViewOptions): Promise<StoreView> {
  const kind = storeKindOf(location);
  if (o.readWrite === true && o.readOnly === true) {
    throw new UsageError("E_USAGE", "--read-write and --read-only together: choose one");
  }
  if (o.readWrite === true && kind !== "s3" && kind !== "dir") {
    throw new UsageError(
      "E_USAGE",
      `--read-write is for store directories and s3:// stores; ${location} is an archive, always read-only`,
      { path: location },
    );
  }
  const background =
    o.onBackgroundError === undefined ? {} : { onBackgroundError: o.onBackgroundError };
  if (o.readWrite === true && kind === "s3") {
    const { openS3Writable } = await import("../s3store/s3-writable.js");
    const { store } = await openS3Writable(location, {
      ...o.s3,
      ...(o.workDir === undefined ? {} : { workDir: o.workDir }),
      ...(o.publishIdleMs === undefined ? {} : { publishIdleMs: o.publishIdleMs }),
      cacheBytes: o.cacheBytes,
      purpose: o.purpose,
      log: o.log,
      ...background,
    });
    return { mode: "read-write", view: store };
  }
  if (o.readWrite === true && kind === "dir") {
    const store = await WritableStore.open(location, {
      cacheBytes: o.cacheBytes,
      purpose: o.purpose,
      ...(o.compactor === undefined ? {} : { compactor: o.compactor }),
      ...(o.compactIdleMs === undefined ? {} : { compactIdleMs: o.compactIdleMs }),
      ...(o.onCommitted === undefined ? {} : { onCommitted: o.onCommitted }),
      ...background,
    });
    return { mode: "read-write", view: store };
  }
  const reading = {
    cacheBytes: o.cacheBytes,
    cacheHoldsTree: true,
    ...(o.fetchAheadBytes === undefined ? {} : { fetchAheadBytes: o.fetchAheadBytes }),
    // the stored CRC guards what is read; the raw CRC is fsck's and extract's
    verifyRawCrc: false,
    ...(o.s3 === undefined ? {} : { s3: o.s3 }),
  };
  if (o.follow !== undefined)
    return { mode: "follow", view: await openFollowing(location, kind, reading, o.follow) };
  const view = await openStoreReaderAt(location, {
    ...reading,
    ...(o.http === undefined ? {} : { http: o.http }),
  });
  return { mode: "read-only", view };
}

async function openFollowing(
  location: string,
  kind: StoreKind,
  reading: StoreReaderOptions & { s3?: S3Options },
  follow: S3FollowOptions,
): Promise<FollowingS3Reader> {
  if (kind !== "s3") {
    throw new UsageError("E_USAGE", `--follow is for s3:// stores (${location} is not one)`, {
      path: location,
    });
  }
  // loaded on demand: the AWS SDK takes a while to import and only S3 stores need it
  const { openFollowingS3Reader } = await import("../s3store/s3-follow.js");
  return openFollowingS3Reader(location, { ...reading, follow });
}
