/**
 * The read measurements, run against a directory (a mount point or the raw corpus): read
 * every file with tar, read one release with tar, the random-read plan (files kept open,
 * or reopened for every read), and on big trees a metadata walk with find, `ls -lR` of a
 * folder and `grep -r -l` of a word over a folder. Each answers its wall seconds and a
 * count to check against the same read of the raw corpus.
 */

import { fileURLToPath } from "node:url";
import { IoError } from "../../src/errors.js";
import type { RandomReadReport } from "./random-read.js";
import { assertSuccess, runProcess } from "./spawn.js";

const RANDOM_READ_JS = fileURLToPath(new URL("./random-read.js", import.meta.url));

/** The word `grep -r -l` looks for (fixed, so every tool reads the same). */
export const GREP_WORD = "rcu_read_lock";

/** A timed shell read: wall seconds and what it counted (bytes of a tar stream, lines). */
export interface TarRead {
  readonly seconds: number;
  readonly bytes: number;
}

/** Runs `script` (bash, pipefail, `$1` = rel) inside `root`; answers seconds and the number it printed. */
async function timedCount(root: string, script: string, rel: string): Promise<TarRead> {
  const r = await runProcess("bash", ["-c", `set -o pipefail; ${script}`, "bash", rel], {
    cwd: root,
  });
  assertSuccess(`${script.replace("$1", rel)} in ${root}`, r);
  return { seconds: r.seconds, bytes: Number(r.stdout.trim()) };
}

/** Times `tar cf - <rel> | wc -c` run inside `root` (GNU tar reads every byte into a pipe). */
export function tarRead(root: string, rel: string): Promise<TarRead> {
  return timedCount(root, 'tar cf - -- "$1" | wc -c', rel);
}

/** Times `find <rel> -printf '%i %s %m %T@\n'` (every entry's inode, size, mode, mtime); counts lines. */
export function walkRead(root: string, rel = "."): Promise<TarRead> {
  return timedCount(root, "find \"$1\" -printf '%i %s %m %T@\\n' | wc -l", rel);
}

/** Times `ls -lR <rel>`; counts its lines. */
export function lsRead(root: string, rel: string): Promise<TarRead> {
  return timedCount(root, 'ls -lR -- "$1" | wc -l', rel);
}

/** Times `grep -r -l <GREP_WORD> <rel>`; counts the files named (none found is not an error). */
export function grepRead(root: string, rel: string): Promise<TarRead> {
  const script = `{ grep -r -l -e ${GREP_WORD} -- "$1" || [ $? -eq 1 ]; } | wc -l`;
  return timedCount(root, script, rel);
}

/**
 * Runs the random-read plan in a child node process (`reopen`: open and close the file
 * around every read); the time is the child's own.
 */
export async function randomRead(
  root: string,
  planFile: string,
  reopen = false,
): Promise<RandomReadReport> {
  const args = [RANDOM_READ_JS, root, planFile, ...(reopen ? ["--reopen"] : [])];
  const r = await runProcess(process.execPath, args);
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
