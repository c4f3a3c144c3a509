/**
 * `superchunk extract <store> <dest-dir> [path-in-store...]`: the flags, and the call to
 * export/ that restores the tree (or `--zip` writes it as an ordinary zip).
 */
import { UsageError } from "../errors.js";
import { type ExtractHooks, extractTree } from "../export/extract.js";
import { extractToZip } from "../export/extract-zip.js";
import { formatBytes, parseCommandArgs } from "./args.js";
import { type CliIO, type Command, EXIT } from "./cli-io.js";
import { extractPayload } from "./json-payloads.js";
import { writeJsonReport } from "./json-report.js";
import { PROGRESS_OPTION, Progress, progressMode } from "./progress.js";
import { EXTRACT_PLAN } from "./progress-plans.js";

const usage = `Usage: superchunk extract <store> <dest-dir> [path-in-store...]

Restores the files of a store (or only the given paths, with the directories
leading to them) below <dest-dir>, which is created when missing: contents,
modes, times, symlinks, hard links, FIFOs, device nodes and, when run as root,
ownership. Nothing is ever written outside <dest-dir>. <store> is a store
directory, an archive written by 'superchunk seal', an http(s) URL of one, or
s3://bucket/prefix (endpoint, region and credentials from the AWS_* environment:
AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE).

With --zip, <dest-dir> is instead a zip file to write (deflated; modes, times,
symlinks and directories kept, hard links written as separate files), which
'unzip' restores; it is not replaced unless --force is given.

Options:
  --zip        write <dest> as a zip file instead of a directory
  --force      with --zip: replace an existing <dest> file
  --json       print the summary as JSON
  --progress MODE  bar (default on a terminal), json (JSON lines on stderr) or none
  --quiet      no progress bar, no summary
  -h, --help   show this help`;

export const extractCommand: Command = {
  name: "extract",
  summary: "restore files from a store",
  usage,
  async run(args: string[], io: CliIO): Promise<number> {
    const startTime = new Date();
    const { values, positionals } = parseCommandArgs(args, {
      json: { type: "boolean" },
      quiet: { type: "boolean" },
      zip: { type: "boolean" },
      force: { type: "boolean" },
      ...PROGRESS_OPTION,
    });
    if (values.help) {
      io.stdout.write(`${usage}\n`);
      return EXIT.ok;
    }
    if (positionals.length < 2)
      throw new UsageError("E_USAGE", "extract needs <store-dir> and <dest-dir>");
    const [store, dest, ...paths] = positionals as [string, string, ...string[]];
    const mode = progressMode(values.progress, io, values.quiet === true || values.json === true);
    const bar = new Progress(mode, "extract", EXTRACT_PLAN, io);
    let warnings = 0;
    const hooks: ExtractHooks = {
      onProgress: (p) => bar.update({ phase: "extract", ...p }),
      onWarning: (w) => {
        warnings++;
        bar.warn(w);
      },
    };
    const s = values.zip
      ? await extractToZip(store, dest, paths, { force: values.force ?? false }, hooks)
      : await extractTree(store, dest, paths, hooks);
    bar.finish();
    if (values.json) {
      const ctx = { store, storeId: s.storeId, destination: dest, startTime };
      writeJsonReport(io, "extract", ctx, extractPayload(s, values.zip ? "zip" : "dir", warnings));
    } else if (!values.quiet) {
      io.stdout.write(
        `extracted ${s.files} files, ${s.dirs} dirs, ${s.symlinks} symlinks, ${s.other} other, ${formatBytes(s.bytes)} in ${s.seconds.toFixed(1)} s\n`,
      );
    }
    return warnings > 0 ? EXIT.partial : EXIT.ok;
  },
};
