/**
 * The text of the progress line on a terminal, fitted to its width: phase, bar, overall
 * percent, a labelled counter (`1,203/5,000 files`), bytes, smoothed rate and the ETA of
 * the whole command. When the terminal is narrow the bar shrinks, then the least useful
 * fields go, so the line never reaches the last column (it would wrap and every redraw
 * would leave a line behind).
 */
import { formatBytes } from "../format-bytes.js";
import type { ProgressSnapshot } from "./progress-tracker.js";

const BAR_MAX = 30;
const BAR_MIN = 10;

/** 1234567 → "1,234,567". */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** Seconds as `45s`, `3:07` or `1:02:03`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s}s`;
  const two = (n: number) => String(n).padStart(2, "0");
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}

/** The optional fields of a line, in the order they are shown. */
interface Fields {
  counter: string;
  bytes: string;
  rate: string;
  eta: string;
}

/** Which optional field goes first when the line is too long, then the next… */
const DROP_ORDER: readonly (keyof Fields | "bar")[] = ["bytes", "rate", "bar", "counter", "eta"];

function fieldsOf(s: ProgressSnapshot): Fields {
  const p = s.state;
  return {
    counter:
      p.filesTotal > 0 ? `${formatCount(p.filesDone)}/${formatCount(p.filesTotal)} ${s.unit}` : "",
    bytes: p.bytesTotal > 0 ? `${formatBytes(p.bytesDone)}/${formatBytes(p.bytesTotal)}` : "",
    rate: s.bytesPerSecond > 0 ? `${formatBytes(s.bytesPerSecond)}/s` : "",
    eta:
      s.remainingSeconds !== undefined && s.fraction < 1
        ? `ETA ${formatDuration(s.remainingSeconds)}`
        : "",
  };
}

function bar(fraction: number, width: number): string {
  const inner = width - 2;
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * inner);
  return `[${"#".repeat(filled)}${"-".repeat(inner - filled)}]`;
}

/**
 * The line for `s` on a terminal `columns` wide: at most `columns - 1` characters.
 * @example
 * renderProgressLine(snapshot, 80); // "scan   [######------]  42% 1,203/5,000 files 120 MiB/400 MiB 35.2 MiB/s ETA 0:45"
 */
export function renderProgressLine(s: ProgressSnapshot, columns: number): string {
  const max = Math.max(1, columns - 1);
  const head = s.state.phase.padEnd(6);
  const pct = `${Math.floor(s.fraction * 100)}%`.padStart(4);
  const f = fieldsOf(s);
  let withBar = true;
  const compose = (barWidth: number) => {
    const tail = [f.counter, f.bytes, f.rate, f.eta].filter((x) => x !== "");
    const parts = [head, ...(withBar ? [bar(s.fraction, barWidth)] : []), pct, ...tail];
    return parts.join(" ");
  };
  // a quarter of the width, so the bar keeps its size while the fields change length
  const preferred = Math.min(BAR_MAX, Math.max(BAR_MIN, Math.round(columns / 4)));
  for (let i = 0; ; i++) {
    if (withBar) {
      const spare = max - compose(BAR_MIN).length;
      if (spare >= 0) return compose(BAR_MIN + Math.min(spare, preferred - BAR_MIN));
    } else if (compose(0).length <= max) return compose(0);
    const drop = DROP_ORDER[i];
    if (drop === undefined) break;
    if (drop === "bar") withBar = false;
    else f[drop] = "";
  }
  return compose(0).slice(0, max);
}
