/**
 * What the benchmark measures of one tool; null means not measured (skipped, failed or not
 * applicable), with the reason in `notes`.
 */

import { TOOLS, type ToolId } from "./catalogue.js";
import type { PhaseId } from "./phases.js";
import type { Spread } from "./spread.js";

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
  /**
   * Seconds of each read phase over its runs (phases.ts; each run on a fresh mount with
   * caches dropped); a phase not measured is absent.
   */
  reads: Partial<Record<PhaseId, Spread>>;
  /** Largest VmHWM of the mount process at the end of each session, KiB, when it stays in the foreground. */
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
    reads: {},
    mountPeakRssKiB: null,
    notes: [],
    extra: {},
  };
}

/** The median seconds of `phase` for `r`, or null when not measured. */
export function phaseMedian(r: ToolResult, phase: PhaseId): number | null {
  return r.reads[phase]?.median ?? null;
}
