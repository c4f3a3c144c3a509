/**
 * What the benchmark measures of one tool; null means not measured (skipped, failed or not
 * applicable), with the reason in `notes`.
 */

import { TOOLS, type ToolId } from "./catalogue.js";

/** Measurements of one tool on the corpus. */
export interface ToolResult {
  readonly id: ToolId;
  readonly label: string;
  /** Apparent bytes of everything the tool wrote (file, or files under its directory). */
  sizeBytes: number | null;
  /** Wall seconds of the pack (all its commands). */
  packSeconds: number | null;
  /** Peak resident set of the pack's largest process, KiB (/usr/bin/time %M). */
  packPeakRssKiB: number | null;
  /** Cold mount, then `tar cf - . | wc -c` inside it: wall seconds. */
  readAllSeconds: number | null;
  /** Cold mount, then the random-read plan: seconds measured by the reader itself. */
  randomSeconds: number | null;
  /** Cold mount, then `tar cf - <newest release> | wc -c`: wall seconds. */
  newestSeconds: number | null;
  /** Largest VmHWM of the mount process over the read tests, KiB, when it stays in the foreground. */
  mountPeakRssKiB: number | null;
  /** Why something is missing, or anything odd seen. */
  notes: string[];
  /** Raw extras: the CLI's JSON summary, byte counts, digests. */
  extra: Record<string, unknown>;
}

/** A result with nothing measured yet. */
export function emptyResult(id: ToolId): ToolResult {
  return {
    id,
    label: TOOLS[id].label,
    sizeBytes: null,
    packSeconds: null,
    packPeakRssKiB: null,
    readAllSeconds: null,
    randomSeconds: null,
    newestSeconds: null,
    mountPeakRssKiB: null,
    notes: [],
    extra: {},
  };
}
