/**
 * The writer's lock on a store directory. A process that changes a store (a
 * read-write mount, repack, fsck repairs) holds `superchunk.lock`: a file created
 * exclusively, holding who holds it. A lock whose process is gone (killed) is stale
 * and is taken over. Readers never lock.
 * Kept rather than proper-lockfile: that judges staleness by a refreshed mtime and records no
 * holder, while E_STORE_LOCKED must name who holds the store (pid, host, purpose).
 *
 * A holder may *yield*: a read-write mount, once unmounted and everything committed, keeps
 * the lock for its last compaction pass and rewrites the file with `"yields": true`. Anyone
 * who then opens the store (a writer taking the lock, or a reader: the pass deletes the
 * super-chunks it retires, which a reader that opened the database before the switch would
 * miss) first stops it with SIGTERM and waits for it to go (stopYieldingHolder).
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
  /** The holder only finishes optional work (compaction after unmount): stop it, don't wait. */
  readonly yields?: boolean;
}

/** A held lock; release() removes the file (idempotent). */
export interface StoreLock {
  readonly info: StoreLockInfo;
  /**
   * Marks the lock as yielding from now on, doing `purpose` (the file is rewritten
   * atomically): whoever opens the store next stops this process instead of waiting.
   */
  yieldTo(purpose: string): void;
  release(): void;
}

/** How long an opener waits for a yielding holder to go once told to stop. */
export const YIELD_WAIT_MS = 30_000;
const YIELD_POLL_MS = 20;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  return !isZombie(pid);
}

/** True when `pid` has exited and waits to be reaped (its parent may be the one waiting). */
function isZombie(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false;
  }
}

function parseLock(text: string): StoreLockInfo | undefined {
  try {
    const v = JSON.parse(text) as Partial<StoreLockInfo>;
    if (typeof v.pid !== "number" || typeof v.purpose !== "string") return undefined;
    const info = { pid: v.pid, host: v.host ?? "", purpose: v.purpose, since: v.since ?? "" };
    return v.yields === true ? { ...info, yields: true } : info;
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
 * Stops a yielding holder of `dir`'s lock (another live process of this host, see the
 * file comment): sends it SIGTERM, then waits (synchronously, sleeping) until it has
 * released the lock or exited. Nothing to do when the store is not locked, or locked by a
 * holder that does not yield (that one is waited for by nobody: writers get E_STORE_LOCKED,
 * readers go on). True when it stopped one; E_STORE_LOCKED when the holder is still there
 * after `waitMs`.
 */
export function stopYieldingHolder(dir: string, waitMs = YIELD_WAIT_MS): boolean {
  const holder = readStoreLock(dir);
  if (holder?.yields !== true || holder.host !== os.hostname() || holder.pid === process.pid)
    return false;
  try {
    process.kill(holder.pid, "SIGTERM");
  } catch (err) {
    // gone meanwhile (stopped), or not ours to stop
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
  const deadline = Date.now() + waitMs;
  while (readStoreLock(dir)?.pid === holder.pid) {
    if (Date.now() > deadline) {
      throw new UsageError(
        "E_STORE_LOCKED",
        `${dir}: store is in use by ${describe(holder)}, which did not stop within ${waitMs / 1000} s`,
        { path: dir, holder },
      );
    }
    sleepSync(YIELD_POLL_MS);
  }
  return true;
}

/** Blocks this thread for `ms` without spinning. */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Takes `dir`'s lock for this process. A yielding holder is stopped first
 * (stopYieldingHolder); E_STORE_LOCKED naming the holder when another live process holds
 * it; a stale lock is replaced.
 */
export function acquireStoreLock(dir: string, purpose: string): StoreLock {
  const file = path.join(dir, LOCK_FILE);
  const info: StoreLockInfo = {
    pid: process.pid,
    host: os.hostname(),
    purpose,
    since: new Date().toISOString(),
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(file, `${JSON.stringify(info)}\n`, { flag: "wx" });
      return makeLock(file, info);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST")
        throw wrapFsError(err, file, "taking the store lock");
    }
    const holder = readStoreLock(dir);
    if (holder !== undefined && stopYieldingHolder(dir)) continue;
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

function makeLock(file: string, taken: StoreLockInfo): StoreLock {
  let held = true;
  let info = taken;
  return {
    get info() {
      return info;
    },
    yieldTo(purpose: string): void {
      if (!held) return;
      info = { ...info, purpose, yields: true };
      const tmp = `${file}.${process.pid}.tmp`;
      try {
        fs.writeFileSync(tmp, `${JSON.stringify(info)}\n`);
        fs.renameSync(tmp, file);
      } catch (err) {
        fs.rmSync(tmp, { force: true });
        throw wrapFsError(err, file, "marking the store lock as yielding");
      }
    },
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
