/**
 * Writing an archive (spec/FORMAT.md, "Archive"): one zip file holding every super-chunk
 * (STORED, under its key sc/xx/<id>.sc, in id order), the metadata copy of the database it
 * holds (sc/meta/, store/meta-copy.ts), and then the packed database superchunk.db.zst, last, so the tail of the archive a remote reader fetches first holds
 * the database and the central directory together. The archive is written under a
 * temporary name beside the output, synced, read back (every entry present with its
 * size), and only then linked or renamed into place. Each super-chunk file's header is
 * checked against its database row first, so a wrong file never enters an archive.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { superChunkKey } from "../blobstore/blob-store.js";
import { FileByteSource } from "../blobstore/byte-source.js";
import { ZipBlobStore } from "../blobstore/zip-blob-store.js";
import { CorruptError, NotFoundError, throwIfAborted, UsageError, wrapFsError } from "../errors.js";
import type { MetaDb } from "../meta/meta-db.js";
import type { SuperChunkRecord } from "../meta/records.js";
import { checkDestParent } from "../store/dest-parent.js";
import { fsyncDirSync } from "../store/durable.js";
import { copyEntriesOfPacked, copyGenerationOf } from "../store/meta-copy-write.js";
import { encodePackedDatabase } from "../store/packed-db.js";
import { ARCHIVE_DB_KEY, openStore, packedDatabaseFile } from "../store/store-layout.js";
import { decodeHeader, headerLength } from "../superchunk/decode-header.js";
import { checkExpected } from "../superchunk/superchunk-expect.js";
import { superChunkCorrupt } from "../superchunk/superchunk-header.js";
import { writeZipArchive, type ZipInput } from "../zip/zip-writer.js";

/** The entries of an archive, in order, with their byte counts. */
export interface ArchivePlan {
  readonly inputs: ZipInput[];
  readonly superChunkBytes: number;
  readonly metadataBytes: number;
}

/** Options of writeArchive. */
export interface ArchiveWriteOptions {
  /** replace an existing file at the output; default false (E_DEST_EXISTS) */
  force?: boolean;
  /** write zip64 records even when not needed (tests); default false */
  forceZip64?: boolean;
  /** stops the write before and after the zip is written: AbortError, nothing installed */
  signal?: AbortSignal | undefined;
}

/** A hidden name beside `out`: `.<name>.<what>-<pid>-<rand>`. */
export function tempPath(out: string, what: string): string {
  const dir = path.dirname(path.resolve(out));
  const rand = randomBytes(3).toString("hex");
  return path.join(dir, `.${path.basename(out)}.${what}-${process.pid}-${rand}`);
}

/** E_DEST_EXISTS when `out` exists, unless `force` and it is a file (to be replaced). */
export function checkArchiveDest(out: string, force: boolean): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(out);
  } catch {
    checkDestParent(out);
    return;
  }
  if (!force || !st.isFile()) {
    throw new UsageError("E_DEST_EXISTS", `${out}: already exists`, { path: out });
  }
}

/**
 * The archive of the store directory `dir` (database `meta`): its super-chunk files in
 * place, in id order, then the packed database. E_SUPERCHUNK_MISSING for a listed
 * super-chunk that has no file, E_SUPERCHUNK_CORRUPT for one that is not what its row says.
 */
export function localArchivePlan(dir: string, meta: MetaDb): ArchivePlan {
  const inputs: ZipInput[] = [];
  let superChunkBytes = 0;
  for (const sc of meta.listSuperChunks().sort((a, b) => a.id - b.id)) {
    const key = superChunkKey(sc.id);
    const file = path.join(dir, key);
    superChunkBytes += checkSuperChunkFile(file, sc);
    inputs.push({ key, file });
  }
  const packed = packedDatabaseFile(dir);
  // a store a writer unpacked: pack a consistent image of its database
  const data = packed === undefined ? encodePackedDatabase(meta.serialize()) : undefined;
  const db = data ?? fs.readFileSync(packed!);
  const copy = copyEntriesOfPacked(db, copyGenerationOf(meta), packed ?? dir);
  inputs.push(...copy);
  inputs.push(
    data === undefined ? { key: ARCHIVE_DB_KEY, file: packed! } : { key: ARCHIVE_DB_KEY, data },
  );
  const metadataBytes = copy.reduce((n, c) => n + c.data.length, db.length);
  return { inputs, superChunkBytes, metadataBytes };
}

/** One read covers the header of a super-chunk of up to ~1500 sub-blocks. */
const HEADER_GUESS_BYTES = 64 * 1024;

/**
 * Checks the header and length of super-chunk file `file` against its row `sc`; answers
 * the file's length.
 */
function checkSuperChunkFile(file: string, sc: SuperChunkRecord): number {
  const where = { superChunkId: sc.id, path: file };
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (err) {
    throw new NotFoundError("E_SUPERCHUNK_MISSING", `${file}: super-chunk missing`, where, err);
  }
  try {
    const size = fs.fstatSync(fd).size;
    const read = (n: number) => {
      const b = Buffer.alloc(Math.min(n, size));
      return b.subarray(0, fs.readSync(fd, b, 0, b.length, 0));
    };
    const first = read(HEADER_GUESS_BYTES);
    const len = headerLength(first, where);
    const header = decodeHeader(len <= first.length ? first.subarray(0, len) : read(len), where);
    checkExpected(header, sc, where);
    if (size !== sc.storedBytes) {
      throw superChunkCorrupt(
        where,
        size,
        `file has ${size} bytes, its row says ${sc.storedBytes}`,
      );
    }
    return size;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Writes the store directory `dir` as an archive at `out` (nobody else may change it
 * meanwhile: a fresh store, or one under its lock). Answers the archive's length.
 */
export async function writeDirArchive(
  dir: string,
  out: string,
  opts: ArchiveWriteOptions = {},
): Promise<number> {
  const store = openStore(dir, { readonly: true });
  try {
    return await writeArchive(localArchivePlan(dir, store.meta).inputs, out, opts);
  } finally {
    store.meta.close();
  }
}

/** Writes `inputs` as an archive at `out` and installs it; answers the archive's length. */
export async function writeArchive(
  inputs: ZipInput[],
  out: string,
  opts: ArchiveWriteOptions = {},
): Promise<number> {
  const dir = path.dirname(path.resolve(out));
  checkDestParent(out);
  const tmp = tempPath(out, "partial");
  try {
    throwIfAborted(opts.signal, "writing the archive");
    const bytes = await writeZipArchive(tmp, inputs, { forceZip64: opts.forceZip64 === true });
    await verifyArchive(tmp, inputs);
    throwIfAborted(opts.signal, "writing the archive");
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
          { path: file, entry: input.key, want, got },
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
