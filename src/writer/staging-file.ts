/**
 * The unflushed writes of one open file: a sparse temporary file under
 * `<store>/staging/` holding the written bytes at their file offsets, plus the set of
 * written ranges. A byte of the file is the staged byte where written; else the
 * committed byte below `baseLimit`; else zero (a hole, or beyond a truncation). Staging
 * files are never durable: a crash discards them, and the store's open removes leftovers.
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

/** Staged writes of one file. */
export class StagingFile {
  readonly path: string;
  readonly #fd: number;
  readonly #written = new IntervalSet();
  #open = true;
  /** logical size of the file */
  size: number;
  /** committed bytes at or after this offset read as zeros (a truncation cut them) */
  baseLimit: number;

  /** Starts staging over a committed content of `committedSize` bytes. */
  constructor(storeDir: string, committedSize: number) {
    const dir = path.join(storeDir, STAGING_DIR);
    this.path = path.join(dir, `${randomBytes(8).toString("hex")}.tmp`);
    try {
      fs.mkdirSync(dir, { recursive: true });
      this.#fd = fs.openSync(this.path, "wx+", 0o600);
    } catch (err) {
      throw wrapFsError(err, this.path, "create staging file");
    }
    this.size = committedSize;
    this.baseLimit = committedSize;
  }

  /** Writes `data` at `offset`; the file grows to cover it. */
  write(data: Uint8Array, offset: number): void {
    let done = 0;
    while (done < data.byteLength) {
      done += fs.writeSync(this.#fd, data, done, data.byteLength - done, offset + done);
    }
    this.#written.add(offset, offset + data.byteLength);
    this.size = Math.max(this.size, offset + data.byteLength);
  }

  /** Sets the size: shrinking forgets staged and committed bytes past it, growing adds zeros. */
  truncate(size: number): void {
    if (size < this.size) {
      this.#written.clip(size);
      this.baseLimit = Math.min(this.baseLimit, size);
      fs.ftruncateSync(this.#fd, size);
    }
    this.size = size;
  }

  /** [start, end) split into staged and not-staged segments. */
  segments(start: number, end: number): StagedSegment[] {
    return this.#written.segments(start, end);
  }

  /** Copies staged bytes [offset, offset+n) into target at `at`. */
  readStaged(offset: number, n: number, target: Buffer, at: number): void {
    let done = 0;
    while (done < n) {
      const got = fs.readSync(this.#fd, target, at + done, n - done, offset + done);
      if (got === 0) {
        target.fill(0, at + done, at + n);
        return;
      }
      done += got;
    }
  }

  /** Staged bytes at `offset` filling `target`, read off the serving thread (libuv's pool). */
  async readStagedAsync(offset: number, target: Uint8Array): Promise<void> {
    let done = 0;
    while (done < target.length) {
      const n = target.length - done;
      const { bytesRead: got } = await readAsync(this.#fd, target, done, n, offset + done);
      if (got === 0) {
        target.fill(0, done);
        return;
      }
      done += got;
    }
  }

  /** Closes and deletes the staging file (idempotent). */
  dispose(): void {
    if (!this.#open) return;
    this.#open = false;
    fs.closeSync(this.#fd);
    fs.rmSync(this.path, { force: true });
  }
}
