/**
 * One mount for the read columns: start the mount command (a FUSE server preferably in the
 * foreground, so its peak RSS can be read; or `mount -o loop` of a kernel file system),
 * wait until the kernel lists the mount point, run the measurement, and always unmount,
 * reap the process and run the spec's cleanup (loop devices), also on errors.
 */

import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { UnsupportedError } from "../../src/errors.js";
import type { Command } from "./command.js";
import { loopsBackedUnder, mountsUnder } from "./mount-table.js";
import { type RunResult, runProcess } from "./spawn.js";

const MOUNT_WAIT_MS = 60_000;
const EXIT_WAIT_MS = 15_000;

/** How to mount one tool's output. */
export interface MountSpec {
  readonly mount: Command;
  /** The tool's own unmount, tried before `fusermount3 -u`. */
  readonly unmount?: Command;
  /** ms to wait for the mount process to exit after the unmount; default 15 000 */
  readonly exitWaitMs?: number;
  /** Run after every unmount, whatever happened (e.g. detach the loop device). */
  readonly cleanup?: Command;
}

/** What {@link withMount} returns besides the measurement. */
export interface MountOutcome<T> {
  readonly value: T;
  /** VmHWM of the mount process (KiB), when it stayed in the foreground. */
  readonly peakRssKiB: number | null;
  /** Seconds from starting the mount command to the mount point appearing. */
  readonly mountSeconds: number;
}

/** True when `dir` is a mount point now. */
export function isMounted(dir: string): boolean {
  return mountsUnder(readFileSync("/proc/self/mountinfo", "utf8"), dir).includes(dir);
}

/**
 * Empties the page, dentry and inode caches (`sync; echo 3 > /proc/sys/vm/drop_caches`).
 * Returns false when that is not permitted here.
 */
export async function dropCaches(): Promise<boolean> {
  await runProcess("sync", []);
  try {
    writeFileSync("/proc/sys/vm/drop_caches", "3\n");
    return true;
  } catch {
    return false;
  }
}

function peakRss(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** libfuse 3's `fusermount3` when installed, else libfuse 2's `fusermount`. */
const FUSERMOUNT = spawnSync("fusermount3", ["-V"]).error ? "fusermount" : "fusermount3";

/**
 * Unmounts `dir`: the tool's own command, then `fusermount3 -u` (or libfuse 2's `fusermount`) a few times, then lazily;
 * a mount FUSE does not own (a kernel loop mount) with `umount`, then `umount -l`.
 */
export async function unmount(dir: string, own?: Command): Promise<void> {
  if (own !== undefined && isMounted(dir)) await runProcess(own.cmd, own.args, { env: own.env });
  for (let i = 0; i < 10 && isMounted(dir); i++) {
    const r = await runProcess(FUSERMOUNT, ["-u", dir]);
    if (/not a fuse|not mounted by fuse|entry for .* not found/i.test(r.stderr)) break;
    if (isMounted(dir)) await sleep(300);
  }
  for (const args of [["-uz", dir], [dir], ["-l", dir]]) {
    if (!isMounted(dir)) return;
    await runProcess(args[0] === "-uz" ? FUSERMOUNT : "umount", args);
  }
}

/** Detaches every loop device whose backing file lies under `dir` (left by an interrupted run). */
export async function detachLoopsUnder(dir: string): Promise<string[]> {
  const r = await runProcess("losetup", ["-n", "-l", "-O", "NAME,BACK-FILE"]).catch(() => null);
  const devices = r === null ? [] : loopsBackedUnder(r.stdout, dir);
  for (const dev of devices) await runProcess("losetup", ["-d", dev]);
  return devices;
}

function failure(dir: string, r: RunResult): Error {
  const said = (r.stderr || r.stdout).trim();
  const unknown = /unknown (command|subcommand)|not a command|usage:/i.test(said);
  const lines = said.split("\n").filter((l) => l.trim() !== "");
  const telling = lines.find((l) => /error|unknown|cannot|failed/i.test(l));
  const why = telling?.trim() ?? (lines.slice(-3).join(" / ") || `exit ${r.code}`);
  return new UnsupportedError(
    "E_UNSUPPORTED",
    unknown ? `mount command not available: ${why}` : `mount failed: ${why}`,
    { dir, code: r.code },
  );
}

interface MountState {
  pid: number | null;
  ended: RunResult | null;
}

async function waitForMount(dir: string, state: MountState): Promise<void> {
  const deadline = Date.now() + MOUNT_WAIT_MS;
  while (!isMounted(dir)) {
    // a daemonizing mount exits 0 once mounted; any other exit is a failure
    if (state.ended !== null && state.ended.code !== 0) throw failure(dir, state.ended);
    if (Date.now() > deadline)
      throw new UnsupportedError("E_UNSUPPORTED", "mount timed out", { dir });
    await sleep(50);
  }
}

async function reap(exit: Promise<unknown>, state: MountState, waitMs: number): Promise<void> {
  // unref'd: a long wait that lost the race must not keep the bench alive at its end
  const waited = await Promise.race([exit.then(() => true), sleep(waitMs, false, { ref: false })]);
  if (waited || state.pid === null || state.ended !== null) return;
  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    try {
      process.kill(-state.pid, signal);
    } catch {
      return;
    }
    if (await Promise.race([exit.then(() => true), sleep(5000, false)])) return;
  }
}

/**
 * Mounts with `spec` on the empty directory `dir`, runs `measure`, then unmounts (always)
 * and waits for the mount process to end. Throws UnsupportedError E_UNSUPPORTED when the
 * mount does not come up (its message says whether the command is unknown).
 */
export async function withMount<T>(
  spec: MountSpec,
  dir: string,
  logBase: string,
  measure: () => Promise<T>,
): Promise<MountOutcome<T>> {
  const state: MountState = { pid: null, ended: null };
  const started = process.hrtime.bigint();
  const { cmd, args, env } = spec.mount;
  const onSpawn = (pid: number) => {
    state.pid = pid;
  };
  const exit = runProcess(cmd, args, { env, logBase, onSpawn }).then((r) => {
    state.ended = r;
  });
  try {
    await waitForMount(dir, state);
    const mountSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (state.ended !== null) state.pid = null; // it went to the background
    const value = await measure();
    return { value, peakRssKiB: peakRss(state.pid), mountSeconds };
  } finally {
    await unmount(dir, spec.unmount);
    await reap(exit, state, spec.exitWaitMs ?? EXIT_WAIT_MS);
    const c = spec.cleanup;
    if (c !== undefined) await runProcess(c.cmd, c.args, { env: c.env }).catch(() => undefined);
  }
}
