/**
 * Argument helpers shared by the commands: parseArgs with errors turned into
 * UsageError, and parsers for sizes ("4M", "32K"), integers and enumerated values.
 * Sizes are parsed here, not by a package: the one candidate (`bytes`) wants "kb"/"mb"
 * suffixes, not the K/M/G of du, mksquashfs and borg that users type.
 */
import { type ParseArgsConfig, parseArgs } from "node:util";
import { CHUNK_AVG_MAX_BYTES, CHUNK_AVG_MIN_BYTES } from "../chunker/chunker-params.js";
import { UsageError } from "../errors.js";
import type { SubBlockOrder } from "../store/store-settings.js";
import { didYouMean } from "./suggest.js";

type Options = NonNullable<ParseArgsConfig["options"]>;
type WithHelp<O> = O & { help: { type: "boolean"; short: "h" } };
/** What parseCommandArgs returns for the option table O (plus --help). */
export type ParsedArgs<O extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: WithHelp<O>; allowPositionals: true; strict: true }>
>;

/**
 * Parses argv for one command; an unknown option (with the nearest known one as a
 * suggestion), a missing value or a value given to a switch is E_USAGE with a short message.
 */
export function parseCommandArgs<O extends Options>(args: string[], options: O): ParsedArgs<O> {
  const all = { ...options, help: { type: "boolean", short: "h" } } as const;
  try {
    return parseArgs({ args, options: all, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError("E_USAGE", explainParseError(args, all, err));
  }
}

/** A short message for what parseArgs refused in `args`. */
function explainParseError(args: string[], options: Options, err: unknown): string {
  const names = Object.keys(options);
  const shorts = new Map(names.map((n) => [options[n]!.short, n] as const));
  const { tokens } = parseArgs({
    args,
    options,
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  for (const t of tokens) {
    if (t.kind !== "option") continue;
    const name = options[t.name] ? t.name : shorts.get(t.name);
    if (name === undefined) {
      const flags = names.map((n) => (n.length === 1 ? `-${n}` : `--${n}`));
      return `unknown option '${t.rawName}'${didYouMean(t.rawName, flags)}`;
    }
    const flag = name.length === 1 ? `-${name}` : `--${name}`;
    if (options[name]!.type === "string" && t.value === undefined)
      return `option ${flag} needs a value`;
    if (options[name]!.type === "boolean" && t.value !== undefined)
      return `option ${flag} takes no value (got ${JSON.stringify(t.value)})`;
  }
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\. To specify .*$/s, "").replace(/^Option/, "option");
}

/**
 * `text` when it is one of `valid`, else E_USAGE listing the valid values and
 * the nearest one: `unknown codec "gzip" (valid: zstd, xz, lz4, none)`.
 * @example parseChoice("path", "order", ["similarity", "path"]) // "path"
 */
export function parseChoice<T extends string>(text: string, what: string, valid: readonly T[]): T {
  if ((valid as readonly string[]).includes(text)) return text as T;
  const hint = didYouMean(text, valid).replace(/^ \(/, "; ").replace(/\)$/, "");
  throw new UsageError(
    "E_USAGE",
    `unknown ${what} ${JSON.stringify(text)} (valid: ${valid.join(", ")}${hint})`,
    { value: text, valid },
  );
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
    throw new UsageError("E_USAGE", `${flag}: must be a size above 0, got ${JSON.stringify(text)}`);
  return n;
}

/** `n` bytes as the shortest whole K/M/G/T size a user would type: 1024 → "1K". */
export function sizeLabel(n: number): string {
  let u = "";
  for (const unit of ["K", "M", "G", "T"]) {
    if (n % 1024 !== 0 || n === 0) break;
    n /= 1024;
    u = unit;
  }
  return `${n}${u}`;
}

/** --chunk-size: a size that is a power of two the chunker accepts. */
export function parseChunkSize(text: string, flag = "--chunk-size"): number {
  const n = parseSize(text, flag);
  if (n < CHUNK_AVG_MIN_BYTES || n > CHUNK_AVG_MAX_BYTES || (n & (n - 1)) !== 0) {
    const range = `${sizeLabel(CHUNK_AVG_MIN_BYTES)} and ${sizeLabel(CHUNK_AVG_MAX_BYTES)}`;
    throw new UsageError(
      "E_USAGE",
      `${flag}: must be a power of two between ${range}, got ${text}`,
    );
  }
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

/** The sub-block orders a store can be packed in (--order). */
export const ORDERS: readonly SubBlockOrder[] = ["similarity", "path"];
