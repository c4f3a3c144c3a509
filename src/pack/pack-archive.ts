/**
 * pack straight to an archive: packs into a temporary store directory beside the
 * output, seals it (which itself writes under a temporary name and links the
 * finished file into place), then removes the temporary store. A crash leaves at
 * most hidden `.<name>.store-*` / `.<name>.partial-*` leftovers next to the output,
 * never a partial archive under its name.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { UsageError } from "../errors.js";
import { sealStore } from "../export/seal.js";
import { type PackSummary, packTree } from "./pack.js";
import type { PackHooks, PackOptions } from "./pack-options.js";

/** What packToArchive wrote: the pack summary, with `storedBytes` the archive's length. */
export interface PackArchiveSummary extends PackSummary {
  archive: string;
  archiveBytes: number;
}

/** True when `dest` names an archive to write rather than a store directory (ends in .zip). */
export function isArchiveDest(dest: string): boolean {
  return /\.zip$/i.test(dest);
}

/**
 * Packs `source` into a new archive at `out`. E_DEST_EXISTS when `out` exists.
 *
 * @example
 * await packToArchive("linux-src", "linux.zip", { codec: "zstd" });
 */
export async function packToArchive(
  source: string,
  out: string,
  opts: Partial<PackOptions> = {},
  hooks: PackHooks = {},
): Promise<PackArchiveSummary> {
  if (fs.existsSync(out))
    throw new UsageError("E_DEST_EXISTS", `${out}: already exists`, { path: out });
  const tmpStore = path.join(
    path.dirname(path.resolve(out)),
    `.${path.basename(out)}.store-${process.pid}-${randomBytes(3).toString("hex")}`,
  );
  try {
    const summary = await packTree(source, tmpStore, opts, hooks);
    const sealed = await sealStore(tmpStore, out);
    return {
      ...summary,
      storedBytes: sealed.archiveBytes,
      seconds: summary.seconds + sealed.seconds,
      archive: out,
      archiveBytes: sealed.archiveBytes,
    };
  } finally {
    fs.rmSync(tmpStore, { recursive: true, force: true });
  }
}
