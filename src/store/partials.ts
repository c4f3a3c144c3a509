/**
 * Temporary names beside a destination. A new store or archive is built under a hidden
 * name next to where it goes, `.<name>.<what>-<pid>-<6 hex>` (pack's `.partial-` store,
 * an archive's `.store-`, `.partial-` and `.stage-` files, extract --zip's `.tmp-`), and
 * renamed into place when complete. The pid in the name says which process made it: a
 * name whose process is gone was left by an interrupted run (killed, or the machine went
 * down) and is nobody's; one of this process is removed when it is interrupted.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** A temporary entry beside a destination. */
export interface Partial {
  /** its absolute path */
  readonly path: string;
  /** the process that made it */
  readonly pid: number;
  readonly isDirectory: boolean;
}

/** `-<pid>-<6 hex>` at the end of a temporary name. */
const OWNER_SUFFIX = /\.(?:partial|store|stage|tmp)-(\d+)-[0-9a-f]{6}$/;

/**
 * The temporary entries beside `dest` (in its parent directory): names starting with
 * `.<basename of dest>.` and ending in an owner suffix. Nested names (a store built for an
 * archive, `..out.zip.store-1-abc.partial-1-def`) count too. [] when the parent is unreadable.
 */
export function partialsBeside(dest: string): Partial[] {
  const abs = path.resolve(dest);
  const dir = path.dirname(abs);
  const mark = `.${path.basename(abs)}.`;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const found: Partial[] = [];
  for (const name of names) {
    if (!name.startsWith(mark) && !name.startsWith(`.${mark}`)) continue;
    const m = OWNER_SUFFIX.exec(name);
    if (m === null) continue;
    const p = path.join(dir, name);
    let isDirectory: boolean;
    try {
      isDirectory = fs.lstatSync(p).isDirectory();
    } catch {
      continue; // removed meanwhile
    }
    found.push({ path: p, pid: Number(m[1]), isDirectory });
  }
  return found.sort((a, b) => a.path.localeCompare(b.path));
}

/** True when process `pid` runs (on this machine): kill(pid, 0) succeeds or is refused. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The temporary entries beside `dest` whose process is gone: left by an interrupted run. */
export function leftoverPartials(dest: string): Partial[] {
  return partialsBeside(dest).filter((p) => p.pid !== process.pid && !processAlive(p.pid));
}

/**
 * Removes this process's temporary entries beside `dest`, synchronously (for a signal
 * handler); answers their paths. Run twice over, so that a directory an in-flight write
 * made again meanwhile goes too.
 */
export function removeOwnPartials(dest: string): string[] {
  const removed = new Set<string>();
  for (let pass = 0; pass < 2; pass++) {
    for (const p of partialsBeside(dest)) {
      if (p.pid !== process.pid) continue;
      fs.rmSync(p.path, { recursive: true, force: true });
      removed.add(p.path);
    }
  }
  return [...removed];
}
