/**
 * Sequential-read detection for one open file handle. The kernel splits a streaming read into
 * requests of up to max_read bytes and, with async reads, may deliver them slightly out of order,
 * so a read counts as sequential when it starts near where the previous ones ended. Once a
 * handle is streaming, the adapter asks the store to start inflating what comes next; it asks
 * again only after the reader has advanced by `hintEveryBytes`, not on every request.
 */

/** Options of a ReadPattern. */
export interface ReadPatternOptions {
  /** how far from the previous end a read may start and still count as sequential; default 1 MiB */
  slackBytes?: number;
  /** a new prefetch hint is given after the reader advances this much; default 512 KiB */
  hintEveryBytes?: number;
  /** sequential reads needed before the first hint; default 2 */
  minStreak?: number;
}

const DEFAULT_SLACK_BYTES = 1024 * 1024;
const DEFAULT_HINT_EVERY_BYTES = 512 * 1024;
const DEFAULT_MIN_STREAK = 2;

export class ReadPattern {
  readonly #slack: number;
  readonly #every: number;
  readonly #minStreak: number;
  #end = -1;
  #streak = 0;
  #nextHintAt = 0;

  constructor(opts: ReadPatternOptions = {}) {
    this.#slack = opts.slackBytes ?? DEFAULT_SLACK_BYTES;
    this.#every = opts.hintEveryBytes ?? DEFAULT_HINT_EVERY_BYTES;
    this.#minStreak = opts.minStreak ?? DEFAULT_MIN_STREAK;
  }

  /**
   * Records a read of [offset, offset + length). Returns true when the caller should give a
   * prefetch hint for what follows this read.
   */
  observe(offset: number, length: number): boolean {
    const end = offset + length;
    const sequential = this.#end >= 0 && Math.abs(offset - this.#end) <= this.#slack;
    if (sequential) {
      this.#streak++;
      this.#end = Math.max(this.#end, end);
    } else {
      this.#streak = offset === 0 ? 1 : 0;
      this.#end = end;
      this.#nextHintAt = 0;
    }
    if (this.#streak < this.#minStreak || end < this.#nextHintAt) return false;
    this.#nextHintAt = end + this.#every;
    return true;
  }

  /**
   * `observe`, then `hint()` when it says so. A hint only: what it throws is dropped (the
   * reads themselves report real trouble).
   */
  observeThen(offset: number, length: number, hint: () => void): void {
    if (!this.observe(offset, length)) return;
    try {
      hint();
    } catch {
      // a hint only
    }
  }
}
