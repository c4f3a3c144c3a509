/**
 * FetchAheadBlobStore: a wrapper that hides the latency of a remote store (S3, an archive
 * over HTTP). A reader hints the objects it will need, in order, with their sizes; the
 * wrapper fetches them many at a time (the round trips overlap) and holds their bytes
 * until a `get` or `getInto` takes them, which then answers at once or joins the fetch in
 * flight. Objects read lately are kept too, so a reader that loads the same object again
 * (a deeper partial inflate) does not fetch it twice.
 *
 * Memory is bounded: objects held, being fetched (counted at their hinted size) and kept
 * after a read share `maxBytes`. Room is made by dropping what was read longest ago, then
 * objects held unread for `staleMs` (the reader went elsewhere); when nothing can go,
 * fetching ahead waits until reads take what is held.
 *
 * Fetching ahead is a hint, never a source of errors: a fetch ahead that fails is
 * forgotten, and the caller's own read goes to the inner store and reports what it meets.
 * Compressed super-chunks are small next to their inflated bytes, so this runs much
 * deeper than the working set's prefetch, which is bounded by inflate threads and memory.
 */
import type { BlobStore, ByteRange } from "./blob-store.js";
import type { TransferStats } from "./byte-source.js";
import {
  FetchAheadCache,
  type FetchAheadOptions,
  type FetchAheadStats,
  type FetchHint,
} from "./fetch-ahead-cache.js";

export type { FetchAheadOptions, FetchAheadStats, FetchHint } from "./fetch-ahead-cache.js";

export class FetchAheadBlobStore implements BlobStore {
  readonly location: string;
  readonly remote: boolean | undefined;
  readonly #inner: BlobStore;
  readonly #cache: FetchAheadCache;
  #closed = false;

  constructor(inner: BlobStore, opts: FetchAheadOptions = {}) {
    this.#inner = inner;
    this.location = inner.location;
    this.remote = inner.remote;
    this.#cache = new FetchAheadCache((key) => inner.get(key), opts);
  }

  /**
   * Objects about to be read, in the order they will be; keys already hinted or kept keep
   * their place. Answers how many were added.
   *
   * @example
   * const blobs = new FetchAheadBlobStore(S3BlobStore.open("s3://b/store"));
   * blobs.hint([{ key: "sc/01/00000001.sc", bytes: 65_536 }]);
   */
  hint(items: Iterable<FetchHint>): number {
    return this.#cache.hint(items);
  }

  /** Drops every hint and everything held or kept (the reader switched to other objects). */
  clear(): void {
    this.#cache.clear();
  }

  stats(): FetchAheadStats {
    return this.#cache.stats();
  }

  async get(key: string, range?: ByteRange): Promise<Buffer> {
    if (range !== undefined) return this.#inner.get(key, range);
    return this.#cache.read(key);
  }

  async getInto(key: string, alloc: (size: number) => Promise<Buffer>): Promise<Buffer> {
    const held = await this.#cache.read(key);
    const out = await alloc(held.length);
    held.copy(out);
    return out;
  }

  size(key: string): Promise<number> {
    return this.#inner.size(key);
  }

  has(key: string): Promise<boolean> {
    return this.#inner.has(key);
  }

  put(key: string, data: Uint8Array): Promise<void> {
    this.#cache.forget(key);
    return this.#inner.put(key, data);
  }

  delete(key: string): Promise<void> {
    this.#cache.forget(key);
    return this.#inner.delete(key);
  }

  list(prefix: string): AsyncIterable<string> {
    return this.#inner.list(prefix);
  }

  transferStats(): TransferStats {
    return this.#inner.transferStats?.() ?? { bytesFetched: 0, requests: 0, retries: 0 };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#cache.close();
    await this.#inner.close();
  }
}

FetchAheadBlobStore satisfies new (
  inner: BlobStore,
  opts?: FetchAheadOptions,
) => BlobStore;
