/**
 * blobstore/: where super-chunk files live. A BlobStore maps keys (relative,
 * '/'-separated names such as "sc/01/00000001.sc") to immutable byte strings.
 * Backends: memory (tests), dir (a store directory), zip (a read-only archive in
 * a local file or behind an http(s) URL: zip-blob-store.ts over a ByteSource), s3
 * (objects in an S3-compatible bucket below a prefix: s3-blob-store.ts, the only
 * importer of the AWS SDK).
 */
import type { TransferStats } from "./byte-source.js";

/** A byte range of a blob: `length` bytes from `offset`. */
export interface ByteRange {
  readonly offset: number;
  readonly length: number;
}

export interface BlobStore {
  /** Short description for messages, e.g. the directory path. */
  readonly location: string;
  /**
   * True when reads cross a network, so each request costs a round trip and many
   * requests in flight overlap them (readers then fetch ahead: fetch-ahead.ts).
   */
  readonly remote?: boolean;
  /**
   * Reads a whole blob, or a range of it. A range past the end returns the bytes
   * that exist (possibly none). A missing key rejects with NotFoundError
   * "E_SUPERCHUNK_MISSING" naming the key; other failures are IoError (transient or
   * permanent as the backend knows).
   */
  get(key: string, range?: ByteRange): Promise<Buffer>;
  /**
   * Optional: reads a whole blob into memory the caller provides: `alloc(size)` is called
   * once with the blob's length and must return a buffer of exactly that length, which is
   * filled and returned. Lets a reader reuse its buffers instead of allocating one per read.
   * Same errors as `get`.
   */
  getInto?(key: string, alloc: (size: number) => Promise<Buffer>): Promise<Buffer>;
  /** Byte length of a blob; NotFoundError "E_SUPERCHUNK_MISSING" when missing. */
  size(key: string): Promise<number>;
  /** True when the key exists. */
  has(key: string): Promise<boolean>;
  /**
   * Stores a blob. When the promise resolves the blob is durable (written and
   * synced); a crash before that leaves either no blob or none visible under `key`.
   * Blobs are immutable: putting an existing key replaces it atomically.
   */
  put(key: string, data: Uint8Array): Promise<void>;
  /** Removes a blob; removing a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** Every key that starts with `prefix`, in no particular order. */
  list(prefix: string): AsyncIterable<string>;
  /** Releases handles; idempotent. */
  close(): Promise<void>;
  /** Bytes fetched from a remote or archive source so far, for backends that count them. */
  transferStats?(): TransferStats;
}

/** The key of a super-chunk's blob: sc/<low byte of id in hex>/<id as 8+ hex digits>.sc */
export function superChunkKey(id: number): string {
  const dir = (id & 0xff).toString(16).padStart(2, "0");
  return `sc/${dir}/${id.toString(16).padStart(8, "0")}.sc`;
}

/**
 * The key of an open super-chunk's raw append file in a read-write store directory:
 * open/<id as 8+ hex digits>.raw (uncompressed; its committed length is the row's raw_bytes).
 */
export function openSuperChunkKey(id: number): string {
  return `open/${id.toString(16).padStart(8, "0")}.raw`;
}

/** Parses a super-chunk key back to its id, or undefined if the key is not one. */
export function parseSuperChunkKey(key: string): number | undefined {
  const m = /^sc\/[0-9a-f]{2}\/([0-9a-f]{8,})\.sc$/.exec(key);
  return m?.[1] === undefined ? undefined : Number.parseInt(m[1], 16);
}
