/**
 * The options of WritableStore.open (writable-store.ts), apart from the parts' own
 * (store-parts-types.ts), each with its default.
 */
import type { Compactor } from "./compact-scheduler.js";
import type { StorePartsOptions } from "./store-parts-types.js";

/** Options of WritableStore.open; `S` is the store handed to `onClosing`. */
export interface WritableStoreOptions<S = unknown> extends StorePartsOptions {
  /** ms the open super-chunk waits, once no file has unflushed writes, before it is
   * frozen; default 2000 (commits within it keep filling it: few super-chunks for `cp -a`) */
  freezeIdleMs?: number;
  /** called by close() once all is committed and frozen, before the database closes (a
   * working copy publishes its last generation there) */
  onClosing?: (store: S) => Promise<void>;
  /**
   * called by close() once every file with unflushed writes is committed, every open
   * super-chunk frozen and all of it durable, before the last compaction pass (a mount
   * server lets `umount` return here and lets the pass yield to whoever opens the store next)
   */
  onCommitted?: (closing: ClosingStore) => void | Promise<void>;
  /** errors of background freezes (they are retried by the next freeze or open) */
  onBackgroundError?: (err: unknown) => void;
  /** regroups and recompresses fast-frozen super-chunks when idle and at close
   * (maintain/compact.ts); default none: they stay until `repack --all` */
  compactor?: Compactor;
  /** milliseconds with no request before a compaction pass; default COMPACT_IDLE_MS (5 s) */
  compactIdleMs?: number;
  /** run a last compaction pass in close(); default true (when there is a compactor) */
  compactAtClose?: boolean;
}

/** What close() lends its onCommitted hook. */
export interface ClosingStore {
  /** a compaction pass with work to do follows (else close() ends at once) */
  readonly compacts: boolean;
  /**
   * Rewrites the writer's lock as yielding, doing `purpose` (store/store-lock.ts): whoever
   * opens the store from now on stops this process instead of waiting for it.
   */
  yieldLock(purpose: string): void;
}
