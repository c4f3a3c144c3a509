/**
 * The benchmark's printed report: the main markdown table, the S3 store against the
 * local store directory, superchunk's ratios to each peer, and the design targets met
 * or missed. Pure: results in, text out.
 */

import { PACK_REFERENCE, READ_REFERENCE, S3_TOOL_IDS, TOOLS, type ToolId } from "./catalogue.js";
import type { ToolResult } from "./tool-result.js";

const MIB = 1024 * 1024;
const DASH = "–";

/** superchunk's figure divided by a peer's, per column; null when either is missing. */
export interface Ratios {
  readonly size: number | null;
  readonly pack: number | null;
  readonly readAll: number | null;
  readonly random: number | null;
  readonly newest: number | null;
}

/** One design target (spec: DESIGN.md "Performance targets") checked against a result. */
export interface TargetCheck {
  readonly what: string;
  readonly value: number | null;
  readonly limit: number;
  /** null when the value could not be measured. */
  readonly met: boolean | null;
}

/** `a / b`, or null when either is missing or `b` is not positive. */
export function ratio(a: number | null, b: number | null): number | null {
  if (a === null || b === null || !(b > 0)) return null;
  return a / b;
}

/** Every ratio of `ours` to `peer`. */
export function computeRatios(ours: ToolResult, peer: ToolResult): Ratios {
  return {
    size: ratio(ours.sizeBytes, peer.sizeBytes),
    pack: ratio(ours.packSeconds, peer.packSeconds),
    readAll: ratio(ours.readAllSeconds, peer.readAllSeconds),
    random: ratio(ours.randomSeconds, peer.randomSeconds),
    newest: ratio(ours.newestSeconds, peer.newestSeconds),
  };
}

/** A number with `digits` decimals, or a dash for null. */
export function fmt(value: number | null, digits: number): string {
  return value === null || !Number.isFinite(value) ? DASH : value.toFixed(digits);
}

/** A ratio as `0.250×`, or a dash for null. */
export function times(value: number | null): string {
  return value === null ? DASH : `${value.toFixed(3)}×`;
}

/** A markdown table: first column left-aligned, the others right-aligned; `|` in cells escaped. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]) {
  const cell = (text: string) => text.replaceAll("|", "\\|");
  const line = (cells: readonly string[]) => `| ${cells.map(cell).join(" | ")} |`;
  const align = header.map((_, i) => (i === 0 ? "---" : "---:"));
  return [line(header), line(align), ...rows.map(line)].join("\n");
}

/** The main table: one row per tool. `rawBytes` is the corpus's total file bytes. */
export function formatMainTable(results: readonly ToolResult[], rawBytes: number): string {
  const header = [
    "tool",
    "size/raw",
    "pack s",
    "pack peak RSS MiB",
    "read-all s",
    "random s",
    "newest-release s",
    "mount peak RSS MiB",
  ];
  const rows = results.map((r) => [
    r.label,
    fmt(ratio(r.sizeBytes, rawBytes), 4),
    fmt(r.packSeconds, 1),
    fmt(r.packPeakRssKiB === null ? null : r.packPeakRssKiB / 1024, 0),
    fmt(r.readAllSeconds, 2),
    fmt(r.randomSeconds, 2),
    fmt(r.newestSeconds, 2),
    fmt(r.mountPeakRssKiB === null ? null : r.mountPeakRssKiB / 1024, 0),
  ]);
  return markdownTable(header, rows);
}

/** superchunk's ratios (×) to each peer; a dash where either side was not measured. */
export function formatRatioTable(ours: ToolResult, peers: readonly ToolResult[]): string {
  const header = [`${ours.label} vs`, "size", "pack time", "read-all", "random", "newest-release"];
  const x = times;
  const rows = peers.map((p) => {
    const r = computeRatios(ours, p);
    return [p.label, x(r.size), x(r.pack), x(r.readAll), x(r.random), x(r.newest)];
  });
  return markdownTable(header, rows);
}

function check(what: string, value: number | null, limit: number): TargetCheck {
  return { what, value, limit, met: value === null ? null : value <= limit };
}

