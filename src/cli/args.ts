/**
 * Argument helpers shared by the commands: parseArgs with errors turned into
 * UsageError, and parsers for sizes ("4M", "32K") and integers.
 */
import { type ParseArgsConfig, parseArgs } from "node:util";
import { UsageError } from "../errors.js";

type Options = NonNullable<ParseArgsConfig["options"]>;
type WithHelp<O> = O & { help: { type: "boolean"; short: "h" } };
/** What parseCommandArgs returns for the option table O (plus --help). */
export type ParsedArgs<O extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: WithHelp<O>; allowPositionals: true; strict: true }>
>;

/** Parses argv for one command; unknown flags and missing values are E_USAGE. */
export function parseCommandArgs<O extends Options>(args: string[], options: O): ParsedArgs<O> {
  try {
    return parseArgs({
      args,
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new UsageError("E_USAGE", err instanceof Error ? err.message : String(err));
  }
}

const UNITS: Record<string, number> = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** "4M", "32K", "512M", "1G", "4096" → bytes; "0" only when `opts.zero` allows it. */
export function parseSize(text: string, flag: string, opts: { zero?: boolean } = {}): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(text.trim());
  if (!m)
    throw new UsageError("E_USAGE", `${flag}: not a size: ${JSON.stringify(text)} (e.g. 4M, 32K)`);
  const n = Math.round(Number(m[1]) * UNITS[m[2]!.toUpperCase()]!);
  if (n === 0 && opts.zero === true && Number(m[1]) === 0) return 0;
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new UsageError("E_USAGE", `${flag}: size out of range`);
  return n;
}

/** A whole number within [min, max]. */
export function parseInteger(text: string, flag: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || n < min || n > max) {
    throw new UsageError(
      "E_USAGE",
      `${flag}: expected a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`,
    );
  }
  return n;
}

export { formatBytes } from "../format-bytes.js";
