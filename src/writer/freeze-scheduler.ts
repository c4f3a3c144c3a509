/**
 * When open super-chunks are frozen:
 * - a sealed (full) one right after the commit that filled it;
 * - the current one once no open file has unflushed writes for `idleMs` (the idle grace:
 *   many small files closed in a row share one super-chunk);
 * - every one when the store closes (unmount, SIGTERM).
 * Freezes run under the store's mutex, like commits; dead super-chunks are reaped after.
 */
import { freezeChunk, reapDead } from "./freeze.js";
import type { StoreParts } from "./store-parts.js";

/** Schedules freezes of a store's open super-chunks. */
export class FreezeScheduler {
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    private readonly parts: StoreParts,
    private readonly idleMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Inside the mutex, after a commit: freezes sealed super-chunks, reaps dead ones. */
  async afterCommit(): Promise<void> {
    for (const c of this.parts.open.toFreeze(false)) await freezeChunk(this.parts, c);
    await reapDead(this.parts);
    this.poke();
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

  /** Freezes every open super-chunk and reaps dead ones (under the mutex). */
  freezeAll(): Promise<void> {
    return this.parts.mutex.run(async () => {
      for (const c of this.parts.open.toFreeze(true)) await freezeChunk(this.parts, c);
      await reapDead(this.parts);
    });
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
}
