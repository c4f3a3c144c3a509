/**
 * A BlobStore whose deletes wait: `delete` only notes the key, and the caller runs the
 * deletes noted up to some point once it is safe (for an S3 store: once the generation
 * that no longer names those objects is committed, so no committed generation ever names
 * a deleted object). A `put` of a noted key cancels its delete, also one noted before a
 * capture that has not run yet, so a key written again is never deleted afterwards.
 */

import type { BlobStore, ByteRange } from "./blob-store.js";
import type { TransferStats } from "./byte-source.js";

/** Deletes noted up to a point (see DeferredDeleteBlobStore.capture). */
export type DeleteCapture = ReadonlyMap<string, number>;

export class DeferredDeleteBlobStore implements BlobStore {
  readonly location: string;
  /** key → token of the delete noted last */
  readonly #pending = new Map<string, number>();
  #token = 0;
  /** deletes running now: a put of the same key waits for its delete */
  readonly #running = new Map<string, Promise<void>>();

  constructor(readonly inner: BlobStore) {
    this.location = inner.location;
  }

  get(key: string, range?: ByteRange): Promise<Buffer> {
    return this.inner.get(key, range);
  }

  getInto(key: string, alloc: (size: number) => Promise<Buffer>): Promise<Buffer> {
    if (this.inner.getInto !== undefined) return this.inner.getInto(key, alloc);
    return this.inner.get(key).then(async (b) => {
      const out = await alloc(b.length);
      b.copy(out);
      return out;
    });
  }

  size(key: string): Promise<number> {
    return this.inner.size(key);
  }

  has(key: string): Promise<boolean> {
    return this.inner.has(key);
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    this.#pending.delete(key);
    await this.#running.get(key)?.catch(() => {});
    await this.inner.put(key, data);
  }

  /** Notes the key; it is deleted by a later `runDeletes` of a capture taken after this. */
  async delete(key: string): Promise<void> {
    this.#pending.set(key, ++this.#token);
  }

  /** The keys, less those whose delete is noted (deleted as far as the writer is concerned). */
  async *list(prefix: string): AsyncIterable<string> {
    for await (const key of this.inner.list(prefix)) if (!this.#pending.has(key)) yield key;
  }

  async close(): Promise<void> {
    await this.inner.close();
  }

  transferStats(): TransferStats {
    return this.inner.transferStats?.() ?? { bytesFetched: 0, requests: 0, retries: 0 };
  }

  /** Deletes noted so far and not yet run. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** The deletes noted so far (take it before the state that no longer needs them is made safe). */
  capture(): DeleteCapture {
    return new Map(this.#pending);
  }

  /**
   * Runs the deletes of `capture` that are still noted with the same token (not cancelled
   * by a put, not noted again since). Returns how many ran; a failed delete stays noted
   * and its error is returned (the object is left behind, never lost).
   */
  async runDeletes(capture: DeleteCapture): Promise<{ deleted: number; errors: unknown[] }> {
    let deleted = 0;
    const errors: unknown[] = [];
    for (const [key, token] of capture) {
      if (this.#pending.get(key) !== token) continue;
      const run = this.inner.delete(key);
      this.#running.set(key, run);
      try {
        await run;
        if (this.#pending.get(key) === token) this.#pending.delete(key);
        deleted++;
      } catch (err) {
        errors.push(err);
      } finally {
        this.#running.delete(key);
      }
    }
    return { deleted, errors };
  }
}
