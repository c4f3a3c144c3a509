/**
 * pack's selection flags: `--exclude PATTERN` (repeatable), `--exclude-from FILE` (one
 * pattern a line, '#' comments and blank lines skipped) and `--one-file-system`, turned
 * into pack options; the help text that explains them.
 */
import * as fs from "node:fs";
import { UsageError, wrapFsError } from "../errors.js";
import { patternLines } from "../glob/path-glob.js";
import type { PackOptions } from "../pack/pack-options.js";

/** The flag table entries, for parseCommandArgs. */
export const PACK_FILTER_FLAGS = {
  exclude: { type: "string", multiple: true },
  "exclude-from": { type: "string", multiple: true },
  "one-file-system": { type: "boolean" },
} as const;

/** The lines of pack's --help about them. */
export const PACK_FILTER_HELP = `  --exclude PATTERN       leave out what PATTERN matches (repeatable):
                          without '/' a name at any depth ('*.o',
                          'node_modules'), with '/' a path from its
                          source's root ('build/*', 'src/**/*.tmp');
                          '*' and '?' stop at '/', '**' crosses
                          directories, a trailing '/' matches only
                          directories; excluded directories are not read
  --exclude-from FILE     exclude patterns from FILE, one a line ('#'
                          comments and blank lines skipped)
  --one-file-system       do not cross into other file systems (mount
                          points inside a source are left out)`;

/** The exclude and one-file-system options of the parsed flags; E_USAGE for an unreadable file. */
export function packFilterOptions(values: {
  exclude?: string[] | undefined;
  "exclude-from"?: string[] | undefined;
  "one-file-system"?: boolean | undefined;
}): Pick<PackOptions, "exclude" | "oneFileSystem"> {
  const fromFiles = (values["exclude-from"] ?? []).flatMap((file) => {
    try {
      return patternLines(fs.readFileSync(file, "utf8"));
    } catch (err) {
      const e = wrapFsError(err, file, "read exclude file");
      throw new UsageError("E_USAGE", `--exclude-from: ${e.message}`, { path: file }, e);
    }
  });
  return {
    exclude: [...(values.exclude ?? []), ...fromFiles],
    oneFileSystem: values["one-file-system"] ?? false,
  };
}
