/**
 * The phase plans of the commands that show progress: which phases run, what each one's
 * counter counts, and what a unit of each costs relative to the others, so one ETA
 * covers the whole command (progress-tracker.ts).
 *
 * How the weights were set. A pack's scan reads and hashes every logical byte; its write
 * compresses every unique byte; walk, plan and commit are short and not estimated. On
 * /usr/include (110 MiB logical, 65 MiB unique, 2 threads) the scan took 0.042 s/MiB, the
 * write 1.53 s/MiB at zstd 19 (36 times a scanned byte) and 0.043 s/MiB at zstd 3 (1
 * time). So the write's weight per unique byte follows the codec and level (table below),
 * and until the scan has measured the unique bytes the write is assumed to cover every
 * logical byte. The estimate only matters before the write starts: from then on the
 * remaining work is the write's own, divided by the write's own measured rate.
 */
import type { PhasePlan } from "./progress-tracker.js";

/** Cost of compressing one byte relative to scanning one, by codec and level. */
export function writeWeight(codec: string, level: number | undefined): number {
  if (codec === "none") return 0.3;
  if (codec === "lz4") return 0.5;
  if (codec === "xz") return 25;
  const l = level ?? 19;
  if (l >= 19) return 36;
  if (l >= 13) return 10;
  if (l >= 6) return 3;
  return 1;
}

/** pack: walk, scan (files), plan, write (super-chunks), commit (an S3 upload's bytes). */
export function packPlan(codec: string, level: number | undefined): PhasePlan[] {
  return [
    { name: "walk", unit: "files", weight: 0 },
    { name: "scan", unit: "files", weight: 1 },
    { name: "plan", unit: "files", weight: 0 },
    { name: "write", unit: "super-chunks", weight: writeWeight(codec, level), sizeFrom: "scan" },
    // an upload moves the stored bytes once; roughly a tenth of a scanned byte's cost
    { name: "commit", unit: "files", weight: 0.1 },
  ];
}

/** extract: one phase over the bytes of the files restored. */
export const EXTRACT_PLAN: PhasePlan[] = [{ name: "extract", unit: "files", weight: 1 }];

/**
 * fsck: verify reads every stored byte (inflate and hash); the repair phases and the
 * verification after repairs run only when asked, and are counted when they report.
 */
export const FSCK_PLAN: PhasePlan[] = [
  { name: "metadata", unit: "files", weight: 0 },
  { name: "verify", unit: "super-chunks", weight: 1 },
  { name: "repair-scan", unit: "files", weight: 1 },
  { name: "repair-write", unit: "super-chunks", weight: 1 },
  { name: "reverify", unit: "super-chunks", weight: 0 },
];

/**
 * repack reports counts only: super-chunks read (inflated), then super-chunks written
 * (compressed, at the codec's weight per super-chunk read; about as many are written).
 */
export function repackPlan(codec: string | undefined, level: number | undefined): PhasePlan[] {
  return [
    { name: "read", unit: "super-chunks", weight: 1 },
    {
      name: "write",
      unit: "super-chunks",
      weight: writeWeight(codec ?? "zstd", level),
      sizeFrom: "read",
    },
  ];
}
