/**
 * `superchunk init <store>`: the flags, and the call to location/ that creates an empty
 * store (a directory or `s3://bucket/prefix`) to be filled through a read-write mount.
 */
import { chunkerParams } from "../chunker/chunker-params.js";
import { codecNames } from "../codec/codec-registry.js";
import { UsageError } from "../errors.js";
import { initStoreAt } from "../location/store-target.js";
import type { InitOptions } from "../store/store-init.js";
import {
  formatBytes,
  parseChoice,
  parseChunkSize,
  parseCommandArgs,
  parseInteger,
  parseSize,
} from "./args.js";
import { type CliIO, type Command, EXIT } from "./cli-io.js";
import { s3Options } from "./s3-options.js";

const usage = `Usage: superchunk init <store> [options]

Creates an empty store, to be filled through a read-write mount. <store> is a
directory that must not exist or be empty, or s3://bucket/prefix where no store
is committed yet (the bucket is created when missing; mount it with
--read-write). The root directory belongs to the caller.

Options:
  --codec NAME            zstd (default), xz, lz4 or none
  --level N               codec level (zstd 1-22, default 19; xz 0-9, default 6)
  --superchunk-size SIZE  raw bytes per super-chunk (default 4M)
  --chunk-size SIZE       average sub-block size, a power of two (default 32K)
  --fixed-chunks          cut fixed-size sub-blocks instead of content-defined ones
  --json                  print what was created as JSON
  --endpoint URL          s3:// stores: the S3 endpoint (path-style addressing)
  --path-style            s3:// stores: path-style addressing without --endpoint
  -h, --help              show this help

Exit status: 0 done, 1 failed, 2 bad usage.`;

export const initCommand: Command = {
  name: "init",
  summary: "create an empty store for a read-write mount",
  usage,
  async run(args: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseCommandArgs(args, {
      codec: { type: "string" },
      level: { type: "string" },
      "superchunk-size": { type: "string" },
      "chunk-size": { type: "string" },
      "fixed-chunks": { type: "boolean" },
      json: { type: "boolean" },
      endpoint: { type: "string" },
      "path-style": { type: "boolean" },
    });
    if (values.help) {
      io.stdout.write(`${usage}\n`);
      return EXIT.ok;
    }
    if (positionals.length !== 1) throw new UsageError("E_USAGE", "init needs <store>");
    const opts: Partial<InitOptions> = {};
    if (values.codec !== undefined) opts.codec = parseChoice(values.codec, "codec", codecNames());
    if (values.level !== undefined) opts.level = parseInteger(values.level, "--level", -100, 100);
    if (values["superchunk-size"] !== undefined) {
      opts.superChunkBytes = parseSize(values["superchunk-size"], "--superchunk-size");
    }
    const avg = values["chunk-size"];
    opts.chunk = chunkerParams({
      ...(avg === undefined ? {} : { avgBytes: parseChunkSize(avg) }),
      mode: values["fixed-chunks"] ? "fixed" : "cdc",
    });
    const s = await initStoreAt(positionals[0]!, opts, s3Options(values, io));
    if (values.json) io.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
    else {
      io.stdout.write(
        `created ${s.dir} (${s.codec} ${s.level}, super-chunks ${formatBytes(s.superChunkBytes)}, sub-blocks ~${formatBytes(s.chunkAvgBytes)})\n`,
      );
    }
    return EXIT.ok;
  },
};
