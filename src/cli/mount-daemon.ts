/**
 * The starting side of `mount` without `--foreground`: checks the mountpoint, starts a
 * detached server, `superchunk mount --foreground <the user's own arguments>`, logging to a
 * file in the run directory, and waits until it reports that it serves (then returns and
 * lets it go) or why it failed (then makes sure nothing stays mounted and throws the
 * server's error, rebuilt by error-wire.ts, so its code and exit status are the server's).
 *
 * The server parses the same arguments the user gave, so a new mount flag is defined in
 * cmd-mount.ts only. It starts in the user's directory (relative paths resolve as the user
 * meant them) and moves to / once it has parsed them (mount-server.ts).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { fromWire } from "../error-wire.js";
import { IoError } from "../errors.js";
import { checkFuseAvailable, checkMountpoint, unmountPath } from "../fuse/fuse-mount.js";
import { ensureRunDir, recordPaths, runDir } from "../fuse/mount-registry.js";
import { findMount } from "../fuse/mount-table.js";
import { type CliIO, EXIT } from "./cli-io.js";
import { type ServerMessage, uid } from "./mount-server.js";

/** ms the starter waits for the server to report. */
const READY_TIMEOUT_MS = 60_000;

/** The CLI's entry script, main.js beside this file: run as a new process, not imported. */
const MAIN_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), "main.js");

/** What `mount` needs to know before it starts a server. */
export interface DaemonTarget {
  /** the store as the user named it, for the message once mounted */
  readonly store: string;
  readonly mountpoint: string;
  /** -o nonempty was given */
  readonly nonEmpty: boolean;
}

/**
 * Starts a detached server with `args` (the arguments after `mount`, as the user gave them)
 * plus `--foreground`, and waits until it serves or fails. Resolves with the exit status;
 * throws the server's error when it failed to start.
 */
export async function startBackground(
  args: readonly string[],
  target: DaemonTarget,
  io: CliIO,
): Promise<number> {
  await checkFuseAvailable();
  const abs = await checkMountpoint(target.mountpoint, target.nonEmpty);
  const dir = runDir(io.env, uid());
  await ensureRunDir(dir);
  const { log } = recordPaths(dir, abs);
  const logStart = await stat(log).then(
    (st) => st.size,
    () => 0,
  );
  const child = spawnServer(serverArgv(args), log, io);
  const outcome = await waitForServer(child);
  if (outcome.type === "ready") {
    io.stdout.write(`mounted ${target.store} at ${abs} (pid ${outcome.pid}, log ${log})\n`);
    return EXIT.ok;
  }
  await leaveNothingMounted(abs);
  const tail = await logTail(log, logStart);
  if (outcome.type === "error") {
    // libfuse explains its own failures on the server's stderr ("fuse: ..."): pass that on
    const fuseSays = tail.split("\n").filter((l) => l.startsWith("fuse:"));
    const w = outcome.error;
    const message = [w.message, ...fuseSays].join("; ");
    throw fromWire({ ...w, message, data: { ...w.data, log } }, "mount server");
  }
  const shown = tail ? `:\n${tail}` : "";
  throw new IoError("E_IO", `mount server ${outcome.why} before the mount was ready${shown}`, {
    log,
    mountpoint: abs,
  });
}

/** The server's command line: the user's arguments, run in the foreground. */
export function serverArgv(args: readonly string[]): string[] {
  // before the user's arguments, so that a "--" among them cannot make it a positional
  return [MAIN_SCRIPT, "mount", "--foreground", ...args];
}

/** Spawns `node argv...` detached, stdout and stderr appended to `log`, with an IPC channel. */
function spawnServer(argv: string[], log: string, io: CliIO): ChildProcess {
  const fd = openSync(log, "a", 0o600);
  try {
    return spawn(process.execPath, argv, {
      detached: true,
      stdio: ["ignore", fd, fd, "ipc"],
      cwd: userDir(),
      env: io.env,
    });
  } finally {
    closeSync(fd);
  }
}

/** Where the user stands, for the server to resolve relative paths; "/" when it is gone. */
function userDir(): string {
  try {
    return process.cwd();
  } catch {
    return "/"; // removed since: only absolute paths can have been given (parsing resolved them)
  }
}

type Outcome = ServerMessage | { type: "gone"; why: string };

/** Waits for the server's first message, its exit, or the timeout; then lets it go. */
function waitForServer(child: ChildProcess): Promise<Outcome> {
  return new Promise((resolve) => {
    const onMessage = (m: ServerMessage) => done(m);
    const onError = (err: Error) => done({ type: "gone", why: `could not start (${err.message})` });
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      done({ type: "gone", why: `exited (${signal ?? `status ${code}`})` });
    const timer = setTimeout(() => {
      child.kill("SIGTERM");
      done({ type: "gone", why: `did not report within ${READY_TIMEOUT_MS / 1000} s` });
    }, READY_TIMEOUT_MS);
    child.on("message", onMessage);
    child.on("error", onError);
    child.on("exit", onExit);
    const done = (o: Outcome) => {
      clearTimeout(timer);
      child.off("message", onMessage);
      child.off("error", onError);
      child.off("exit", onExit);
      if (o.type === "ready") {
        if (child.connected) child.disconnect();
        child.unref();
        resolve(o);
      } else if (child.exitCode === null && child.signalCode === null) {
        // a failed server cleans up before it exits: report only then
        child.once("exit", () => resolve(o));
      } else {
        resolve(o);
      }
    };
  });
}

/** A server that failed must not leave a dead mount behind. */
async function leaveNothingMounted(abs: string): Promise<void> {
  if ((await findMount(abs)) !== undefined) await unmountPath(abs, true).catch(() => {});
}

/** The last lines the server wrote to its log, from byte `start` (where this run began). */
async function logTail(log: string, start: number): Promise<string> {
  try {
    const text = (await readFile(log)).subarray(start).toString("utf8");
    return text.trimEnd().split("\n").slice(-10).join("\n");
  } catch {
    return "";
  }
}
