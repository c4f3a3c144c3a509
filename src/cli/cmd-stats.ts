/**
 * `superchunk stats <store> [path]`: the flags, the call to stats/, and the rendering of
 * its figures as text, JSON or the HTML report.
 */
import * as fs from "node:fs";
import { UsageError } from "../errors.js";
import type { PathStats } from "../stats/stats.js";
import { renderStatsHtml } from "../stats/stats-html.js";
import { pathStatsAt, storeStatsAt } from "../stats/stats-source.js";
import type { StoreStats } from "../stats/stats-store.js";
import { formatBytes, parseCommandArgs } from "./args.js";
import { type CliIO, type Command, EXIT } from "./cli-io.js";
import { writeJsonReport } from "./json-report.js";
import { pathStatsPayload, storeStatsPayload } from "./json-stats.js";
import { formatPercent, parsePercent } from "./percent.js";
import { s3Options } from "./s3-options.js";

const usage = `Usage: superchunk stats <store> [path-in-store] [options]

Shows what a store holds and what it costs: files, logical, unique and stored
bytes, dedup and compression ratios, metadata size, super-chunk sizes, dead
bytes and repack candidates, codecs, how often sub-blocks are shared, and the
files with the most unique bytes. With a path: its extents, the super-chunks it
touches, its unique versus shared bytes, and the read amplification of a cold
sequential read (super-chunks inflate whole). <store> is a store directory, an
archive (.zip file or http(s) URL) or s3://bucket/prefix, opened read-only.

Options:
  --json             print the figures as JSON
  --html FILE        also write a self-contained HTML report with plots
  --min-dead PCT     dead share from which a super-chunk is a repack candidate (default 10%)
  --top N            files listed by unique bytes (default 10)
  --endpoint URL     s3:// stores: the S3 endpoint (path-style addressing)
  --path-style       s3:// stores: path-style addressing without --endpoint
  -h, --help         show this help`;

export const statsCommand: Command = {
  name: "stats",
  summary: "show sizes, ratios, sharing and dead bytes of a store",
  usage,
  async run(args: string[], io: CliIO): Promise<number> {
    const startTime = new Date();
    const { values, positionals } = parseCommandArgs(args, {
      json: { type: "boolean" },
      html: { type: "string" },
      "min-dead": { type: "string" },
      top: { type: "string" },
      endpoint: { type: "string" },
      "path-style": { type: "boolean" },
    });
    if (values.help) {
      io.stdout.write(`${usage}\n`);
      return EXIT.ok;
    }
    if (positionals.length < 1 || positionals.length > 2) {
      throw new UsageError("E_USAGE", "stats needs <store> and at most one path");
    }
    const [store, inStore] = positionals as [string, string | undefined];
    if (inStore !== undefined) {
      const p = await pathStatsAt(store, inStore, { s3: s3Options(values, io) });
      if (values.json)
        writeJsonReport(io, "stats", { store, storeId: p.storeId, startTime }, pathStatsPayload(p));
      else io.stdout.write(renderPathStats(p));
      return EXIT.ok;
    }
    const top = values.top === undefined ? 10 : Number.parseInt(values.top, 10);
    if (!Number.isSafeInteger(top) || top < 0)
      throw new UsageError("E_USAGE", "--top: expected a whole number");
    const s = await storeStatsAt(store, {
      repackThreshold: parsePercent(values["min-dead"] ?? "10%", "--min-dead"),
      topFiles: top,
      s3: s3Options(values, io),
    });
    if (values.html !== undefined) fs.writeFileSync(values.html, renderStatsHtml(s, store));
    if (values.json)
      writeJsonReport(io, "stats", { store, storeId: s.storeId, startTime }, storeStatsPayload(s));
    else io.stdout.write(renderStoreStats(s));
    return EXIT.ok;
  },
};

/** The text form of the store figures. */
export function renderStoreStats(s: StoreStats): string {
  const b = formatBytes;
  const lines = [
    `files          ${s.files} (${s.dirs} dirs, ${s.symlinks} symlinks, ${s.other} other)`,
    `logical        ${b(s.logicalBytes)}`,
    `unique         ${b(s.uniqueBytes)}  (dedup ${s.dedupRatio.toFixed(2)}x)`,
    `stored         ${b(s.storedBytes)}  (compression ${s.compressionRatio.toFixed(2)}x of ${b(s.rawBytes)} raw)`,
    `metadata       ${b(s.metadataBytes)}`,
    `total          ${b(s.totalBytes)}  (${formatPercent(s.totalBytes / s.logicalBytes)} of logical)`,
    `super-chunks   ${s.superChunkCount}; raw min/median/max ${b(s.superChunkRaw.min)} / ${b(s.superChunkRaw.median)} / ${b(s.superChunkRaw.max)}; stored ${b(s.superChunkStored.min)} / ${b(s.superChunkStored.median)} / ${b(s.superChunkStored.max)}`,
    `live / dead    ${b(s.liveBytes)} / ${b(s.deadBytes)}; ${s.repackCandidates} super-chunks over ${(s.repackThreshold * 100).toFixed(0)}% dead (${b(s.reclaimableBytes)} reclaimable)`,
    `codecs         ${Object.entries(s.codecs)
      .map(([c, t]) => `${c}: ${t.superChunks} (${b(t.rawBytes)} -> ${b(t.storedBytes)})`)
      .join(", ")}`,
    "sharing        refs: sub-blocks, bytes",
    ...s.sharing.map(
      (x) => `  ${x.label.padEnd(12)} ${String(x.subBlocks).padStart(8)}  ${b(x.bytes)}`,
    ),
    "top files by unique bytes",
    ...s.topFiles.map(
      (f) =>
        `  ${b(f.uniqueBytes).padStart(10)} unique, ${b(f.sharedBytes).padStart(10)} shared  ${f.path}`,
    ),
  ];
  return `${lines.join("\n")}\n`;
}

/** The text form of one path's figures. */
export function renderPathStats(p: PathStats): string {
  const b = formatBytes;
  const u = p.usage;
  const lines = [
    `path           ${p.path} (${p.kind}${p.kind === "dir" ? `, ${u.files} files` : ""})`,
    `logical        ${b(u.logicalBytes)}`,
    `extents        ${u.extents} (${u.holes} holes, ${b(u.holeBytes)})`,
    `unique         ${b(u.uniqueBytes)}`,
    `shared         ${b(u.sharedBytes)}`,
    `stored (share) ${b(u.storedBytes)}`,
    `super-chunks   ${p.superChunks.length}: ${idList(p.superChunks.map((s) => s.id))}`,
    `cold read      inflates ${b(p.coldRead.inflatedBytes)}, reads ${b(p.coldRead.fetchedBytes)} from disk; amplification ${p.coldRead.readAmplification.toFixed(2)}x`,
  ];
  return `${lines.join("\n")}\n`;
}

/** At most 16 ids, then how many more. */
function idList(ids: readonly number[]): string {
  const head = ids.slice(0, 16).join(", ");
  return ids.length > 16 ? `${head}, … (${ids.length - 16} more)` : head;
}
