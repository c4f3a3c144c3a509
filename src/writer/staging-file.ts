/**
 * The unflushed writes of one open file: the written bytes at their file offsets, plus the
 * set of written ranges. A byte of the file is the staged byte where written; else the
 * committed byte below `baseLimit`; else zero (a hole, or beyond a truncation). The bytes
 * live in memory while they stay within the first `FILE_MEMORY_BYTES` of the file and all
 * staging of the process within `MEMORY_BUDGET_BYTES` (a `cp` of ordinary files never
 * touches the disk before its commit); past that they spill to a sparse temporary file under
 * `<store>/staging/`. Staged bytes are never durable: a crash discards them, and the
 * store's open removes leftover files. Memory comes in power-of-two sizes from a pool the
 * staging of every file shares: a file's memory goes back to it when the file's staging
 * ends, for the next file to take (a `cp -r` allocates almost nothing per file, so garbage
 * collection is not driven by staged bytes).
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { wrapFsError } from "../errors.js";
import { IntervalSet, type Segment } from "./interval-set.js";

const readAsync = promisify(fs.read);

/** Folder of staging files inside a store. */
export const STAGING_DIR = "staging";

/** Where a range of the file comes from. */
export interface StagedSegment extends Segment {
  /** true: the staging file; false: committed content (below baseLimit) or zeros */
  readonly inSet: boolean;
}

/** Staged bytes one file keeps in memory, at most (offsets past it spill to disk). */
const FILE_MEMORY_BYTES = 8 * 1024 * 1024;
/** Staged bytes all files of the process keep in memory, at most. */
const MEMORY_BUDGET_BYTES = 64 * 1024 * 1024;
/** Memory held by the staging of every file now. */
let memoryInUse = 0;
/** The smallest memory a file stages in. */
const MIN_MEMORY_BYTES = 64 * 1024;
/** Memory kept for reuse once no file holds it, at most. */
const POOL_BYTES = 32 * 1024 * 1024;
/** Freed staging memory by size (each a power of two), for the next file to take. */
const pool = new Map<number, Buffer[]>();
let pooledBytes = 0;

/** Memory of `size` bytes (a power of two), from the pool when it has one; not zeroed. */
function takeMemory(size: number): Buffer {
  const kept = pool.get(size)?.pop();
  if (kept === undefined) return Buffer.allocUnsafeSlow(size);
  pooledBytes -= size;
  return kept;
}

/** Gives memory back to the pool (dropped when the pool is full). */
function giveMemory(mem: Buffer): void {
  if (mem.length < MIN_MEMORY_BYTES || pooledBytes + mem.length > POOL_BYTES) return;
  const list = pool.get(mem.length);
  if (list === undefined) pool.set(mem.length, [mem]);
  else list.push(mem);
  pooledBytes += mem.length;
}

const EMPTY = Buffer.alloc(0);

/** Staged writes of one file. */
export class StagingFile {
  readonly #dir: string;
  /** the spill file, once the bytes left memory */
  #fd: number | undefined;
  #path: string | undefined;
  /** staged bytes at their offsets, while in memory: [0, #memEnd) of #mem is meaningful */
  #mem: Buffer | undefined = EMPTY;
  #memEnd = 0;
  readonly #written = new IntervalSet();
  #open = true;
  /** logical size of the file */
  size: number;
  /** committed bytes at or after this offset read as zeros (a truncation cut them) */
  baseLimit: number;

  /** Starts staging over a committed content of `committedSize` bytes. */
  constructor(storeDir: string, committedSize: number) {
    this.#dir = path.join(storeDir, STAGING_DIR);
    this.size = committedSize;
    this.baseLimit = committedSize;
  }

  /** Whether the staged bytes are in memory (else in the spill file). */
  get inMemory(): boolean {
    return this.#mem !== undefined;
  }

