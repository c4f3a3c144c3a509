/**
 * A BlobStore held in memory: the backend of unit tests and of the contract suite's
 * reference run. Not durable; `close` drops nothing, so a store can be read after it.
 */
import { NotFoundError } from "../errors.js";
import type { BlobStore, ByteRange } from "./blob-store.js";

/** A BlobStore in memory, for tests and fault injection. */
export class MemoryBlobStore implements BlobStore {
  readonly location = "memory";
  readonly blobs = new Map<string, Buffer>();

  async get(key: string, range?: ByteRange): Promise<Buffer> {
    const blob = this.must(key);
    if (!range) return Buffer.from(blob);
    return Buffer.from(blob.subarray(range.offset, range.offset + range.length));
  }
  async size(key: string): Promise<number> {
    return this.must(key).length;
  }
  async has(key: string): Promise<boolean> {
    return this.blobs.has(key);
  }
  async put(key: string, data: Uint8Array): Promise<void> {
    this.blobs.set(key, Buffer.from(data));
  }
  async delete(key: string): Promise<void> {
    this.blobs.delete(key);
  }
  async *list(prefix: string): AsyncIterable<string> {
    for (const key of [...this.blobs.keys()]) if (key.startsWith(prefix)) yield key;
  }
  async close(): Promise<void> {}

  private must(key: string): Buffer {
    const blob = this.blobs.get(key);
    if (!blob)
      throw new NotFoundError("E_SUPERCHUNK_MISSING", `${key}: missing from memory store`, { key });
    return blob;
  }
}

MemoryBlobStore satisfies new () => BlobStore;
