/**
 * The write columns: copy the corpus in with `cp -a` and read it back (`tar cf - . | wc -c`,
 * caches dropped first where permitted) on three targets, each `runs` times (fresh copies;
 * the report gives median (min–max), ratios of medians):
 * - "disk": a folder on the local disk (the copy ends with `sync` of that file system);
 * - "bindfs": the same through bindfs, a FUSE passthrough (the price of FUSE alone);
 * - "superchunk": an empty store made by `superchunk init`, mounted read-write in the
 *   background by the CLI; the copy's time ends when `superchunk umount` returns (every write
 *   committed). The server then compacts alone; once it has exited the store's size is
 *   compared with `superchunk pack` of the same tree, and the copy is read back through a
 *   read-only mount and through a read-write one (write-store.ts). The last run's store is
 *   then repacked with `superchunk repack --all` (timed, sized).
 * Times are wall seconds; the report prints them as ratios to the disk.
 */

import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { withMount } from "./mount-session.js";
import { tarRead } from "./readers.js";
import { assertSuccess, runProcess } from "./spawn.js";
import { formatSpread, type Spread, withRun } from "./spread.js";
import { dirBytes, storeRun } from "./write-store.js";

/** One target's figures, each a spread over the runs. */
export interface WriteRow {
  readonly target: "disk" | "bindfs" | "superchunk";
  /** `cp -a` plus sync, or plus `superchunk umount` returning, in seconds */
  copy?: Spread;
  /** cold read-back of the copied tree in seconds (superchunk: through a read-only mount) */
  read?: Spread;
  /** bytes of the tar stream read back (equal to the corpus's) */
  readBytes: number | null;
  /** superchunk only: cold read-back through a read-write mount, seconds */
  rwRead?: Spread;
  /** superchunk only: seconds from umount returning to the server's exit (its compaction) */
  compact?: Spread;
  /** superchunk only: bytes of the store after cp -a and the compaction at unmount */
  store?: Spread;
  /** superchunk only: `repack --all` of the last run's store, seconds, and its bytes after */
  repackSeconds: number | null;
  repackedBytes: number | null;
  notes: string[];
}

/** Where and with what the write bench runs. */
export interface WriteBenchPaths {
  readonly corpus: string;
  readonly work: string;
  readonly cli: string;
  readonly node: string;
  readonly dropCaches: () => Promise<boolean>;
  /** runs of each target (default 1) */
  readonly runs?: number;
}

function row(target: WriteRow["target"]): WriteRow {
  return { target, readBytes: null, repackSeconds: null, repackedBytes: null, notes: [] };
}

async function copyInto(corpus: string, dest: string): Promise<number> {
  const r = await runProcess("cp", ["-a", `${corpus}/.`, dest]);
  assertSuccess(`cp -a into ${dest}`, r);
  return r.seconds;
}

async function coldRead(
  p: WriteBenchPaths,
  dir: string,
): Promise<{ seconds: number; bytes: number }> {
  await p.dropCaches();
  return tarRead(dir, ".");
}

async function readBack(p: WriteBenchPaths, dir: string, out: WriteRow): Promise<void> {
  const t = await coldRead(p, dir);
  out.read = withRun(out.read, t.seconds);
  out.readBytes = t.bytes;
}

