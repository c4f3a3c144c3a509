/**
 * The store's FIFO async mutex: one holder at a time (commits, freezes and reaping of the
 * store). async-mutex's Mutex (the writer/ folder is its only importer) with the `run` and
 * `busy` the writer calls.
 */
import { Mutex } from "async-mutex";

/** Serializes async critical sections, in the order they were asked for. */
export class AsyncMutex {
  readonly #mutex = new Mutex();

  /** True while some section runs or waits. */
  get busy(): boolean {
    return this.#mutex.isLocked();
  }

  /** Runs `fn` once every earlier section has finished; resolves with its result. */
  run<T>(fn: () => Promise<T> | T): Promise<T> {
    return this.#mutex.runExclusive(fn);
  }
}
