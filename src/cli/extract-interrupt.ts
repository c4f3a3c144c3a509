/**
 * What an interrupted `extract` into a directory leaves, said precisely: the entries
 * already extracted stay (their modes and times are set only at the end, so not yet), the
 * file being written is removed. An extract --zip leaves nothing (interrupt.ts removes its
 * temporary file).
 */
import * as fs from "node:fs";

/** Follows an extract through its hooks, and cleans up after it when it is interrupted. */
export class ExtractTracker {
  /** entries extracted so far */
  done = 0;
  /** the regular file being written, if any */
  writing: string | undefined;

  constructor(readonly dest: string) {}

  /** Removes the file being written; answers the line that says what is left. */
  readonly cleanup = (): string => {
    let removed = "";
    if (this.writing !== undefined) {
      fs.rmSync(this.writing, { force: true });
      removed = `; ${this.writing}, being written, was removed`;
    }
    const n = `${this.done} ${this.done === 1 ? "entry" : "entries"}`;
    return `interrupted: the ${n} already extracted into ${this.dest} stay, without their modes and times${removed}`;
  };
}
