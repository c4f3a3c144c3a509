/**
 * Tiny inline-SVG charts for the HTML stats report: vertical bars (histograms), horizontal
 * bars (shares) and stacked columns (live/dead per super-chunk). Pure functions from numbers
 * to markup; no scripts, no fonts or styles from the network.
 */

/** One bar of a chart. */
export interface Bar {
  label: string;
  value: number;
  /** text of the hover tooltip; defaults to label and value */
  title?: string;
}

/** Escapes text for HTML and SVG content and attribute values. */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const W = 640;
const H = 260;
const PAD = { l: 56, r: 12, t: 12, b: 48 };

function svgOpen(cls: string, w: number, h: number, title: string): string {
  return `<svg class="chart ${cls}" xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(title)}">`;
}

/** Vertical bar chart (a histogram): one bar per bucket, labels under the bars. */
export function columnChart(
  cls: string,
  title: string,
  bars: readonly Bar[],
  fmt: (v: number) => string,
  color = "#3b7dd8",
): string {
  const max = bars.reduce((m, b) => Math.max(m, b.value), 1e-9);
  const iw = W - PAD.l - PAD.r;
  const ih = H - PAD.t - PAD.b;
  const bw = iw / Math.max(1, bars.length);
  const parts = [svgOpen(cls, W, H, title), axis(max, fmt, ih)];
  bars.forEach((b, i) => {
    const h = (b.value / max) * ih;
    const x = PAD.l + i * bw;
    const tip = b.title ?? `${b.label}: ${fmt(b.value)}`;
    parts.push(
      `<rect class="bar" x="${(x + 2).toFixed(1)}" y="${(PAD.t + ih - h).toFixed(1)}" width="${Math.max(1, bw - 4).toFixed(1)}" height="${h.toFixed(1)}" fill="${color}"><title>${esc(tip)}</title></rect>`,
      `<text x="${(x + bw / 2).toFixed(1)}" y="${H - PAD.b + 16}" font-size="11" text-anchor="middle">${esc(b.label)}</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("");
}

/** Y axis with four grid lines. */
function axis(max: number, fmt: (v: number) => string, ih: number): string {
  const out: string[] = [];
  for (let k = 0; k <= 4; k++) {
    const y = PAD.t + ih - (k / 4) * ih;
    out.push(
      `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#ddd"/>`,
      `<text x="${PAD.l - 4}" y="${(y + 4).toFixed(1)}" font-size="10" text-anchor="end">${esc(fmt((k / 4) * max))}</text>`,
    );
  }
  return out.join("");
}

/** Horizontal bar chart: one row per item, largest first as given. */
export function barRows(
  cls: string,
  title: string,
  bars: readonly Bar[],
  fmt: (v: number) => string,
  color = "#d8733b",
): string {
  const row = 22;
  const labelW = 180;
  const h = PAD.t + row * Math.max(1, bars.length) + 8;
  const max = bars.reduce((m, b) => Math.max(m, b.value), 1e-9);
  const iw = W - labelW - 90;
  const parts = [svgOpen(cls, W, h, title)];
  bars.forEach((b, i) => {
    const y = PAD.t + i * row;
    const w = Math.max(1, (b.value / max) * iw);
    const label = b.label.length > 28 ? `${b.label.slice(0, 27)}…` : b.label;
    parts.push(
      `<text x="${labelW - 6}" y="${y + 15}" font-size="12" text-anchor="end">${esc(label)}</text>`,
      `<rect class="bar" x="${labelW}" y="${y + 3}" width="${w.toFixed(1)}" height="${row - 6}" fill="${color}"><title>${esc(b.title ?? `${b.label}: ${fmt(b.value)}`)}</title></rect>`,
      `<text x="${(labelW + w + 6).toFixed(1)}" y="${y + 15}" font-size="11">${esc(fmt(b.value))}</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("");
}

/** Stacked columns of two parts (e.g. live and dead bytes), one column per item. */
export function stackedColumns(
  cls: string,
  title: string,
  items: readonly { label: string; a: number; b: number }[],
  fmt: (v: number) => string,
  colors: readonly [string, string] = ["#3ba55c", "#d83b3b"],
): string {
  const max = items.reduce((m, x) => Math.max(m, x.a + x.b), 1e-9);
  const iw = W - PAD.l - PAD.r;
  const ih = H - PAD.t - PAD.b;
  const bw = iw / Math.max(1, items.length);
  const parts = [svgOpen(cls, W, H, title), axis(max, fmt, ih)];
  items.forEach((it, i) => {
    const x = (PAD.l + i * bw + (bw > 4 ? 1 : 0)).toFixed(1);
    const w = Math.max(0.5, bw - (bw > 4 ? 2 : 0)).toFixed(1);
    const ha = (it.a / max) * ih;
    const hb = (it.b / max) * ih;
    const tip = esc(`${it.label}: live ${fmt(it.a)}, dead ${fmt(it.b)}`);
    parts.push(
      `<rect class="bar" x="${x}" y="${(PAD.t + ih - ha).toFixed(1)}" width="${w}" height="${ha.toFixed(1)}" fill="${colors[0]}"><title>${tip}</title></rect>`,
      `<rect class="bar" x="${x}" y="${(PAD.t + ih - ha - hb).toFixed(1)}" width="${w}" height="${hb.toFixed(1)}" fill="${colors[1]}"><title>${tip}</title></rect>`,
    );
  });
  parts.push("</svg>");
  return parts.join("");
}
