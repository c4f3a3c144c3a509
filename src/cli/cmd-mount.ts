import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import type { TransferStats } from "../blobstore/byte-source.js";
import type { FetchAheadStats } from "../blobstore/fetch-ahead.js";
import { EngineError, type ErrorCode, type ErrorFamily, IoError, UsageError } from "../errors.js";
import {
  checkFuseAvailable,
  checkMountpoint,
  type FuseMount,
  mountFsView,
  mountWritable,
  unmountPath,
} from "../fuse/fuse-mount.js";
import { checkFuseOption } from "../fuse/fuse-options.js";
import {
  ensureRunDir,
  recordPaths,
  removeRecord,
  runDir,
  writeRecord,
} from "../fuse/mount-registry.js";
import { findMount } from "../fuse/mount-table.js";
import { resolveStoreLocation } from "../location/store-kind.js";
import { openStoreView } from "../location/store-view.js";
import type { FsView } from "../reader/fs-view.js";
import { parseCommandArgs, parseInteger, parseSize } from "./args.js";
import { type CliIO, type Command, EXIT } from "./cli-io.js";
import { followOptions, followSecondsOf, mountFollowing } from "./mount-follow.js";

const usage = `Usage: superchunk mount <store> <mountpoint> [options]

Serves a store as a file system through FUSE. Returns once the mount is ready
and keeps serving from a background process; 'superchunk umount <mountpoint>'
stops it (and waits until every write is committed). The mountpoint must be an
existing empty directory. <store> is a store directory, mounted read-write
(it holds the store's writer lock while mounted), an archive written by
'superchunk seal' or the http(s) URL of one (both read-only; URLs are read with
Range requests, bytes fetched are logged at unmount), or a store in an S3-compatible
object store, s3://bucket/prefix: read-only by default (the generation its pointer
names when mounted), read-write with --read-write (one writer at a time holds the
store's lease; changes are committed to a local work directory, and published as a
new generation once the mount has been quiet for 2 s, at least every minute, and
at unmount); endpoint, region and credentials from --endpoint or the AWS_*
environment: AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_PROFILE, ...).

Options:
  --read-only          serve a store directory read-only (writes get EROFS)
  --read-write         s3:// stores: mount read-write (takes the writer's lease)
  --work-dir DIR       s3:// read-write: the local work directory (default
                       $XDG_CACHE_HOME/superchunk/s3/<id>, kept for crash recovery)
  --publish-idle SECS  s3:// read-write: quiet time before a generation is
                       published (default 2)
  --follow             s3:// read-only: serve each newer generation once a poll of
                       the store's pointer sees it, without remounting (the kernel
                       caches names and attributes for 1 s only, file pages not at all)
  --follow-interval SECS
                       seconds between polls with --follow (default 10)
  --endpoint URL       s3:// stores: the S3 endpoint (path-style addressing)
  --path-style         s3:// stores: path-style addressing without --endpoint
  --http-timeout SECS  http(s) archives: a request idle this long fails (default 30)
  --http-retries N     http(s) archives: retries of a failed request (default 4)
  --cache-size SIZE    memory for inflated super-chunks, e.g. 256M, 2G (default 512M)
  --fetch-ahead SIZE   s3:// stores and http(s) archives: memory for compressed
                       super-chunks fetched ahead of the reads, many requests at a
                       time, to hide the network's latency (default 32M; 0 turns it off)
  --foreground         stay attached; unmount cleanly on Ctrl-C (SIGINT) or SIGTERM
  -o OPTIONS           extra FUSE options, comma separated: allow_other, allow_root,
                       nonempty, max_read=N, ... (may be repeated)
  --debug              trace every FUSE request on stderr (with --foreground)
  -h, --help           show this help

The background server logs to a file in the run directory ($SUPERCHUNK_RUN_DIR,
/run/superchunk for root, else $XDG_RUNTIME_DIR/superchunk); its path is printed.`;

