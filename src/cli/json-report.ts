/**
 * The common envelope of every command's `--json` output (spec/JSON.md): the schema
 * version, the command, the store (path or URL) and its id, the source and destination
 * paths where the command has them, start and end times, then the command's own fields.
 * Every command builds its output with {@link jsonReport} so the envelope is the same.
 */
import * as path from "node:path";
import type { CliIO } from "./cli-io.js";

/** Version of the JSON output schema (spec/JSON.md); raised only on incompatible changes. */
export const JSON_SCHEMA_VERSION = 1;

/** What the envelope says about one run of a command. */
export interface ReportContext {
  /** the store's location as given: a local path (made absolute) or a URL */
  store: string;
  /** the store's id; null for stores written before ids existed */
  storeId: string | null;
  /** what was read into the store (pack): local paths, made absolute */
  source?: readonly string[];
  /** where the command wrote outside the store (extract, seal): a local path, made absolute */
  destination?: string;
  /** when the command started */
  startTime: Date;
  /** when it ended; default now */
  endTime?: Date;
}

/** The envelope fields, in the order they are printed. */
export interface ReportEnvelope {
  version: number;
  command: string;
  store: string;
  storeId: string | null;
  source?: string[];
  destination?: string;
  startTime: string;
  endTime: string;
}

/** A local path made absolute; URLs (`s3://`, `https://`…) are kept as given. */
export function locationName(where: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(where) ? where : path.resolve(where);
}

/**
 * The JSON object a command prints: the envelope, then `payload`'s fields.
 * @example
 * const o = jsonReport("ls", { store, storeId, startTime }, { entries });
 * io.stdout.write(`${JSON.stringify(o, null, 2)}\n`);
 */
export function jsonReport<P extends object>(
  command: string,
  ctx: ReportContext,
  payload: P,
): ReportEnvelope & P {
  const envelope: ReportEnvelope = {
    version: JSON_SCHEMA_VERSION,
    command,
    store: locationName(ctx.store),
    storeId: ctx.storeId,
    ...(ctx.source === undefined ? {} : { source: ctx.source.map(locationName) }),
    ...(ctx.destination === undefined ? {} : { destination: locationName(ctx.destination) }),
    startTime: ctx.startTime.toISOString(),
    endTime: (ctx.endTime ?? new Date()).toISOString(),
  };
  return { ...envelope, ...payload };
}

/** Prints `jsonReport(...)` on stdout, indented, with a final newline. */
export function writeJsonReport(
  io: Pick<CliIO, "stdout">,
  command: string,
  ctx: ReportContext,
  payload: object,
): void {
  io.stdout.write(`${JSON.stringify(jsonReport(command, ctx, payload), null, 2)}\n`);
}
