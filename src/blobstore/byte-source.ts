/**
 * Random-access byte sources under an archive store: a local file, or a URL read
 * with HTTP Range requests (http-byte-source.ts). An archive is immutable, so a
 * source never changes while open.
 */
import * as fs from "node:fs/promises";
import { IoError, wrapFsError } from "../errors.js";

/** Counters of what a source fetched; `bytesFetched` counts payload bytes received. */
export interface TransferStats {
  /** payload bytes read from the file or received over the network */
  bytesFetched: number;
  /** reads (file) or HTTP requests answered, retries included */
  requests: number;
  /** requests repeated after a transient failure */
  retries: number;
}

/** A read-only, random-access sequence of bytes of a known length. */
export interface ByteSource {
  /** The path or URL, for messages. */
  readonly location: string;
  /** True when reads cross a network (see BlobStore.remote). */
  readonly remote?: boolean;
  /** Total length in bytes. */
  size(): Promise<number>;
  /**
   * Reads exactly `length` bytes from `offset`; a range past the end rejects with
   * IoError "E_IO" (an archive's directory never points outside the archive).
   */
  read(offset: number, length: number): Promise<Buffer>;
  /** What was fetched so far (a live snapshot). */
  stats(): TransferStats;
  /** Releases handles and sockets; idempotent. */
  close(): Promise<void>;
}

/** A local file as a ByteSource (opened on first use). */
export class FileByteSource implements ByteSource {
  private fh: Promise<fs.FileHandle> | undefined;
  private length: number | undefined;
  private readonly counters: TransferStats = { bytesFetched: 0, requests: 0, retries: 0 };

  constructor(readonly location: string) {}

  async size(): Promise<number> {
    if (this.length === undefined) {
      const st = await this.guard("stat", async () => (await this.handle()).stat());
      this.length = st.size;
    }
    return this.length;
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const fh = await this.handle();
    const buf = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await this.guard("read", () =>
        fh.read(buf, got, length - got, offset + got),
      );
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    this.counters.requests++;
    this.counters.bytesFetched += got;
    if (got < length) {
      throw new IoError("E_IO", `${this.location}: short read at ${offset + got}`, {
        path: this.location,
        offset,
        length,
      });
    }
    return buf;
  }

  stats(): TransferStats {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    if (fh) await (await fh.catch(() => undefined))?.close();
  }

  private handle(): Promise<fs.FileHandle> {
    this.fh ??= this.guard("open", () => fs.open(this.location, "r"));
    return this.fh;
  }

  private async guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw wrapFsError(err, this.location, `${what} archive`);
    }
  }
}

FileByteSource satisfies new (
  location: string,
) => ByteSource;
