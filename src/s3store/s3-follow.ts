/**
 * Following an S3 store (`mount s3://… --read-only --follow`): a read-only StoreReader
 * whose S3Follower polls the store's pointer (`meta/current`, one small GET; nothing more
 * when its ETag has not changed) and, when it names a newer generation, loads that
 * generation's database and serves it from then on (StoreReader.replaceMeta), without
 * remounting. Super-chunks are immutable and keyed by id, so the working set is kept
 * across generations, minus the super-chunks the new generation lacks or describes
 * differently. Reads already running finish with the extents they resolved; inode
 * numbers are the store's inode ids, so unchanged files keep theirs. A failed poll
 * (endpoint down or frozen, pointer unreadable, generation missing) is logged and
 * retried at the next interval; the generation served stays as it was.
 */
import { S3BlobStore } from "../blobstore/s3-blob-store.js";
import type { S3Options } from "../blobstore/s3-client.js";
import { CodecPool } from "../codec/codec-pool.js";
import { EngineError, isCode, NotFoundError } from "../errors.js";
import type { MetaDb } from "../meta/meta-db.js";
import { StoreReader, type StoreReaderOptions } from "../reader/store-reader.js";
import type { InodeId } from "../types.js";
import { WORKINGSET_DEFAULT_BYTES } from "../workingset/working-set.js";
import {
  loadGeneration,
  type OpenS3Store,
  openS3Store,
  POINTER_KEY,
  readPointer,
  type S3Pointer,
} from "./s3-store.js";

/** Seconds between polls of the pointer unless told otherwise. */
export const FOLLOW_DEFAULT_INTERVAL_S = 10;
const POLL_TIMEOUT_MIN_MS = 1000;
const POLL_TIMEOUT_MAX_MS = 10_000;
const DEFAULT_THREADS = 2;

/** Options of an S3Follower. */
export interface S3FollowOptions {
  /** seconds from the end of one poll to the start of the next; default 10 */
  intervalSeconds?: number;
  /**
   * ms a poll's request may stay idle before the poll fails (one attempt, no retries: the
   * next poll is the retry); default the interval, within 1–10 s
   */
  pollTimeoutMs?: number;
  /** receives one line per switch, per streak of failed polls and per recovery */
  log(line: string): void;
}

/** What a reader offers to be switched to a newer generation (StoreReader does). */
export interface FollowTarget {
  replaceMeta(next: MetaDb): { previous: MetaDb; dropped: number };
}

/**
 * Polls an S3 store's pointer and switches `target` to each newer generation it names.
 * @example
 * const f = new S3Follower(blobs, poller, reader, pointer, { log: console.error });
 * f.start(); // ... f.close();
 */
export class S3Follower {
  readonly #blobs: S3BlobStore;
  readonly #poller: S3BlobStore;
  readonly #target: FollowTarget;
  readonly #intervalMs: number;
  readonly #log: (line: string) => void;
  /** the generation served */
  #pointer: S3Pointer;
  /** the ETag of the last pointer acted on (served or ignored) */
  #seenEtag: string;
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<boolean> | undefined;
  #failures = 0;
  #failing: string | undefined;
  #closed = false;

  /**
   * @param blobs the store's blobs (the generation databases are read through them)
   * @param poller a client for the pointer alone, with short timeouts and one attempt
   * @param pointer the pointer of the generation `target` serves now
   */
  constructor(
    blobs: S3BlobStore,
    poller: S3BlobStore,
    target: FollowTarget,
    pointer: S3Pointer,
    opts: S3FollowOptions,
  ) {
    this.#blobs = blobs;
    this.#poller = poller;
    this.#target = target;
    this.#pointer = pointer;
    this.#seenEtag = pointer.etag;
    this.#intervalMs = (opts.intervalSeconds ?? FOLLOW_DEFAULT_INTERVAL_S) * 1000;
    this.#log = opts.log;
  }

  /** The generation served now. */
  get generation(): number {
    return this.#pointer.generation;
  }