/** The design targets for `ours`, against the reference peers when they were measured. */
export function checkTargets(
  ours: ToolResult,
  byId: ReadonlyMap<ToolId, ToolResult>,
  rawBytes: number,
): TargetCheck[] {
  const packRef = byId.get(PACK_REFERENCE);
  const readRef = byId.get(READ_REFERENCE);
  const vs = (
    a: number | null,
    ref: ToolResult | undefined,
    pick: (r: ToolResult) => number | null,
  ) => (ref === undefined ? null : ratio(a, pick(ref)));
  return [
    check("size / raw", ratio(ours.sizeBytes, rawBytes), 0.016),
    check(
      `pack time / ${PACK_REFERENCE}`,
      vs(ours.packSeconds, packRef, (r) => r.packSeconds),
      0.4,
    ),
    check(
      `read-all / ${READ_REFERENCE}`,
      vs(ours.readAllSeconds, readRef, (r) => r.readAllSeconds),
      1.0,
    ),
    check(
      `random / ${READ_REFERENCE}`,
      vs(ours.randomSeconds, readRef, (r) => r.randomSeconds),
      1.0,
    ),
    check(
      `newest-release / ${READ_REFERENCE}`,
      vs(ours.newestSeconds, readRef, (r) => r.newestSeconds),
      1.5,
    ),
  ];
}

/** Target checks as markdown list lines. */
export function formatTargets(checks: readonly TargetCheck[]): string {
  return checks
    .map((c) => {
      const verdict = c.met === null ? "not measured" : c.met ? "met" : "MISSED";
      return `- ${c.what}: ${fmt(c.value, 4)} (target ≤ ${c.limit}) — ${verdict}`;
    })
    .join("\n");
}

/** Notes of every tool, one markdown list line each. */
export function formatNotes(results: readonly ToolResult[]): string {
  return results.flatMap((r) => r.notes.map((n) => `- ${r.label}: ${n}`)).join("\n");
}

/** The read phases, with the labels the S3 table prints. */
const READ_PHASES = [
  ["readAll", "read-all", (r: ToolResult) => r.readAllSeconds],
  ["random", "random", (r: ToolResult) => r.randomSeconds],
  ["newest", "newest-release", (r: ToolResult) => r.newestSeconds],
] as const;
type ReadPhase = (typeof READ_PHASES)[number];

/** A finite number kept in `r.extra[key]` (the read runner's fetch counters), else null. */
export function extraNumber(r: ToolResult, key: string): number | null {
  const v = r.extra[key];
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/**
 * The S3 store (`s3`) against the local store directory (`local`) of the same run: per
 * phase both times and their ratio, and for each read phase what the S3 mount fetched
 * (MiB, requests, bytes fetched per byte read). Read phases measured on neither side are
 * left out.
 */
export function formatS3Table(s3: ToolResult, local: ToolResult): string {
  const header = [
    "phase",
    "S3 s",
    "local s",
    "S3 / local",
    "fetched MiB",
    "requests",
    "fetched / byte read",
  ];
  const pack = [s3.packSeconds, local.packSeconds] as const;
  const rows = [
    ["pack", fmt(pack[0], 1), fmt(pack[1], 1), times(ratio(...pack)), DASH, DASH, DASH],
  ];
  for (const phase of READ_PHASES) {
    if (phase[2](s3) !== null || phase[2](local) !== null) rows.push(s3ReadRow(s3, local, phase));
  }
  return `S3 store against the local store directory (${s3.label} / ${local.label}):\n\n${markdownTable(header, rows)}`;
}

function s3ReadRow(s3: ToolResult, local: ToolResult, phase: ReadPhase): string[] {
  const [which, label, pick] = phase;
  const fetched = extraNumber(s3, `${which}FetchedBytes`);
  return [
    label,
    fmt(pick(s3), 2),
    fmt(pick(local), 2),
    times(ratio(pick(s3), pick(local))),
    fetched === null ? DASH : mib(fetched),
    fmt(extraNumber(s3, `${which}FetchRequests`), 0),
    fmt(extraNumber(s3, `${which}FetchedPerByteRead`), 3),
  ];
}

/**
 * The whole printed report: main table, an S3 table for each of superchunk-s3 and
 * superchunk-s3-rtt that ran alongside superchunk, then per superchunk row its ratios and targets.
 */
export function formatReport(results: readonly ToolResult[], rawBytes: number): string {
  const byId = new Map(results.map((r) => [r.id, r] as const));
  const ours = results.filter((r) => TOOLS[r.id].ours);
  const peers = results.filter((r) => !TOOLS[r.id].ours);
  const parts = [formatMainTable(results, rawBytes)];
  const local = byId.get("superchunk");
  for (const id of S3_TOOL_IDS) {
    const s3 = byId.get(id);
    if (s3 !== undefined && local !== undefined) parts.push(formatS3Table(s3, local));
  }
  for (const o of ours) {
    if (peers.length > 0) parts.push(formatRatioTable(o, peers));
    parts.push(`Targets, ${o.label}:\n${formatTargets(checkTargets(o, byId, rawBytes))}`);
  }
  const notes = formatNotes(results);
  if (notes !== "") parts.push(`Notes:\n${notes}`);
  return `${parts.join("\n\n")}\n`;
}

/** Bytes as MiB with one decimal. */
export function mib(bytes: number): string {
  return (bytes / MIB).toFixed(1);
}
