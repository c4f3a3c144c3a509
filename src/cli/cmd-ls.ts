/**
 * `superchunk ls <store> [path]`: the flags, and the call to export/ that lists a
 * directory of a store (read-only) as names, the long form or JSON.
 */
import { UsageError } from "../errors.js";
import { listStore } from "../export/list-store.js";
import { parseCommandArgs } from "./args.js";
import { type CliIO, type Command, EXIT } from "./cli-io.js";
import { listJson, renderLong, renderNames } from "./ls-format.js";
import { s3Options } from "./s3-options.js";

const usage = `Usage: superchunk ls <store> [path-in-store] [options]

Lists a directory of a store (the root by default), one name a line sorted by
name bytes, as 'ls -1' does; a path that is not a directory lists that entry.
Only the store's metadata is read: nothing is inflated, and the store is opened
read-only, never written. <store> is a store directory, an archive (.zip file
or http(s) URL) or s3://bucket/prefix.

Options:
  -l, --long         mode, links, owner and group ids, size (device
                     numbers for devices), modification time, name,
                     '-> target' for symlinks
  -R, --recursive    also list every directory below, as paths from the
                     one listed
  --json             print {version, store, path, entries: [{name, path,
                     type, mode, uid, gid, size, nlink, mtime, mtimeNs,
                     target}]}; type is file, dir, symlink or other; mode
                     the permission bits; names that are not UTF-8 also in
                     base64 (rawName, rawPath, rawTarget)
  --endpoint URL     s3:// stores: the S3 endpoint (path-style addressing)
  --path-style       s3:// stores: path-style addressing without --endpoint
  -h, --help         show this help`;

export const lsCommand: Command = {
  name: "ls",
  summary: "list a directory of a store",
  usage,
  async run(args: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseCommandArgs(args, {
      long: { type: "boolean", short: "l" },
      recursive: { type: "boolean", short: "R" },
      json: { type: "boolean" },
      endpoint: { type: "string" },
      "path-style": { type: "boolean" },
    });
    if (values.help) {
      io.stdout.write(`${usage}\n`);
      return EXIT.ok;
    }
    if (positionals.length < 1 || positionals.length > 2)
      throw new UsageError("E_USAGE", "ls needs <store> and at most one path");
    const [store, inStore] = positionals as [string, string | undefined];
    const recursive = values.recursive ?? false;
    const r = await listStore(store, inStore ?? "", { recursive, s3: s3Options(values, io) });
    if (values.json) io.stdout.write(`${JSON.stringify(listJson(r), null, 2)}\n`);
    else io.stdout.write(values.long ? renderLong(r, recursive) : renderNames(r, recursive));
    return EXIT.ok;
  },
};
