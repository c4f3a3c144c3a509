/**
 * Human-readable byte counts, shared by the CLI and the HTML report. Kept rather than the
 * `bytes` package: that prints 1024-based sizes as "KB"/"MB"; this prints KiB/MiB.
 */

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"] as const;

/** Human size with binary units: 1536 → "1.5 KiB". */
export function formatBytes(n: number): string {
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${Math.round(v)} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${UNITS[u]}`;
}
