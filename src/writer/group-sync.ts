/**
 * Group commit: a commit (close(2)) is visible at once but not durable; every
 * GROUP_SYNC_MS a sync makes all changes since the last one durable together (the raw
 * files' committed bytes, then the database's WAL: OpenSuperChunks.syncDurable), so one
 * pair of fsyncs serves every close of the window. fsync(2), fsyncdir and unmount sync at
 * once. The database runs with synchronous=NORMAL (no fsync per transaction). A kill -9
 * (or power loss) loses at most the changes of the last window, never one that a sync
 * covered.
 */
import type { MetaDb } from "../meta/meta-db.js";
import type { AsyncMutex } from "./async-mutex.js";
import type { OpenSuperChunks } from "./open-superchunks.js";

/** Longest time a change waits for its group sync (plus the sync itself). */
export const GROUP_SYNC_MS = 500;

/** What group syncs need of the store. */
export interface GroupSyncDeps {
  readonly meta: MetaDb;
  readonly open: OpenSuperChunks;
  readonly mutex: AsyncMutex;
}

/** Syncs a store's changes in groups. */
export class GroupSync {
  #timer: NodeJS.Timeout | undefined;
  /** changeCount() at the start of the last sync */
  #synced: number;
  #running = false;

  constructor(
    private readonly deps: GroupSyncDeps,
    private readonly onError: (err: unknown) => void,
  ) {
    deps.meta.setSynchronous("NORMAL");
    this.#synced = deps.meta.changeCount();
    this.#timer = setInterval(() => this.#tick(), GROUP_SYNC_MS);
    this.#timer.unref();
  }

  /** Makes every change so far durable; resolves once it is. */
  syncNow(): Promise<void> {
    return this.deps.mutex.run(() => this.syncLocked());
  }

  /** syncNow for a caller already holding the store's mutex. */
  async syncLocked(): Promise<void> {
    const n = this.deps.meta.changeCount();
    await this.deps.open.syncDurable();
    this.#synced = n;
  }

  /** Stops the timer (the store's close syncs last). */
  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    if (this.#running || this.deps.meta.changeCount() === this.#synced) return;
    this.#running = true;
    this.syncNow()
      .catch(this.onError)
      .finally(() => {
        this.#running = false;
      });
  }
}
