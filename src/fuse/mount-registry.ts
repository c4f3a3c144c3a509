/**
 * Records of the processes serving mounts, so `umount` can wait for the right one to exit.
 * One small JSON file per mountpoint, named by a hash of its resolved path, in the run
 * directory: $SUPERCHUNK_RUN_DIR, else /run/superchunk for root, else
 * $XDG_RUNTIME_DIR/superchunk, else <tmpdir>/superchunk-<uid>. The server's log sits next to it.
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** What a serving process leaves behind while it serves. */
export interface MountRecord {
  readonly pid: number;
  /** resolved absolute mountpoint */
  readonly mountpoint: string;
  readonly store: string;
  /** ms since the epoch */
  readonly startedMs: number;
}

/** The run directory for this user (see the header). */
export function runDir(env: NodeJS.ProcessEnv, uid: number): string {
  if (env.SUPERCHUNK_RUN_DIR) return env.SUPERCHUNK_RUN_DIR;
  if (uid === 0) return "/run/superchunk";
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, "superchunk");
  return join(tmpdir(), `superchunk-${uid}`);
}

/** Paths of the record and the log of the mount at `mountpoint` (resolved). */
export function recordPaths(dir: string, mountpoint: string): { record: string; log: string } {
  const id = createHash("sha256").update(mountpoint).digest("hex").slice(0, 16);
  return { record: join(dir, `mount-${id}.json`), log: join(dir, `mount-${id}.log`) };
}

/** Creates the run directory (mode 0700) if needed. */
export async function ensureRunDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
}

export async function writeRecord(dir: string, rec: MountRecord): Promise<void> {
  await ensureRunDir(dir);
  const { record } = recordPaths(dir, rec.mountpoint);
  await writeFile(`${record}.tmp`, `${JSON.stringify(rec)}\n`, { mode: 0o600 });
  await rename(`${record}.tmp`, record);
}

/** The record of `mountpoint`, or undefined when none (or unreadable). */
export async function readRecord(
  dir: string,
  mountpoint: string,
): Promise<MountRecord | undefined> {
  try {
    const rec = JSON.parse(
      await readFile(recordPaths(dir, mountpoint).record, "utf8"),
    ) as MountRecord;
    return typeof rec.pid === "number" && rec.mountpoint === mountpoint ? rec : undefined;
  } catch {
    return undefined;
  }
}

/** Removes the record of `mountpoint` if it still names `pid` (or any, when pid is omitted). */
export async function removeRecord(dir: string, mountpoint: string, pid?: number): Promise<void> {
  const rec = await readRecord(dir, mountpoint);
  if (rec && pid !== undefined && rec.pid !== pid) return;
  await rm(recordPaths(dir, mountpoint).record, { force: true });
}
