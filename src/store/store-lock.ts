/**
 * The writer's lock on a store directory. A process that changes a store (a
 * read-write mount, repack, fsck repairs) holds `superchunk.lock`: a file created
 * exclusively, holding who holds it. A lock whose process is gone (killed) is stale
 * and is taken over. Readers never lock.
 * Kept rather than proper-lockfile: that judges staleness by a refreshed mtime and records no
 * holder, while E_STORE_LOCKED must name who holds the store (pid, host, purpose).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { UsageError, wrapFsError } from "../errors.js";

export const LOCK_FILE = "superchunk.lock";

/** Who holds a store's lock. */
export interface StoreLockInfo {
  readonly pid: number;
  readonly host: string;
  /** What the holder is doing, e.g. "mount /mnt/x" or "repack". */
  readonly purpose: string;
  /** ISO time the lock was taken. */
  readonly since: string;
}

/** A held lock; release() removes the file (idempotent). */
export interface StoreLock {
  readonly info: StoreLockInfo;
  release(): void;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function parseLock(text: string): StoreLockInfo | undefined {
  try {
    const v = JSON.parse(text) as Partial<StoreLockInfo>;
    if (typeof v.pid !== "number" || typeof v.purpose !== "string") return undefined;
    return { pid: v.pid, host: v.host ?? "", purpose: v.purpose, since: v.since ?? "" };
  } catch {
    return undefined;
  }
}

/**
 * The live holder of `dir`'s lock, or undefined when the store is not locked (no lock
 * file, an unreadable one, or one left by a process of this host that has exited).
 */
export function readStoreLock(dir: string): StoreLockInfo | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, LOCK_FILE), "utf8");
  } catch {
    return undefined;
  }
  const info = parseLock(text);
  if (info === undefined) return undefined;
  if (info.host === os.hostname() && !isAlive(info.pid)) return undefined;
  return info;
}

function describe(info: StoreLockInfo): string {
  return `pid ${info.pid} on ${info.host} (${info.purpose}, since ${info.since})`;
}

/**
 * Takes `dir`'s lock for this process. E_STORE_LOCKED naming the holder when another
 * live process holds it; a stale lock is replaced.
 */
export function acquireStoreLock(dir: string, purpose: string): StoreLock {
  const file = path.join(dir, LOCK_FILE);
  const info: StoreLockInfo = {
    pid: process.pid,
    host: os.hostname(),
    purpose,
    since: new Date().toISOString(),
  };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, `${JSON.stringify(info)}\n`, { flag: "wx" });
      return makeLock(file, info);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST")
        throw wrapFsError(err, file, "taking the store lock");
    }
    const holder = readStoreLock(dir);
    if (holder !== undefined) {
      throw new UsageError("E_STORE_LOCKED", `${dir}: store is in use by ${describe(holder)}`, {
        path: dir,
        holder,
      });
    }
    fs.rmSync(file, { force: true });
  }
  throw new UsageError("E_STORE_LOCKED", `${dir}: could not take the store lock`, { path: dir });
}

function makeLock(file: string, info: StoreLockInfo): StoreLock {
  let held = true;
  return {
    info,
    release(): void {
      if (!held) return;
      held = false;
      fs.rmSync(file, { force: true });
    },
  };
}

/**
 * Removes `dir`'s lock when this process holds it (for a process about to exit on a
 * signal, whose StoreLock objects will not be released); anything else is left alone.
 */
export function releaseOwnLock(dir: string): void {
  const file = path.join(dir, LOCK_FILE);
  let info: StoreLockInfo | undefined;
  try {
    info = parseLock(fs.readFileSync(file, "utf8"));
  } catch {
    return;
  }
  if (info?.pid === process.pid && info.host === os.hostname()) fs.rmSync(file, { force: true });
}
