/**
 * The benchmark's printed report: the main markdown table (read phases as median with min
 * and max over the runs), the S3 store against the local store directory, the codec limit,
 * superchunk's ratios (of medians) to each peer, and the design targets (targets.ts) met
 * or missed. Pure: results in, text out.
 */

import { S3_TOOL_IDS, TOOLS } from "./catalogue.js";
import type { CodecLimit } from "./codec-limit.js";
import { PHASE_IDS, PHASE_LABELS, type PhaseId } from "./phases.js";
import { formatSpread } from "./spread.js";
import { checkTargets, formatTargets, ratio, type TargetContext } from "./targets.js";
import { phaseMedian, type ToolResult } from "./tool-result.js";

const MIB = 1024 * 1024;
const DASH = "–";
/** Read phases every report shows, measured or not; the others only when some row has them. */
const BASE_PHASES: readonly PhaseId[] = ["readAll", "random", "randomReopen", "newest"];

/** superchunk's figure divided by a peer's, per column (read phases: of the medians); null when either is missing. */
export type Ratios = Readonly<Record<"size" | "pack" | PhaseId, number | null>>;

/** Every ratio of `ours` to `peer`. */
export function computeRatios(ours: ToolResult, peer: ToolResult): Ratios {
  const reads = Object.fromEntries(
    PHASE_IDS.map((p) => [p, ratio(phaseMedian(ours, p), phaseMedian(peer, p))]),
  ) as Record<PhaseId, number | null>;
  return {
    size: ratio(ours.sizeBytes, peer.sizeBytes),
    pack: ratio(ours.packSeconds, peer.packSeconds),
    ...reads,
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

/** The read phases a report shows for `results`: the base ones, and any other some row measured. */
export function shownPhases(results: readonly ToolResult[]): PhaseId[] {
  return PHASE_IDS.filter(
    (p) => BASE_PHASES.includes(p) || results.some((r) => r.reads[p] !== undefined),
  );
}

/**
 * The main table: one row per tool. `rawBytes` is the corpus's total file bytes. Read
 * cells are `median (min–max)` over the runs.
 */
export function formatMainTable(results: readonly ToolResult[], rawBytes: number): string {
  const phases = shownPhases(results);
  const header = [
    "tool",
    "size/raw",
    "pack s",
    "pack peak RSS MiB",
    ...phases.map((p) => PHASE_LABELS[p]),
    "mount peak RSS MiB",
  ];
  const rows = results.map((r) => [
    r.label,
    fmt(ratio(r.sizeBytes, rawBytes), 4),
    fmt(r.packSeconds, 1),
    fmt(r.packPeakRssKiB === null ? null : r.packPeakRssKiB / 1024, 0),
    ...phases.map((p) => formatSpread(r.reads[p], 2)),
    fmt(r.mountPeakRssKiB === null ? null : r.mountPeakRssKiB / 1024, 0),
  ]);
  return markdownTable(header, rows);
}

/** superchunk's ratios (×, read phases of the medians) to each peer; a dash where either side was not measured. */
export function formatRatioTable(ours: ToolResult, peers: readonly ToolResult[]): string {
  const phases = shownPhases([ours, ...peers]);
  const labels = phases.map((p) => PHASE_LABELS[p].replace(/ s$/, ""));
  const header = [`${ours.label} vs`, "size", "pack time", ...labels];
  const rows = peers.map((p) => {
    const r = computeRatios(ours, p);
    return [p.label, times(r.size), times(r.pack), ...phases.map((ph) => times(r[ph]))];
  });
  return markdownTable(header, rows);
}

/** The codec limit as one line, with superchunk's pack time against it. */
export function formatLimit(limit: CodecLimit, ours: ToolResult | undefined): string {
  const vs = ours === undefined ? null : ratio(ours.packSeconds, limit.seconds);
  const pack = vs === null ? "" : `; ${ours!.label} packs in ${times(vs)} that`;
  return `Codec limit: ${limit.label}: ${fmt(limit.seconds, 1)} s for ${limit.files} files, ${mib(limit.inputBytes)} MiB → ${mib(limit.outputBytes)} MiB${pack}.`;
}

/** Notes of every tool, one markdown list line each. */
export function formatNotes(results: readonly ToolResult[]): string {
  return results.flatMap((r) => r.notes.map((n) => `- ${r.label}: ${n}`)).join("\n");
}

/** The read phases, with the labels the S3 table prints. */
const READ_PHASES = [
  ["readAll", "read-all", (r: ToolResult) => phaseMedian(r, "readAll")],
  ["random", "random", (r: ToolResult) => phaseMedian(r, "random")],
  ["newest", "newest-release", (r: ToolResult) => phaseMedian(r, "newest")],
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

/** What the whole report needs besides the rows. */
export type ReportContext = TargetContext;

/**
 * The whole printed report: main table, an S3 table for each of superchunk-s3 and
 * superchunk-s3-rtt that ran alongside superchunk, the codec limit, then per superchunk
 * row its ratios and targets.
 */
export function formatReport(results: readonly ToolResult[], ctx: ReportContext): string {
  const byId = new Map(results.map((r) => [r.id, r] as const));
  const ours = results.filter((r) => TOOLS[r.id].ours);
  const peers = results.filter((r) => !TOOLS[r.id].ours);
  const parts = [formatMainTable(results, ctx.rawBytes)];
  const local = byId.get("superchunk");
  for (const id of S3_TOOL_IDS) {
    const s3 = byId.get(id);
    if (s3 !== undefined && local !== undefined) parts.push(formatS3Table(s3, local));
  }
  if (ctx.limit !== null) parts.push(formatLimit(ctx.limit, local ?? ours[0]));
  for (const o of ours) {
    if (peers.length > 0) parts.push(formatRatioTable(o, peers));
    parts.push(`Targets, ${o.label}:\n${formatTargets(checkTargets(o, byId, ctx))}`);
  }
  const notes = formatNotes(results);
  if (notes !== "") parts.push(`Notes:\n${notes}`);
  return `${parts.join("\n\n")}\n`;
}

/** Bytes as MiB with one decimal. */
export function mib(bytes: number): string {
  return (bytes / MIB).toFixed(1);
}
