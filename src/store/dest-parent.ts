/**
 * The directory a new store or archive is made in: it must exist, since the new thing is
 * built under a temporary name beside its destination. Checked before anything is made,
 * so the error names the user's own path, never a temporary one.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { NotFoundError, UsageError } from "../errors.js";

/**
 * E_NOT_FOUND naming the parent directory of `dest` when it is missing, E_USAGE when it
 * is not a directory.
 */
export function checkDestParent(dest: string): void {
  const parent = path.dirname(path.resolve(dest));
  let st: fs.Stats;
  try {
    st = fs.statSync(parent);
  } catch {
    throw new NotFoundError(
      "E_NOT_FOUND",
      `${dest}: the directory ${parent} does not exist (create it first)`,
      { path: dest, parent },
    );
  }
  if (!st.isDirectory()) {
    throw new UsageError("E_USAGE", `${dest}: ${parent} is not a directory`, {
      path: dest,
      parent,
    });
  }
}
