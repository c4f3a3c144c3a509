/**
 * Blobs as objects in an S3 bucket below a prefix (`s3://bucket/prefix`), through
 * the AWS SDK for JavaScript v3. The only importer of the SDK besides s3-client.ts.
 * Reads are (ranged) GETs over keep-alive sockets, so the working set's parallel
 * loads run in parallel; the SDK retries 5xx answers and timeouts with backoff and
 * then fails with an error naming the endpoint (s3-errors.ts). Besides the BlobStore
 * contract it offers what a store's commit needs: reading an object with its ETag and
 * conditional puts (If-Match / If-None-Match: *).
 */
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from "@aws-sdk/client-s3";
import { IoError, isCode } from "../errors.js";
import type { BlobStore, ByteRange } from "./blob-store.js";
import type { TransferStats } from "./byte-source.js";
import { createS3Client, type S3Options, type S3Settings, s3Settings } from "./s3-client.js";
import {
  isPreconditionFailed,
  isRangeNotSatisfiable,
  type S3Where,
  wrapS3Error,
} from "./s3-errors.js";
import { formatS3Location, parseS3Location, type S3Location } from "./s3-location.js";

/** The condition of a conditional put. */
export type PutCondition = { readonly ifMatch: string } | { readonly ifNoneMatch: "*" };

/** An object's bytes with its ETag (without quotes). */
export interface TaggedObject {
  readonly data: Buffer;
  readonly etag: string;
}

export class S3BlobStore implements BlobStore {
  readonly location: string;
  readonly remote = true;
  readonly settings: S3Settings;
  private readonly client: S3Client;
  private readonly counters: TransferStats = { bytesFetched: 0, requests: 0, retries: 0 };
  private closed = false;

  private constructor(
    readonly where: S3Location,
    opts: S3Options,
  ) {
    this.location = formatS3Location(where);
    this.settings = s3Settings(opts);
    this.client = createS3Client(this.settings, opts.env ?? process.env);
  }

  /**
   * A store over `s3://bucket/prefix`; nothing is requested yet.
   *
   * @example
   * const blobs = S3BlobStore.open("s3://backups/linux", { endpoint: "http://127.0.0.1:7480" });
   */
  static open(location: string, opts: S3Options = {}): S3BlobStore {
    return new S3BlobStore(parseS3Location(location), opts);
  }

  async get(key: string, range?: ByteRange): Promise<Buffer> {
    if (range !== undefined && range.length <= 0) return Buffer.alloc(0);
    const Range =
      range === undefined ? undefined : `bytes=${range.offset}-${range.offset + range.length - 1}`;
    let res: GetObjectCommandOutput;
    try {
      res = await this.send(key, "read", () =>
        this.client.send(new GetObjectCommand({ ...this.target(key), Range })),
      );
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause;
      if (range !== undefined && isRangeNotSatisfiable(cause)) return Buffer.alloc(0);
      throw err;
    }
    return this.body(key, res, (n) => Promise.resolve(Buffer.allocUnsafe(n)));
  }

  /** The whole object read into a buffer from `alloc` (see BlobStore.getInto). */
  async getInto(key: string, alloc: (size: number) => Promise<Buffer>): Promise<Buffer> {
    const res = await this.send(key, "read", () =>
      this.client.send(new GetObjectCommand(this.target(key))),
    );
    return this.body(key, res, alloc);
  }

  async size(key: string): Promise<number> {
    const res = await this.send(key, "stat", () =>
      this.client.send(new HeadObjectCommand(this.target(key))),
    );
    return res.ContentLength ?? 0;
  }

  async has(key: string): Promise<boolean> {
    try {
      await this.size(key);
      return true;
    } catch (err) {
      if (isCode(err, "E_SUPERCHUNK_MISSING")) return false;
      throw err;
    }
  }

  /** Uploads `data` under `key`; resolved means the object store acknowledged it (durable). */
  async put(key: string, data: Uint8Array): Promise<void> {
    await this.putObject(key, data, {});
  }

  /**
   * Puts `data` under `key` only if `cond` holds: the object's current ETag is `ifMatch`,
   * or (`ifNoneMatch: "*"`) there is no object yet. Answers the new ETag, or undefined
   * when the condition did not hold (nothing was written).
   */
  async putIf(key: string, data: Uint8Array, cond: PutCondition): Promise<string | undefined> {
    // RGW 16 compares If-Match without the quotes an ETag is sent with
    const extra = "ifMatch" in cond ? { IfMatch: cond.ifMatch } : { IfNoneMatch: "*" };
    try {
      return await this.putObject(key, data, extra);
    } catch (err) {
      if (isPreconditionFailed((err as { cause?: unknown }).cause)) return undefined;
      throw err;
    }
  }

