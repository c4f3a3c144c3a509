/**
 * `superchunk seal <store> <out.zip>`: the flags, and the call to export/ that writes the
 * store as one archive.
 */
import type { S3Options } from "../blobstore/s3-client.js";
import { UsageError } from "../errors.js";
import { type SealSummary, sealStore } from "../export/seal.js";
import { releaseOwnLock } from "../store/store-lock.js";
import { formatBytes, parseCommandArgs } from "./args.js";
import { type CliIO, type Command, EXIT } from "./cli-io.js";
import { interruptible, noteLeftovers, removePartialsOf } from "./interrupt.js";
import { sealPayload } from "./json-payloads.js";
import { writeJsonReport } from "./json-report.js";
import { s3Options } from "./s3-options.js";

const usage = `Usage: superchunk seal <store> <out.zip> [options]

Writes a store as one archive: a zip file holding the packed metadata database
and every super-chunk (stored, not recompressed), readable by any unzip tool and
mountable read-only from the file or from an http(s) URL:
  superchunk mount out.zip /mnt/x
  superchunk mount https://host/path/out.zip /mnt/x
<store> is a store directory (sealed under its lock) or s3://bucket/prefix (its
committed generation; the super-chunks are downloaded into a hidden staging
directory next to <out.zip> first). The archive is written under a temporary
name next to <out.zip> and appears only when complete. The store is left as it is.

Options:
  --force             replace <out.zip> if it exists (default: refuse, E_DEST_EXISTS)
  --endpoint URL      s3:// stores: the S3 endpoint (path-style addressing)
  --path-style        s3:// stores: path-style addressing without --endpoint
  --json              print the summary as JSON
  --quiet             no summary
  -h, --help          show this help`;

/** The parsed command line of `seal`. */
export interface SealArgs {
  readonly store: string;
  readonly out: string;
  readonly force: boolean;
  readonly json: boolean;
  readonly quiet: boolean;
  readonly s3: S3Options;
}

function parseSealArgs(args: string[], io: CliIO): SealArgs | undefined {
  const { values, positionals } = parseCommandArgs(args, {
    force: { type: "boolean" },
    json: { type: "boolean" },
    quiet: { type: "boolean" },
    endpoint: { type: "string" },
    "path-style": { type: "boolean" },
  });
  if (values.help) return undefined;
  if (positionals.length !== 2) throw new UsageError("E_USAGE", "seal needs <store> and <out.zip>");
  return {
    store: positionals[0]!,
    out: positionals[1]!,
    force: values.force === true,
    json: values.json === true,
    quiet: values.quiet === true,
    s3: s3Options(values, io),
  };
}

/** An interrupted seal removes its temporary files and releases the store's lock if it holds it. */
function sealCleanup(store: string, out: string): () => string {
  const removeTemps = removePartialsOf(out);
  return () => {
    releaseOwnLock(store);
    return removeTemps();
  };
}

/** One line about a sealed archive. */
export function renderSealSummary(s: SealSummary): string {
  const fetched = s.fetchedBytes === undefined ? "" : `, fetched ${formatBytes(s.fetchedBytes)}`;
  return `sealed ${s.archive}: ${formatBytes(s.archiveBytes)} (${s.superChunks} super-chunks, ${formatBytes(s.superChunkBytes)}; metadata ${formatBytes(s.metadataBytes)}) in ${s.seconds.toFixed(1)} s${fetched}\n`;
}

export const sealCommand: Command = {
  name: "seal",
  summary: "write a store as a single zip archive",
  usage,
  async run(args: string[], io: CliIO): Promise<number> {
    const startTime = new Date();
    const a = parseSealArgs(args, io);
    if (a === undefined) {
      io.stdout.write(`${usage}\n`);
      return EXIT.ok;
    }
    noteLeftovers(a.out, io);
    const s = await interruptible(io, sealCleanup(a.store, a.out), () =>
      sealStore(a.store, a.out, { force: a.force, s3: a.s3 }),
    );
    if (a.json) {
      const ctx = { store: a.store, storeId: s.storeId, destination: a.out, startTime };
      writeJsonReport(io, "seal", ctx, sealPayload(s));
    } else if (!a.quiet) io.stdout.write(renderSealSummary(s));
    return EXIT.ok;
  },
};