/** The parsed command line of `mount`. */
export interface MountArgs {
  readonly store: string;
  readonly mountpoint: string;
  readonly cacheBytes: number;
  /** remote stores: --fetch-ahead in bytes, when given */
  readonly fetchAheadBytes: number | undefined;
  readonly foreground: boolean;
  readonly fuseOptions: readonly string[];
  readonly debug: boolean;
  readonly readOnly: boolean;
  /** s3:// stores: --read-write, and the work directory when given */
  readonly readWrite: boolean;
  readonly workDir: string | undefined;
  readonly publishIdleMs: number | undefined;
  /** s3:// read-only: --follow, seconds between polls of the pointer; else undefined */
  readonly followSeconds: number | undefined;
  /** s3:// stores: endpoint given on the command line */
  readonly endpoint: string | undefined;
  /** s3:// stores: --path-style */
  readonly pathStyle: boolean;
  /** http(s) archives: --http-timeout in ms and --http-retries, when given */
  readonly httpTimeoutMs: number | undefined;
  readonly httpRetries: number | undefined;
}

/** Message a background server sends its starter over IPC. */
type ServerMessage =
  | { type: "ready"; pid: number }
  | {
      type: "error";
      family: ErrorFamily;
      code: ErrorCode;
      message: string;
      data: Record<string, unknown>;
    };

/** ms the starter waits for the server to report. */
const READY_TIMEOUT_MS = 60_000;
const MAIN_SCRIPT = fileURLToPath(new URL("./main.js", import.meta.url));

function parseMountArgs(args: string[]): MountArgs | undefined {
  const { values, positionals } = parseCommandArgs(args, {
    "read-only": { type: "boolean" },
    "read-write": { type: "boolean" },
    "work-dir": { type: "string" },
    "publish-idle": { type: "string" },
    "cache-size": { type: "string" },
    "fetch-ahead": { type: "string" },
    foreground: { type: "boolean" },
    o: { type: "string", short: "o", multiple: true },
    debug: { type: "boolean" },
    endpoint: { type: "string" },
    "path-style": { type: "boolean" },
    follow: { type: "boolean" },
    "follow-interval": { type: "string" },
    "http-timeout": { type: "string" },
    "http-retries": { type: "string" },
  });
  const timeout = values["http-timeout"];
  const retries = values["http-retries"];
  if (values.help) return undefined;
  if (positionals.length !== 2)
    throw new UsageError("E_USAGE", "mount needs <store-dir> and <mountpoint>");
  const fuseOptions = (values.o ?? []).flatMap((o) => o.split(",")).filter((o) => o !== "");
  return {
    store: resolveStoreLocation(positionals[0]!),
    mountpoint: path.resolve(positionals[1]!),
    cacheBytes: parseSize(values["cache-size"] ?? "512M", "--cache-size"),
    fetchAheadBytes:
      values["fetch-ahead"] === undefined
        ? undefined
        : parseSize(values["fetch-ahead"], "--fetch-ahead", { zero: true }),
    foreground: values.foreground === true,
    fuseOptions,
    debug: values.debug === true,
    readOnly: values["read-only"] === true,
    readWrite: values["read-write"] === true,
    workDir: values["work-dir"] === undefined ? undefined : path.resolve(values["work-dir"]),
    publishIdleMs:
      values["publish-idle"] === undefined
        ? undefined
        : parseInteger(values["publish-idle"], "--publish-idle", 0, 86_400) * 1000,
    followSeconds: followSecondsOf(values, positionals[0]!),
    endpoint: values.endpoint,
    pathStyle: values["path-style"] === true,
    httpTimeoutMs:
      timeout === undefined ? undefined : parseInteger(timeout, "--http-timeout", 1, 3600) * 1000,
    httpRetries:
      retries === undefined ? undefined : parseInteger(retries, "--http-retries", 0, 100),
  };
}

export const mountCommand: Command = {
  name: "mount",
  summary: "serve a store as a file system (FUSE)",
  usage,
  async run(args: string[], io: CliIO): Promise<number> {
    const a = parseMountArgs(args);
    if (a === undefined) {
      io.stdout.write(`${usage}\n`);
      return EXIT.ok;
    }
    return a.foreground ? serveForeground(a, io) : startBackground(a, io);
  },
};

// ---------------------------------------------------------------- the serving process

