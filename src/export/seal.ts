/**
 * seal: turns a store into an archive (location/archive-write.ts writes it: every
 * super-chunk in id order, then the packed database). The store is opened by location/,
 * whatever its kind. A store whose files are local (a store directory) is sealed under
 * its writer's lock, its super-chunk files zipped in place; any other (an S3 store's
 * committed generation, an archive) has its super-chunks fetched into a staging directory
 * beside the output first (seal-source.ts), and its packed database taken as it keeps it.
 */
import * as fs from "node:fs";
import { parseSuperChunkKey } from "../blobstore/blob-store.js";
import type { S3Options } from "../blobstore/s3-client.js";
import { isCode, throwIfAborted } from "../errors.js";
import {
  type ArchivePlan,
  checkArchiveDest,
  localArchivePlan,
  tempPath,
  writeArchive,
} from "../location/archive-write.js";
import { resolveStoreLocation } from "../location/store-kind.js";
import { openStoreSource, type StoreSource } from "../location/store-source.js";
import { checkDestParent } from "../store/dest-parent.js";
import { copyEntriesOfPacked, copyGenerationOf } from "../store/meta-copy-write.js";
import { storeIdOf } from "../store/store-id.js";
import { ARCHIVE_DB_KEY } from "../store/store-layout.js";
import { acquireStoreLock, type StoreLock } from "../store/store-lock.js";
import { stageSuperChunks } from "./seal-source.js";

/** Options of sealStore. */
export interface SealOptions {
  /** replace an existing file at the output; default false (E_DEST_EXISTS) */
  force?: boolean;
  /** write zip64 records even when not needed (tests); default false */
  forceZip64?: boolean;
  /** for s3:// stores: endpoint, region, credentials, timeouts */
  s3?: S3Options;
  /** super-chunks fetched at once from a store that is not a directory; default 4 */
  fetchConcurrency?: number;
  /** stops the seal (AbortError E_ABORTED); nothing is left at or beside the output */
  signal?: AbortSignal | undefined;
}

/** What sealStore wrote. */
export interface SealSummary {
  /** the store's id (store/store-id.ts) */
  storeId: string | null;
  archive: string;
  archiveBytes: number;
  superChunks: number;
  superChunkBytes: number;
  metadataBytes: number;
  /** bytes fetched from a store that is not a directory (S3, archive URL); absent otherwise */
  fetchedBytes?: number;
  seconds: number;
}

/**
 * Writes the complete store at `location` (a store directory, `s3://bucket/prefix`, or an
 * archive path or URL) as an archive at `out`. E_DEST_EXISTS when `out` exists (unless
 * `force`), E_STORE_LOCKED while a writer holds a store directory, E_NOT_A_STORE when
 * there is no store, E_SUPERCHUNK_MISSING when a super-chunk the database lists is
 * missing. An S3 store is sealed at the generation committed when seal opens it, without
 * taking its lease (readers do not).
 *
 * @example
 * await sealStore("linux.store", "linux.zip");
 * await sealStore("s3://backups/linux", "linux.zip", { s3: { endpoint: "http://127.0.0.1:7480" } });
 */
export async function sealStore(
  location: string,
  out: string,
  opts: SealOptions = {},
): Promise<SealSummary> {
  const started = process.hrtime.bigint();
  throwIfAborted(opts.signal, "seal");
  checkArchiveDest(out, opts.force === true);
  const src = await openStoreSource(resolveStoreLocation(location), {
    readonly: true,
    s3: opts.s3,
  });
  try {
    const sealed =
      src.dir === undefined
        ? await sealFetched(src, out, opts)
        : await sealLocal(src.dir, src, out, opts);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { storeId: storeIdOf(src.meta), ...sealed, seconds };
  } finally {
    await src.close();
  }
}

type Sealed = Omit<SealSummary, "seconds" | "storeId">;

function summary(out: string, plan: ArchivePlan, archiveBytes: number): Sealed {
  const { superChunkBytes, metadataBytes } = plan;
  // every input but the database and the metadata copy is a super-chunk
  const superChunks = plan.inputs.filter((i) => parseSuperChunkKey(i.key) !== undefined).length;
  return { archive: out, archiveBytes, superChunks, superChunkBytes, metadataBytes };
}

/** A store with local files, under its writer's lock; the super-chunk files are zipped in place. */
async function sealLocal(
  dir: string,
  src: StoreSource,
  out: string,
  opts: SealOptions,
): Promise<Sealed> {
  const lock = tryLock(dir);
  try {
    const plan = localArchivePlan(dir, src.meta);
    return summary(out, plan, await writeArchive(plan.inputs, out, opts));
  } finally {
    lock?.release();
  }
}

/** Any other store: super-chunks fetched into a staging directory beside `out`. */
async function sealFetched(src: StoreSource, out: string, opts: SealOptions): Promise<Sealed> {
  const packedDatabase = await src.packedDatabase();
  checkDestParent(out);
  const stage = tempPath(out, "stage");
  try {
    fs.mkdirSync(stage, { mode: 0o700 });
    const staged = await stageSuperChunks(src, stage, opts.fetchConcurrency, opts.signal);
    const gen = copyGenerationOf(src.meta);
    const copy = copyEntriesOfPacked(packedDatabase, gen, src.location);
    const db = { key: ARCHIVE_DB_KEY, data: packedDatabase };
    const inputs = [...staged.inputs, ...copy, db];
    const metadataBytes = copy.reduce((n, c) => n + c.data.length, packedDatabase.length);
    const plan = { ...staged, inputs, metadataBytes };
    const sealed = summary(out, plan, await writeArchive(inputs, out, opts));
    const fetchedBytes = src.blobs.transferStats?.().bytesFetched;
    return fetchedBytes === undefined ? sealed : { ...sealed, fetchedBytes };
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

/** The writer's lock, so nobody changes the store while it is copied; none on read-only media. */
function tryLock(storeDir: string): StoreLock | undefined {
  try {
    return acquireStoreLock(storeDir, "seal");
  } catch (err) {
    if (isCode(err, "E_STORE_LOCKED")) throw err;
    return undefined;
  }
}
