/** A FIFO async mutex: one holder at a time (commits, freezes and reaping of the store). */

/** Serializes async critical sections. */
export class AsyncMutex {
  #tail: Promise<void> = Promise.resolve();
  #held = 0;

  /** True while some section runs or waits. */
  get busy(): boolean {
    return this.#held > 0;
  }

  /** Runs `fn` once every earlier section has finished; resolves with its result. */
  run<T>(fn: () => Promise<T> | T): Promise<T> {
    this.#held++;
    const result = this.#tail.then(fn);
    this.#tail = result.then(
      () => {},
      () => {},
    );
    return result.finally(() => {
      this.#held--;
    });
  }
}