  /** Writes `data` at `offset`; the file grows to cover it. */
  write(data: Uint8Array, offset: number): void {
    const end = offset + data.byteLength;
    if (this.#mem !== undefined && this.#room(end)) {
      // memory past what was written is not zeroed: a gap a write leaves reads as zeros
      if (offset > this.#memEnd) this.#mem.fill(0, this.#memEnd, offset);
      this.#mem.set(data, offset);
      this.#memEnd = Math.max(this.#memEnd, end);
    } else {
      const fd = this.#spilled();
      let done = 0;
      while (done < data.byteLength) {
        done += fs.writeSync(fd, data, done, data.byteLength - done, offset + done);
      }
    }
    this.#written.add(offset, end);
    this.size = Math.max(this.size, end);
  }

  /** Sets the size: shrinking forgets staged and committed bytes past it, growing adds zeros. */
  truncate(size: number): void {
    if (size < this.size) {
      this.#written.clip(size);
      this.baseLimit = Math.min(this.baseLimit, size);
      if (this.#mem !== undefined) {
        if (size < this.#memEnd) this.#mem.fill(0, size, this.#memEnd);
        this.#memEnd = Math.min(this.#memEnd, size);
      } else fs.ftruncateSync(this.#fd!, size);
    }
    this.size = size;
  }

  /** Grows the memory to cover [0, end) when the limits allow; false: spill instead. */
  #room(end: number): boolean {
    const mem = this.#mem!;
    if (end <= mem.length) return true;
    if (end > FILE_MEMORY_BYTES) return false;
    let grown = MIN_MEMORY_BYTES;
    while (grown < end) grown *= 2;
    if (memoryInUse + grown - mem.length > MEMORY_BUDGET_BYTES) return false;
    const next = takeMemory(grown);
    mem.copy(next, 0, 0, this.#memEnd);
    memoryInUse += grown - mem.length;
    giveMemory(mem);
    this.#mem = next;
    return true;
  }

  /** The spill file, made (with what memory held) at the first write that does not fit. */
  #spilled(): number {
    if (this.#fd !== undefined) return this.#fd;
    const file = path.join(this.#dir, `${randomBytes(8).toString("hex")}.tmp`);
    try {
      fs.mkdirSync(this.#dir, { recursive: true });
      this.#fd = fs.openSync(file, "wx+", 0o600);
      this.#path = file;
      const mem = this.#mem!;
      let done = 0;
      while (done < this.#memEnd)
        done += fs.writeSync(this.#fd, mem, done, this.#memEnd - done, done);
    } catch (err) {
      throw wrapFsError(err, file, "create staging file");
    }
    this.#freeMemory();
    return this.#fd;
  }

  #freeMemory(): void {
    if (this.#mem === undefined) return;
    memoryInUse -= this.#mem.length;
    giveMemory(this.#mem);
    this.#mem = undefined;
    this.#memEnd = 0;
  }

  /** [start, end) split into staged and not-staged segments. */
  segments(start: number, end: number): StagedSegment[] {
    return this.#written.segments(start, end);
  }

  /** Copies staged bytes [offset, offset+n) into target at `at`. */
  readStaged(offset: number, n: number, target: Buffer, at: number): void {
    if (this.#mem !== undefined) {
      this.#copyFromMemory(offset, target.subarray(at, at + n));
      return;
    }
    const fd = this.#fd!;
    let done = 0;
    while (done < n) {
      const got = fs.readSync(fd, target, at + done, n - done, offset + done);
      if (got === 0) {
        target.fill(0, at + done, at + n);
        return;
      }
      done += got;
    }
  }

  /** Staged bytes at `offset` filling `target`, read off the serving thread (libuv's pool). */
  async readStagedAsync(offset: number, target: Uint8Array): Promise<void> {
    if (this.#mem !== undefined) {
      this.#copyFromMemory(offset, target);
      return;
    }
    const fd = this.#fd!;
    let done = 0;
    while (done < target.length) {
      const n = target.length - done;
      const { bytesRead: got } = await readAsync(fd, target, done, n, offset + done);
      if (got === 0) {
        target.fill(0, done);
        return;
      }
      done += got;
    }
  }

  /** Staged bytes at `offset` filling `target` from memory (zeros past what was written). */
  #copyFromMemory(offset: number, target: Uint8Array): void {
    const have = Math.max(0, Math.min(target.length, this.#memEnd - offset));
    if (have > 0) target.set(this.#mem!.subarray(offset, offset + have));
    if (have < target.length) target.fill(0, have);
  }

  /** Frees the memory, closes and deletes the spill file (idempotent). */
  dispose(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#freeMemory();
    if (this.#fd === undefined) return;
    fs.closeSync(this.#fd);
    fs.rmSync(this.#path!, { force: true });
  }
}
