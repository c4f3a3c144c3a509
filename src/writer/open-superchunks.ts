/**
 * Open super-chunks: super-chunks still being filled, each a raw append file
 * `<store>/open/<id>.raw` (uncompressed sub-blocks back to back) named by a committed
 * `superchunks` row whose codec is "open" and whose raw_bytes is the committed length.
 * A commit appends new sub-blocks past that length and records the new length in its
 * metadata transaction; bytes past the committed length are garbage after a crash and are
 * cut off at the next open. One open super-chunk is *current* (takes appends); a full one
 * is *sealed* and waits to be frozen.
 *
 * Durability (`syncDurable`, the group sync): the raw files' committed bytes are fsynced,
 * then the database's WAL, so the metadata never becomes durable ahead of the bytes it
 * names; raw files of dropped (frozen or deleted) super-chunks are removed only after
 * that, once the transaction that dropped them is durable.
 */
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { promisify } from "node:util";
import { openSuperChunkKey } from "../blobstore/blob-store.js";
import { assert, CorruptError, wrapFsError } from "../errors.js";
import type { MetaDb } from "../meta/meta-db.js";
import { OPEN_CODEC } from "../meta/write-table.js";
import { SUPERCHUNK_MAX_BYTES, type SuperChunkId } from "../types.js";

/** Folder of the raw append files inside a store. */
export const OPEN_DIR = "open";

/** File name of an open super-chunk's raw append file (inside OPEN_DIR; openSuperChunkKey). */
export function openFileName(id: number): string {
  return path.basename(openSuperChunkKey(id));
}

/** One open super-chunk. */
export interface OpenChunk {
  readonly id: SuperChunkId;
  readonly file: string;
  readonly fd: number;
  /** raw bytes and sub-blocks the metadata has recorded */
  committedBytes: number;
  committedCount: number;
  /** committed raw bytes known to be on disk */
  syncedBytes: number;
  /** including appends not committed yet */
  appendBytes: number;
  appendCount: number;
  /**
   * SHA-256 of the sub-blocks this process appended, by offset (a freeze's header and a
   * dedup check take them instead of reading and hashing the bytes again); none for an
   * adopted chunk
   */
  readonly hashes: Map<number, Buffer>;
}

/** The open super-chunks of a store. */
export class OpenSuperChunks {
  readonly #dir: string;
  readonly #meta: MetaDb;
  readonly #targetBytes: number;
  readonly #chunks = new Map<number, OpenChunk>();
  #current: OpenChunk | undefined;
  readonly #sealed = new Set<number>();
  /** raw files of dropped super-chunks, removed at the next syncDurable */
  readonly #dropped: string[] = [];
  /** a raw file was created since the last group sync (its folder needs an fsync) */
  #created = false;

  constructor(storeDir: string, meta: MetaDb, targetBytes: number) {
    this.#dir = path.join(storeDir, OPEN_DIR);
    this.#meta = meta;
    this.#targetBytes = targetBytes;
    fs.mkdirSync(this.#dir, { recursive: true });
  }

  /**
   * Adopts an existing open super-chunk (recovery), cut to its committed length; sealed.
   * Answers the bytes that were missing: a raw file shorter than committed (a power cut
   * after the database reached the disk ahead of it) is filled up with zeros, so the store
   * opens; fsck then names the sub-blocks (and files) whose bytes no longer match.
   */
  adopt(id: SuperChunkId, rawBytes: number, subBlocks: number): number {
    const file = path.join(this.#dir, openFileName(id));
    const fd = fs.openSync(file, "r+");
    const missing = Math.max(0, rawBytes - fs.fstatSync(fd).size);
    fs.ftruncateSync(fd, rawBytes);
    fs.fsyncSync(fd);
    const c = { id, file, fd, committedBytes: rawBytes, committedCount: subBlocks };
    this.#chunks.set(id, {
      ...c,
      syncedBytes: rawBytes,
      appendBytes: rawBytes,
      appendCount: subBlocks,
      hashes: new Map(),
    });
    this.#sealed.add(id);
    return missing;
  }

  isOpen(id: number): boolean {
    return this.#chunks.has(id);
  }

  /** Copies `n` bytes at `offset` of open super-chunk `id` into `target` at `at`. */
  read(id: number, offset: number, n: number, target: Buffer, at: number): void {
    const c = this.#chunks.get(id);
    assert(c !== undefined, "not an open super-chunk", { superChunkId: id });
    let done = 0;
    while (done < n) {
      const got = fs.readSync(c.fd, target, at + done, n - done, offset + done);
      if (got === 0) {
        throw new CorruptError("E_SUPERCHUNK_CORRUPT", `${c.file}: truncated`, {
          superChunkId: id,
          path: c.file,
          offset: offset + done,
        });
      }
      done += got;
    }
  }

  /** The SHA-256 this process appended the sub-block at `offset` of `id` with, if known. */
  knownHash(id: number, offset: number): Buffer | undefined {
    return this.#chunks.get(id)?.hashes.get(offset);
  }

  /**
   * Appends one sub-block whose SHA-256 is `hash` (durable once committed and synced);
   * returns where it went.
   */
  append(data: Uint8Array, hash: Buffer): { superChunk: SuperChunkId; offset: number } {
    const c = this.#target(data.byteLength);
    const offset = c.appendBytes;
    let done = 0;
    try {
      while (done < data.byteLength) {
        done += fs.writeSync(c.fd, data, done, data.byteLength - done, offset + done);
      }
    } catch (err) {
      throw wrapFsError(err, c.file, "append to open super-chunk");
    }
    c.appendBytes += data.byteLength;
    c.appendCount++;
    c.hashes.set(offset, hash);
    return { superChunk: c.id, offset };
  }

