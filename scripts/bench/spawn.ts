/**
 * Running external commands for the corpus and benchmark scripts: spawn with the inherited
 * environment, wall time by process.hrtime, optional peak RSS through /usr/bin/time, output
 * to memory or to log files, and a process-group kill for timeouts and interrupts.
 */

import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { IoError } from "../../src/errors.js";

/** Where GNU time lives; its `%M` is the peak RSS (KiB) of the largest waited-for process. */
export const GNU_TIME = "/usr/bin/time";
const STDOUT_KEEP_BYTES = 16 * 1024 * 1024;
const STDERR_KEEP_BYTES = 64 * 1024;

/** Options of {@link runProcess}. */
export interface RunOptions {
  readonly cwd?: string;
  /** Added to (not replacing) the inherited environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** When set, stdout and stderr go to `<logBase>.out` and `<logBase>.err`, not memory. */
  readonly logBase?: string;
  /** stdio inherited from this process (for apt-get progress); nothing is captured. */
  readonly inherit?: boolean;
  /** Kill the command's process group after this many ms (default: never). */
  readonly timeoutMs?: number;
  /** Called with the child's pid once it has started. */
  readonly onSpawn?: (pid: number) => void;
}

/** How a command ended. `stdout` is whole (up to 16 MiB), `stderr` its last 64 KiB. */
export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly seconds: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

/** Process groups started here and still running, so an interrupt can end them. */
const running = new Set<number>();

/** Sends `signal` to every process group this module started that is still running. */
export function killRunning(signal: NodeJS.Signals = "SIGTERM"): void {
  for (const pgid of running) {
    try {
      process.kill(-pgid, signal);
    } catch {
      // already gone
    }
  }
}

function tail(buf: Buffer, keep: number): string {
  return buf.subarray(Math.max(0, buf.length - keep)).toString("utf8");
}

/** The last `keep` bytes of the file at `path` ("" when it does not exist). */
function readLog(path: string, keep: number): string {
  if (!existsSync(path)) return "";
  const size = statSync(path).size;
  if (size <= keep) return readFileSync(path, "utf8");
  const buf = Buffer.alloc(keep);
  const fd = openSync(path, "r");
  try {
    readSync(fd, buf, 0, keep, size - keep);
  } finally {
    closeSync(fd);
  }
  return buf.toString("utf8");
}

function stdioFor(opts: RunOptions): {
  stdio: ("ignore" | "pipe" | "inherit" | number)[];
  fds: number[];
} {
  if (opts.inherit) return { stdio: ["ignore", "inherit", "inherit"], fds: [] };
  if (opts.logBase === undefined) return { stdio: ["ignore", "pipe", "pipe"], fds: [] };
  const out = openSync(`${opts.logBase}.out`, "w");
  const err = openSync(`${opts.logBase}.err`, "w");
  return { stdio: ["ignore", out, err], fds: [out, err] };
}

function armTimeout(pid: number | undefined, ms: number | undefined, onFire: () => void) {
  if (pid === undefined || ms === undefined) return undefined;
  return setTimeout(() => {
    onFire();
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  }, ms);
}

function collected(
  opts: RunOptions,
  out: Buffer[],
  err: Buffer[],
): { stdout: string; stderr: string } {
  if (opts.logBase === undefined) {
    return {
      stdout: tail(Buffer.concat(out), STDOUT_KEEP_BYTES),
      stderr: tail(Buffer.concat(err), STDERR_KEEP_BYTES),
    };
  }
  return {
    stdout: readLog(`${opts.logBase}.out`, STDOUT_KEEP_BYTES),
    stderr: readLog(`${opts.logBase}.err`, STDERR_KEEP_BYTES),
  };
}

/** Runs `cmd args` in its own process group and resolves when it has exited (never rejects on exit status). */
export function runProcess(
  cmd: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<RunResult> {
  const { stdio, fds } = stdioFor(opts);
  const started = process.hrtime.bigint();
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio,
    detached: true,
  });
  for (const fd of fds) closeSync(fd);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on("data", (b: Buffer) => out.push(b));
  child.stderr?.on("data", (b: Buffer) => err.push(b));
  const pid = child.pid;
  if (pid !== undefined) {
    running.add(pid);
    opts.onSpawn?.(pid);
  }
  let timedOut = false;
  const timer = armTimeout(pid, opts.timeoutMs, () => {
    timedOut = true;
  });
  const done = () => {
    if (pid !== undefined) running.delete(pid);
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    child.on("error", (e) => {
      done();
      reject(new IoError("E_IO", `cannot run ${cmd}: ${e.message}`, { cmd, args }, e));
    });
    child.on("close", (code, signal) => {
      done();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      resolve({ code, signal, seconds, ...collected(opts, out, err), timedOut });
    });
  });
}

/** A finished command plus the peak RSS of its largest process (KiB), when GNU time is present. */
export interface TimedResult extends RunResult {
  readonly peakRssKiB: number | null;
}

/**
 * Parses the output of GNU time `-f %M`: the last non-empty line is the peak RSS in KiB
 * (a "Command exited with non-zero status" line may come before it). Null when absent.
 */
export function parsePeakRss(text: string): number | null {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  const last = lines[lines.length - 1];
  return last !== undefined && /^\d+$/.test(last) ? Number(last) : null;
}

/** Runs a command under GNU time (when installed) and reports its wall time and peak RSS. */
export async function runTimed(
  cmd: string,
  args: readonly string[],
  opts: RunOptions & { readonly rssFile: string },
): Promise<TimedResult> {
  if (!existsSync(GNU_TIME)) return { ...(await runProcess(cmd, args, opts)), peakRssKiB: null };
  const result = await runProcess(GNU_TIME, ["-f", "%M", "-o", opts.rssFile, cmd, ...args], opts);
  const rss = existsSync(opts.rssFile) ? parsePeakRss(readFileSync(opts.rssFile, "utf8")) : null;
  return { ...result, peakRssKiB: rss };
}

/** Throws IoError E_IO naming the command and its stderr tail unless it exited 0. */
export function assertSuccess(what: string, result: RunResult): void {
  if (result.code === 0) return;
  const how = result.timedOut
    ? "timed out"
    : result.signal
      ? `killed by ${result.signal}`
      : `exit ${result.code}`;
  const lines = (result.stderr || result.stdout).trim().split("\n");
  const detail = (
    lines.length > 8 ? [...lines.slice(0, 4), "...", ...lines.slice(-3)] : lines
  ).join("\n");
  throw new IoError("E_IO", `${what} failed (${how})${detail ? `:\n${detail}` : ""}`, {
    what,
    code: result.code,
  });
}
