/**
 * Tiny inline-SVG charts for the HTML stats report: vertical bars (histograms), horizontal
 * bars (shares) and stacked columns (two parts, e.g. live/dead per super-chunk). Every chart
 * has axis titles with units, round ticks (1-2-5 steps, from d3-array's `nice` and `ticks`;
 * stats/ is its only importer) and a legend. Pure functions from numbers to markup; no
 * scripts, no fonts or styles from the network.
 */
import { nice, ticks } from "d3-array";
import { formatBytes } from "../format-bytes.js";

/** One bar of a chart. */
export interface Bar {
  label: string;
  value: number;
  /** text of the hover tooltip; defaults to label and value */
  title?: string;
}

/** What a chart shows: its class, accessible title, axis titles and the values' unit. */
export interface ChartSpec {
  readonly cls: string;
  readonly title: string;
  /** title of the category axis (under the columns, or beside the rows) */
  readonly x: string;
  /** title of the value axis, without the unit (added from `unit`) */
  readonly y: string;
  readonly unit: "bytes" | "count";
}

/** A named, coloured series, for the legend. */
export interface Series {
  readonly name: string;
  readonly color: string;
}

/** Escapes text for HTML and SVG content and attribute values. */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const W = 640;
const H = 300;
const PAD = { l: 72, r: 12, t: 30, b: 62 };
const BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB"] as const;

/** A value axis from 0: its top, round ticks in one unit, and that unit's name. */
export interface ValueScale {
  readonly top: number;
  /** tick positions, in the values' own scale (bytes, counts) */
  readonly ticks: number[];
  /** a tick's label, in the axis unit: 20 for 20 MiB on a MiB axis */
  label(v: number): string;
  /** the unit, for the axis title: "MiB", or "" for counts */
  readonly unit: string;
}

/**
 * The axis for values up to `max`: bytes in the largest binary unit under `max`, ticks at
 * 1, 2 or 5 times a power of ten of that unit; counts at whole numbers.
 * @example valueScale(73e6, "bytes").ticks.map(v => v / 2 ** 20) // [0, 10, 20, ..., 70]
 */
export function valueScale(max: number, unit: "bytes" | "count"): ValueScale {
  let k = 1;
  let name = "";
  if (unit === "bytes") {
    let u = 0;
    while (u + 1 < BYTE_UNITS.length && max >= 1024 ** (u + 1)) u++;
    k = 1024 ** u;
    name = BYTE_UNITS[u]!;
  }
  const scaled = Math.max(max / k, unit === "count" ? 1 : 1e-9);
  const [, hi] = nice(0, scaled, 5);
  let ts = ticks(0, hi, 5);
  if (unit === "count") ts = ts.filter((t) => Number.isInteger(t));
  const top = Math.max(hi, ts[ts.length - 1] ?? hi);
  return {
    top: top * k,
    ticks: ts.map((t) => t * k),
    label: (v) => String(Number((v / k).toPrecision(6))),
    unit: name,
  };
}

/** How a value reads in a tooltip. */
function valueText(v: number, unit: ChartSpec["unit"]): string {
  return unit === "bytes" ? formatBytes(v) : String(Math.round(v));
}

function svgOpen(spec: ChartSpec, w: number, h: number): string {
  return `<svg class="chart ${spec.cls}" xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(spec.title)}" font-family="system-ui,sans-serif">`;
}

/** The legend: a swatch and a name per series, in a row at the top right. */
function legend(series: readonly Series[], w: number): string {
  const out: string[] = [];
  let x = w - PAD.r;
  for (const s of [...series].reverse()) {
    const tw = s.name.length * 6.2;
    x -= tw;
    out.push(
      `<text class="legend" x="${x.toFixed(1)}" y="16" font-size="11">${esc(s.name)}</text>`,
    );
    x -= 16;
    out.push(
      `<rect class="swatch" x="${x.toFixed(1)}" y="7" width="11" height="11" fill="${s.color}"/>`,
    );
    x -= 14;
  }
  return out.join("");
}

/** The value axis on the left (grid lines, tick labels, rotated title) and the x title. */
function verticalAxes(spec: ChartSpec, scale: ValueScale, ih: number): string {
  const out: string[] = [];
  for (const t of scale.ticks) {
    const y = PAD.t + ih - (t / scale.top) * ih;
    out.push(
      `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#ddd"/>`,
      `<text class="tick" x="${PAD.l - 5}" y="${(y + 4).toFixed(1)}" font-size="10" text-anchor="end">${esc(scale.label(t))}</text>`,
    );
  }
  const cy = PAD.t + ih / 2;
  const unit = scale.unit === "" ? "" : ` (${scale.unit})`;
  out.push(
    `<text class="axis-title" x="16" y="${cy.toFixed(1)}" font-size="12" text-anchor="middle" transform="rotate(-90 16 ${cy.toFixed(1)})">${esc(spec.y + unit)}</text>`,
    `<text class="axis-title" x="${(PAD.l + (W - PAD.l - PAD.r) / 2).toFixed(1)}" y="${H - 8}" font-size="12" text-anchor="middle">${esc(spec.x)}</text>`,
    `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${PAD.t + ih}" y2="${PAD.t + ih}" stroke="#888"/>`,
  );
  return out.join("");
}