  /** The object and its ETag, or undefined when there is none. */
  async getTagged(key: string): Promise<TaggedObject | undefined> {
    let res: GetObjectCommandOutput;
    try {
      res = await this.send(key, "read", () =>
        this.client.send(new GetObjectCommand(this.target(key))),
      );
    } catch (err) {
      if (isCode(err, "E_SUPERCHUNK_MISSING")) return undefined;
      throw err;
    }
    const data = await this.body(key, res, (n) => Promise.resolve(Buffer.allocUnsafe(n)));
    return { data, etag: unquote(res.ETag ?? "") };
  }

  async delete(key: string): Promise<void> {
    try {
      await this.send(key, "delete", () =>
        this.client.send(new DeleteObjectCommand(this.target(key))),
      );
    } catch (err) {
      if (!isCode(err, "E_SUPERCHUNK_MISSING")) throw err;
    }
  }

  async *list(prefix: string): AsyncIterable<string> {
    const base = this.fullKey("");
    let token: string | undefined;
    do {
      const res = await this.send(prefix, "list", () =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.where.bucket,
            Prefix: base + prefix,
            ContinuationToken: token,
          }),
        ),
      );
      for (const o of res.Contents ?? []) if (o.Key) yield o.Key.slice(base.length);
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  /**
   * Creates the bucket when it is missing (and the credentials allow it); an existing
   * bucket is left as it is.
   */
  async ensureBucket(): Promise<void> {
    const Bucket = this.where.bucket;
    try {
      await this.send(undefined, "check bucket", () =>
        this.client.send(new HeadBucketCommand({ Bucket })),
      );
      return;
    } catch (err) {
      if (!isCode(err, "E_SUPERCHUNK_MISSING")) throw err;
    }
    try {
      await this.send(undefined, "create bucket", () =>
        this.client.send(new CreateBucketCommand({ Bucket })),
      );
    } catch (err) {
      const name = (err as { cause?: { name?: string } }).cause?.name;
      if (name !== "BucketAlreadyOwnedByYou") throw err;
    }
  }

  transferStats(): TransferStats {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.client.destroy();
  }

  private async putObject(
    key: string,
    data: Uint8Array,
    extra: Partial<PutObjectCommandInput>,
  ): Promise<string> {
    const res = await this.send(key, "write", () =>
      this.client.send(
        new PutObjectCommand({
          ...this.target(key),
          Body: data,
          ContentLength: data.length,
          ...extra,
        }),
      ),
    );
    return unquote(res.ETag ?? "");
  }

  /** Runs one SDK call, counting it and turning its failure into an EngineError. */
  private async send<T extends { $metadata?: { attempts?: number } }>(
    key: string | undefined,
    what: string,
    call: () => Promise<T>,
  ): Promise<T> {
    this.counters.requests++;
    try {
      const res = await call();
      this.counters.retries += Math.max(0, (res.$metadata?.attempts ?? 1) - 1);
      return res;
    } catch (err) {
      const attempts = (err as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1;
      this.counters.retries += Math.max(0, attempts - 1);
      throw wrapS3Error(err, what, this.whereOf(key));
    }
  }

  /** Reads a GET's body into `alloc(ContentLength)`, checking the length. */
  private async body(
    key: string,
    res: GetObjectCommandOutput,
    alloc: (size: number) => Promise<Buffer>,
  ): Promise<Buffer> {
    const size = res.ContentLength ?? 0;
    const out = await alloc(size);
    let got = 0;
    try {
      for await (const chunk of (res.Body ?? []) as AsyncIterable<Uint8Array>) {
        if (got + chunk.length > size) throw new Error(`more than the ${size} bytes announced`);
        out.set(chunk, got);
        got += chunk.length;
      }
    } catch (err) {
      throw wrapS3Error(err, "read body", this.whereOf(key));
    }
    this.counters.bytesFetched += got;
    if (got !== size) {
      throw new IoError("E_IO", `${this.location}/${key}: short body (${got} of ${size} bytes)`, {
        ...this.whereOf(key),
        got,
        size,
      });
    }
    return out;
  }

  private target(key: string): { Bucket: string; Key: string } {
    return { Bucket: this.where.bucket, Key: this.fullKey(key) };
  }

  private fullKey(key: string): string {
    return this.where.prefix === "" ? key : `${this.where.prefix}/${key}`;
  }

  private whereOf(key: string | undefined): S3Where {
    const w = { endpoint: this.settings.endpointName, bucket: this.where.bucket };
    return key === undefined ? w : { ...w, key: this.fullKey(key) };
  }
}

S3BlobStore satisfies { open(location: string, opts?: S3Options): BlobStore };

function unquote(etag: string): string {
  return etag.replace(/^"(.*)"$/, "$1");
}
