/**
 * `superchunk repack <store>`: the flags, the call to maintain/'s repack (or its dry run),
 * and the rendering of what it rewrote and reclaimed.
 */
import { codecNames } from "../codec/codec-registry.js";
import { UsageError } from "../errors.js";
import { fixAllocatorThreshold } from "../fuse/native-addon.js";
import { type RepackOptions, type RepackSummary, repackStore } from "../maintain/repack.js";
import {
  formatBytes,
  ORDERS,
  parseChoice,
  parseCommandArgs,
  parseInteger,
  parseSize,
} from "./args.js";
import { type CliIO, type Command, EXIT } from "./cli-io.js";
import { interruptible } from "./interrupt.js";
import { repackPayload } from "./json-payloads.js";
import { writeJsonReport } from "./json-report.js";
import { parsePercent } from "./percent.js";
import { PROGRESS_OPTION, Progress, progressMode } from "./progress.js";
import { repackPlan } from "./progress-plans.js";
import { repackCleanup } from "./repack-interrupt.js";
import { s3Options } from "./s3-options.js";

const usage = `Usage: superchunk repack <store> [options]

Rewrites super-chunks: those whose dead bytes exceed the threshold lose their
dead sub-blocks, small ones are merged, and with --all every live sub-block is
regrouped by similarity and recompressed. New super-chunks are written and
synced before one metadata transaction switches to them; the old files are
deleted last, so a crash leaves the old store or the new one. Refused while a
read-write mount holds the store. <store> is a store directory or an S3 store,
s3://bucket/prefix: there the result is published as a new generation, and the
objects it no longer names are deleted only after that.

Options:
  --min-dead PCT          rewrite super-chunks with more dead bytes than this (default 10%)
  --all                   regroup and recompress every super-chunk
  --codec NAME            zstd, xz, lz4 or none (default: the store's)
  --level N               codec level (default: the store's, or the codec's default)
  --superchunk-size SIZE  raw bytes per new super-chunk (default: the store's)
  --order ORDER           similarity or path (default: similarity with --all, else the store's)
  --threads N             compression threads (default 2)
  --dry-run               only show what would be rewritten and the space reclaimed
  --json                  print the summary as JSON
  --progress MODE         bar (default on a terminal), json (JSON lines on stderr) or none
  --quiet                 no progress bar, no summary
  --endpoint URL          s3:// stores: the S3 endpoint (path-style addressing)
  --path-style            s3:// stores: path-style addressing without --endpoint
  -h, --help              show this help`;

export const repackCommand: Command = {
  name: "repack",
  summary: "rewrite super-chunks: drop dead data, merge, regroup, recompress",
  usage,
  async run(args: string[], io: CliIO): Promise<number> {
    const startTime = new Date();
    const { values, positionals } = parseCommandArgs(args, {
      "min-dead": { type: "string" },
      all: { type: "boolean" },
      codec: { type: "string" },
      level: { type: "string" },
      "superchunk-size": { type: "string" },
      order: { type: "string" },
      threads: { type: "string" },
      "dry-run": { type: "boolean" },
      json: { type: "boolean" },
      quiet: { type: "boolean" },
      endpoint: { type: "string" },
      "path-style": { type: "boolean" },
      ...PROGRESS_OPTION,
    });
    if (values.help) {
      io.stdout.write(`${usage}\n`);
      return EXIT.ok;
    }
    if (positionals.length !== 1) throw new UsageError("E_USAGE", "repack needs <store>");
    const mode = progressMode(values.progress, io, values.quiet === true || values.json === true);
    const level = values.level === undefined ? undefined : Number(values.level);
    const bar = new Progress(mode, "repack", repackPlan(values.codec, level), io);
    const opts: RepackOptions = {
      minDead: parsePercent(values["min-dead"] ?? "10%", "--min-dead"),
      all: values.all === true,
      dryRun: values["dry-run"] === true,
      onProgress: (p) => bar.update(p),
      s3: {
        ...s3Options(values, io),
        ...(values.quiet || values.json ? {} : { log: (l: string) => io.stderr.write(`${l}\n`) }),
      },
    };
    if (values.codec !== undefined) opts.codec = parseChoice(values.codec, "codec", codecNames());
    if (values.level !== undefined) opts.level = parseInteger(values.level, "--level", -100, 100);
    if (values["superchunk-size"] !== undefined) {
      opts.superChunkBytes = parseSize(values["superchunk-size"], "--superchunk-size");
    }
    if (values.order !== undefined) opts.order = parseChoice(values.order, "order", ORDERS);
    if (values.threads !== undefined)
      opts.threads = parseInteger(values.threads, "--threads", 1, 256);
    const cleanup = repackCleanup(positionals[0]!, opts.dryRun === true);
    fixAllocatorThreshold(io.env);
    const s = await interruptible(io, cleanup, () => repackStore(positionals[0]!, opts));
    bar.finish();
    if (values.json) {
      const ctx = { store: positionals[0]!, storeId: s.storeId, startTime };
      writeJsonReport(io, "repack", ctx, repackPayload(s));
    } else if (!values.quiet) io.stdout.write(renderRepack(s));
    return EXIT.ok;
  },
};

/** The text summary of a repack. */
export function renderRepack(s: RepackSummary): string {
  const b = formatBytes;
  const verb = s.dryRun ? "would rewrite" : "rewrote";
  const lines = [
    `${verb} ${s.selected} of ${s.superChunksBefore} super-chunks (${s.codec} ${s.level}, ${s.order} order, ${b(s.superChunkBytes)} target)`,
    `moved          ${s.subBlocksMoved} live sub-blocks, ${b(s.liveBytesMoved)}`,
    `dropped        ${s.subBlocksDropped} dead sub-blocks, ${b(s.deadBytesDropped)} raw${s.contentsPurged ? `; ${s.contentsPurged} unused contents purged` : ""}`,
  ];
  if (s.dryRun) {
    lines.push(
      `retired files  ${b(s.retiredStoredBytes)} stored, to be replaced by the rewritten live data`,
      `stored         ${b(s.storedBytesBefore)} -> ~${b(s.storedBytesAfter)} (~${b(s.reclaimedBytes)} reclaimed, the live data compressed as the repack would)`,
    );
  } else {
    lines.push(
      `super-chunks   ${s.superChunksBefore} -> ${s.superChunksAfter} (${s.written} written)`,
      `stored         ${b(s.storedBytesBefore)} -> ${b(s.storedBytesAfter)} (${b(s.reclaimedBytes)} reclaimed) in ${s.seconds.toFixed(1)} s`,
    );
  }
  return `${lines.join("\n")}\n`;
}
