/** Parsing of percentages given on the command line ("10%", "10", "0.1"). */
import { UsageError } from "../errors.js";

/**
 * "10%" or "10" → 0.1; a bare number below 1 ("0.1") is taken as a fraction.
 * @throws UsageError E_USAGE unless the result is within [0, 1].
 */
export function parsePercent(text: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(text);
  if (!m) throw new UsageError("E_USAGE", `${flag}: not a percentage: ${JSON.stringify(text)}`);
  const n = Number(m[1]);
  const f = m[2] === "%" || n >= 1 ? n / 100 : n;
  if (!(f >= 0 && f <= 1)) throw new UsageError("E_USAGE", `${flag}: must be between 0% and 100%`);
  return f;
}

/**
 * A fraction as a percentage with sensible precision: 0.2413 → "24.1%", 0.00052 →
 * "0.052%", 7.66 → "766%"; "-" when not a finite number (nothing to compare with).
 */
export function formatPercent(fraction: number): string {
  if (!Number.isFinite(fraction)) return "-";
  const p = fraction * 100;
  if (p === 0 || p >= 100) return `${Math.round(p)}%`;
  return p >= 1 ? `${p.toFixed(1)}%` : `${p.toPrecision(2)}%`;
}
