/**
 * `superchunk fsck <store>`: the flags, the call to maintain/'s fsck, and the rendering
 * of its report (problems, the files they affect, repairs made).
 */
import { EngineError, UsageError } from "../errors.js";
import { type FsckOptions, fsckClean, fsckStore } from "../maintain/fsck.js";
import type { FsckProblem, FsckReport } from "../maintain/fsck-report.js";
import { type RestoreOutcome, renderRestore, restoreStore } from "../maintain/fsck-restore.js";
import { formatBytes, parseCommandArgs } from "./args.js";
import type { CliIO, Command } from "./cli-io.js";
import { hintFor } from "./hints.js";
import { writeJsonReport } from "./json-report.js";
import { fsckPayload } from "./json-stats.js";
import { PROGRESS_OPTION, Progress, progressMode } from "./progress.js";
import { FSCK_PLAN } from "./progress-plans.js";
import { s3Options } from "./s3-options.js";

const usage = `Usage: superchunk fsck <store> [options]

Verifies a store: every super-chunk's checksums and every sub-block's SHA-256,
every file's bytes against its content's hash key, that every referenced
sub-block exists, refcounts and live bytes (recomputed from the file tree), the
tree's invariants (names, kinds, links, reachability), and orphan super-chunk
files. Each damaged sub-block is reported with the files and byte ranges it
affects.
<store> is a store directory, an archive (.zip file or http(s) URL) or
s3://bucket/prefix. Archives can only be checked; repairs of an S3 store run on
a working copy and are published as a new generation (objects it no longer names
are deleted only after that).

Options:
  --repair-from DIR   restore damaged sub-blocks from another copy of the files
                      (cut with the store's chunker), then verify again
  --rebuild-index     rebuild the sub-block index and refcounts from the
                      super-chunk headers and the file tree
  --rebuild           when the database (superchunk.db or superchunk.db.zst) is
                      missing or damaged, restore it, tree and all, from the
                      store's metadata copy (sc/meta/) and the super-chunk
                      headers, then verify; the damaged files are moved aside
                      (store directories only)
  --fix               fix refcounts and remove orphan super-chunk files
  --endpoint URL      s3:// stores: the S3 endpoint (path-style addressing)
  --path-style        s3:// stores: path-style addressing without --endpoint
  --json              print the report as JSON
  --progress MODE     bar (default on a terminal), json (JSON lines on stderr) or none
  --quiet             print only the verdict
  -h, --help          show this help

Repairs take the store's writer lock, or an S3 store's lease (refused while a
read-write mount runs).
Exit status: 0 clean, 1 problems found (or left after repairs; a damaged database
included), 2 could not run.`;

/**
 * Exit statuses of fsck: its verdict, as grep's and cmp's (0 / 1 / 2), not the error
 * code's status of exit-status.ts: "problems found" must never look like "could not look",
 * so "could not run" is 2 whatever the error (the code on the line says why).
 */
const FSCK_EXIT = { clean: 0, problems: 1, failed: 2 } as const;

