/**
 * `superchunk extract <store> <dest-dir> [path-in-store...]`: the flags, and the call to
 * export/ that restores the tree (or `--zip` writes it as an ordinary zip).
 */
import { UsageError } from "../errors.js";
import { type ExtractHooks, extractTree, type UnreadableFile } from "../export/extract.js";
import { extractToZip } from "../export/extract-zip.js";
import { formatBytes, parseCommandArgs } from "./args.js";
import { type CliIO, type Command, EXIT } from "./cli-io.js";
import { ExtractTracker } from "./extract-interrupt.js";
import { interruptible, noteLeftovers, removePartialsOf } from "./interrupt.js";
import { extractPayload } from "./json-payloads.js";
import { writeJsonReport } from "./json-report.js";
import { PROGRESS_OPTION, Progress, progressMode } from "./progress.js";
import { EXTRACT_PLAN } from "./progress-plans.js";

const usage = `Usage: superchunk extract <store> <dest-dir> [path-in-store...]

Restores the files of a store (or only the given paths, with the directories
leading to them) below <dest-dir>, which is created when missing: contents,
modes, times, symlinks, hard links, FIFOs, device nodes and, when run as root,
ownership. Nothing is ever written outside <dest-dir>. A path that is not in the
store but holds a pattern ('GL/*.h', 'src/**/*.c': '*' and '?' stop at '/', '**'
crosses directories) stands for every path it matches; quote it from the shell.
A path or pattern that names nothing in the store is an error. <store> is a store
directory, an archive written by 'superchunk seal', an http(s) URL of one, or
s3://bucket/prefix (endpoint, region and credentials from the AWS_* environment:
AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE).

With --zip, <dest-dir> is instead a zip file to write (deflated; modes, times,
symlinks and directories kept, hard links written as separate files), which
'unzip' restores; it is not replaced unless --force is given.

Options:
  --continue-on-error
               when a file's content cannot be read from the store (a damaged
               super-chunk), list it on stderr (and under "unreadable" with --json)
               and go on with the rest; exit status 3 when any was listed
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
      "continue-on-error": { type: "boolean" },
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
    const unreadable: UnreadableFile[] = [];
    const tracker = new ExtractTracker(dest);
    const hooks: ExtractHooks = {
      onProgress: (p) => {
        tracker.done = p.filesDone;
        bar.update({ phase: "extract", ...p });
      },
      onWriting: (p) => {
        tracker.writing = p;
      },
      onWarning: (w) => {
        warnings++;
        bar.warn(w);
      },
    };
    if (values["continue-on-error"] && values.zip)
      throw new UsageError("E_USAGE", "--continue-on-error is for extracting into a directory");
    if (values["continue-on-error"]) {
      hooks.onUnreadable = (f) => {
        unreadable.push(f);
        bar.done();
        io.stderr.write(`superchunk: could not extract ${f.path}: ${f.message} [${f.code}]\n`);
      };
    }
    if (values.zip) noteLeftovers(dest, io);
    const s = await interruptible(io, values.zip ? removePartialsOf(dest) : tracker.cleanup, () =>
      values.zip
        ? extractToZip(store, dest, paths, { force: values.force ?? false }, hooks)
        : extractTree(store, dest, paths, hooks),
    );
    bar.finish();
    if (values.json) {
      const ctx = { store, storeId: s.storeId, destination: dest, startTime };
      const payload = extractPayload(s, values.zip ? "zip" : "dir", warnings);
      const out = values["continue-on-error"] ? { ...payload, unreadable } : payload;
      writeJsonReport(io, "extract", ctx, out);
    } else if (!values.quiet) {
      io.stdout.write(
        `extracted ${s.files} files, ${s.dirs} dirs, ${s.symlinks} symlinks, ${s.other} other, ${formatBytes(s.bytes)} in ${s.seconds.toFixed(1)} s\n`,
      );
    }
    if (unreadable.length > 0) {
      io.stderr.write(
        `superchunk: ${unreadable.length} ${unreadable.length === 1 ? "file" : "files"} could not be extracted (listed above)\n`,
      );
    }
    return warnings > 0 || unreadable.length > 0 ? EXIT.partial : EXIT.ok;
  },
};
