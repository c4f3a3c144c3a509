/**
 * `superchunk umount <mountpoint>`: unmounts and waits for the process that served the
 * mount to finish: to exit, or (a read-write mount) to remove its mount record once every
 * write is committed and durable, after which it may run a last compaction pass alone
 * (mount-server.ts).
 */
import { readFile, realpath } from "node:fs/promises";
import { IoError, NotFoundError, UsageError } from "../errors.js";
import { unmountPath } from "../fuse/fuse-mount.js";
import { type MountRecord, readRecord, removeRecord, runDir } from "../fuse/mount-registry.js";
import { findMount } from "../fuse/mount-table.js";
import { parseCommandArgs } from "./args.js";
import { type CliIO, type Command, EXIT } from "./cli-io.js";

const usage = `Usage: superchunk umount <mountpoint> [options]

Unmounts a store mounted with 'superchunk mount' and waits until the process
serving it is done: exited, or (read-write) every write committed and durable;
it may then go on compacting the store in the background, and stops as soon as
anyone opens the store. Fails while files on the mount are open, unless --lazy.

Options:
  --lazy       detach now even if busy; the mount goes away once no longer used
  -h, --help   show this help`;

/**
 * ms umount waits for the serving process to be done. Generous: a read-write server commits
 * the files still open with unflushed writes and freezes its open super-chunks first.
 */
const EXIT_TIMEOUT_MS = 600_000;
const POLL_MS = 50;

export const umountCommand: Command = {
  name: "umount",
  summary: "unmount a mounted store and stop its server",
  usage,
  async run(args: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseCommandArgs(args, { lazy: { type: "boolean" } });
    if (values.help) {
      io.stdout.write(`${usage}\n`);
      return EXIT.ok;
    }
    if (positionals.length !== 1) throw new UsageError("E_USAGE", "umount needs <mountpoint>");
    const given = positionals[0]!;
    const abs = await realpath(given).catch((err: unknown) => {
      throw new NotFoundError(
        "E_NOT_FOUND",
        `${given}: no such mountpoint`,
        { mountpoint: given },
        err,
      );
    });
    const dir = runDir(io.env, process.getuid?.() ?? 0);
    const rec = await readRecord(dir, abs);
    await unmountIfMounted(abs, given, rec, values.lazy === true);
    if (rec && (await isServer(rec))) {
      // a lazily detached mount may still serve open files: tell the server to stop. After a
      // plain unmount it stops by itself, and a signal could cut its compaction short
      if (values.lazy === true) signal(rec.pid, "SIGTERM");
      await waitUntilDone(dir, rec);
    }
    await removeRecord(dir, abs, rec?.pid);
    return EXIT.ok;
  },
};

/** Unmounts a FUSE mount at `abs`; not mounted is an error only when no server is recorded. */
async function unmountIfMounted(
  abs: string,
  given: string,
  rec: MountRecord | undefined,
  lazy: boolean,
): Promise<void> {
  const m = await findMount(abs);
  if (m === undefined) {
    if (rec === undefined)
      throw new NotFoundError("E_NOT_MOUNTED", `${given} is not mounted`, { mountpoint: abs });
    return;
  }
  if (!m.fstype.startsWith("fuse")) {
    throw new UsageError("E_USAGE", `${given} is not a FUSE mount (it is ${m.fstype})`, {
      mountpoint: abs,
    });
  }
  await unmountPath(abs, lazy);
}

/** True when the recorded pid is alive and still a superchunk mount server (not a reused pid). */
async function isServer(rec: MountRecord): Promise<boolean> {
  try {
    const cmdline = (await readFile(`/proc/${rec.pid}/cmdline`, "utf8")).split("\0");
    return (
      cmdline.includes("mount") && cmdline.includes("--foreground") && !(await isZombie(rec.pid))
    );
  } catch {
    return false;
  }
}

async function isZombie(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Waits until the server of `rec` has exited (or is a zombie waiting to be reaped), or has
 * removed its record (everything committed) while its mountpoint is no longer mounted.
 */
async function waitUntilDone(dir: string, rec: MountRecord): Promise<void> {
  const { pid, mountpoint } = rec;
  const deadline = Date.now() + EXIT_TIMEOUT_MS;
  while (alive(pid) && !(await isZombie(pid))) {
    const now = await readRecord(dir, mountpoint);
    if (now?.pid !== pid && (await findMount(mountpoint)) === undefined) return;
    if (Date.now() > deadline) {
      throw new IoError(
        "E_IO",
        `the mount server (pid ${pid}) did not finish within ${EXIT_TIMEOUT_MS / 1000} s`,
        { pid },
      );
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
