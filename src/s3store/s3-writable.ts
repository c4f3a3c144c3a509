/**
 * A read-write store on S3: a WritableStore over an S3Checkout's work directory, whose
 * frozen super-chunks go to the bucket, plus a publisher that commits generations.
 *
 * Writes land and commit locally as on a store directory (staging, open super-chunks in
 * the work directory, one metadata transaction per file commit). A generation is
 * published once the store has been quiet for `publishIdleMs` (every super-chunk is frozen
 * first, so the generation names only objects in the bucket), at least every
 * `publishMaxDelayMs` while changes keep coming, and at close. A reader on another machine
 * sees the writes once their generation is published; a crash loses nothing committed
 * locally (the next writer resumes the work directory and publishes it).
 */
import { EngineError } from "../errors.js";
import { encodePackedDatabase } from "../store/packed-db.js";
import { WritableStore, type WritableStoreOptions } from "../writer/writable-store.js";
import { S3Checkout, type S3CheckoutOptions } from "./s3-checkout.js";

/** Options of openS3Writable. */
export interface S3WritableOptions
  extends Omit<WritableStoreOptions, "blobs" | "onClosing" | "purpose">,
    S3CheckoutOptions {
  /** ms without changes before a generation is published; default 2000 */
  publishIdleMs?: number;
  /** ms changes may wait, at most, while more keep coming; default 60000 */
  publishMaxDelayMs?: number;
}

/** An open read-write S3 store. close() of `store` publishes, then releases the lease. */
export interface S3Writable {
  readonly store: WritableStore;
  readonly checkout: S3Checkout;
  /** Freezes everything and publishes a generation now when anything changed since the last. */
  publishNow(): Promise<number | undefined>;
}

/** Database images smaller than this are packed at the pack level at close. */
const SMALL_DB_BYTES = 8 * 1024 * 1024;
const TICK_MS = 500;

/**
 * Opens the S3 store at `location` for reading and writing: takes the lease, checks out
 * the committed generation (or resumes a work directory of it), recovers, and starts the
 * publisher.
 *
 * @example
 * const { store } = await openS3Writable("s3://data/proj", { purpose: "mount /mnt/proj" });
 * // ... store.create / write / release ...
 * await store.close(); // publishes the last generation and releases the lease
 */
export async function openS3Writable(
  location: string,
  opts: S3WritableOptions,
): Promise<S3Writable> {
  const checkout = await S3Checkout.open(location, opts);
  let publisher: Publisher | undefined;
  try {
    const store = await WritableStore.open(checkout.dir, {
      ...opts,
      purpose: opts.purpose,
      blobs: checkout.blobs,
      onClosing: async (s) => {
        publisher?.stop();
        try {
          await publisher?.publish(s, true);
        } catch (err) {
          opts.log?.(
            `superchunk: ${checkout.location}: the last changes were not published; they are kept in ${checkout.dir} and published by the next read-write mount`,
          );
          throw err;
        }
        checkout.markClean();
        await checkout.close();
      },
    });
    publisher = new Publisher(store, checkout, opts);
    // a fresh copy equals the committed generation: what recovery found orphaned there is
    // named by no committed generation and goes now; a resumed copy publishes first
    if (checkout.resumed) publisher.markDirty();
    else await checkout.blobs.runDeletes(checkout.blobs.capture());
    const p = publisher;
    return { store, checkout, publishNow: () => p.publish(store, false) };
  } catch (err) {
    await checkout.close();
    throw err;
  }
}

/** Publishes generations of a writable store when it has been quiet for a while. */
class Publisher {
  readonly #timer: NodeJS.Timeout;
  /** change count of the last published image */
  #published: number;
  #lastSeen: number;
  #quietSince = Date.now();
  #firstUnpublished: number | undefined;
  #running: Promise<unknown> | undefined;
  readonly #idleMs: number;
  readonly #maxDelayMs: number;

  constructor(
    readonly store: WritableStore,
    readonly checkout: S3Checkout,
    private readonly opts: S3WritableOptions,
  ) {
    this.#published = store.changeCount();
    this.#lastSeen = this.#published;
    this.#idleMs = opts.publishIdleMs ?? 2000;
    this.#maxDelayMs = opts.publishMaxDelayMs ?? 60_000;
    this.#timer = setInterval(() => this.#tick(), Math.max(50, Math.min(TICK_MS, this.#idleMs)));
    this.#timer.unref();
  }

  /** Makes the next quiet moment publish even without new changes (resumed work, deletes owed). */
  markDirty(): void {
    this.#published = -1;
    this.#firstUnpublished = Date.now();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /**
   * Freezes and publishes when anything changed since the last generation; answers the
   * new generation number (undefined when there was nothing to publish). `final`: at close,
   * the database is packed harder and errors are thrown, not logged.
   */
  async publish(store: WritableStore, final: boolean): Promise<number | undefined> {
    while (this.#running !== undefined) await this.#running.catch(() => {});
    const run = this.#publishOnce(store, final);
    this.#running = run;
    try {
      return await run;
    } finally {
      this.#running = undefined;
    }
  }

  async #publishOnce(store: WritableStore, final: boolean): Promise<number | undefined> {
    if (!final) await store.freezeAll();
    const changes = store.changeCount();
    if (changes === this.#published) return undefined;
    const image = store.frozenImage();
    if (image === undefined) return undefined; // a commit opened a super-chunk meanwhile
    const level = final && image.length < SMALL_DB_BYTES ? undefined : 9;
    const started = Date.now();
    const commit = await this.checkout.publish(encodePackedDatabase(image, level));
    this.#published = changes;
    this.#firstUnpublished = undefined;
    this.opts.log?.(
      `superchunk: published generation ${commit.generation} of ${this.checkout.location} (${commit.databaseBytes} bytes, ${commit.deleted} objects deleted, ${Date.now() - started} ms)`,
    );
    return commit.generation;
  }

  #tick(): void {
    if (this.#running !== undefined) return;
    const now = Date.now();
    const n = this.store.changeCount();
    if (n !== this.#lastSeen) {
      this.#lastSeen = n;
      this.#quietSince = now;
      this.#firstUnpublished ??= now;
      return;
    }
    if (n === this.#published) return;
    this.#firstUnpublished ??= now;
    const quiet = now - this.#quietSince >= this.#idleMs && !this.store.hasUnflushedWrites();
    if (!quiet && now - this.#firstUnpublished < this.#maxDelayMs) return;
    this.publish(this.store, false).catch((err) => {
      const what = err instanceof EngineError ? `${err.code}: ${err.message}` : String(err);
      this.opts.log?.(
        `superchunk: publishing ${this.checkout.location} failed (${what}); retrying`,
      );
      this.#quietSince = Date.now();
    });
  }
}
