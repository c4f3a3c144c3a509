/**
 * Checks over all entries of a user's zip, made before any data is read: names
 * that collide, entries that would be written through a symlink, compression
 * ratios and total sizes beyond the limits, entries whose data overlap.
 */
import { CorruptError, UsageError } from "../errors.js";
import { MIB } from "../types.js";
import type { ZipEntryInfo } from "./zip-entry-info.js";
import { show } from "./zip-name.js";

/** Limits on what a zip may inflate to. Defaults in {@link ZIP_LIMITS_DEFAULT}. */
export interface ZipLimits {
  /** total declared uncompressed bytes of all entries; default 64 GiB */
  maxTotalBytes: number;
  /** largest uncompressed:compressed ratio of one entry; default 1000 */
  maxRatio: number;
  /** entries up to this many uncompressed bytes are exempt from the ratio cap; default 1 MiB */
  ratioMinBytes: number;
}

export const ZIP_LIMITS_DEFAULT: Readonly<ZipLimits> = {
  maxTotalBytes: 64 * 1024 * MIB,
  maxRatio: 1000,
  ratioMinBytes: MIB,
};

/** Where an entry's bytes sit in the zip: from its local header to the end of its data. */
export interface ZipSpan {
  readonly info: ZipEntryInfo;
  readonly start: number;
  readonly end: number;
}

/** E_ZIP_BOMB when one entry's ratio or the total exceeds `limits`. */
export function checkSizes(entries: readonly ZipEntryInfo[], limits: ZipLimits, zip: string): void {
  let total = 0;
  for (const e of entries) {
    if (e.kind === "dir") continue;
    total += e.size;
    const ratio = e.size / Math.max(1, e.compressedSize);
    if (e.size > limits.ratioMinBytes && ratio > limits.maxRatio) {
      bomb(
        zip,
        e,
        `inflates ${e.compressedSize} bytes to ${e.size} (ratio ${Math.round(ratio)}:1, cap ${limits.maxRatio}:1)`,
      );
    }
    if (total > limits.maxTotalBytes) {
      bomb(zip, e, `brings the total to more than ${limits.maxTotalBytes} bytes (the cap)`);
    }
  }
}

/** E_ZIP_BOMB when two entries share bytes (the overlapping-entries bomb). */
export function checkOverlaps(spans: readonly ZipSpan[], zip: string): void {
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    if (cur.start < prev.end)
      bomb(zip, cur.info, `overlaps the data of ${show(prev.info.rawName)}`);
  }
}

/**
 * E_ZIP_DUPLICATE when two entries name the same path (a file and a directory too),
 * or an entry sits below a file; E_PATH_ESCAPE when an entry sits below a symlink.
 * Explicit directory entries for a path that other entries imply are fine.
 */
export function checkNames(entries: readonly ZipEntryInfo[], zip: string): void {
  const byPath = new Map<string, ZipEntryInfo>();
  for (const e of entries) {
    const key = e.path.toString("latin1");
    const seen = byPath.get(key);
    if (seen) {
      throw new CorruptError(
        "E_ZIP_DUPLICATE",
        `${zip}: entries ${show(seen.rawName)} and ${show(e.rawName)} name the same path`,
        { zip, entry: e.rawName.toString(), other: seen.rawName.toString() },
      );
    }
    byPath.set(key, e);
  }
  for (const e of entries) {
    const key = e.path.toString("latin1");
    for (let cut = key.lastIndexOf("/"); cut > 0; cut = key.lastIndexOf("/", cut - 1)) {
      const parent = byPath.get(key.slice(0, cut));
      if (parent && parent.kind !== "dir") belowNonDir(zip, e, parent);
    }
  }
}

function belowNonDir(zip: string, e: ZipEntryInfo, parent: ZipEntryInfo): never {
  const data = { zip, entry: e.rawName.toString(), other: parent.rawName.toString() };
  if (parent.kind === "symlink") {
    throw new UsageError(
      "E_PATH_ESCAPE",
      `${zip}: entry ${show(e.rawName)} lies below the symlink ${show(parent.rawName)}`,
      data,
    );
  }
  throw new CorruptError(
    "E_ZIP_DUPLICATE",
    `${zip}: entry ${show(e.rawName)} lies below the file ${show(parent.rawName)} (a file and a directory of the same name)`,
    data,
  );
}

function bomb(zip: string, e: ZipEntryInfo, why: string): never {
  throw new CorruptError("E_ZIP_BOMB", `${zip}: entry ${show(e.rawName)} ${why}`, {
    zip,
    entry: e.rawName.toString(),
    size: e.size,
    compressedSize: e.compressedSize,
  });
}
