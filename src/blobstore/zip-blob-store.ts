/**
 * ZipBlobStore: a read-only BlobStore over a zip archive (see spec/FORMAT.md,
 * "Archive") held by a ByteSource: a local file or an HTTP URL. The central
 * directory is read once at open; each key maps to an entry whose data starts
 * after its local header. Stored entries serve any byte range straight from the
 * archive; whole reads of an entry are checked against its CRC-32. Deflated
 * entries (a foreign tool may have re-zipped the store) are inflated whole, bounded
 * by their declared size.
 */
import { crc32, inflateRawSync } from "node:zlib";
import { CorruptError, NotFoundError, UsageError } from "../errors.js";
import type { BlobStore, ByteRange } from "./blob-store.js";
import type { ByteSource, TransferStats } from "./byte-source.js";
import {
  LOCAL_HEADER_BYTES,
  localHeaderLength,
  METHOD_STORED,
  readZipDirectory,
  type ZipDirectory,
  type ZipEntry,
} from "./zip-directory.js";

/** Options of a ZipBlobStore. */
export interface ZipBlobStoreOptions {
  /**
   * bytes of recently read whole entries kept, so a reader that loads the same super-chunk
   * again (a deeper partial inflate) does not fetch it again; default 0 (a remote source
   * should keep some: openArchive keeps 32 MiB for URLs)
   */
  recentBytes?: number;
}

export class ZipBlobStore implements BlobStore {
  readonly location: string;
  readonly remote: boolean | undefined;
  /** where each entry's data starts, once its local header has been seen */
  private readonly dataOffsets = new Map<string, number>();
  /** recently read whole entries, oldest first */
  private readonly recent = new Map<string, Buffer>();
  private recentHeld = 0;

  private constructor(
    private readonly src: ByteSource,
    readonly directory: ZipDirectory,
    private readonly recentBytes: number,
  ) {
    this.location = src.location;
    this.remote = src.remote;
  }

  /** Reads the archive's central directory; the store owns `src` from here (close() closes it). */
  static async open(src: ByteSource, opts: ZipBlobStoreOptions = {}): Promise<ZipBlobStore> {
    try {
      return new ZipBlobStore(src, await readZipDirectory(src), opts.recentBytes ?? 0);
    } catch (err) {
      await src.close();
      throw err;
    }
  }

  async get(key: string, range?: ByteRange): Promise<Buffer> {
    const e = this.entry(key);
    if (e.method !== METHOD_STORED) {
      const all = await this.readInflated(e);
      return range ? all.subarray(range.offset, range.offset + range.length) : all;
    }
    if (!range) return this.readWholeCached(e);
    const from = Math.min(range.offset, e.uncompressedSize);
    const n = Math.min(range.length, e.uncompressedSize - from);
    return this.src.read((await this.dataOffset(e)) + from, n);
  }

  async size(key: string): Promise<number> {
    return this.entry(key).uncompressedSize;
  }

  async has(key: string): Promise<boolean> {
    return this.directory.entries.has(key);
  }

  async put(key: string, _data?: Uint8Array): Promise<void> {
    throw this.readOnly("put", key);
  }

  async delete(key: string): Promise<void> {
    throw this.readOnly("delete", key);
  }

  async *list(prefix: string): AsyncIterable<string> {
    for (const key of this.directory.entries.keys()) if (key.startsWith(prefix)) yield key;
  }

  /** What the byte source fetched so far. */
  transferStats(): TransferStats {
    return this.src.stats();
  }

  async close(): Promise<void> {
    this.recent.clear();
    this.recentHeld = 0;
    await this.src.close();
  }

  private entry(key: string): ZipEntry {
    const e = this.directory.entries.get(key);
    if (!e) {
      throw new NotFoundError("E_SUPERCHUNK_MISSING", `${this.location}: no entry ${key}`, {
        key,
        path: this.location,
      });
    }
    return e;
  }