/** Mounts, serves until SIGINT/SIGTERM or an outside unmount, then unmounts and closes. */
async function serveForeground(a: MountArgs, io: CliIO): Promise<number> {
  const dir = runDir(io.env, uid());
  const { view, mount } = await openAndMount(a, io);
  await writeRecord(dir, {
    pid: process.pid,
    mountpoint: mount.mountpoint,
    store: a.store,
    startedMs: Date.now(),
  });
  tellStarter({ type: "ready", pid: process.pid });
  io.stderr.write(
    `superchunk mount: serving ${a.store} at ${mount.mountpoint} (pid ${process.pid})\n`,
  );
  const why = await untilStopped(mount);
  io.stderr.write(`superchunk mount: ${why}: unmounting ${mount.mountpoint}${fetched(view)}\n`);
  try {
    await mount.unmount();
  } finally {
    await view.close();
    await removeRecord(dir, mount.mountpoint, process.pid);
  }
  return EXIT.ok;
}

/** Every check, then the mount; on failure nothing stays open or mounted and the starter hears why. */
async function openAndMount(a: MountArgs, io: CliIO): Promise<{ view: FsView; mount: FuseMount }> {
  let view: FsView | undefined;
  try {
    await checkFuseAvailable();
    await checkMountpoint(a.mountpoint, a.fuseOptions.includes("nonempty"));
    for (const o of a.fuseOptions) checkFuseOption(o);
    const log = (line: string) => io.stderr.write(`${line}\n`);
    const opts = { log, fuseOptions: a.fuseOptions, fsName: a.store, debug: a.debug };
    const follow = a.followSeconds === undefined ? undefined : followOptions(a.followSeconds, log);
    const opened = await openStoreView(a.store, {
      readOnly: a.readOnly,
      readWrite: a.readWrite,
      follow,
      cacheBytes: a.cacheBytes,
      fetchAheadBytes: a.fetchAheadBytes,
      purpose: `mount ${a.mountpoint}`,
      log,
      onBackgroundError: (err) => log(`superchunk: background: ${describe(err)}`),
      s3: {
        env: io.env,
        ...(a.endpoint === undefined ? {} : { endpoint: a.endpoint }),
        ...(a.pathStyle ? { forcePathStyle: true } : {}),
      },
      http: {
        ...(a.httpTimeoutMs === undefined ? {} : { timeoutMs: a.httpTimeoutMs }),
        ...(a.httpRetries === undefined ? {} : { retries: a.httpRetries }),
      },
      workDir: a.workDir,
      publishIdleMs: a.publishIdleMs,
    });
    view = opened.view;
    if (opened.mode === "read-write") {
      return { view, mount: await mountWritable(opened.view, a.mountpoint, opts) };
    }
    if (opened.mode === "follow" && follow !== undefined) {
      return { view, mount: await mountFollowing(opened.view, a.mountpoint, opts, follow) };
    }
    return { view, mount: await mountFsView(view, a.mountpoint, opts) };
  } catch (err) {
    await view?.close().catch(() => {});
    tellStarter(errorMessage(err));
    throw err;
  }
}

function describe(err: unknown): string {
  return err instanceof EngineError ? `${err.code}: ${err.message}` : String(err);
}

/**
 * Resolves with the reason serving should stop. The signal handlers stay: a SIGTERM that
 * comes while the store is being closed (umount sends one right after unmounting) must not
 * kill the process before its writes are committed.
 */
function untilStopped(mount: FuseMount): Promise<string> {
  return new Promise((resolve) => {
    const stop = (why: string) => resolve(why);
    const onSignal = (sig: NodeJS.Signals) => stop(sig);
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    process.on("SIGHUP", onSignal);
    mount.gone.then(() => stop("unmounted from outside"));
  });
}

/** ", fetched N bytes in M requests" for a view over an archive, else "". */
function fetched(view: FsView): string {
  const v = view as {
    transferStats?: () => TransferStats | undefined;
    fetchAheadStats?: () => FetchAheadStats | undefined;
  };
  const t = v.transferStats?.();
  if (t === undefined) return "";
  const a = v.fetchAheadStats?.();
  const ahead =
    a === undefined ? "" : `; fetched ahead ${a.started}, used ${a.hits}, unused ${a.wasted}`;
  return `, fetched ${t.bytesFetched} bytes in ${t.requests} requests (${t.retries} retries${ahead})`;
}

