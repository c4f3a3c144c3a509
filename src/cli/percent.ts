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
