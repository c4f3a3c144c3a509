/**
 * report/: the HTML stats report, one self-contained page (inline CSS and SVG, no scripts,
 * nothing fetched from the network): a summary table, then plots of super-chunk fill and
 * compression ratio, the sub-block sharing histogram, live versus dead bytes per
 * super-chunk, and where stored bytes go by top-level directory.
 */

import { formatBytes } from "../format-bytes.js";
import type { StoreStats } from "./stats-store.js";
import {
  type Bar,
  barRows,
  columnChart,
  esc,
  type StackedItem,
  stackedColumns,
} from "./svg-charts.js";

/** Super-chunks by raw size as a share of the target, in 10 % bins (the last is ≥ 100 %). */
function fillBars(s: StoreStats): Bar[] {
  const bins = new Array<number>(11).fill(0);
  for (const sc of s.superChunks) {
    const f = s.targetBytes > 0 ? sc.rawBytes / s.targetBytes : 0;
    bins[Math.min(10, Math.floor(f * 10))]!++;
  }
  return bins.map((value, i) => ({ label: i === 10 ? "≥100%" : `${i * 10}%`, value }));
}

const RATIO_EDGES = [1, 1.5, 2, 3, 5, 10, 20, 50, 100];

/** Super-chunks by compression ratio (raw / stored), in widening bins. */
function ratioBars(s: StoreStats): Bar[] {
  const bins = new Array<number>(RATIO_EDGES.length).fill(0);
  for (const sc of s.superChunks) {
    const r = sc.storedBytes > 0 ? sc.rawBytes / sc.storedBytes : 1;
    let k = 0;
    while (k + 1 < RATIO_EDGES.length && r >= RATIO_EDGES[k + 1]!) k++;
    bins[k]!++;
  }
  return bins.map((value, k) => {
    const hi = RATIO_EDGES[k + 1];
    return { label: hi === undefined ? `≥${RATIO_EDGES[k]}×` : `${RATIO_EDGES[k]}–${hi}×`, value };
  });
}

/** Top-level directories by stored bytes: the 14 largest, the rest as one row. */
function dirBars(s: StoreStats): Bar[] {
  const head = s.byTopDir.slice(0, 14).map((d) => ({
    label: d.name,
    value: d.storedBytes,
    title: `${d.name}: ${formatBytes(d.storedBytes)} stored, ${formatBytes(d.logicalBytes)} logical, ${d.files} files`,
  }));
  const rest = s.byTopDir.slice(14).reduce((a, d) => a + d.storedBytes, 0);
  return rest > 0 ? [...head, { label: "(others)", value: rest }] : head;
}

/**
 * Bytes by how many file references reach them: the part in identical whole files (one
 * content, several files) stacked on the rest (shared between different files' contents,
 * or not shared).
 */
function sharingColumns(s: StoreStats): StackedItem[] {
  return s.fileSharing.map((b) => ({
    label: b.label,
    a: b.bytes - b.wholeFileBytes,
    b: b.wholeFileBytes,
    title: `${b.label} file references: ${b.subBlocks} sub-blocks, ${formatBytes(b.bytes)} (${formatBytes(b.wholeFileBytes)} in identical whole files)`,
  }));
}

/** Live and dead bytes per super-chunk; runs of consecutive ones summed beyond 320 columns. */
function liveDeadColumns(s: StoreStats): StackedItem[] {
  const per = Math.max(1, Math.ceil(s.superChunks.length / 320));
  const out: StackedItem[] = [];
  for (let i = 0; i < s.superChunks.length; i += per) {
    const run = s.superChunks.slice(i, i + per);
    const first = run[0]!.id;
    const last = run[run.length - 1]!.id;
    out.push({
      label: first === last ? `super-chunk ${first}` : `super-chunks ${first}–${last}`,
      a: run.reduce((x, c) => x + c.liveBytes, 0),
      b: run.reduce((x, c) => x + c.rawBytes - c.liveBytes, 0),
    });
  }
  return out;
}