function errorMessage(err: unknown): ServerMessage {
  if (err instanceof EngineError) {
    return {
      type: "error",
      family: err.family,
      code: err.code,
      message: err.message,
      data: plainData(err.data),
    };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { type: "error", family: "internal", code: "E_INTERNAL", message, data: {} };
}

/** `data` as plain JSON (IPC cannot carry bigint or buffers faithfully). */
function plainData(data: Record<string, unknown>): Record<string, unknown> {
  try {
    return JSON.parse(JSON.stringify(data, (_k, v) => (typeof v === "bigint" ? String(v) : v)));
  } catch {
    return {};
  }
}

/** Sends `msg` to the process that started this one in the background, if any. */
function tellStarter(msg: ServerMessage): void {
  if (!process.send || !process.connected) return;
  try {
    process.send(msg, undefined, {}, () => {
      if (process.connected) process.disconnect();
    });
  } catch {
    // the starter is gone; it will see this process's exit or the mount instead
  }
}

function uid(): number {
  return process.getuid?.() ?? 0;
}

// ---------------------------------------------------------------- the starting process

/** Starts a detached server (`mount ... --foreground`) and waits until it serves or fails. */
async function startBackground(a: MountArgs, io: CliIO): Promise<number> {
  await checkFuseAvailable();
  const abs = await checkMountpoint(a.mountpoint, a.fuseOptions.includes("nonempty"));
  const dir = runDir(io.env, uid());
  await ensureRunDir(dir);
  const { log } = recordPaths(dir, abs);
  const logStart = await stat(log).then(
    (st) => st.size,
    () => 0,
  );
  const child = spawnServer({ ...a, mountpoint: abs }, log, io);
  const outcome = await waitForServer(child);
  if (outcome.type === "ready") {
    io.stdout.write(`mounted ${a.store} at ${abs} (pid ${outcome.pid}, log ${log})\n`);
    return EXIT.ok;
  }
  await leaveNothingMounted(abs);
  const tail = await logTail(log, logStart);
  if (outcome.type === "error") {
    // libfuse explains its own failures on the server's stderr ("fuse: ..."): pass that on
    const fuseSays = tail.split("\n").filter((l) => l.startsWith("fuse:"));
    const message = [outcome.message, ...fuseSays].join("; ");
    throw new EngineError(outcome.family, outcome.code, message, { ...outcome.data, log });
  }
  throw new IoError(
    "E_IO",
    `mount server ${outcome.why} before the mount was ready${tail ? `:\n${tail}` : ""}`,
    {
      log,
      mountpoint: abs,
    },
  );
}

function spawnServer(a: MountArgs, log: string, io: CliIO): ChildProcess {
  const args = [
    MAIN_SCRIPT,
    "mount",
    a.store,
    a.mountpoint,
    "--foreground",
    "--cache-size",
    String(a.cacheBytes),
  ];
  if (a.fetchAheadBytes !== undefined) args.push("--fetch-ahead", String(a.fetchAheadBytes));
  if (a.fuseOptions.length > 0) args.push("-o", a.fuseOptions.join(","));
  if (a.readOnly) args.push("--read-only");
  if (a.readWrite) args.push("--read-write");
  if (a.workDir !== undefined) args.push("--work-dir", a.workDir);
  if (a.publishIdleMs !== undefined) args.push("--publish-idle", String(a.publishIdleMs / 1000));
  if (a.followSeconds !== undefined) args.push("--follow");
  if (a.followSeconds !== undefined) args.push("--follow-interval", String(a.followSeconds));
  if (a.endpoint !== undefined) args.push("--endpoint", a.endpoint);
  if (a.pathStyle) args.push("--path-style");
  if (a.httpTimeoutMs !== undefined) args.push("--http-timeout", String(a.httpTimeoutMs / 1000));
  if (a.httpRetries !== undefined) args.push("--http-retries", String(a.httpRetries));
  const fd = openSync(log, "a", 0o600);
  try {
    return spawn(process.execPath, args, {
      detached: true,
      stdio: ["ignore", fd, fd, "ipc"],
      cwd: "/",
      env: io.env,
    });
  } finally {
    closeSync(fd);
  }
}

type Outcome =
  | { type: "ready"; pid: number }
  | Extract<ServerMessage, { type: "error" }>
  | { type: "gone"; why: string };

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