  /** The entry's raw (possibly compressed) bytes, header and data in one read when possible. */
  private async readRaw(e: ZipEntry): Promise<Buffer> {
    const known = this.dataOffsets.get(e.name);
    if (known !== undefined) return this.src.read(known, e.compressedSize);
    // one read, assuming the local header has no extra field (true of archives seal writes)
    const guess = LOCAL_HEADER_BYTES + Buffer.byteLength(e.name);
    const buf = await this.src.read(e.localHeaderOffset, guess + e.compressedSize);
    const head = localHeaderLength(this.src, e, buf);
    if (e.localHeaderOffset + head + e.compressedSize > this.directory.directoryOffset) {
      throw this.damaged(e, "local header runs into the next entry");
    }
    this.dataOffsets.set(e.name, e.localHeaderOffset + head);
    if (head === guess) return buf.subarray(guess);
    const more = await this.src.read(e.localHeaderOffset + guess + e.compressedSize, head - guess);
    return Buffer.concat([buf.subarray(head), more]);
  }

  private async readWholeCached(e: ZipEntry): Promise<Buffer> {
    const kept = this.recent.get(e.name);
    if (kept !== undefined) {
      this.recent.delete(e.name);
      this.recent.set(e.name, kept);
      return Buffer.from(kept);
    }
    const data = await this.readWhole(e);
    if (data.length <= this.recentBytes && !this.recent.has(e.name)) {
      this.recent.set(e.name, Buffer.from(data));
      this.recentHeld += data.length;
      for (const [k, v] of this.recent) {
        if (this.recentHeld <= this.recentBytes) break;
        this.recent.delete(k);
        this.recentHeld -= v.length;
      }
    }
    return data;
  }

  private async readWhole(e: ZipEntry): Promise<Buffer> {
    const data = await this.readRaw(e);
    if (crc32(data) !== e.crc32) throw this.damaged(e, "CRC-32 mismatch");
    return data;
  }

  private async readInflated(e: ZipEntry): Promise<Buffer> {
    const raw = await this.readRaw(e);
    let out: Buffer;
    try {
      out = inflateRawSync(raw, { maxOutputLength: Math.max(1, e.uncompressedSize) });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ERR_BUFFER_TOO_LARGE") {
        throw new CorruptError("E_ZIP_BOMB", `${this.location}: ${e.name} inflates past its size`, {
          path: this.location,
          entry: e.name,
        });
      }
      throw this.damaged(e, "does not inflate", err);
    }
    if (out.length !== e.uncompressedSize) {
      throw new CorruptError(
        "E_ZIP_SIZE_MISMATCH",
        `${this.location}: ${e.name} has a wrong size`,
        {
          path: this.location,
          entry: e.name,
          bytes: out.length,
        },
      );
    }
    if (crc32(out) !== e.crc32) throw this.damaged(e, "CRC-32 mismatch");
    return out;
  }

  private async dataOffset(e: ZipEntry): Promise<number> {
    const known = this.dataOffsets.get(e.name);
    if (known !== undefined) return known;
    const guess = LOCAL_HEADER_BYTES + Buffer.byteLength(e.name);
    const head = localHeaderLength(this.src, e, await this.src.read(e.localHeaderOffset, guess));
    const at = e.localHeaderOffset + head;
    if (at + e.compressedSize > this.directory.directoryOffset) {
      throw this.damaged(e, "local header runs into the next entry");
    }
    this.dataOffsets.set(e.name, at);
    return at;
  }

  private damaged(e: ZipEntry, what: string, cause?: unknown): CorruptError {
    return new CorruptError(
      "E_ZIP_CORRUPT",
      `${this.location}: entry ${e.name}: ${what}`,
      { path: this.location, entry: e.name, offset: e.localHeaderOffset },
      cause,
    );
  }

  private readOnly(op: string, key: string): UsageError {
    return new UsageError("E_READ_ONLY", `${this.location}: an archive is read-only (${op})`, {
      path: this.location,
      key,
    });
  }
}

ZipBlobStore satisfies { open(src: ByteSource): Promise<BlobStore> };
