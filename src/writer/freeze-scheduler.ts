/**
 * When open super-chunks are frozen:
 * - a sealed (full) one soon after the commit that filled it, in the background;
 * - the current one once no open file has unflushed writes for `idleMs` (the idle grace:
 *   many small files closed in a row share one super-chunk);
 * - every one when the store closes (unmount, SIGTERM), which waits for them all.
 *
 * A freeze has three phases (freeze.ts): read the sealed chunk's bytes and switch its row
 * hold the store's mutex, but the compression between them does not, so commits (and the
 * close(2) waiting for them) never wait for a codec at a slow level. At most `maxRunning`
 * freezes run at once (each holds its chunk's raw bytes in memory); the others wait, sealed
 * and durable in their raw files. Dead super-chunks are reaped after each switch.
 *
 * After every freezeAll (idle grace, close) that follows a change, the metadata copy is
 * committed (store/meta-copy-write.ts): generation and image under the mutex, compression on
 * the codec pool, then its super-chunks put and older copies deleted, one copy at a time.
 */
import { encodeMetaCopy, META_COPY_LEVEL } from "../store/meta-copy.js";
import { copyGenerationOf, putMetaCopy, takeCopyImage } from "../store/meta-copy-write.js";
import { type FreezeInput, readForFreeze, reapDead, switchFrozen, writeFrozen } from "./freeze.js";
import type { StoreParts } from "./store-parts-types.js";

/** Schedules freezes of a store's open super-chunks. */
export class FreezeScheduler {
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** ids of the open super-chunks a freeze is working on */
  readonly #running = new Map<number, Promise<void>>();
  /** the database's change count when the last copy was taken (-1: the store has none) */
  #copiedAt: number;
  /** a turn that starts the sealed super-chunks' freezes is queued (afterCommit) */
  #startQueued = false;
  /** the copy being written, so copies go one at a time */
  #copying: Promise<void> = Promise.resolve();

  constructor(
    private readonly parts: StoreParts,
    private readonly idleMs: number,
    private readonly onError: (err: unknown) => void,
    private readonly maxRunning = parts.pool.threads + 1,
  ) {
    this.#copiedAt = copyGenerationOf(parts.meta) === 0 ? -1 : parts.meta.changeCount();
  }

  /**
   * Inside the mutex, after a commit: reaps dead super-chunks, and has freezes of sealed ones
   * start in a mutex turn of their own, after the commit has answered (reading a sealed
   * chunk for its freeze is no part of the close(2) waiting for the commit).
   */
  async afterCommit(): Promise<void> {
    await reapDead(this.parts);
    this.poke();
    if (!this.#startQueued && this.parts.open.toFreeze(false).length > 0) {
      this.#startQueued = true;
      setImmediate(() => {
        this.parts.mutex
          .run(async () => {
            this.#startQueued = false;
            if (!this.#closed) this.#startSealed();
          })
          .catch(this.onError);
      });
    }
  }

  /** (Re)starts the idle timer when there is a current open super-chunk. */
  poke(): void {
    if (this.#closed) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.parts.open.toFreeze(true).length === 0) return;
    this.#timer = setTimeout(() => this.#fire(), this.idleMs);
    this.#timer.unref();
  }

  #fire(): void {
    this.#timer = undefined;
    for (const f of this.parts.handles.files()) {
      if (f.dirty) {
        this.poke();
        return;
      }
    }
    this.freezeAll().catch(this.onError);
  }

  /**
   * Freezes every open super-chunk (at most `maxRunning` at a time) and reaps dead ones;
   * resolves when all are done, or rejects with the first failure once the others are.
   */
  async freezeAll(): Promise<void> {
    await this.parts.mutex.run(async () => this.parts.open.sealCurrent());
    const failed = new Map<number, unknown>();
    for (;;) {
      await this.parts.mutex.run(async () => this.#startSealed(failed));
      if (this.#running.size === 0) break;
      await Promise.race(this.#running.values());
    }
    await this.parts.mutex.run(() => reapDead(this.parts));
    const first = failed.values().next();
    if (!first.done) throw first.value;
    await this.copyMetadata();
  }

  /**
   * Writes a new metadata copy when the database changed since the last one (after freezes,
   * and before a compaction deletes the super-chunks the previous copy still names).
   */
  copyMetadata(): Promise<void> {
    const copy = this.#copying.then(() => this.#copyMetadata());
    this.#copying = copy.catch(() => undefined);
    return copy;
  }

  /** A new metadata copy when the database changed since the last one. */
  async #copyMetadata(): Promise<void> {
    const p = this.parts;
    const taken = await p.mutex.run(async () => {
      if (p.meta.changeCount() === this.#copiedAt) return undefined;
      const t = takeCopyImage(p.meta);
      this.#copiedAt = p.meta.changeCount();
      return t;
    });
    if (taken === undefined) return;
    const files = await encodeMetaCopy(taken.raw, (part) =>
      p.pool.compress("zstd", META_COPY_LEVEL, part),
    );
    await putMetaCopy(p.blobs, taken.generation, files);
  }

  /** Reaps dead super-chunks in the background (after an unlink freed data). */
  reapSoon(): void {
    this.parts.mutex.run(() => reapDead(this.parts)).catch(this.onError);
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Inside the mutex: starts a freeze for each sealed super-chunk not being frozen (nor in
   * `failed`), while fewer than `maxRunning` run.
   */
  #startSealed(failed?: Map<number, unknown>): void {
    for (const c of this.parts.open.toFreeze(false)) {
      if (this.#running.size >= this.maxRunning) return;
      if (this.#running.has(c.id) || failed?.has(c.id)) continue;
      const input = readForFreeze(this.parts, c);
      if (input === undefined) continue;
      this.#running.set(c.id, this.#run(input, failed));
    }
  }

  /**
   * Compresses and writes outside the mutex, then switches inside it. A failure leaves the
   * chunk sealed and durable in its raw file (the next freezeAll retries it) and is reported.
   */
  async #run(input: FreezeInput, failed?: Map<number, unknown>): Promise<void> {
    try {
      // the hashing and copying before the codec run in a turn of their own, not the mutex's
      await new Promise((resolve) => setImmediate(resolve));
      const frozen = await writeFrozen(this.parts, input);
      await this.parts.mutex.run(async () => {
        switchFrozen(this.parts, frozen);
        await reapDead(this.parts);
      });
    } catch (err) {
      failed?.set(input.id, err);
      this.onError(err);
      // not retried at once (a full disk or an unreachable bucket would make that a hot
      // loop): the chunk stays sealed and durable, and the idle timer tries again
      this.poke();
      return;
    } finally {
      this.#running.delete(input.id);
    }
    if (!this.#closed) await this.parts.mutex.run(async () => this.#startSealed());
  }
}