  /** Polls every interval from now on (until `close`); failures are logged, never thrown. */
  start(): void {
    if (this.#closed || this.#timer !== undefined) return;
    this.#schedule();
  }

  /**
   * Polls once now (or joins the poll running): answers true when it switched to a newer
   * generation. Throws what the poll met (E_IO, E_TIMEOUT, E_CORRUPT, ...); nothing changes then.
   */
  poll(): Promise<boolean> {
    if (this.#polling === undefined) {
      this.#polling = this.#pollOnce().finally(() => {
        this.#polling = undefined;
      });
    }
    return this.#polling;
  }

  /** Stops polling; a poll still running switches nothing. Idempotent. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    this.#timer = setTimeout(() => void this.#tick(), this.#intervalMs);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    try {
      await this.poll();
    } catch (err) {
      if (!this.#closed) this.#failed(err);
    }
    if (!this.#closed) this.#schedule();
  }

  /** The pointer was read: ends a streak of failures (the end is logged). */
  #answered(): void {
    if (this.#failures > 0 && !this.#closed) {
      this.#log(`following: ${this.#where()} answers again, after ${this.#failures} failed polls`);
    }
    this.#failures = 0;
    this.#failing = undefined;
  }

  /** Logs the first failure of a streak, and any failure that differs from the last logged. */
  #failed(err: unknown): void {
    this.#failures++;
    const why = err instanceof EngineError ? `${err.code}: ${err.message}` : String(err);
    if (why === this.#failing) return;
    this.#failing = why;
    const every = this.#intervalMs / 1000;
    this.#log(
      `following: poll of ${this.#where()} failed (${why}); still serving generation ${this.generation}, retrying every ${every} s`,
    );
  }

  async #pollOnce(): Promise<boolean> {
    const p = await readPointer(this.#poller);
    if (p === undefined) {
      throw new NotFoundError("E_NOT_A_STORE", `${this.#where()} is gone`, {
        path: this.#where(),
      });
    }
    this.#answered();
    if (this.#closed || p.etag === this.#seenEtag) return false;
    const from = this.generation;
    if (p.generation <= from) {
      this.#seenEtag = p.etag;
      if (p.generation < from) {
        this.#log(
          `following: pointer names generation ${p.generation}, older than ${from}: ignored`,
        );
      }
      return false;
    }
    const meta = await loadGeneration(this.#blobs, p);
    if (this.#closed) {
      meta.close();
      return false;
    }
    const { previous, dropped } = this.#target.replaceMeta(meta);
    previous.close();
    this.#pointer = p;
    this.#seenEtag = p.etag;
    this.#log(
      `following: generation ${from} → ${p.generation} (${dropped} cached super-chunks dropped)`,
    );
    return true;
  }

  #where(): string {
    return `${this.#blobs.location}/${POINTER_KEY}`;
  }
}

/** Options of openFollowingS3Reader. */
export interface FollowingS3ReaderOptions extends StoreReaderOptions {
  /** endpoint, region, credentials, timeouts of the store's requests */
  s3?: S3Options;
  follow: S3FollowOptions;
}

/** A read-only reader of an S3 store that `follower` switches to newer generations. */
export class FollowingS3Reader extends StoreReader {
  readonly follower: S3Follower;
  /** the store's location, s3://bucket/prefix */
  readonly location: string;
  readonly #poller: S3BlobStore;

  constructor(store: OpenS3Store, poller: S3BlobStore, opts: FollowingS3ReaderOptions) {
    const pool = new CodecPool({ threads: opts.threads ?? DEFAULT_THREADS });
    pool.warm();
    const cacheBytes = opts.cacheBytes ?? WORKINGSET_DEFAULT_BYTES;
    super(store.meta, store.blobs, pool, cacheBytes, opts);
    this.location = store.blobs.location;
    this.#poller = poller;
    this.follower = new S3Follower(store.blobs, poller, this, store.pointer, opts.follow);
  }

  /**
   * Reads like any reader; a super-chunk missing from the bucket (a writer committed a
   * newer generation and deleted what it no longer names) polls at once and, when that
   * switched to a newer generation, reads again from it.
   */
  override readInto(ino: InodeId, offset: number, target: Buffer): number | Promise<number> {
    const r = super.readInto(ino, offset, target);
    if (typeof r === "number") return r;
    return r.catch(async (err: unknown) => {
      if (!isCode(err, "E_SUPERCHUNK_MISSING")) throw err;
      const switched = await this.follower.poll().catch(() => false);
      if (!switched) throw err;
      return super.readInto(ino, offset, target);
    });
  }

  /** Stops following, then closes like any reader. */
  override async close(): Promise<void> {
    this.follower.close();
    await super.close();
    await this.#poller.close();
  }
}

/**
 * Opens the S3 store at `location` at its committed generation, ready to follow it; the
 * caller starts polling with `reader.follower.start()` (or polls with `follower.poll()`).
 * Fails like openS3Store.
 *
 * @example
 * const r = await openFollowingS3Reader("s3://b/linux", { follow: { log: console.error } });
 * r.follower.start();
 */
export async function openFollowingS3Reader(
  location: string,
  opts: FollowingS3ReaderOptions,
): Promise<FollowingS3Reader> {
  const store = await openS3Store(location, opts.s3);
  const interval = opts.follow.intervalSeconds ?? FOLLOW_DEFAULT_INTERVAL_S;
  const timeoutMs =
    opts.follow.pollTimeoutMs ??
    Math.min(POLL_TIMEOUT_MAX_MS, Math.max(POLL_TIMEOUT_MIN_MS, interval * 1000));
  const poller = S3BlobStore.open(location, { ...opts.s3, timeoutMs, maxAttempts: 1 });
  try {
    return new FollowingS3Reader(store, poller, opts);
  } catch (err) {
    await poller.close();
    await store.blobs.close();
    store.meta.close();
    throw err;
  }
}
