/**
 * Packing the corpus with one tool: warm the corpus into the page cache (so every tool
 * starts alike), run the tool's commands under GNU time, and record wall time, peak RSS
 * and the apparent size of what it wrote.
 */

import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { TOOLS, type ToolId } from "./catalogue.js";
import { extractJsonObject, packPlan, type ToolPaths } from "./packers.js";
import { tarRead } from "./readers.js";
import { assertSuccess, runTimed } from "./spawn.js";
import type { ToolResult } from "./tool-result.js";
import { treeStats } from "./tree.js";

const PACK_TIMEOUT_MS = 2 * 60 * 60 * 1000;
/** superchunk's exit status for "done, but some files were skipped". */
const CLI_EXIT_SKIPPED = 3;
/** borg's exit status for "completed with warnings" (e.g. a file changed while read). */
const BORG_EXIT_WARNING = 1;

/** Packs with tool `id` into `paths.work`, filling `result`; returns false (with a note) on failure. */
export async function runPack(id: ToolId, paths: ToolPaths, result: ToolResult): Promise<boolean> {
  if (TOOLS[id].ours && !existsSync(paths.cli)) {
    result.notes.push(`not run: ${paths.cli} is missing (CLI not built)`);
    return false;
  }
  mkdirSync(paths.work, { recursive: true });
  const plan = packPlan(id, paths);
  await tarRead(paths.corpus, ".");
  let seconds = 0;
  let rss: number | null = null;
  try {
    for (const [i, step] of plan.steps.entries()) {
      const logBase = join(paths.work, `pack-${i}`);
      const opts = {
        cwd: step.cwd,
        env: step.env,
        logBase,
        rssFile: `${logBase}.rss`,
        timeoutMs: PACK_TIMEOUT_MS,
      };
      const r = await runTimed(step.cmd, step.args, opts);
      if (TOOLS[id].ours && r.code === CLI_EXIT_SKIPPED)
        result.notes.push("pack skipped some files (exit 3)");
      else if (step.cmd === "borg" && r.code === BORG_EXIT_WARNING)
        result.notes.push("borg finished with warnings (exit 1); the archive was created");
      else assertSuccess(`${step.cmd} ${step.args.slice(0, 2).join(" ")}`, r);
      seconds += r.seconds;
      if (r.peakRssKiB !== null) rss = Math.max(rss ?? 0, r.peakRssKiB);
      if (TOOLS[id].ours) recordSummary(result, r.stdout);
    }
  } catch (e) {
    result.notes.push(`pack failed: ${e instanceof Error ? e.message : String(e)}`);
    return false;
  }
  result.packSeconds = seconds;
  result.packPeakRssKiB = rss ?? cliPeakRssKiB(result);
  result.sizeBytes = plan.output.startsWith("s3://")
    ? uploadedBytes(result)
    : treeStats(plan.output).fileBytes;
  return true;
}

/** What a pack to S3 uploaded (its objects' bytes), from the CLI's summary. */
function uploadedBytes(result: ToolResult): number | null {
  const summary = result.extra.cliSummary as { uploadedBytes?: unknown } | undefined;
  return typeof summary?.uploadedBytes === "number" ? summary.uploadedBytes : null;
}

function cliPeakRssKiB(result: ToolResult): number | null {
  const summary = result.extra.cliSummary as { peakRssBytes?: unknown } | undefined;
  return typeof summary?.peakRssBytes === "number" ? Math.round(summary.peakRssBytes / 1024) : null;
}

function recordSummary(result: ToolResult, stdout: string): void {
  const summary = extractJsonObject(stdout);
  if (summary === null) result.notes.push("pack printed no JSON summary");
  else result.extra.cliSummary = summary;
}
