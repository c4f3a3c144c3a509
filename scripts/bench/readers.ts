/**
 * The three read measurements, run against a directory (a mount point or the raw corpus):
 * read every file with tar, read one release with tar, and the random-read plan.
 */

import { fileURLToPath } from "node:url";
import { IoError } from "../../src/errors.js";
import type { RandomReadReport } from "./random-read.js";
import { assertSuccess, runProcess } from "./spawn.js";

const RANDOM_READ_JS = fileURLToPath(new URL("./random-read.js", import.meta.url));

/** A tar read: wall seconds and the length of the tar stream. */
export interface TarRead {
  readonly seconds: number;
  readonly bytes: number;
}

/** Times `tar cf - <rel> | wc -c` run inside `root` (GNU tar reads every byte into a pipe). */
export async function tarRead(root: string, rel: string): Promise<TarRead> {
  const script = 'set -o pipefail; tar cf - -- "$1" | wc -c';
  const r = await runProcess("bash", ["-c", script, "bash", rel], { cwd: root });
  assertSuccess(`tar cf - ${rel} in ${root}`, r);
  return { seconds: r.seconds, bytes: Number(r.stdout.trim()) };
}

/** Runs the random-read plan in a child node process; the time is the child's own. */
export async function randomRead(root: string, planFile: string): Promise<RandomReadReport> {
  const r = await runProcess(process.execPath, [RANDOM_READ_JS, root, planFile]);
  assertSuccess(`random reads in ${root}`, r);
  try {
    return JSON.parse(r.stdout) as RandomReadReport;
  } catch (e) {
    throw new IoError(
      "E_IO",
      "random-read.js printed no JSON",
      { stdout: r.stdout.slice(0, 300) },
      e,
    );
  }
}
