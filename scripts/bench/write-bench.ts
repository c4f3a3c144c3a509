/**
 * The write columns: copy the corpus in with `cp -a` and read it back (`tar cf - . | wc -c`,
 * caches dropped first where permitted) on three targets, in one run:
 * - "disk": a folder on the local disk (the copy ends with `sync` of that file system);
 * - "bindfs": the same through bindfs, a FUSE passthrough (the price of FUSE alone);
 * - "superchunk": an empty store made by `superchunk init`, mounted read-write; the copy's
 *   time includes the unmount that freezes what is still open. The store's size afterwards,
 *   and after `superchunk repack --all`, is compared with `superchunk pack` of the same tree.
 * Times are wall seconds; the report prints them as ratios to the disk.
 */

import { mkdirSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { withMount } from "./mount-session.js";
import { tarRead } from "./readers.js";
import { assertSuccess, runProcess } from "./spawn.js";

/** How long the read-write mount may take to freeze what it holds after the unmount. */
const FREEZE_WAIT_MS = 600_000;

/** One target's figures. */
export interface WriteRow {
  readonly target: "disk" | "bindfs" | "superchunk";
  /** `cp -a` (plus sync, or the unmount that commits) in seconds; null when not run */
  copySeconds: number | null;
  /** cold read-back of the copied tree in seconds */
  readSeconds: number | null;
  /** bytes of the tar stream read back (equal to the corpus's) */
  readBytes: number | null;
  /** superchunk only: bytes of the store after the copy (super-chunks + database) */
  storeBytes: number | null;
  /** superchunk only: `repack --all` of that store, seconds, and its bytes afterwards */
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
}

function row(target: WriteRow["target"]): WriteRow {
  return {
    target,
    copySeconds: null,
    readSeconds: null,
    readBytes: null,
    storeBytes: null,
    repackSeconds: null,
    repackedBytes: null,
    notes: [],
  };
}

/** Sum of the sizes of the regular files under `dir`. */
function dirBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += dirBytes(p);
    else if (e.isFile()) n += statSync(p).size;
  }
  return n;
}

async function copyInto(corpus: string, dest: string): Promise<number> {
  const r = await runProcess("cp", ["-a", `${corpus}/.`, dest]);
  assertSuccess(`cp -a into ${dest}`, r);
  return r.seconds;
}

async function readBack(p: WriteBenchPaths, dir: string, out: WriteRow): Promise<void> {
  await p.dropCaches();
  const t = await tarRead(dir, ".");
  out.readSeconds = t.seconds;
  out.readBytes = t.bytes;
}

async function diskRow(p: WriteBenchPaths): Promise<WriteRow> {
  const out = row("disk");
  const dest = join(p.work, "disk");
  mkdirSync(dest, { recursive: true });
  const started = process.hrtime.bigint();
  await copyInto(p.corpus, dest);
  assertSuccess("sync", await runProcess("sync", ["-f", dest]));
  out.copySeconds = Number(process.hrtime.bigint() - started) / 1e9;
  await readBack(p, dest, out);
  return out;
}

async function bindfsRow(p: WriteBenchPaths): Promise<WriteRow> {
  const out = row("bindfs");
  const backing = join(p.work, "bindfs-backing");
  const mnt = join(p.work, "bindfs-mnt");
  mkdirSync(backing, { recursive: true });
  mkdirSync(mnt, { recursive: true });
  const mount = { cmd: "bindfs", args: ["-f", "--no-allow-other", backing, mnt] };
  try {
    await withMount({ mount }, mnt, join(p.work, "bindfs"), async () => {
      const started = process.hrtime.bigint();
      await copyInto(p.corpus, mnt);
      assertSuccess("sync", await runProcess("sync", ["-f", mnt]));
      out.copySeconds = Number(process.hrtime.bigint() - started) / 1e9;
    });
    await withMount({ mount }, mnt, join(p.work, "bindfs-read"), () => readBack(p, mnt, out));
  } catch (e) {
    out.notes.push(`bindfs: ${e instanceof Error ? e.message : String(e)}`);
  }
  return out;
}