/** A fresh empty folder `name` under the work folder (the previous run's copy removed). */
function fresh(p: WriteBenchPaths, name: string): string {
  const dir = join(p.work, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

async function diskRun(p: WriteBenchPaths, out: WriteRow): Promise<void> {
  const dest = fresh(p, "disk");
  const started = process.hrtime.bigint();
  await copyInto(p.corpus, dest);
  assertSuccess("sync", await runProcess("sync", ["-f", dest]));
  out.copy = withRun(out.copy, Number(process.hrtime.bigint() - started) / 1e9);
  await readBack(p, dest, out);
}

async function bindfsRun(p: WriteBenchPaths, out: WriteRow): Promise<void> {
  const backing = fresh(p, "bindfs-backing");
  const mnt = join(p.work, "bindfs-mnt");
  mkdirSync(mnt, { recursive: true });
  const mount = { cmd: "bindfs", args: ["-f", "--no-allow-other", backing, mnt] };
  await withMount({ mount }, mnt, join(p.work, "bindfs"), async () => {
    const started = process.hrtime.bigint();
    await copyInto(p.corpus, mnt);
    assertSuccess("sync", await runProcess("sync", ["-f", mnt]));
    out.copy = withRun(out.copy, Number(process.hrtime.bigint() - started) / 1e9);
  });
  await withMount({ mount }, mnt, join(p.work, "bindfs-read"), () => readBack(p, mnt, out));
}

async function superchunkRun(p: WriteBenchPaths, out: WriteRow, last: boolean): Promise<void> {
  rmSync(join(p.work, "rw-store"), { recursive: true, force: true });
  const r = await storeRun({ ...p, copy: copyInto, readBack: (d) => coldRead(p, d) }, "rw");
  out.copy = withRun(out.copy, r.copySeconds);
  out.compact = withRun(out.compact, r.compactSeconds);
  out.store = withRun(out.store, r.storeBytes);
  out.read = withRun(out.read, r.roRead.seconds);
  out.readBytes = r.roRead.bytes;
  out.rwRead = withRun(out.rwRead, r.rwRead.seconds);
  if (!last) return;
  const store = join(p.work, "rw-store");
  const repack = await runProcess(p.node, [p.cli, "repack", store, "--all", "--quiet"]);
  assertSuccess("superchunk repack --all", repack);
  out.repackSeconds = repack.seconds;
  out.repackedBytes = dirBytes(store);
}

const TARGETS = [
  ["disk", (p: WriteBenchPaths, out: WriteRow) => diskRun(p, out)],
  ["bindfs", (p: WriteBenchPaths, out: WriteRow) => bindfsRun(p, out)],
  ["superchunk", superchunkRun],
] as const;

/**
 * Runs the three targets one after the other, `p.runs` rounds; a target that fails carries a
 * note and is not run again.
 */
export async function runWriteBench(
  p: WriteBenchPaths,
  log: (line: string) => void,
): Promise<WriteRow[]> {
  const rows = TARGETS.map(([name]) => row(name));
  const failed = new Set<string>();
  const runs = p.runs ?? 1;
  for (let run = 1; run <= runs; run++) {
    for (const [i, [name, fn]] of TARGETS.entries()) {
      if (failed.has(name)) continue;
      const r = rows[i]!;
      log(`write ${name} (run ${run}/${runs}) ...`);
      try {
        await fn(p, r, run === runs);
      } catch (e) {
        failed.add(name);
        r.notes.push(e instanceof Error ? e.message : String(e));
      }
      const copy = r.copy?.runs.at(-1)?.toFixed(2);
      log(`write ${name}: copy ${copy} s, read ${r.read?.runs.at(-1)?.toFixed(2)} s`);
    }
  }
  return rows;
}

/** The markdown table of the write columns, as ratios (of medians) to the local disk. */
export function formatWriteReport(rows: readonly WriteRow[], packBytes: number | null): string {
  const disk = rows.find((r) => r.target === "disk");
  const ratio = (
    v: Spread | number | null | undefined,
    base: Spread | number | null | undefined,
  ) => {
    const a = typeof v === "number" ? v : v?.median;
    const b = typeof base === "number" ? base : base?.median;
    return a === undefined || b === undefined || b === 0 ? "–" : (a / b).toFixed(2);
  };
  const lines = [
    "| target | cp -a s | × disk | read-back s | × disk | store bytes | × pack |",
    "|---|---|---|---|---|---|---|",
  ];
  for (const r of rows) {
    const what =
      r.target === "superchunk"
        ? "superchunk (store after cp -a and the compaction at unmount)"
        : r.target;
    lines.push(
      `| ${what} | ${formatSpread(r.copy, 2)} | ${ratio(r.copy, disk?.copy)} | ${formatSpread(r.read, 2)} | ${ratio(r.read, disk?.read)} | ${formatSpread(r.store, 0)} | ${ratio(r.store, packBytes)} |`,
    );
    if (r.rwRead !== undefined) {
      lines.push(
        `| ${r.target}, read back through a read-write mount | | | ${formatSpread(r.rwRead, 2)} | ${ratio(r.rwRead, disk?.read)} | | |`,
      );
    }
  }
  for (const r of rows) {
    if (r.repackSeconds === null) continue;
    lines.push(
      `| ${r.target} after repack --all (${r.repackSeconds.toFixed(1)} s) | | | | | ${r.repackedBytes} | ${ratio(r.repackedBytes, packBytes)} |`,
    );
  }
  const sc = rows.find((r) => r.target === "superchunk");
  const after: string[] = [];
  if (sc?.rwRead !== undefined && sc.read !== undefined)
    after.push(
      `- read-write mount read-all ÷ read-only mount read-all: ${ratio(sc.rwRead, sc.read)}`,
    );
  if (sc?.compact !== undefined)
    after.push(
      `- superchunk: the compaction after unmount ran ${formatSpread(sc.compact, 1)} s after umount returned`,
    );
  const notes = rows.flatMap((r) => r.notes.map((n) => `- ${r.target}: ${n}`));
  const tail = [...after, ...notes];
  return `${lines.join("\n")}\n${tail.length > 0 ? `\n${tail.join("\n")}\n` : ""}`;
}
