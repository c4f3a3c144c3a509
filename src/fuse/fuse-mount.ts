/**
 * fuse/: serves an FsView through the kernel with fuse-native (libfuse2). This folder is the
 * only importer of fuse-native and the only place errno exists (errno.ts).
 *
 * Terms: a *mount* is one live FUSE file system at a mountpoint, served by this process; the
 * *ops* (fuse-ops.ts) answer the kernel's requests from the view. fuse-native runs libfuse's
 * multi-threaded loop on its own threads and hands every request to the JS thread, so a process
 * serving a mount must not block its event loop, nor read its own mount with sync calls.
 *
 * Mount options always given to libfuse: `use_ino` (st_ino is the store's inode number, so hard
 * links share one; without it libfuse2 numbers nodes itself), `ro`, `default_permissions` (the
 * kernel checks mode bits), `kernel_cache` and long entry/attr timeouts (a read-only store never
 * changes under the mount), `subtype=superchunk` (type `fuse.superchunk` in the mount table).
 * fuse-native has no switch for most of these, so they ride in its `fsname` option, which it
 * appends to `-o` verbatim.
 */
import { execFile } from "node:child_process";
import { constants as fsc } from "node:fs";
import { access, readdir, realpath, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import type { FsView } from "../engine/fs-view.js";
import { IoError, NotFoundError, UnsupportedError, UsageError } from "../errors.js";
import { type FuseHandlers, FuseOps } from "./fuse-ops.js";
import { type FuseOptionParams, fuseOptionString } from "./fuse-options.js";
import { findMount } from "./mount-table.js";

/** Options of a mount. */
export interface MountOptions extends FuseOptionParams {
  /** receives the log lines of failed ops (damaged super-chunks, unexpected errors) */
  log(line: string): void;
  /** ms to wait for the kernel to start the file system; default 30 000 */
  readyTimeoutMs?: number;
  /** ms between checks that the mount is still there; default 1000 */
  pollMs?: number;
  /** libfuse debug tracing on stderr */
  debug?: boolean;
}

/** A live mount served by this process. */
export interface FuseMount {
  /** the resolved absolute mountpoint */
  readonly mountpoint: string;
  readonly ops: FuseOps;
  /** resolves once the mount is gone: unmounted by us or from outside (fusermount -u) */
  readonly gone: Promise<void>;
  /** Unmounts (lazily, as libfuse does on exit) unless already gone; idempotent. */
  unmount(): Promise<void>;
}

interface FuseInstance {
  mount(cb: (err: Error | null) => void): void;
  unmount(cb: (err: Error | null) => void): void;
}
interface FuseModule {
  new (mnt: string, ops: FuseHandlers, opts: Record<string, unknown>): FuseInstance;
  unmount(mnt: string, cb: (err: Error | null) => void): void;
}

const DEFAULT_READY_TIMEOUT_MS = 30_000;
const DEFAULT_POLL_MS = 1000;

let fuseModule: FuseModule | undefined;

/**
 * Loads fuse-native once. Its instance close runs `fusermount -uz` and only then releases the
 * native handle that keeps the event loop alive; when the mount is already gone (unmounted from
 * outside) fusermount fails and the process would never exit. So its static unmount is wrapped
 * to count "no longer mounted" as success.
 */
function loadFuse(): FuseModule {
  if (fuseModule) return fuseModule;
  const mod = createRequire(import.meta.url)("fuse-native") as FuseModule;
  const fusermount = mod.unmount.bind(mod);
  mod.unmount = (mnt, cb) =>
    fusermount(mnt, (err) => {
      if (!err) return cb(null);
      findMount(mnt).then((m) => cb(m === undefined ? null : err));
    });
  fuseModule = mod;
  return mod;
}

/** Throws UnsupportedError E_NO_FUSE when this machine cannot serve FUSE mounts. */
export async function checkFuseAvailable(): Promise<void> {
  try {
    await access("/dev/fuse", fsc.R_OK | fsc.W_OK);
  } catch (err) {
    throw new UnsupportedError(
      "E_NO_FUSE",
      "FUSE is not available: cannot open /dev/fuse",
      { device: "/dev/fuse" },
      err,
    );
  }
  try {
    loadFuse();
  } catch (err) {
    throw new UnsupportedError(
      "E_NO_FUSE",
      "FUSE is not available: fuse-native failed to load (is libfuse2 installed?)",
      {},
      err,
    );
  }
}

/**
 * Resolves a mountpoint and checks it can take a mount: it exists, is a directory, is empty
 * and is not already a mount point. Returns the absolute real path.
 */
export async function checkMountpoint(mountpoint: string, allowNonEmpty = false): Promise<string> {
  let abs: string;
  try {
    abs = await realpath(mountpoint);
  } catch (err) {
    throw new NotFoundError(
      "E_NOT_FOUND",
      `mountpoint ${mountpoint} does not exist`,
      { mountpoint },
      err,
    );
  }
  if (!(await stat(abs)).isDirectory()) {
    throw new UsageError("E_USAGE", `mountpoint ${mountpoint} is not a directory`, { mountpoint });
  }
  if (await findMount(abs)) {
    throw new UsageError(
      "E_MOUNT_BUSY",
      `mountpoint ${mountpoint} is busy: something is already mounted there`,
      { mountpoint },
    );
  }
  if (!allowNonEmpty && (await readdir(abs)).length > 0) {
    throw new UsageError("E_DEST_NOT_EMPTY", `mountpoint ${mountpoint} is not empty`, {
      mountpoint,
    });
  }
  return abs;
}

/**
 * Mounts `view` at `mountpoint` and resolves once the kernel has started the file system.
 * @example
 * const m = await mountFsView(view, "/mnt/x", { log: (l) => console.error(l) });
 * await m.unmount();
 */
export async function mountFsView(
  view: FsView,
  mountpoint: string,
  opts: MountOptions,
): Promise<FuseMount> {
  await checkFuseAvailable();
  const abs = await checkMountpoint(mountpoint, opts.fuseOptions?.includes("nonempty"));
  const ops = new FuseOps(view, { log: opts.log });
  const Fuse = loadFuse();
  const fuse = new Fuse(abs, ops.handlers(), {
    fsname: fuseOptionString(opts),
    debug: opts.debug === true,
  });
  await startFuse(fuse, abs, opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
  return liveMount(fuse, abs, ops, opts.pollMs ?? DEFAULT_POLL_MS);
}

function startFuse(fuse: FuseInstance, abs: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (message: string, cause?: unknown) => {
      clearTimeout(timer);
      const err = new IoError("E_IO", message, { mountpoint: abs }, cause);
      releaseFailedMount(fuse, abs).then(() => reject(err));
    };
    const timer = setTimeout(
      () => fail(`mount at ${abs} did not become ready in ${timeoutMs} ms`),
      timeoutMs,
    );
    fuse.mount((err) => {
      if (err) return fail(`cannot mount at ${abs}: ${err.message}`, err);
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * After a failed start nothing may stay mounted and no native handle may keep the process
 * alive. When libfuse got as far as the kernel mount (it then failed in fuse_new, or never
 * started), fuse-native has a referenced handle it only releases in its close, which it skips
 * after a failed open; so it is marked open and closed (lazy unmount + release).
 */
async function releaseFailedMount(fuse: FuseInstance, abs: string): Promise<void> {
  if ((await findMount(abs)) === undefined) return;
  (fuse as FuseInstance & { opened: boolean }).opened = true;
  await new Promise<void>((resolve) => fuse.unmount(() => resolve()));
}

function liveMount(fuse: FuseInstance, abs: string, ops: FuseOps, pollMs: number): FuseMount {
  let markGone: () => void = () => {};
  const gone = new Promise<void>((r) => {
    markGone = r;
  });
  // A live mount keeps the process alive: this timer is referenced until the mount is gone.
  const timer = setInterval(() => {
    findMount(abs).then((m) => {
      if (m === undefined || !m.fstype.startsWith("fuse")) finish();
    });
  }, pollMs);
  let unmounting: Promise<void> | undefined;
  const finish = () => {
    clearInterval(timer);
    markGone();
  };
  const unmount = () => {
    unmounting ??= closeFuse(fuse, abs).then(finish, (err: unknown) => {
      unmounting = undefined;
      throw err;
    });
    return unmounting;
  };
  return { mountpoint: abs, ops, gone, unmount };
}

function closeFuse(fuse: FuseInstance, abs: string): Promise<void> {
  return new Promise((resolve, reject) => {
    fuse.unmount((err) => {
      if (!err) return resolve();
      // fusermount may fail because the mount vanished meanwhile: that is success too.
      findMount(abs).then((m) =>
        m === undefined
          ? resolve()
          : reject(
              new IoError(
                "E_IO",
                `cannot unmount ${abs}: ${err.message}`,
                { mountpoint: abs },
                err,
              ),
            ),
      );
    });
  });
}

/**
 * Unmounts whatever FUSE file system is at `mountpoint` with `fusermount -u` (`-z` when lazy),
 * from any process. A busy mount fails with E_MOUNT_BUSY unless lazy.
 */
export async function unmountPath(mountpoint: string, lazy = false): Promise<void> {
  const args = lazy ? ["-u", "-z", mountpoint] : ["-u", mountpoint];
  await new Promise<void>((resolve, reject) => {
    execFile("fusermount", args, (err, _stdout, stderr) => {
      if (!err) return resolve();
      const text = String(stderr).trim() || err.message;
      const busy = /busy/i.test(text);
      reject(
        new IoError(
          busy ? "E_MOUNT_BUSY" : "E_IO",
          `cannot unmount ${mountpoint}: ${text}`,
          { mountpoint, busy },
          err,
        ),
      );
    });
  });
}
