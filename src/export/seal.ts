/**
 * seal: turns a store into an archive, one zip file holding every super-chunk (STORED,
 * under its key sc/xx/<id>.sc, in id order) and then the packed database
 * superchunk.db.zst, last, so the tail of the archive a remote reader fetches first
 * holds the database and the central directory together. The store is a store
 * directory (sealed under its lock, super-chunk files zipped in place), or any other
 * StoreSource: an S3 store's committed generation or an archive (seal-source.ts fetches
 * those super-chunks into a staging directory first). The archive is written under a
 * temporary name beside the output, synced, read back (every entry present with its
 * size), and only then linked or renamed into place.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { superChunkKey } from "../blobstore/blob-store.js";
import { FileByteSource } from "../blobstore/byte-source.js";
import type { S3Options } from "../blobstore/s3-client.js";
import { ZipBlobStore } from "../blobstore/zip-blob-store.js";
import { CorruptError, isCode, NotFoundError, UsageError, wrapFsError } from "../errors.js";
import { fsyncDirSync } from "../store/durable.js";
import { encodePackedDatabase } from "../store/packed-db.js";
import {
  ARCHIVE_DB_KEY,
  DB_FILE,
  type OpenStore,
  openStore,
  resolveStoreLocation,
  storeKindOf,
} from "../store/store-layout.js";
import { acquireStoreLock, type StoreLock } from "../store/store-lock.js";
import { writeZipArchive, type ZipInput } from "../zip/zip-writer.js";
import { closeSource, openSealSource, stageSuperChunks } from "./seal-source.js";

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
}

/** What sealStore wrote. */
export interface SealSummary {
  archive: string;
  archiveBytes: number;
  superChunks: number;
  superChunkBytes: number;
  metadataBytes: number;
  /** bytes fetched from a store that is not a directory (S3, archive URL); absent otherwise */
  fetchedBytes?: number;
  seconds: number;
}

