/**
 * The serving side of `mount`: the process that holds the FUSE mount, run by `mount
 * --foreground` (typed by the user, or started by the mount daemon, see mount-daemon.ts).
 * It opens and mounts, records the mount in the run directory, tells its starter (over the
 * IPC channel, when there is one) that it serves or why it failed, then serves until a signal
 * or an outside unmount, and unmounts and closes before it exits. A read-write store's close
 * ends with a compaction pass: once everything is committed and durable (before that pass)
 * the server removes its mount record, which is what `umount` waits for, marks the store's
 * lock as yielding, and runs the pass in the background; meanwhile SIGTERM or SIGINT (sent
 * by anyone who opens the store, see store/store-lock.ts) ends the process at once, which
 * leaves the store as a crash would (a pass is crash-safe; the next mount resumes it).
 *
 * Terms: the *starter* is the `mount` process that spawned this one in the background and
 * waits for its {@link ServerMessage}; errors cross as {@link WireError} (error-wire.ts).
 */
import * as path from "node:path";
import type { TransferStats } from "../blobstore/byte-source.js";
import type { FetchAheadStats } from "../blobstore/fetch-ahead.js";
import { toWire, type WireError } from "../error-wire.js";
import { formatBytes } from "../format-bytes.js";
import type { FuseMount } from "../fuse/fuse-mount.js";
import { removeRecord, runDir, writeRecord } from "../fuse/mount-registry.js";
import { formatOpStats } from "../fuse/op-stats.js";
import type { FsView } from "../reader/fs-view.js";
import type { WorkingSetStats } from "../workingset/working-set-types.js";
import type { ClosingStore } from "../writer/index.js";
import { type CliIO, EXIT } from "./cli-io.js";

/** What a server sends its starter over IPC: once, then it disconnects. */
export type ServerMessage = { type: "ready"; pid: number } | { type: "error"; error: WireError };

/** A store opened and mounted: what the server serves. */
export interface Served {
  readonly view: FsView;
  readonly mount: FuseMount;
}

/** What the server lends `open`: a hook into the close of a writable store. */
export interface ServeHooks {
  /**
   * A writable store's onCommitted (WritableStoreOptions): after the unmount, once all is
   * committed, the record goes (umount returns) and the last compaction pass yields.
   */
  readonly onCommitted: (closing: ClosingStore) => Promise<void>;
}

/**
 * Opens and mounts with `open` (which leaves nothing open or mounted when it fails), serves
 * until SIGINT/SIGTERM/SIGHUP or an outside unmount, then unmounts and closes. `store` names
 * the store in the mount record and the log.
 */
export async function serveForeground(
  store: string,
  open: (hooks: ServeHooks) => Promise<Served>,
  io: CliIO,
  opts: { opStats?: boolean } = {},
): Promise<number> {
  const dir = path.resolve(runDir(io.env, uid()));
  // started in the background: the paths are resolved, leave the user's directory alone
  if (startedByStarter()) process.chdir("/");
  let served: Served;
  let mountpoint: string | undefined;
  // SIGTERM or SIGINT during the compaction after the unmount
  let onStop: (sig: NodeJS.Signals) => void = () => {};
  const stop = new Promise<NodeJS.Signals>((resolve) => {
    onStop = resolve;
  });
  const onCommitted = async (closing: ClosingStore) => {
    // nothing served (the open failed), or nothing to compact: umount waits for the exit
    if (mountpoint === undefined || !closing.compacts) return;
    closing.yieldLock(`compaction after unmount of ${mountpoint}`);
    process.on("SIGTERM", onStop);
    process.on("SIGINT", onStop);
    await removeRecord(dir, mountpoint, process.pid);
    io.stderr.write(
      `superchunk mount: all committed; compacting ${store} in the background (stops when the store is opened)\n`,
    );
  };
  try {
    served = await open({ onCommitted });
  } catch (err) {
    tellStarter({ type: "error", error: toWire(err) });
    throw err;
  }
  const { view, mount } = served;
  mountpoint = mount.mountpoint;
  await writeRecord(dir, {
    pid: process.pid,
    mountpoint: mount.mountpoint,
    store,
    startedMs: Date.now(),
  });
  tellStarter({ type: "ready", pid: process.pid });
  io.stderr.write(
    `superchunk mount: serving ${store} at ${mount.mountpoint} (pid ${process.pid})\n`,
  );
  const why = await untilStopped(mount);
  io.stderr.write(`superchunk mount: ${why}: unmounting ${mount.mountpoint}${fetched(view)}\n`);
  let stoppedBy: NodeJS.Signals | undefined;
  try {
    await mount.unmount();
    if (opts.opStats === true) io.stderr.write(serveStats(served));
  } finally {
    stoppedBy = await Promise.race([view.close().then(() => undefined), stop]);
    if (stoppedBy === undefined) await removeRecord(dir, mount.mountpoint, process.pid);
  }
  if (stoppedBy !== undefined) {
    io.stderr.write(
      `superchunk mount: ${stoppedBy}: compaction after unmount of ${mount.mountpoint} stopped; a later read-write mount resumes it\n`,
    );
    // the rest of the close is the pass, cut short (crash-safe): exit once this has returned
    setImmediate(() => process.exit());
  }
  return EXIT.ok;
}

/**
 * Resolves with the reason serving should stop. The signal handlers stay: a SIGTERM that
 * comes while the store is being closed (`umount --lazy` sends one after detaching) must not
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

/** `--op-stats`: the requests served by op, and what the working set loaded. */
function serveStats({ view, mount }: Served): string {
  const ws = (view as { workingSetStats?: () => WorkingSetStats }).workingSetStats?.();
  const loads =
    ws === undefined
      ? ""
      : `working set: ${ws.hits} hits, ${ws.misses} misses waiting ${ws.waitMs.toFixed(0)} ms in all, ` +
        `${ws.loads} loads (${ws.prefetchLoads} ahead of the reads, ${ws.unusedPrefetchBytes} bytes of them unused) ` +
        `taking ${ws.loadMs.toFixed(0)} ms in all, ${ws.evictions} evictions, ` +
        `${formatBytes(ws.capacityBytes)} for inflated super-chunks\n`;
  return `superchunk mount: ${formatOpStats(mount.opStats())}${loads}${memoryLine()}`;
}

/** The server's memory at the end: resident now and at its peak, and the V8 heap's share. */
function memoryLine(): string {
  const m = process.memoryUsage();
  const peak = process.resourceUsage().maxRSS * 1024;
  return (
    `memory: ${formatBytes(m.rss)} resident (peak ${formatBytes(peak)}), ` +
    `V8 heap ${formatBytes(m.heapTotal)} (${formatBytes(m.heapUsed)} used), ` +
    `array buffers ${formatBytes(m.arrayBuffers)}\n`
  );
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

/** True when a starter waits on the IPC channel for this process's report. */
function startedByStarter(): boolean {
  return process.send !== undefined && process.connected;
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

/** This process's user id (0 where there are none). */
export function uid(): number {
  return process.getuid?.() ?? 0;
}