function summaryRows(s: StoreStats): [string, string][] {
  return [
    ["files", `${s.files} (${s.dirs} dirs, ${s.symlinks} symlinks, ${s.other} other)`],
    ["logical", formatBytes(s.logicalBytes)],
    ["unique", `${formatBytes(s.uniqueBytes)} (dedup ${s.dedupRatio.toFixed(2)}×)`],
    [
      "identical files",
      `${s.duplicateFiles.files} files identical to another (${formatBytes(s.duplicateFiles.bytes)} of copies stored once)`,
    ],
    ["stored", `${formatBytes(s.storedBytes)} (compression ${s.compressionRatio.toFixed(2)}×)`],
    ["metadata", formatBytes(s.metadataBytes)],
    ["total", `${formatBytes(s.totalBytes)} (${s.sizeRatio.toFixed(4)} of logical)`],
    [
      "super-chunks",
      `${s.superChunkCount}, raw ${formatBytes(s.superChunkRaw.min)} / ${formatBytes(s.superChunkRaw.median)} / ${formatBytes(s.superChunkRaw.max)} (min/median/max)`,
    ],
    [
      "dead",
      `${formatBytes(s.deadBytes)}; ${s.repackCandidates} super-chunks over ${(s.repackThreshold * 100).toFixed(0)}% dead (${formatBytes(s.reclaimableBytes)} reclaimable)`,
    ],
  ];
}

function table(head: string[], rows: string[][]): string {
  const th = head.map((h) => `<th>${esc(h)}</th>`).join("");
  const tr = rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`);
  return `<table><thead><tr>${th}</tr></thead><tbody>${tr.join("")}</tbody></table>`;
}

const CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}section{display:inline-block;vertical-align:top;margin:0 24px 12px 0}
table{border-collapse:collapse}td,th{padding:2px 10px;border-bottom:1px solid #eee;text-align:left}
td:nth-child(n+2){font-variant-numeric:tabular-nums}.chart{display:block}`;

/**
 * The report page for `s` (from storeStats). `title` names the store.
 * @example
 * fs.writeFileSync("report.html", renderStatsHtml(storeStats(dir), dir));
 */
export function renderStatsHtml(s: StoreStats, title: string): string {
  const plot = (h: string, svg: string) => `<section><h2>${esc(h)}</h2>${svg}</section>`;
  const scs = { name: "super-chunks", color: "#3b7dd8" };
  const body = [
    `<h1>superchunk store ${esc(title)}</h1>`,
    table(["", ""], summaryRows(s)),
    plot(
      "Super-chunk fill (raw size / target)",
      columnChart(
        {
          cls: "fill",
          title: "fill",
          x: "raw size / target size",
          y: "super-chunks",
          unit: "count",
        },
        fillBars(s),
        scs,
      ),
    ),
    plot(
      "Compression ratio per super-chunk",
      columnChart(
        { cls: "ratio", title: "ratio", x: "raw / stored", y: "super-chunks", unit: "count" },
        ratioBars(s),
        { ...scs, color: "#7b3bd8" },
      ),
    ),
    plot(
      "Sharing (bytes by file references)",
      stackedColumns(
        {
          cls: "sharing",
          title: "sharing",
          x: "file references",
          y: "unique bytes",
          unit: "bytes",
        },
        sharingColumns(s),
        [
          { name: "not in identical files", color: "#3ba5a5" },
          { name: "identical whole files", color: "#d8a03b" },
        ],
      ),
    ),
    plot(
      "Live and dead bytes per super-chunk",
      stackedColumns(
        {
          cls: "livedead",
          title: "live/dead",
          x: "super-chunks, by id",
          y: "raw bytes",
          unit: "bytes",
        },
        liveDeadColumns(s),
        [
          { name: "live", color: "#3ba55c" },
          { name: "dead", color: "#d83b3b" },
        ],
      ),
    ),
    plot(
      "Stored bytes by top-level directory",
      barRows(
        { cls: "dirs", title: "dirs", x: "directory", y: "stored bytes", unit: "bytes" },
        dirBars(s),
        { name: "stored bytes", color: "#d8733b" },
      ),
    ),
    "<h2>Files with the most unique bytes</h2>",
    table(
      ["path", "size", "unique", "shared", "extents", "super-chunks"],
      s.topFiles.map((f) => [
        f.path,
        formatBytes(f.size),
        formatBytes(f.uniqueBytes),
        formatBytes(f.sharedBytes),
        String(f.extents),
        String(f.superChunks),
      ]),
    ),
    "<h2>Codecs</h2>",
    table(
      ["codec", "super-chunks", "raw", "stored"],
      Object.entries(s.codecs).map(([c, t]) => [
        c,
        String(t.superChunks),
        formatBytes(t.rawBytes),
        formatBytes(t.storedBytes),
      ]),
    ),
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>superchunk stats: ${esc(title)}</title>
<style>${CSS}</style></head>
<body>
${body.join("\n")}
</body></html>
`;
}
