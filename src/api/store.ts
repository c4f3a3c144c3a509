/**
 * `openStore(store, options)`: a read-only handle on a store of any kind (directory,
 * archive, archive URL, `s3://`), opened by location/ as a reader/ StoreReader, the one
 * read path the mount and extract use: list and stat paths, read files whole or as a
 * stream. The handle holds a database, workers and a cache until `close()`.
 */
import { Readable } from "node:stream";
import type { HttpSourceOptions } from "../blobstore/http-byte-source.js";
import type { S3Options } from "../blobstore/s3-client.js";
import { UsageError } from "../errors.js";
import { resolveStoreLocation } from "../location/store-kind.js";
import { openStoreReaderAt } from "../location/store-view.js";
import type { StoreReader } from "../reader/store-reader.js";
import type { InodeId } from "../types.js";
import { needString, optionsObject } from "./args.js";
import { type Entry, entryOf, inodeAt, listEntries, treePath } from "./entry.js";

/** Options of {@link openStore}. */
export interface OpenStoreOptions {
  /** memory for inflated super-chunks, bytes; default 512 MiB */
  cacheSize?: number;
  /** `s3://` stores: endpoint, region, credentials (default from the AWS_* environment) */
  s3?: S3Options;
  /** http(s) archives: timeouts, retries */
  http?: HttpSourceOptions;
}

/** Options of {@link Store.ls} and `ls`. */
export interface LsOptions {
  /** list every descendant, depth first, instead of the children only */
  recursive?: boolean;
}

/** A byte range of {@link Store.createReadStream}: `start` to `end`, both inclusive. */
export interface ReadStreamOptions {
  start?: number;
  end?: number;
}

/** A store opened read-only. Paths are "/"-separated from the store's root. */
export interface Store {
  /** the store's location, made absolute unless it is a URL */
  readonly location: string;
  /** the children of a directory (default the root), or the entry itself for a file */
  ls(path?: string, options?: LsOptions): Promise<Entry[]>;
  /** the entry at `path`; E_NOT_FOUND when there is none */
  stat(path: string): Promise<Entry>;
  /** the bytes of the regular file at `path`; E_IS_DIR for a directory, E_USAGE for other kinds */
  readFile(path: string): Promise<Buffer>;
  /** the bytes of the regular file at `path` (or a range of them) as a stream */
  createReadStream(path: string, options?: ReadStreamOptions): Readable;
  /** releases the database, workers and cache; idempotent; later calls fail with E_USAGE */
  close(): Promise<void>;
}

const READ_BYTES = 1024 * 1024;

/**
 * Opens the store at `store` read-only. Rejects with E_NOT_A_STORE when there is none,
 * E_FORMAT_VERSION for a store of a newer format, E_HTTP / E_TIMEOUT for an unreachable URL.
 *
 * @example
 * const s = await openStore("photos.sc");
 * try {
 *   for (const e of await s.ls("2024")) console.log(e.kind, e.size, e.path);
 *   const text = (await s.readFile("2024/notes.txt")).toString();
 * } finally {
 *   await s.close();
 * }
 */
export async function openStore(store: string, options?: OpenStoreOptions): Promise<Store> {
  const o = optionsObject(options);
  const location = resolveStoreLocation(needString(store, "store"));
  const reader = await openStoreReaderAt(location, {
    ...(o.cacheSize === undefined ? {} : { cacheBytes: o.cacheSize }),
    ...(o.s3 === undefined ? {} : { s3: o.s3 }),
    ...(o.http === undefined ? {} : { http: o.http }),
  });
  return new ReadOnlyStore(location, reader);
}

class ReadOnlyStore implements Store {
  #closed = false;

  constructor(
    readonly location: string,
    private readonly reader: StoreReader,
  ) {}

  async ls(path = "", options: LsOptions = {}): Promise<Entry[]> {
    return listEntries(this.open(), this.location, path, options.recursive === true);
  }

  async stat(path: string): Promise<Entry> {
    const view = this.open();
    return entryOf(view, inodeAt(view, needString(path, "path")), treePath(path));
  }

  async readFile(path: string): Promise<Buffer> {
    const { ino, size } = this.file(path);
    const parts: Buffer[] = [];
    for (let off = 0; off < size; ) {
      const b = await this.open().read(ino, off, Math.min(READ_BYTES, size - off));
      if (b.length === 0) break;
      parts.push(b);
      off += b.length;
    }
    return Buffer.concat(parts);
  }

  createReadStream(path: string, options: ReadStreamOptions = {}): Readable {
    const { ino, size } = this.file(path);
    const start = options.start ?? 0;
    const end = Math.min(options.end ?? size - 1, size - 1);
    if (!Number.isSafeInteger(start) || start < 0 || !Number.isSafeInteger(end)) {
      throw new UsageError("E_USAGE", "createReadStream: start and end must be whole numbers >= 0");
    }
    const read = (off: number, n: number) => this.open().read(ino, off, n);
    return Readable.from(chunks(read, start, end + 1));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.reader.close();
  }

  private open(): StoreReader {
    if (this.#closed) throw new UsageError("E_USAGE", `${this.location}: the store is closed`);
    return this.reader;
  }

  private file(path: string): { ino: InodeId; size: number } {
    const view = this.open();
    const ino = inodeAt(view, needString(path, "path"));
    const e = entryOf(view, ino, treePath(path));
    if (e.kind === "dir") throw new UsageError("E_IS_DIR", `${path}: is a directory`, { path });
    if (e.kind !== "file") {
      throw new UsageError("E_USAGE", `${path}: not a regular file (${e.kind})`, { path });
    }
    return { ino, size: e.size };
  }
}

/** The bytes from `start` up to `stop` (exclusive), read in 1 MiB steps. */
async function* chunks(
  read: (off: number, n: number) => Promise<Buffer>,
  start: number,
  stop: number,
): AsyncGenerator<Buffer> {
  for (let off = start; off < stop; ) {
    const b = await read(off, Math.min(READ_BYTES, stop - off));
    if (b.length === 0) return;
    yield b;
    off += b.length;
  }
}
