/**
 * When a writable store compacts itself: super-chunks frozen at the fast level, in write
 * order (listed by store/compact-pending.ts), are regrouped by similarity and recompressed
 * at the store's level by a *compactor*, a function given to WritableStore.open (the one in
 * maintain/compact.ts: the repack machinery lives above the writer, so the writer only
 * schedules it and lends it what it needs, a CompactAccess).
 *
 * - Idle: a pass starts once no request (open, read, write, release, fsync, a namespace
 *   change) came for `idleMs` (default 5 s, longer than the freeze grace, so the last open
 *   super-chunk is frozen first) while no file has unflushed writes and no super-chunk is
 *   open; a pass that yielded (a commit changed what it planned) is retried after the next
 *   idle grace.
 * - One pass at a time; close() waits for a running one, then runs a last one (unmount).
 *   That last pass comes after everything is committed, frozen and durable (close() calls
 *   onCommitted there): a mount server then removes its mount record, so `umount` returns,
 *   marks the store's lock as yielding, and compacts alone in the background; whoever
 *   opens the store next stops it with SIGTERM (store/store-lock.ts), which is safe at any
 *   point (below), and the next mount's idle pass resumes what is still pending.
 * - Readers never wait: a switch drops the cached locations of the super-chunks it retired
 *   (extent tables, working set, dedup headers), and their files are deleted only once every
 *   read that started before the switch has finished (until then those reads may still
 *   load them). A crash before the delete leaves orphan files, which the next open removes.
 */
import type { BlobStore } from "../blobstore/blob-store.js";
import { superChunkKey } from "../blobstore/blob-store.js";
import type { MetaDb } from "../meta/meta-db.js";
import { readCompactPending } from "../store/compact-pending.js";
import type { StoreParts } from "./store-parts-types.js";

/** What one compaction pass did. */
export interface CompactOutcome {
  /** super-chunks retired by the switch (0: nothing to do, or yielded) */
  readonly retired: number;
  /** super-chunks written */
  readonly written: number;
  /** a commit changed what the pass had planned: nothing switched, retried later */
  readonly yielded: boolean;
}

/** What a compactor may use of an open writable store. */
export interface CompactAccess {
  readonly meta: MetaDb;
  readonly blobs: BlobStore;
  /** Runs `fn` under the store's mutex (commits wait for it: keep it short). */
  exclusive<T>(fn: () => T | Promise<T>): Promise<T>;
  /**
   * Inside `exclusive`, right after the switch committed: forgets every cached location in
   * the retired super-chunks and deletes their files once earlier reads are done.
   */
  switched(retired: readonly number[]): void;
}

/** A compaction pass over an open writable store (maintain/compact.ts). */
export type Compactor = (access: CompactAccess) => Promise<CompactOutcome>;

/** Default idle grace before a compaction pass, in milliseconds. */
export const COMPACT_IDLE_MS = 5000;

/** Schedules compaction passes of one writable store. */
export class CompactScheduler {
  #last = performance.now();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #closed = false;
  /** a timer is set, or a pass runs; else the next touch() sets one */
  #armed = false;
  readonly #reads = new Set<Promise<unknown>>();
  readonly #deletes = new Set<Promise<void>>();
  readonly #access: CompactAccess;
  /** passes finished, and what the last one did (for tests and logs) */
  passes = 0;
  lastOutcome: CompactOutcome | undefined;

  constructor(
    private readonly p: StoreParts,
    private readonly compactor: Compactor | undefined,
    private readonly idleMs: number,
    private readonly onError: (err: unknown) => void,
    /** writes a fresh metadata copy (the old one names the super-chunks a pass retires) */
    private readonly refreshCopy: () => Promise<void> = async () => {},
  ) {
    this.#access = {
      meta: p.meta,
      blobs: p.blobs,
      exclusive: (fn) => p.mutex.run(async () => fn()),
      switched: (retired) => this.#switched(retired),
    };
    this.#arm(idleMs);
  }

  /** A request came: the idle grace starts over. Cheap (no timer is touched). */
  touch(): void {
    this.#last = performance.now();
    if (!this.#armed) this.#arm(this.idleMs);
  }

  /** Counts a read in flight until it settles (retired files wait for earlier reads). */
  track<T>(read: Promise<T>): Promise<T> {
    this.#reads.add(read);
    const done = () => this.#reads.delete(read);
    read.then(done, done);
    return read;
  }

  /** Runs one pass now (waiting for a running one first); undefined without a compactor. */
  async compactNow(): Promise<CompactOutcome | undefined> {
    while (this.#running !== undefined) await this.#running;
    if (this.compactor === undefined) return undefined;
    this.#running = this.#pass();
    try {
      await this.#running;
    } finally {
      this.#running = undefined;
    }
    return this.lastOutcome;
  }

  /** True when there is a compactor and super-chunks wait for it (a pass has work). */
  /** Whether passes run at all (a compactor was given). */
  get enabled(): boolean {
    return this.compactor !== undefined;
  }

  hasWork(): boolean {
    return this.compactor !== undefined && readCompactPending(this.p.meta).length > 0;
  }

  /** Stops the timer, waits for a running pass, runs a last one, deletes retired files. */
  async close(finalPass: boolean): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (finalPass) await this.compactNow().catch(this.onError);
    else while (this.#running !== undefined) await this.#running;
    await Promise.allSettled([...this.#reads]);
    await Promise.allSettled([...this.#deletes]);
  }

  #arm(ms: number): void {
    this.#armed = false;
    if (this.#closed || this.compactor === undefined) return;
    this.#armed = true;
    this.#timer = setTimeout(() => this.#fire(), Math.max(10, ms));
    this.#timer.unref();
  }

  #fire(): void {
    this.#timer = undefined;
    const quiet = performance.now() - this.#last;
    if (quiet < this.idleMs) {
      this.#arm(this.idleMs - quiet);
      return;
    }
    if (this.#running !== undefined || this.#busy()) {
      this.#arm(this.idleMs);
      return;
    }
    this.#running = this.#pass().finally(() => {
      this.#running = undefined;
      // yielded, or writes came meanwhile: look again after a grace; else wait for a request
      const o = this.lastOutcome;
      if (o === undefined || o.yielded || o.retired > 0) this.#arm(this.idleMs);
      else this.#armed = false;
    });
  }

  /** Unflushed writes or an open super-chunk: the store is still being written. */
  #busy(): boolean {
    for (const f of this.p.handles.files()) if (f.dirty) return true;
    return this.p.open.toFreeze(true).length > 0;
  }

  async #pass(): Promise<void> {
    try {
      this.lastOutcome = await this.compactor!(this.#access);
    } catch (err) {
      this.onError(err);
    } finally {
      this.passes++;
    }
  }

  #switched(retired: readonly number[]): void {
    const gone = new Set(retired);
    const { content, dedup, meta, blobs } = this.p;
    content.switchMeta(meta, (id) => !gone.has(id));
    for (const id of retired) dedup.forget(id);
    const earlier = [...this.#reads];
    // the retired files go only once the metadata copy no longer names them
    const job = Promise.allSettled(earlier)
      .then(() => this.refreshCopy())
      // the switch is durable (and the copy written) before the old files go
      .then(() => this.p.open.syncDurable())
      .then(async () => {
        for (const id of retired) await blobs.delete(superChunkKey(id));
      });
    this.#deletes.add(job);
    job.then(
      () => this.#deletes.delete(job),
      (err) => {
        this.#deletes.delete(job);
        this.onError(err);
      },
    );
  }
}
