/**
 * seal: turns a store directory into an archive, one zip file holding every
 * super-chunk (STORED, under its key sc/xx/<id>.sc, in id order) and then the packed
 * database superchunk.db.zst, last, so the tail of the archive a remote reader
 * fetches first holds the database and the central directory together. The archive
 * is written under a temporary name beside the output, synced, read back (every
 * entry present with its size), and only then linked or renamed into place.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { superChunkKey } from "../blobstore/blob-store.js";
import { FileByteSource } from "../blobstore/byte-source.js";
import { ZipBlobStore } from "../blobstore/zip-blob-store.js";
import { writeZipArchive, type ZipInput } from "../blobstore/zip-writer.js";
import { CorruptError, isCode, NotFoundError, UsageError, wrapFsError } from "../errors.js";
import { fsyncDirSync } from "./durable.js";
import { encodePackedDatabase } from "./packed-db.js";
import { ARCHIVE_DB_KEY, DB_FILE, type OpenStore, openStore } from "./store-layout.js";
import { acquireStoreLock, type StoreLock } from "./store-lock.js";

/** Options of sealStore. */
export interface SealOptions {
  /** replace an existing file at the output; default false (E_DEST_EXISTS) */
  force?: boolean;
  /** write zip64 records even when not needed (tests); default false */
  forceZip64?: boolean;
}

/** What sealStore wrote. */
export interface SealSummary {
  archive: string;
  archiveBytes: number;
  superChunks: number;
  superChunkBytes: number;
  metadataBytes: number;
  seconds: number;
}

/**
 * Writes the complete store at `storeDir` as an archive at `out`. E_DEST_EXISTS when
 * `out` exists (unless `force`), E_STORE_LOCKED while a writer holds the store,
 * E_SUPERCHUNK_MISSING when a super-chunk the database lists has no file.
 *
 * @example
 * await sealStore("linux.store", "linux.zip");
 */
export async function sealStore(
  storeDir: string,
  out: string,
  opts: SealOptions = {},
): Promise<SealSummary> {
  const started = process.hrtime.bigint();
  checkDest(out, opts.force === true);
  const store = openStore(storeDir, { readonly: true });
  let lock: StoreLock | undefined;
  try {
    lock = tryLock(storeDir);
    const { inputs, superChunkBytes, metadataBytes } = archiveInputs(store);
    const archiveBytes = await writeAndInstall(inputs, out, opts);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const superChunks = inputs.length - 1;
    return { archive: out, archiveBytes, superChunks, superChunkBytes, metadataBytes, seconds };
  } finally {
    store.meta.close();
    lock?.release();
  }
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
function archiveInputs(store: OpenStore) {
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
  const tmp = path.join(
    dir,
    `.${path.basename(out)}.partial-${process.pid}-${randomBytes(3).toString("hex")}`,
  );
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