async function superchunkRow(p: WriteBenchPaths): Promise<WriteRow> {
  const out = row("superchunk");
  const store = join(p.work, "rw-store");
  const mnt = join(p.work, "rw-mnt");
  mkdirSync(mnt, { recursive: true });
  assertSuccess("superchunk init", await runProcess(p.node, [p.cli, "init", store]));
  const rw = { cmd: p.node, args: [p.cli, "mount", store, mnt, "-w", "--foreground"] };
  // superchunk's umount waits until the server has frozen and committed everything
  const unmount = { cmd: p.node, args: [p.cli, "umount", mnt] };
  const spec = { mount: rw, unmount, exitWaitMs: FREEZE_WAIT_MS };
  const started = process.hrtime.bigint();
  await withMount(spec, mnt, join(p.work, "rw-copy"), () => copyInto(p.corpus, mnt));
  // withMount returns after the unmount, which freezes and commits what is still open
  out.copySeconds = Number(process.hrtime.bigint() - started) / 1e9;
  out.storeBytes = dirBytes(store);
  const ro = { cmd: p.node, args: [p.cli, "mount", store, mnt, "--read-only", "--foreground"] };
  await withMount({ mount: ro, unmount }, mnt, join(p.work, "rw-read"), () =>
    readBack(p, mnt, out),
  );
  const repack = await runProcess(p.node, [p.cli, "repack", store, "--all", "--quiet"]);
  assertSuccess("superchunk repack --all", repack);
  out.repackSeconds = repack.seconds;
  out.repackedBytes = dirBytes(store);
  return out;
}

/** Runs the three targets one after the other; a target that fails carries a note. */
export async function runWriteBench(
  p: WriteBenchPaths,
  log: (line: string) => void,
): Promise<WriteRow[]> {
  const rows: WriteRow[] = [];
  for (const [name, fn] of [
    ["disk", diskRow],
    ["bindfs", bindfsRow],
    ["superchunk", superchunkRow],
  ] as const) {
    log(`write ${name} ...`);
    try {
      rows.push(await fn(p));
    } catch (e) {
      const r = row(name);
      r.notes.push(e instanceof Error ? e.message : String(e));
      rows.push(r);
    }
    const r = rows.at(-1)!;
    log(`write ${name}: copy ${r.copySeconds?.toFixed(2)} s, read ${r.readSeconds?.toFixed(2)} s`);
  }
  return rows;
}

/** The markdown table of the write columns, as ratios to the local disk. */
export function formatWriteReport(rows: readonly WriteRow[], packBytes: number | null): string {
  const disk = rows.find((r) => r.target === "disk");
  const ratio = (v: number | null, base: number | null | undefined) =>
    v === null || base === null || base === undefined ? "–" : (v / base).toFixed(2);
  const lines = [
    "| target | cp -a s | × disk | read-back s | × disk | store bytes | × pack |",
    "|---|---|---|---|---|---|---|",
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.target} | ${r.copySeconds?.toFixed(2) ?? "–"} | ${ratio(r.copySeconds, disk?.copySeconds)} | ${r.readSeconds?.toFixed(2) ?? "–"} | ${ratio(r.readSeconds, disk?.readSeconds)} | ${r.storeBytes ?? "–"} | ${ratio(r.storeBytes, packBytes)} |`,
    );
  }
  for (const r of rows) {
    if (r.repackSeconds === null) continue;
    lines.push(
      `| ${r.target} after repack --all (${r.repackSeconds.toFixed(1)} s) | | | | | ${r.repackedBytes} | ${ratio(r.repackedBytes, packBytes)} |`,
    );
  }
  const notes = rows.flatMap((r) => r.notes.map((n) => `- ${r.target}: ${n}`));
  return `${lines.join("\n")}\n${notes.length > 0 ? `\n${notes.join("\n")}\n` : ""}`;
}
