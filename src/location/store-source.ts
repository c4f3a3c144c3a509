/**
 * Opening the complete store at a location for reading, whatever its kind: a store
 * directory (its database file), an archive file or URL (the packed database entry,
 * inflated into memory), or an S3 store (the generation its pointer names, inflated into
 * memory). The opened store says where it keeps its database and, for a directory, where
 * its files are; callers need not know the kind. A packed database is also checked
 * against its metadata copy (store/meta-copy-check.ts).
 */
import { readFile } from "node:fs/promises";
import { type ArchiveSourceOptions, openArchive } from "../blobstore/archive-source.js";
import type { BlobStore } from "../blobstore/blob-store.js";
import type { S3Options } from "../blobstore/s3-client.js";
import type { ZipBlobStore } from "../blobstore/zip-blob-store.js";
import { closeAll, isCode, NotFoundError, UsageError } from "../errors.js";
import { MetaDb } from "../meta/meta-db.js";
import { checkTreeAgainstCopy } from "../store/meta-copy-check.js";
import { decodePackedDatabase, encodePackedDatabase } from "../store/packed-db.js";
import {
  ARCHIVE_DB_KEY,
  checkComplete,
  databaseBytesOnDisk,
  openStore,
  packedDatabaseFile,
} from "../store/store-layout.js";
import { storeKindOf } from "./store-kind.js";

/** An open store of any kind; `blobs` is read-only unless it was opened writable (a directory). */
export interface StoreSource {
  /** the location as the store names itself (an S3 store's normalised s3:// form) */
  readonly location: string;
  readonly meta: MetaDb;
  readonly blobs: BlobStore;
  /** the store directory when the store's files are local (super-chunk files under sc/) */
  readonly dir: string | undefined;
  /** Bytes of the database where the store keeps it (file and WAL, archive entry, generation). */
  databaseBytes(): Promise<number>;
  /**
   * The database packed as an archive's superchunk.db.zst entry: the bytes the store keeps
   * (archive entry, S3 generation object, a directory's packed file), else packed afresh.
   */
  packedDatabase(): Promise<Buffer>;
  /** Closes the database and the blob store. */
  close(): Promise<void>;
}

/** Options of openStoreSource. */
export interface StoreSourceOptions extends ArchiveSourceOptions {
  /** open for reading only (archives and S3 stores can only be); default false */
  readonly?: boolean | undefined;
  /** for s3:// locations: endpoint, region, credentials, timeouts */
  s3?: S3Options | undefined;
}

/**
 * Opens a complete store at `location`: a store directory, a path to an archive, an
 * http(s) URL of one, or `s3://bucket/prefix`. Archives and S3 stores open read-only
 * (E_READ_ONLY otherwise); an archive's database is the packed entry superchunk.db.zst,
 * an S3 store's the generation its pointer names, inflated into memory. E_NOT_A_STORE when the
 * location holds no store (naming it), E_STORE_INCOMPLETE for an unfinished one.
 *
 * @example
 * const s = await openStoreSource("https://example.org/linux.zip", { readonly: true });
 */
export async function openStoreSource(
  location: string,
  opts: StoreSourceOptions = {},
): Promise<StoreSource> {
  const kind = storeKindOf(location);
  if (kind === "dir") return checkedAgainstCopy(openDirSource(location, opts.readonly ?? false));
  if (opts.readonly !== true) {
    const what = kind === "s3" ? "an S3 store" : "an archive";
    throw new UsageError("E_READ_ONLY", `${location}: ${what} can only be opened read-only`, {
      path: location,
    });
  }
  if (kind === "s3") return openS3Source(location, opts.s3);
  return checkedAgainstCopy(await openArchiveSource(location, opts));
}

/** A store opened, and the image of its packed database when it was read from one. */
interface Opened {
  readonly src: StoreSource;
  readonly image?: Buffer | undefined;
}

/**
 * `src` once its packed database is found to hold the tree of its metadata copy; a plain
 * database (no image: a writer's, possibly ahead of its copy) is not checked.
 */
async function checkedAgainstCopy({ src, image }: Opened): Promise<StoreSource> {
  if (image === undefined) return src;
  try {
    await checkTreeAgainstCopy(image, src.meta, src.blobs, src.location);
    return src;
  } catch (err) {
    await src.close().catch(() => undefined);
    throw err;
  }
}

function openDirSource(dir: string, readonly: boolean): Opened {
  const { meta, blobs, image } = openStore(dir, { readonly });
  const src: StoreSource = {
    location: dir,
    meta,
    blobs,
    dir,
    databaseBytes: async () => databaseBytesOnDisk(dir),
    packedDatabase: async () => {
      // a store a writer unpacked: pack a consistent image of its database
      const file = packedDatabaseFile(dir);
      return file === undefined ? encodePackedDatabase(meta.serialize()) : readFile(file);
    },
    close: async () => {
      const failed = await closeAll(
        () => meta.close(),
        () => blobs.close(),
      );
      if (failed !== undefined) throw failed;
    },
  };
  return { src, image };
}

async function openArchiveSource(location: string, opts: ArchiveSourceOptions): Promise<Opened> {
  const blobs = await openArchive(location, opts);
  try {
    const { meta, image } = await archiveDatabase(blobs, location);
    checkComplete(meta, location);
    const src: StoreSource = {
      location,
      meta,
      blobs,
      dir: undefined,
      databaseBytes: () => blobs.size(ARCHIVE_DB_KEY),
      packedDatabase: () => blobs.get(ARCHIVE_DB_KEY),
      close: async () => {
        meta.close();
        await blobs.close();
      },
    };
    return { src, image };
  } catch (err) {
    await blobs.close();
    throw err;
  }
}

async function archiveDatabase(
  blobs: ZipBlobStore,
  location: string,
): Promise<{ meta: MetaDb; image: Buffer }> {
  let packed: Buffer;
  try {
    packed = await blobs.get(ARCHIVE_DB_KEY);
  } catch (err) {
    if (!isCode(err, "E_SUPERCHUNK_MISSING")) throw err;
    throw new NotFoundError(
      "E_NOT_A_STORE",
      `${location}: not a superchunk archive (no ${ARCHIVE_DB_KEY} entry)`,
      { path: location },
      err,
    );
  }
  const label = `${location}#${ARCHIVE_DB_KEY}`;
  const image = decodePackedDatabase(packed, label);
  return { meta: MetaDb.fromBuffer(image, label), image };
}

async function openS3Source(location: string, s3: S3Options | undefined): Promise<StoreSource> {
  // loaded on demand: the AWS SDK takes a while to import and only S3 stores need it
  const { openS3Store } = await import("../s3store/s3-store.js");
  const { blobs, meta, pointer } = await openS3Store(location, s3);
  try {
    checkComplete(meta, blobs.location);
  } catch (err) {
    await blobs.close();
    throw err;
  }
  return {
    location: blobs.location,
    meta,
    blobs,
    dir: undefined,
    databaseBytes: () => blobs.size(pointer.database),
    // generation objects are immutable: these are the bytes the database was loaded from
    packedDatabase: () => blobs.get(pointer.database),
    close: async () => {
      meta.close();
      await blobs.close();
    },
  };
}
