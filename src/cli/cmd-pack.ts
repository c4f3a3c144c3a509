/**
 * `superchunk pack <source>... <store>`: the flags, the progress bar, and the call to pack/
 * that builds a store directory, an archive or an S3 store from a tree or a zip.
 */
import { chunkerParams } from "../chunker/chunker-params.js";
import { codecNames, getCodec } from "../codec/codec-registry.js";
import { type EngineWarning, UsageError } from "../errors.js";
import { fixAllocatorThreshold } from "../fuse/native-addon.js";
import type { PackSummary } from "../pack/pack.js";
import type { PackHooks, PackOptions } from "../pack/pack-options.js";
import { type PackToSummary, packTo } from "../pack/pack-to.js";
import { ZIP_LIMITS_DEFAULT } from "../pack/zip-source.js";
import {
  formatBytes,
  ORDERS,
  parseChoice,
  parseChunkSize,
  parseCommandArgs,
  parseInteger,
  parseSize,
} from "./args.js";
import { type CliIO, type Command, EXIT } from "./cli-io.js";
import { interruptible, noteLeftovers, removePartialsOf } from "./interrupt.js";
import { packPayload } from "./json-payloads.js";
import { writeJsonReport } from "./json-report.js";
import { PACK_FILTER_FLAGS, PACK_FILTER_HELP, packFilterOptions } from "./pack-filters.js";
import { formatPercent } from "./percent.js";
import { PROGRESS_OPTION, Progress, progressMode } from "./progress.js";
import { packPlan } from "./progress-plans.js";

const usage = `Usage: superchunk pack <source-dir>... <store-dir> [options]

Packs a directory tree into a new store: files are cut into content-defined
sub-blocks, deduplicated, grouped by similarity into super-chunks and compressed.
The store is built under a temporary name and appears at <store-dir> only when
complete. <store-dir> must not exist or be an empty directory. When it ends in
.zip, the store is written as one archive file instead (see 'superchunk seal').
When it is s3://bucket/prefix, the store is written to an S3-compatible object
store (the bucket is created when missing): packed into a local temporary store
first, then uploaded under the writer's lease, the pointer to the new metadata
generation switched last. Endpoint, region and credentials come from --endpoint
or AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or a
profile (AWS_PROFILE).
<source-dir> may also be a zip file (a .zip name or zip magic): it is checked
whole first (unsafe names, duplicates, lying sizes, zip bombs are refused), then
unpacked into a private staging directory inside the store being built, which
needs its uncompressed size in temporary disk space.
With several sources, each (a directory, file or symlink, never unpacked) is
stored under its base name at the top of the store; two sources with the same
base name are refused. The store being built is never stored, even when it lies
inside a source.

Options:
  --codec NAME            zstd (default), xz, lz4 or none
  --level N               codec level (zstd 1-22, default 19; xz 0-9, default 6)
                          already-compressed data gets at most zstd 9 or xz 1:
                          a fraction of the time, under 0.2 % more bytes
  --superchunk-size SIZE  raw bytes per super-chunk (default 4M)
  --chunk-size SIZE       average sub-block size, a power of two (default 32K)
  --fixed-chunks          cut fixed-size sub-blocks instead of content-defined ones
  --order ORDER           similarity (default) or path
  --threads N             worker threads (default: number of cores)
${PACK_FILTER_HELP}
  --zip-max-size SIZE     zip source: refuse more than SIZE uncompressed (default 64G)
  --endpoint URL          s3:// destinations: the S3 endpoint (path-style addressing)
  --path-style            s3:// destinations: path-style addressing without --endpoint
  --json                  print the summary as JSON
  --progress MODE         bar (default on a terminal), json (JSON lines on stderr) or none
  --quiet                 no progress bar, no summary
  -h, --help              show this help

Exit status: 0 done, 1 failed, 2 bad usage, 3 done but some files were skipped,
130/143 interrupted by SIGINT/SIGTERM (what was built so far is removed).`;