  /** The current open super-chunk with room for `length` bytes; seals and starts one if needed. */
  #target(length: number): OpenChunk {
    const c = this.#current;
    const full = (x: OpenChunk) =>
      x.appendCount > 0 &&
      (x.appendBytes + length > this.#targetBytes || x.appendBytes + length > SUPERCHUNK_MAX_BYTES);
    if (c !== undefined && !full(c)) return c;
    if (c !== undefined) this.#sealed.add(c.id);
    this.#current = this.#create();
    return this.#current;
  }

  /** A new open super-chunk: its row is committed first, then its file is created. */
  #create(): OpenChunk {
    const id = this.#meta.transaction(() =>
      this.#meta.insertSuperChunk({ codec: OPEN_CODEC, rawBytes: 0, storedBytes: 0, subBlocks: 0 }),
    );
    const file = path.join(this.#dir, openFileName(id));
    const fd = fs.openSync(file, "w+", 0o644);
    // the file's name is made durable by the next group sync, before any commit naming it
    this.#created = true;
    const c: OpenChunk = {
      id,
      file,
      fd,
      committedBytes: 0,
      committedCount: 0,
      syncedBytes: 0,
      appendBytes: 0,
      appendCount: 0,
      hashes: new Map(),
    };
    this.#chunks.set(id, c);
    return c;
  }

  /**
   * The group sync: makes every committed transaction durable. fsyncs the raw files whose
   * committed bytes are not all on disk and the folder when files were created in it, then
   * the database's WAL, then removes the raw files of dropped super-chunks. Runs under the
   * store's mutex (no append or drop meanwhile); the disk work is off the serving thread.
   */
  async syncDurable(): Promise<void> {
    for (const c of [...this.#chunks.values()]) {
      const target = c.committedBytes;
      if (target <= c.syncedBytes) continue;
      await fsyncAsync(c.fd);
      c.syncedBytes = target;
    }
    if (this.#created) {
      this.#created = false;
      await fsyncPath(this.#dir);
    }
    await fsyncPath(`${this.#meta.path}-wal`);
    const gone = this.#dropped.splice(0);
    if (gone.length > 0) {
      await Promise.all(gone.map((file) => fsp.rm(file, { force: true })));
      await fsyncPath(this.#dir);
    }
  }

  /** Inside the commit transaction: records the new lengths. */
  recordLengths(): void {
    for (const c of this.#chunks.values()) {
      if (c.appendBytes !== c.committedBytes) {
        this.#meta.writes.setOpenLength(c.id, c.appendBytes, c.appendCount);
      }
    }
  }

  /** After the commit transaction: the appended lengths are now the committed ones. */
  markCommitted(): void {
    for (const c of this.#chunks.values()) {
      c.committedBytes = c.appendBytes;
      c.committedCount = c.appendCount;
    }
  }

  /** After a failed commit: forgets the uncommitted appends. */
  rollback(): void {
    for (const c of this.#chunks.values()) {
      if (c.appendBytes === c.committedBytes) continue;
      c.appendBytes = c.committedBytes;
      c.appendCount = c.committedCount;
      for (const offset of c.hashes.keys()) if (offset >= c.committedBytes) c.hashes.delete(offset);
      fs.ftruncateSync(c.fd, c.committedBytes);
    }
  }

  /** Open super-chunks to freeze: the sealed ones, and the current one too when `all`. */
  toFreeze(all: boolean): OpenChunk[] {
    const ids = [...this.#sealed];
    if (all && this.#current !== undefined) ids.push(this.#current.id);
    return ids.map((id) => this.#chunks.get(id)!);
  }

  /**
   * Seals the current open super-chunk (the next append starts a new one), so it can be
   * frozen while commits go on. Only between commits (inside the store's mutex).
   */
  sealCurrent(): void {
    if (this.#current === undefined) return;
    this.#sealed.add(this.#current.id);
    this.#current = undefined;
  }

  /** Bytes committed in the current open super-chunk (0 when there is none). */
  get currentBytes(): number {
    return this.#current?.committedBytes ?? 0;
  }

  /**
   * Forgets a frozen (or deleted) open super-chunk; its raw file is removed by the next
   * `syncDurable` (a crash before it leaves an orphan that recovery removes).
   */
  drop(id: number): void {
    const c = this.#chunks.get(id);
    if (c === undefined) return;
    this.#chunks.delete(id);
    this.#sealed.delete(id);
    if (this.#current?.id === id) this.#current = undefined;
    fs.closeSync(c.fd);
    this.#dropped.push(c.file);
  }

  /** Closes every raw file (they stay on disk). */
  close(): void {
    for (const c of this.#chunks.values()) fs.closeSync(c.fd);
    this.#chunks.clear();
    this.#sealed.clear();
    this.#current = undefined;
  }
}

const fsyncAsync = promisify(fs.fsync);

/** fsyncs the file at `file` if it exists (the WAL exists while the database is open). */
async function fsyncPath(file: string): Promise<void> {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw wrapFsError(err, file, "open for fsync");
  }
  try {
    await fsyncAsync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
