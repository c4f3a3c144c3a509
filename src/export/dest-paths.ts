/**
 * Paths below an extract's destination, made so that nothing is ever written outside
 * it, whatever the store holds: relative paths are checked component by component, a
 * path is made only inside a directory this extract made (an lstat shows it is still a
 * real directory, never a symlink), and whatever non-directory is in the way is removed,
 * never followed.
 */
import * as fs from "node:fs";
import { UsageError } from "../errors.js";

const SLASH = Buffer.from("/");

/** E_PATH_ESCAPE unless `rel` is relative, its components neither empty, '.', '..' nor holding NUL. */
export function checkRelPath(rel: Buffer): void {
  const parts = rel.toString("latin1").split("/");
  if (
    rel[0] === 0x2f ||
    parts.some((p) => p === "" || p === "." || p === ".." || p.includes("\0"))
  ) {
    throw new UsageError(
      "E_PATH_ESCAPE",
      `refusing entry with unsafe path ${JSON.stringify(rel.toString())}`,
      {
        path: rel.toString(),
      },
    );
  }
}

/**
 * The directories this extract made, by path relative to the destination ('' is the
 * destination). A path is created only inside one of them, after an lstat shows it is
 * still a real directory: never through a symlink, never outside the destination.
 */
export class MadeDirs {
  readonly #made = new Set<string>([""]);
  #checked: string | undefined;

  constructor(private readonly dest: Buffer) {}

  /** Records that the directory at `rel` is (about to be) made by this extract. */
  made(rel: Buffer): void {
    this.#made.add(rel.toString("latin1"));
  }

  /** E_PATH_ESCAPE unless the parent of `rel` is a real directory this extract made. */
  checkParent(rel: Buffer): void {
    const cut = rel.lastIndexOf(0x2f);
    const parent = cut < 0 ? "" : rel.subarray(0, cut).toString("latin1");
    if (parent === this.#checked) return;
    const abs = parent === "" ? this.dest : Buffer.concat([this.dest, SLASH, rel.subarray(0, cut)]);
    if (!this.#made.has(parent) || (parent !== "" && !isRealDir(abs))) {
      const shown = rel.toString();
      throw new UsageError(
        "E_PATH_ESCAPE",
        `refusing ${JSON.stringify(shown)}: its parent is not a directory this extract made`,
        { path: shown },
      );
    }
    this.#checked = parent;
  }
}

/** A real directory at `abs`: kept if there, else whatever is there is removed (not followed). */
export function ensureDir(abs: Buffer): void {
  try {
    const st = fs.lstatSync(abs);
    if (st.isDirectory()) return;
    fs.unlinkSync(abs);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  fs.mkdirSync(abs, { mode: 0o700 });
}

/** Removes whatever non-directory is at `abs` (never following it), then creates. */
export function replaceWith(abs: Buffer, make: () => void): void {
  try {
    const st = fs.lstatSync(abs);
    if (st.isDirectory()) {
      throw new UsageError("E_DEST_EXISTS", `${abs.toString()}: a directory is in the way`, {
        path: abs.toString(),
      });
    }
    fs.unlinkSync(abs);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  make();
}

/** True when `abs` is a directory itself (lstat: a symlink to one is not). */
function isRealDir(abs: Buffer): boolean {
  try {
    return fs.lstatSync(abs).isDirectory();
  } catch {
    return false;
  }
}
