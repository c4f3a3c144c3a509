/**
 * One run of the write columns' superchunk target: `superchunk init`, a read-write mount
 * started in the background by the CLI, `cp -a` of the corpus into it, `superchunk umount`
 * (timed together: umount returns once every write is committed and durable), then the wait
 * for the server to exit (its compaction after the unmount), the store's bytes, and a cold
 * read-back through a read-only mount and through a read-write one.
 */

import { mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { IoError } from "../../src/errors.js";
import { isMounted, unmount, withMount } from "./mount-session.js";
import { assertSuccess, runProcess } from "./spawn.js";

/** How long the server may take to compact after the unmount before the run gives up. */
const COMPACT_WAIT_MS = 1_800_000;

/** What a run needs: the corpus, a scratch folder, the CLI, and how to empty the caches. */
export interface StoreRunPaths {
  readonly corpus: string;
  readonly work: string;
  readonly cli: string;
  readonly node: string;
  /** `cp -a` of `corpus` into `dest`; and a cold read-back of `dir` (caches dropped first) */
  readonly copy: (corpus: string, dest: string) => Promise<number>;
  readonly readBack: (dir: string) => Promise<{ seconds: number; bytes: number }>;
}

/** One run's figures. */
export interface StoreRun {
  /** `cp -a` plus `superchunk umount` returning, seconds */
  readonly copySeconds: number;
  /** from umount returning to the server's exit (the compaction after the unmount) */
  readonly compactSeconds: number;
  /** bytes of the store once the server exited (super-chunks and database) */
  readonly storeBytes: number;
  /** cold read-back of the copy through a read-only mount, and through a read-write one */
  readonly roRead: { seconds: number; bytes: number };
  readonly rwRead: { seconds: number; bytes: number };
}

/** Sum of the sizes of the regular files under `dir`. */
export function dirBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += dirBytes(p);
    else if (e.isFile()) n += statSync(p).size;
  }
  return n;
}

/** The pid in the store's writer lock (the read-write mount's server while it runs). */
function lockHolder(store: string): number {
  const text = readFileSync(join(store, "superchunk.lock"), "utf8");
  const pid = (JSON.parse(text) as { pid?: unknown }).pid;
  if (typeof pid !== "number") throw new IoError("E_IO", `${store}: lock without a pid: ${text}`);
  return pid;
}

function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false;
  }
}

async function untilExited(pid: number): Promise<void> {
  const deadline = Date.now() + COMPACT_WAIT_MS;
  while (running(pid)) {
    if (Date.now() > deadline)
      throw new IoError("E_IO", `mount server ${pid} still running after the unmount`);
    await sleep(50);
  }
}

/** One run into a fresh store under `p.work/<tag>`. */
export async function storeRun(p: StoreRunPaths, tag: string): Promise<StoreRun> {
  const store = join(p.work, `${tag}-store`);
  const mnt = join(p.work, `${tag}-mnt`);
  assertSuccess("superchunk init", await runProcess(p.node, [p.cli, "init", store]));
  mkdirSync(mnt, { recursive: true });
  const umount = { cmd: p.node, args: [p.cli, "umount", mnt] };
  const started = process.hrtime.bigint();
  // in the background, as a user mounts
  const mounted = await runProcess(p.node, [p.cli, "mount", store, mnt, "-w"]);
  assertSuccess("superchunk mount (read-write, background)", mounted);
  let pid: number;
  let copySeconds: number;
  try {
    pid = lockHolder(store);
    await p.copy(p.corpus, mnt);
    assertSuccess("superchunk umount", await runProcess(umount.cmd, umount.args));
    copySeconds = Number(process.hrtime.bigint() - started) / 1e9;
  } finally {
    if (isMounted(mnt)) await unmount(mnt, umount);
  }
  const umounted = process.hrtime.bigint();
  await untilExited(pid);
  const compactSeconds = Number(process.hrtime.bigint() - umounted) / 1e9;
  const storeBytes = dirBytes(store);
  const fg = [p.cli, "mount", store, mnt, "--foreground"];
  const ro = { mount: { cmd: p.node, args: [...fg, "--read-only"] }, unmount: umount };
  const roRead = (await withMount(ro, mnt, join(p.work, `${tag}-ro`), () => p.readBack(mnt))).value;
  const rw = {
    mount: { cmd: p.node, args: [...fg, "-w"] },
    unmount: umount,
    exitWaitMs: COMPACT_WAIT_MS,
  };
  const rwRead = (await withMount(rw, mnt, join(p.work, `${tag}-rw`), () => p.readBack(mnt))).value;
  return { copySeconds, compactSeconds, storeBytes, roRead, rwRead };
}
