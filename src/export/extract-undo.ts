/**
 * What an extract made, so that an aborted extract (its caller's AbortSignal) can take it
 * back: every file, link and node it created and every directory it made, removed newest
 * first; the destination itself when the extract created it. Nothing it did not make is
 * touched (a directory that was already there stays, with whatever else it holds).
 */
import * as fs from "node:fs";
import { isCode } from "../errors.js";

export class ExtractUndo {
  readonly #made: { abs: Buffer; dir: boolean }[] = [];

  /** `dest` is the destination; `destMade` when this extract created it. */
  constructor(
    private readonly dest: string,
    private readonly destMade: boolean,
  ) {}

  /** Records that `abs` was (about to be) created by this extract. */
  made(abs: Buffer, dir: boolean): void {
    this.#made.push({ abs, dir });
  }

  /** True when nothing is at `abs` (lstat: a symlink counts as something). */
  static missing(abs: Buffer): boolean {
    try {
      fs.lstatSync(abs);
      return false;
    } catch {
      return true;
    }
  }

  /** Removes what was made, newest first; best effort (a failure leaves that entry). */
  undo(): void {
    if (this.destMade) {
      fs.rmSync(this.dest, { recursive: true, force: true });
      return;
    }
    for (let i = this.#made.length - 1; i >= 0; i--) {
      const { abs, dir } = this.#made[i]!;
      try {
        if (dir) fs.rmdirSync(abs);
        else fs.unlinkSync(abs);
      } catch {
        // gone already, or a directory something else put files in: left as it is
      }
    }
  }

  /** Runs `work`; when it fails with AbortError E_ABORTED, undoes first. */
  static async guard<T>(undo: ExtractUndo, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (isCode(err, "E_ABORTED")) undo.undo();
      throw err;
    }
  }
}