/** Vertical bar chart (a histogram): one bar per bucket, labels under the bars. */
export function columnChart(spec: ChartSpec, bars: readonly Bar[], series: Series): string {
  const items = bars.map((b) => ({ label: b.label, a: b.value, b: 0, title: b.title }));
  return stackedColumns(spec, items, [series, series], { legend: [series] });
}

/** One column of stackedColumns: two parts, `a` at the bottom. */
export interface StackedItem {
  label: string;
  a: number;
  b: number;
  /** tooltip; defaults to the label and both parts */
  title?: string;
}

/**
 * Stacked columns of two parts (e.g. live and dead bytes), one column per item; the items'
 * labels are written under the columns when there are at most 24.
 */
export function stackedColumns(
  spec: ChartSpec,
  items: readonly StackedItem[],
  series: readonly [Series, Series],
  opts: { legend?: readonly Series[] } = {},
): string {
  const scale = valueScale(
    items.reduce((m, x) => Math.max(m, x.a + x.b), 0),
    spec.unit,
  );
  const iw = W - PAD.l - PAD.r;
  const ih = H - PAD.t - PAD.b;
  const bw = iw / Math.max(1, items.length);
  const gap = bw > 8 ? 2 : bw > 4 ? 1 : 0;
  const parts = [svgOpen(spec, W, H), verticalAxes(spec, scale, ih)];
  parts.push(legend(opts.legend ?? series, W));
  const fmt = (v: number) => valueText(v, spec.unit);
  items.forEach((it, i) => {
    const x = (PAD.l + i * bw + gap).toFixed(1);
    const w = Math.max(0.5, bw - 2 * gap).toFixed(1);
    const ha = (it.a / scale.top) * ih;
    const hb = (it.b / scale.top) * ih;
    const tip = esc(
      it.title ?? `${it.label}: ${series[0].name} ${fmt(it.a)}, ${series[1].name} ${fmt(it.b)}`,
    );
    parts.push(
      `<rect class="bar" x="${x}" y="${(PAD.t + ih - ha).toFixed(1)}" width="${w}" height="${ha.toFixed(1)}" fill="${series[0].color}"><title>${tip}</title></rect>`,
    );
    if (it.b > 0)
      parts.push(
        `<rect class="bar" x="${x}" y="${(PAD.t + ih - ha - hb).toFixed(1)}" width="${w}" height="${hb.toFixed(1)}" fill="${series[1].color}"><title>${tip}</title></rect>`,
      );
    if (items.length <= 24)
      parts.push(
        `<text x="${(PAD.l + (i + 0.5) * bw).toFixed(1)}" y="${PAD.t + ih + 16}" font-size="11" text-anchor="middle">${esc(it.label)}</text>`,
      );
  });
  parts.push("</svg>");
  return parts.join("");
}

/** Horizontal bar chart: one row per item, largest first as given; value axis underneath. */
export function barRows(spec: ChartSpec, bars: readonly Bar[], series: Series): string {
  const row = 22;
  const labelW = 180;
  const right = 70;
  const rowsH = row * Math.max(1, bars.length);
  const h = PAD.t + rowsH + 52;
  const scale = valueScale(
    bars.reduce((m, b) => Math.max(m, b.value), 0),
    spec.unit,
  );
  const iw = W - labelW - right;
  const xOf = (v: number) => labelW + (v / scale.top) * iw;
  const parts = [svgOpen(spec, W, h), legend([series], W)];
  for (const t of scale.ticks) {
    const x = xOf(t).toFixed(1);
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${PAD.t}" y2="${PAD.t + rowsH}" stroke="#ddd"/>`,
      `<text class="tick" x="${x}" y="${PAD.t + rowsH + 14}" font-size="10" text-anchor="middle">${esc(scale.label(t))}</text>`,
    );
  }
  const unit = scale.unit === "" ? "" : ` (${scale.unit})`;
  parts.push(
    `<text class="axis-title" x="${(labelW + iw / 2).toFixed(1)}" y="${h - 8}" font-size="12" text-anchor="middle">${esc(spec.y + unit)}</text>`,
    `<text class="axis-title" x="${labelW - 6}" y="${PAD.t - 8}" font-size="12" text-anchor="end">${esc(spec.x)}</text>`,
  );
  const fmt = (v: number) => valueText(v, spec.unit);
  bars.forEach((b, i) => {
    const y = PAD.t + i * row;
    const w = Math.max(1, xOf(b.value) - labelW);
    const label = b.label.length > 28 ? `${b.label.slice(0, 27)}…` : b.label;
    parts.push(
      `<text x="${labelW - 6}" y="${y + 15}" font-size="12" text-anchor="end">${esc(label)}</text>`,
      `<rect class="bar" x="${labelW}" y="${y + 3}" width="${w.toFixed(1)}" height="${row - 6}" fill="${series.color}"><title>${esc(b.title ?? `${b.label}: ${fmt(b.value)}`)}</title></rect>`,
      `<text x="${(labelW + w + 6).toFixed(1)}" y="${y + 15}" font-size="11">${esc(fmt(b.value))}</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("");
}
