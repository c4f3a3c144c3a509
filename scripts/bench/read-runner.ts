/**
 * The read columns for one tool: each session (phases.ts) runs `runs` times, every time on
 * a fresh mount with the caches dropped first, then unmount. Runs go round the sessions
 * (all sessions once, then again), so slow spells of a shared machine spread over all of
 * them. Every answer is checked against the same read of the raw corpus.
 */

import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { isCode, NotFoundError } from "../../src/errors.js";
import { fetchedFromMountLog } from "./archive-server.js";
import type { ToolId } from "./catalogue.js";
import { dropCaches, withMount } from "./mount-session.js";
import { mountSpec, type ToolPaths } from "./packers.js";
import type { PhaseId, SessionId } from "./phases.js";
import { grepRead, lsRead, randomRead, tarRead, walkRead } from "./readers.js";
import { withRun } from "./spread.js";
import type { ToolResult } from "./tool-result.js";

/** The same reads done on the raw corpus, to check each tool's answers. */
export interface ReadReference {
  readonly readAllBytes: number;
  readonly newestBytes: number;
  readonly randomSha256: string;
  /** Lines of the metadata walk (entries), on big trees. */
  readonly walkLines?: number;
  /** Lines of `ls -lR` of the newest folder, on big trees. */
  readonly lsLines?: number;
  /** Files `grep -r -l` names, on big trees. */
  readonly grepFiles?: number;
}

/** What the read runner needs besides the tool. */
export interface ReadContext {
  /** Folder of the newest release (newer tree), relative to the corpus root. */
  readonly newest: string;
  /** Folder `grep -r -l` searches, relative to the corpus root (big trees). */
  readonly grepDir: string;
  readonly planFile: string;
  readonly reference: ReadReference;
  /** True when caches can be dropped (the reads are cold). */
  readonly canDrop: boolean;
  /** Sessions to run, in order. */
  readonly sessions: readonly SessionId[];
  /** How many times each session runs (each on a fresh mount). */
  readonly runs: number;
}

/** What one session measured: seconds per phase, and the bytes it read (for fetch ratios). */
interface SessionOutcome {
  readonly times: readonly (readonly [PhaseId, number])[];
  readonly bytes: number;
}

function expect(r: ToolResult, what: string, got: number, want: number | undefined): void {
  if (want !== undefined && got !== want)
    r.notes.push(`${what}: ${got}, ${want} on the raw corpus`);
}

async function measureRandom(
  which: "random" | "randomReopen",
  root: string,
  ctx: ReadContext,
  r: ToolResult,
): Promise<SessionOutcome> {
  const rep = await randomRead(root, ctx.planFile, which === "randomReopen");
  if (rep.sha256 !== ctx.reference.randomSha256)
    r.notes.push(`${which} reads returned WRONG DATA (digest differs)`);
  return { times: [[which, rep.seconds]], bytes: rep.bytes };
}

async function measureTar(
  which: "readAll" | "newest",
  root: string,
  ctx: ReadContext,
  r: ToolResult,
): Promise<SessionOutcome> {
  const rel = which === "readAll" ? "." : ctx.newest;
  const t = await tarRead(root, rel);
  const want = which === "readAll" ? ctx.reference.readAllBytes : ctx.reference.newestBytes;
  expect(r, `tar of ${rel} (bytes)`, t.bytes, want);
  return { times: [[which, t.seconds]], bytes: t.bytes };
}

/** Runs one session on the mount at `root`; answers its phases' seconds. */
async function measureSession(
  which: SessionId,
  root: string,
  ctx: ReadContext,
  r: ToolResult,
): Promise<SessionOutcome> {
  switch (which) {
    case "random":
    case "randomReopen":
      return measureRandom(which, root, ctx, r);
    case "readAll":
    case "newest":
      return measureTar(which, root, ctx, r);
    case "walk": {
      const cold = await walkRead(root);
      const warm = await walkRead(root);
      expect(r, "walk (entries)", cold.bytes, ctx.reference.walkLines);
      const times = [["walkCold", cold.seconds] as const, ["walkWarm", warm.seconds] as const];
      return { times, bytes: 0 };
    }
    case "lsR": {
      const t = await lsRead(root, ctx.newest);
      expect(r, `ls -lR ${ctx.newest} (lines)`, t.bytes, ctx.reference.lsLines);
      return { times: [["lsR", t.seconds]], bytes: 0 };
    }
    case "grep": {
      const t = await grepRead(root, ctx.grepDir);
      expect(r, `grep -r -l ${ctx.grepDir} (files)`, t.bytes, ctx.reference.grepFiles);
      return { times: [["grep", t.seconds]], bytes: 0 };
    }
  }
}

/** Records what an archive mount fetched for one session, per byte read (noted on the first run). */
function recordFetched(
  which: SessionId,
  logBase: string,
  bytesRead: number,
  r: ToolResult,
  first: boolean,
): void {
  const fetched = fetchedFromMountLog(`${logBase}.err`);
  if (fetched === null || bytesRead <= 0) return;
  r.extra[`${which}FetchedBytes`] = fetched.bytes;
  r.extra[`${which}FetchRequests`] = fetched.requests;
  const perByte = fetched.bytes / bytesRead;
  r.extra[`${which}FetchedPerByteRead`] = perByte;
  if (first)
    r.notes.push(
      `${which}: fetched ${fetched.bytes} bytes in ${fetched.requests} requests for ${bytesRead} bytes read (${perByte.toFixed(3)} per byte read)`,
    );
}

/** One session on a fresh mount; false when the tool cannot be mounted at all. */
async function runSession(
  id: ToolId,
  which: SessionId,
  run: number,
  paths: ToolPaths,
  ctx: ReadContext,
  r: ToolResult,
): Promise<boolean> {
  const mnt = join(paths.work, `mnt-${which}`);
  const spec = mountSpec(id, paths, mnt);
  if (spec === null) return false;
  mkdirSync(mnt, { recursive: true });
  const logBase = join(paths.work, `mount-${which}-${run}`);
  try {
    const out = await withMount(spec, mnt, logBase, async () => {
      if (!existsSync(join(mnt, ctx.newest)))
        throw new NotFoundError("E_NOT_FOUND", `mount root has no ${ctx.newest}`, { mnt });
      if (ctx.canDrop) await dropCaches();
      return measureSession(which, mnt, ctx, r);
    });
    for (const [phase, seconds] of out.value.times)
      r.reads[phase] = withRun(r.reads[phase], seconds);
    recordFetched(which, logBase, out.value.bytes, r, run === 1);
    if (out.peakRssKiB !== null)
      r.mountPeakRssKiB = Math.max(r.mountPeakRssKiB ?? 0, out.peakRssKiB);
    r.extra[`${which}MountSeconds`] = out.mountSeconds;
  } catch (e) {
    r.notes.push(
      `read ${which} (run ${run}) skipped: ${e instanceof Error ? e.message : String(e)}`,
    );
    if (isCode(e, "E_UNSUPPORTED")) return false;
  }
  return true;
}

/** Runs every session `ctx.runs` times for tool `id`, each on a fresh mount; notes explain gaps. */
export async function runReads(
  id: ToolId,
  paths: ToolPaths,
  ctx: ReadContext,
  r: ToolResult,
): Promise<void> {
  for (let run = 1; run <= ctx.runs; run++) {
    for (const which of ctx.sessions) {
      if (!(await runSession(id, which, run, paths, ctx, r))) return;
    }
  }
}