export const packCommand: Command = {
  name: "pack",
  summary: "pack a directory into a new store",
  usage,
  async run(args: string[], io: CliIO): Promise<number> {
    const startTime = new Date();
    const { values, positionals } = parseCommandArgs(args, {
      codec: { type: "string" },
      level: { type: "string" },
      "superchunk-size": { type: "string" },
      "chunk-size": { type: "string" },
      "fixed-chunks": { type: "boolean" },
      order: { type: "string" },
      threads: { type: "string" },
      "zip-max-size": { type: "string" },
      endpoint: { type: "string" },
      "path-style": { type: "boolean" },
      json: { type: "boolean" },
      quiet: { type: "boolean" },
      ...PACK_FILTER_FLAGS,
      ...PROGRESS_OPTION,
    });
    if (values.help) {
      io.stdout.write(`${usage}\n`);
      return EXIT.ok;
    }
    if (positionals.length < 2)
      throw new UsageError("E_USAGE", "pack needs <source-dir> and <store-dir>");
    const opts: Partial<PackOptions> = packFilterOptions(values);
    if (values.codec !== undefined) opts.codec = parseChoice(values.codec, "codec", codecNames());
    if (values.level !== undefined) opts.level = parseInteger(values.level, "--level", -100, 100);
    if (values["superchunk-size"] !== undefined) {
      opts.superChunkBytes = parseSize(values["superchunk-size"], "--superchunk-size");
    }
    const avg =
      values["chunk-size"] === undefined ? undefined : parseChunkSize(values["chunk-size"]);
    opts.chunk = chunkerParams({
      ...(avg ? { avgBytes: avg } : {}),
      mode: values["fixed-chunks"] ? "fixed" : "cdc",
    });
    if (values.order !== undefined) opts.order = parseChoice(values.order, "order", ORDERS);
    if (values.threads !== undefined)
      opts.threads = parseInteger(values.threads, "--threads", 1, 256);
    if (values["zip-max-size"] !== undefined) {
      const maxTotalBytes = parseSize(values["zip-max-size"], "--zip-max-size");
      opts.zipLimits = { ...ZIP_LIMITS_DEFAULT, maxTotalBytes };
    }
    const mode = progressMode(values.progress, io, values.quiet === true || values.json === true);
    const bar = new Progress(mode, "pack", packPlan(opts.codec ?? "zstd", opts.level), io);
    const warnings: EngineWarning[] = [];
    const sources = positionals.slice(0, -1);
    const dest = positionals[positionals.length - 1]!;
    const s3 = {
      env: io.env,
      ...(values.endpoint === undefined ? {} : { endpoint: values.endpoint }),
      ...(values["path-style"] ? { forcePathStyle: true } : {}),
    };
    const hooks: PackHooks = {
      onProgress: (p) => bar.update(p),
      onWarning: (w) => {
        warnings.push(w);
        bar.warn(w);
      },
    };
    noteLeftovers(dest, io);
    fixAllocatorThreshold(io.env);
    const summary = await interruptible(io, removePartialsOf(dest), () =>
      packTo(sources, dest, opts, hooks, s3),
    );
    bar.finish();
    if (values.json) {
      const ctx = { store: dest, storeId: summary.storeId, source: sources, startTime };
      writeJsonReport(io, "pack", ctx, packPayload(summary, peakRss(), warnings));
    } else if (!values.quiet) io.stdout.write(renderSummary(summary) + renderUpload(summary));
    return summary.skipped > 0 || warnings.length > 0 ? EXIT.partial : EXIT.ok;
  },
};

/** The upload line of a pack to S3, else "". */
function renderUpload(s: PackToSummary): string {
  if (!("uploadedBytes" in s)) return "";
  return `uploaded       ${s.uploadedObjects} objects, ${formatBytes(s.uploadedBytes)} in ${s.uploadSeconds.toFixed(1)} s to ${s.location} at ${s.endpoint} (generation ${s.generation})\n`;
}

function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/** The one-screen summary printed after a pack. */
export function renderSummary(s: PackSummary): string {
  const ratio = (n: number) => formatPercent(n / s.logicalBytes);
  const lines = [
    `files          ${s.files} (${s.dirs} dirs, ${s.symlinks} symlinks, ${s.other} other, ${s.hardLinks} hard links${s.skipped ? `, ${s.skipped} skipped` : ""}${s.excluded ? `, ${s.excluded} excluded` : ""})`,
    `logical        ${formatBytes(s.logicalBytes)}`,
    `unique         ${formatBytes(s.uniqueBytes)}  (dedup ${s.dedupRatio.toFixed(2)}x, ${s.subBlocks} sub-blocks)`,
    `super-chunks   ${s.superChunks}, ${formatBytes(s.superChunkBytes)}  (compression ${s.compressionRatio.toFixed(2)}x, ${s.codec} ${s.level}, ${s.order} order)`,
    ...(s.denseBytes > 0
      ? [
          `dense          ${formatBytes(s.denseBytes)} already compressed, coded at ${s.codec} ${getCodec(s.codec).denseLevel}`,
        ]
      : []),
    `metadata       ${formatBytes(s.metadataBytes)}`,
    `stored         ${formatBytes(s.storedBytes)}  (${ratio(s.storedBytes)} of logical)`,
    `time           ${s.seconds.toFixed(1)} s (scan ${s.phases.scan.toFixed(1)}, plan ${s.phases.plan.toFixed(1)}, write ${s.phases.write.toFixed(1)}, commit ${s.phases.commit.toFixed(1)}), peak RSS ${formatBytes(peakRss())}`,
  ];
  return `${lines.join("\n")}\n`;
}
