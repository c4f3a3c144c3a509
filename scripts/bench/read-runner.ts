/**
 * The read columns for one tool: for each measurement a fresh mount, caches dropped, the
 * measurement, unmount. Results are checked against the same reads on the raw corpus.
 */

import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { isCode, NotFoundError } from "../../src/errors.js";
import { fetchedFromMountLog } from "./archive-server.js";
import type { ToolId } from "./catalogue.js";
import { dropCaches, withMount } from "./mount-session.js";
import { mountSpec, type ToolPaths } from "./packers.js";
import { randomRead, tarRead } from "./readers.js";
import type { ToolResult } from "./tool-result.js";

/** The same reads done on the raw corpus, to check each tool's answers. */
export interface ReadReference {
  readonly readAllBytes: number;
  readonly newestBytes: number;
  readonly randomSha256: string;
}

/** What the read runner needs besides the tool. */
export interface ReadContext {
  /** Folder of the newest release, relative to the corpus root. */
  readonly newest: string;
  readonly planFile: string;
  readonly reference: ReadReference;
  /** True when caches can be dropped (the reads are cold). */
  readonly canDrop: boolean;
}

type Measure = "readAll" | "random" | "newest";

/** Runs one measurement; answers the bytes it read. */
async function measureOnce(
  which: Measure,
  root: string,
  ctx: ReadContext,
  r: ToolResult,
): Promise<number> {
  if (which === "random") {
    const rep = await randomRead(root, ctx.planFile);
    r.randomSeconds = rep.seconds;
    if (rep.sha256 !== ctx.reference.randomSha256)
      r.notes.push("random reads returned WRONG DATA (digest differs)");
    return rep.bytes;
  }
  const rel = which === "readAll" ? "." : ctx.newest;
  const t = await tarRead(root, rel);
  const want = which === "readAll" ? ctx.reference.readAllBytes : ctx.reference.newestBytes;
  if (which === "readAll") r.readAllSeconds = t.seconds;
  else r.newestSeconds = t.seconds;
  if (t.bytes !== want) r.notes.push(`tar of ${rel}: ${t.bytes} bytes, ${want} on the raw corpus`);
  return t.bytes;
}

/** Records what an archive mount fetched for one measurement, per byte read. */
function recordFetched(which: Measure, logBase: string, bytesRead: number, r: ToolResult): void {
  const fetched = fetchedFromMountLog(`${logBase}.err`);
  if (fetched === null || bytesRead <= 0) return;
  r.extra[`${which}FetchedBytes`] = fetched.bytes;
  r.extra[`${which}FetchRequests`] = fetched.requests;
  const perByte = fetched.bytes / bytesRead;
  r.extra[`${which}FetchedPerByteRead`] = perByte;
  r.notes.push(
    `${which}: fetched ${fetched.bytes} bytes in ${fetched.requests} requests for ${bytesRead} bytes read (${perByte.toFixed(3)} per byte read)`,
  );
}

/** Runs the three read measurements for tool `id`, each on a fresh mount; notes explain gaps. */
export async function runReads(
  id: ToolId,
  paths: ToolPaths,
  ctx: ReadContext,
  r: ToolResult,
): Promise<void> {
  for (const which of ["readAll", "random", "newest"] as const) {
    const mnt = join(paths.work, `mnt-${which}`);
    const spec = mountSpec(id, paths, mnt);
    if (spec === null) return;
    mkdirSync(mnt, { recursive: true });
    const logBase = join(paths.work, `mount-${which}`);
    try {
      const out = await withMount(spec, mnt, logBase, async () => {
        if (!existsSync(join(mnt, ctx.newest)))
          throw new NotFoundError("E_NOT_FOUND", `mount root has no ${ctx.newest}`, { mnt });
        if (ctx.canDrop) await dropCaches();
        return measureOnce(which, mnt, ctx, r);
      });
      recordFetched(which, logBase, out.value, r);
      if (out.peakRssKiB !== null)
        r.mountPeakRssKiB = Math.max(r.mountPeakRssKiB ?? 0, out.peakRssKiB);
      r.extra[`${which}MountSeconds`] = out.mountSeconds;
    } catch (e) {
      r.notes.push(`read ${which} skipped: ${e instanceof Error ? e.message : String(e)}`);
      if (isCode(e, "E_UNSUPPORTED")) return;
    }
  }
}
