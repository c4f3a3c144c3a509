/**
 * Test helpers for real FUSE mounts: whether this machine can run them (skip otherwise, or
 * when SUPERCHUNK_TEST_FUSE=0), and a last-resort teardown that lazily unmounts every
 * mountpoint a test made, so a failing test never leaves a mount behind.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import type { ServerMessage } from "../../src/cli/mount-server.js";
import { type FuseMount, mountWritable } from "../../src/fuse/fuse-mount.js";
import { WritableStore } from "../../src/writer/index.js";
import { tmpDir } from "./tree.js";

const mountpoints: string[] = [];

/** Why FUSE tests cannot run here, or undefined when they can. */
export function fuseSkipReason(): string | undefined {
  if (process.env.SUPERCHUNK_TEST_FUSE === "0") return "SUPERCHUNK_TEST_FUSE=0";
  try {
    fs.accessSync("/dev/fuse", fs.constants.R_OK | fs.constants.W_OK);
  } catch {
    return "no usable /dev/fuse";
  }
  if (FUSERMOUNT === undefined && process.getuid?.() !== 0) {
    return "neither fusermount3 nor fusermount installed (and not root)";
  }
  return undefined;
}

/** libfuse 3's `fusermount3`, else libfuse 2's `fusermount`, else undefined (root: umount). */
export const FUSERMOUNT = ["fusermount3", "fusermount"].find((c) => !spawnSync(c, ["-V"]).error);

/** Lazily unmounts `dir` with FUSERMOUNT, or `umount -l` when there is none. */
export function lazyUnmountSync(dir: string): void {
  if (FUSERMOUNT) spawnSync(FUSERMOUNT, ["-uz", dir]);
  else spawnSync("umount", ["-l", dir]);
}

/** A fresh empty directory to mount on, registered for forced teardown. */
export function mountDir(tag = "mnt"): string {
  const d = path.join(tmpDir(tag), "mnt");
  fs.mkdirSync(d);
  mountpoints.push(fs.realpathSync(d));
  return fs.realpathSync(d);
}

/** True when `dir` is a mount point right now (per /proc/self/mountinfo). */
export function isMounted(dir: string): boolean {
  const info = fs.readFileSync("/proc/self/mountinfo", "utf8");
  return info.split("\n").some((l) => l.split(" ")[4] === dir);
}

/** Last resort: a lazy unmount of every registered mountpoint still mounted. */
export function forceUnmountAll(): string[] {
  const left: string[] = [];
  for (const d of mountpoints.splice(0)) {
    if (!isMounted(d)) continue;
    left.push(d);
    lazyUnmountSync(d);
  }
  return left;
}

/**
 * Runs `fn` on `store` mounted read-write in this process as `mount -w` mounts it
 * (mountWritable), at a fresh mountpoint; always unmounts and closes the store.
 */
export async function withRwMount(
  store: string,
  tag: string,
  fn: (m: FuseMount, mnt: string) => Promise<void>,
): Promise<void> {
  const w = await WritableStore.open(store, { freezeIdleMs: 60_000 });
  const mnt = mountDir(tag);
  let m: FuseMount | undefined;
  try {
    m = await mountWritable(w, mnt, { log: () => {} });
    await fn(m, mnt);
  } finally {
    await m?.unmount();
    await w.close();
  }
}

/** A store served by a child process running `mount --foreground`. */
export interface ServedStore {
  readonly pid: number;
  /** everything the server wrote to stderr so far */
  stderr(): string;
  /** resolves with the exit status once the server has exited */
  readonly exited: Promise<number | null>;
}

/**
 * Starts `mount <store> <mnt> --foreground [args]` in a child process and resolves once it
 * reports the mount ready; rejects with its error otherwise.
 */
export function serveStore(store: string, mnt: string, args: string[] = []): Promise<ServedStore> {
  const script = fileURLToPath(new URL("./serve-store.js", import.meta.url));
  return startServer([script, store, mnt, ...args]);
}

/**
 * The same through the real CLI (`superchunk mount <store> <mnt> --foreground [args]`), whose
 * command line `superchunk umount` recognises as a mount server's.
 */
export function serveStoreCli(
  store: string,
  mnt: string,
  args: string[] = [],
): Promise<ServedStore> {
  const main = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
  return startServer([main, "mount", store, mnt, "--foreground", ...args]);
}

/** Runs node with `argv` (a mount server reporting over IPC) until it says ready or fails. */
function startServer(argv: string[]): Promise<ServedStore> {
  const env = { ...process.env, SUPERCHUNK_RUN_DIR: runDirForTests() };
  const child = spawn(process.execPath, argv, { stdio: ["ignore", "ignore", "pipe", "ipc"], env });
  let err = "";
  child.stderr!.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return new Promise((resolve, reject) => {
    child.once("message", (m: ServerMessage) => {
      if (m.type === "ready") resolve({ pid: child.pid!, stderr: () => err, exited });
      else reject(new Error(`${m.error.code}: ${m.error.message}`));
    });
    exited.then((code) => reject(new Error(`server exited (${code}) before ready: ${err}`)));
  });
}

let testRunDir: string | undefined;
/** A private run directory (mount records, logs) for this test process. */
export function runDirForTests(): string {
  testRunDir ??= tmpDir("run");
  return testRunDir;
}
