/**
 * The random-read plan: which files and offsets the "2000 random 4 KiB reads" column
 * reads. Pure: built from a file list and a seed, identical for every tool.
 */

import { UsageError } from "../../src/errors.js";
import { createPrng, randomBelow } from "./prng.js";

/** A regular file of the corpus: its path relative to the corpus root and its size. */
export interface CorpusFile {
  readonly path: string;
  readonly size: number;
}

/** One read of the plan: `length` bytes at `offset` of file number `file` in `files`. */
export interface PlannedRead {
  readonly file: number;
  readonly offset: number;
  readonly length: number;
}

/** Files and reads, in the order they are performed. */
export interface ReadPlan {
  readonly files: readonly CorpusFile[];
  readonly reads: readonly PlannedRead[];
}

/** Options of {@link makeReadPlan}; the defaults are the benchmark's. */
export interface ReadPlanOptions {
  /** How many of the largest files take part (default 40). */
  readonly fileCount?: number;
  /** How many reads (default 2000). */
  readonly readCount?: number;
  /** Bytes per read (default 4096). */
  readonly blockBytes?: number;
  /** PRNG seed (default 0x5eed). */
  readonly seed?: number;
}

/** The `n` largest files, largest first; ties broken by path so the order is stable. */
export function largestFiles(files: readonly CorpusFile[], n: number): CorpusFile[] {
  const sorted = [...files].sort(
    (a, b) => b.size - a.size || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0),
  );
  return sorted.slice(0, n);
}

/**
 * Draws the plan: each read picks one of the largest files uniformly, then an offset
 * uniformly among those where a whole block fits (offset 0 for a file smaller than a block,
 * whose read is then shortened to the file's size).
 */
export function makeReadPlan(files: readonly CorpusFile[], opts: ReadPlanOptions = {}): ReadPlan {
  const blockBytes = opts.blockBytes ?? 4096;
  const readCount = opts.readCount ?? 2000;
  const chosen = largestFiles(
    files.filter((f) => f.size > 0),
    opts.fileCount ?? 40,
  );
  if (chosen.length === 0 && readCount > 0) {
    throw new UsageError("E_USAGE", "no non-empty file to plan random reads over");
  }
  const next = createPrng(opts.seed ?? 0x5eed);
  const reads: PlannedRead[] = [];
  for (let i = 0; i < readCount; i++) {
    const file = randomBelow(next, chosen.length);
    const size = chosen[file]!.size;
    const length = Math.min(blockBytes, size);
    const offset = randomBelow(next, size - length + 1);
    reads.push({ file, offset, length });
  }
  return { files: chosen, reads };
}