export const fsckCommand: Command = {
  name: "fsck",
  summary: "verify a store's checksums, hashes and counts; repair",
  usage,
  async run(args: string[], io: CliIO): Promise<number> {
    const startTime = new Date();
    const { values, positionals } = parseCommandArgs(args, {
      "repair-from": { type: "string" },
      "rebuild-index": { type: "boolean" },
      rebuild: { type: "boolean" },
      fix: { type: "boolean" },
      json: { type: "boolean" },
      quiet: { type: "boolean" },
      endpoint: { type: "string" },
      "path-style": { type: "boolean" },
      ...PROGRESS_OPTION,
    });
    if (values.help) {
      io.stdout.write(`${usage}\n`);
      return FSCK_EXIT.clean;
    }
    if (positionals.length !== 1) throw new UsageError("E_USAGE", "fsck needs <store>");
    const mode = progressMode(values.progress, io, values.quiet === true || values.json === true);
    const bar = new Progress(mode, "fsck", FSCK_PLAN, io);
    const opts: FsckOptions = {
      fix: values.fix === true,
      rebuildIndex: values["rebuild-index"] === true,
      onProgress: (p) => bar.update(p),
      s3: s3Options(values, io),
    };
    if (values["repair-from"] !== undefined) opts.repairFrom = values["repair-from"];
    let report: FsckReport;
    let restored: RestoreOutcome | undefined;
    try {
      if (values.rebuild === true) {
        restored = await restoreStore(positionals[0]!, opts);
        report = restored.report;
      } else report = await fsckStore(positionals[0]!, opts);
    } catch (err) {
      bar.done();
      const code = err instanceof EngineError ? err.code : "E_INTERNAL";
      const msg = (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, " ");
      if (err instanceof EngineError && err.family === "corrupt") {
        // the database itself is damaged: that is a finding, not a failure to run
        io.stdout.write(`error: ${msg} [${code}]\n1 problems remain\n`);
        return FSCK_EXIT.problems;
      }
      io.stderr.write(`superchunk fsck: could not run: ${msg} [${code}]\n`);
      const hint = err instanceof EngineError ? hintFor(err, "fsck") : undefined;
      if (hint !== undefined) io.stderr.write(`hint: ${hint}\n`);
      return FSCK_EXIT.failed;
    }
    bar.finish();
    if (values.json) {
      const ctx = { store: positionals[0]!, storeId: report.storeId, startTime };
      writeJsonReport(io, "fsck", ctx, fsckPayload(report, fsckClean(report), restored));
    } else {
      if (restored !== undefined && values.quiet !== true) io.stdout.write(renderRestore(restored));
      io.stdout.write(renderFsck(report, values.quiet === true));
    }
    return fsckClean(report) ? FSCK_EXIT.clean : FSCK_EXIT.problems;
  },
};

function problemLines(p: FsckProblem): string[] {
  const tag = p.severity === "warning" ? "warning" : "error";
  const fixed = p.fixed ? " (fixed)" : "";
  const lines = [`${tag}: ${p.message} [${p.code}]${fixed}`];
  for (const f of p.affected ?? []) {
    const ranges = f.ranges.map(([o, n]) => `${o}+${n}`).join(", ");
    lines.push(`    affects ${f.paths.join(", ")}${ranges === "" ? "" : ` at ${ranges}`}`);
  }
  return lines;
}

/** The text form of an fsck report. */
export function renderFsck(r: FsckReport, quiet = false): string {
  const out: string[] = [];
  if (!quiet) {
    for (const p of r.problems) out.push(...problemLines(p));
    out.push(
      `checked ${r.superChunks} super-chunks (${formatBytes(r.bytesVerified)}), ${r.subBlocks} sub-blocks: ${r.errors} errors, ${r.warnings} warnings`,
    );
    if (r.damagedSubBlocks.length > 0) {
      out.push(
        `damaged sub-blocks: ${r.damagedSubBlocks.length}; files affected: ${r.affectedFiles.length}`,
      );
      for (const f of r.affectedFiles) out.push(`    ${f}`);
      if (r.after === undefined)
        out.push(
          "hint: restore them from a copy of the files: superchunk fsck STORE --repair-from COPY",
        );
    }
    const x = r.repairs;
    if (r.after !== undefined) {
      out.push(
        `repairs: ${x.subBlocksRestored} sub-blocks restored in ${x.superChunksRewritten} rewritten super-chunks, ${x.rowsRelocated} index rows relocated, ${x.refcountRowsFixed} counts fixed, ${x.orphansRemoved} orphans removed`,
      );
      for (const p of r.after.problems)
        out.push(...problemLines(p).map((l) => `after repair: ${l}`));
    }
  }
  const final = r.after ?? r;
  out.push(
    fsckClean(r)
      ? `clean${final.warnings > 0 ? ` (${final.warnings} warnings)` : ""}`
      : `${final.errors} problems remain`,
  );
  return `${out.join("\n")}\n`;
}