/** The entries of the archive, in order, with the byte counts of the summary. */
interface ArchivePlan {
  readonly inputs: ZipInput[];
  readonly superChunkBytes: number;
  readonly metadataBytes: number;
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
  checkDest(out, opts.force === true);
  const kind = storeKindOf(resolveStoreLocation(location));
  const sealed =
    kind === "dir"
      ? await sealDirectory(location, out, opts)
      : await sealElsewhere(location, kind, out, opts);
  return { ...sealed, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

type Sealed = Omit<SealSummary, "seconds">;

function summary(out: string, plan: ArchivePlan, archiveBytes: number): Sealed {
  const { superChunkBytes, metadataBytes } = plan;
  const superChunks = plan.inputs.length - 1;
  return { archive: out, archiveBytes, superChunks, superChunkBytes, metadataBytes };
}

/** A store directory, under its writer's lock; the super-chunk files are zipped in place. */
async function sealDirectory(storeDir: string, out: string, opts: SealOptions): Promise<Sealed> {
  const store = openStore(storeDir, { readonly: true });
  let lock: StoreLock | undefined;
  try {
    lock = tryLock(storeDir);
    const plan = archiveInputs(store);
    return summary(out, plan, await writeAndInstall(plan.inputs, out, opts));
  } finally {
    store.meta.close();
    lock?.release();
  }
}

/** An S3 store or an archive: super-chunks fetched into a staging directory beside `out`. */
async function sealElsewhere(
  location: string,
  kind: "s3" | "archive" | "url",
  out: string,
  opts: SealOptions,
): Promise<Sealed> {
  const { src, packedDatabase } = await openSealSource(
    resolveStoreLocation(location),
    kind,
    opts.s3,
  );
  const stage = tempPath(out, "stage");
  try {
    fs.mkdirSync(stage, { mode: 0o700 });
    const staged = await stageSuperChunks(src, stage, opts.fetchConcurrency);
    const inputs = [...staged.inputs, { key: ARCHIVE_DB_KEY, data: packedDatabase }];
    const plan = { ...staged, inputs, metadataBytes: packedDatabase.length };
    const sealed = summary(out, plan, await writeAndInstall(inputs, out, opts));
    const fetchedBytes = src.blobs.transferStats?.().bytesFetched;
    return fetchedBytes === undefined ? sealed : { ...sealed, fetchedBytes };
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
    await closeSource(src);
  }
}

/** A hidden name beside `out`: `.<name>.<what>-<pid>-<rand>`. */
function tempPath(out: string, what: string): string {
  const dir = path.dirname(path.resolve(out));
  const rand = randomBytes(3).toString("hex");
  return path.join(dir, `.${path.basename(out)}.${what}-${process.pid}-${rand}`);
}

function checkDest(out: string, force: boolean): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(out);
  } catch {
    return;
  }
  if (!force || !st.isFile()) {
    throw new UsageError("E_DEST_EXISTS", `${out}: already exists`, { path: out });
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

/** Every super-chunk the database lists, in id order, then the packed database. */
function archiveInputs(store: OpenStore): ArchivePlan {
  const inputs: ZipInput[] = [];
  let superChunkBytes = 0;
  for (const sc of store.meta.listSuperChunks().sort((a, b) => a.id - b.id)) {
    const key = superChunkKey(sc.id);
    const file = path.join(store.dir, key);
    try {
      superChunkBytes += fs.statSync(file).size;
    } catch (err) {
      throw new NotFoundError(
        "E_SUPERCHUNK_MISSING",
        `${file}: super-chunk missing`,
        {
          superChunkId: sc.id,
          path: file,
        },
        err,
      );
    }
    inputs.push({ key, file });
  }
  const packed = path.join(store.dir, ARCHIVE_DB_KEY);
  const plain = path.join(store.dir, DB_FILE);
  if (!fs.existsSync(plain) && fs.existsSync(packed)) {
    inputs.push({ key: ARCHIVE_DB_KEY, file: packed });
    return { inputs, superChunkBytes, metadataBytes: fs.statSync(packed).size };
  }
  // a store a writer unpacked: pack a consistent image of its database
  const data = encodePackedDatabase(store.meta.serialize());
  inputs.push({ key: ARCHIVE_DB_KEY, data });
  return { inputs, superChunkBytes, metadataBytes: data.length };
}

async function writeAndInstall(inputs: ZipInput[], out: string, opts: SealOptions) {
  const dir = path.dirname(path.resolve(out));
  const tmp = tempPath(out, "partial");
  try {
    const bytes = await writeZipArchive(tmp, inputs, { forceZip64: opts.forceZip64 === true });
    await verifyArchive(tmp, inputs);
    install(tmp, out, opts.force === true);
    fsyncDirSync(dir);
    return bytes;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** Reads the new archive's directory back: every input present, with its size. */
async function verifyArchive(file: string, inputs: readonly ZipInput[]): Promise<void> {
  const zip = await ZipBlobStore.open(new FileByteSource(file));
  try {
    for (const input of inputs) {
      const want = "file" in input ? fs.statSync(input.file).size : input.data.length;
      const got = zip.directory.entries.get(input.key)?.uncompressedSize;
      if (got !== want) {
        throw new CorruptError(
          "E_ZIP_CORRUPT",
          `${file}: entry ${input.key} did not come out right`,
          {
            path: file,
            entry: input.key,
            want,
            got,
          },
        );
      }
    }
  } finally {
    await zip.close();
  }
}

/** Puts the finished archive at `out`: a rename with `force`, else a link that fails if `out` appeared. */
function install(tmp: string, out: string, force: boolean): void {
  try {
    if (force) fs.renameSync(tmp, out);
    else fs.linkSync(tmp, out);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") {
      throw new UsageError("E_DEST_EXISTS", `${out}: already exists`, { path: out });
    }
    throw wrapFsError(err, out, "install archive");
  }
}
