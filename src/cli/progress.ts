/**
 * A one-line progress bar on a terminal: phase, files, bytes, rate, ETA. Redraws
 * at most every 100 ms; does nothing when the stream is not a TTY.
 */
import { formatBytes } from "./args.js";

export interface ProgressState {
  phase: string;
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
}

export class ProgressBar {
  private last = 0;
  private phaseStart = Date.now();
  private phase = "";
  private drawn = false;

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly enabled: boolean,
    private readonly now: () => number = Date.now,
  ) {}

  update(p: ProgressState): void {
    if (!this.enabled) return;
    const t = this.now();
    if (p.phase !== this.phase) {
      this.phase = p.phase;
      this.phaseStart = t;
    } else if (t - this.last < 100 && p.bytesDone < p.bytesTotal) return;
    this.last = t;
    this.out.write(`\r\x1b[K${renderProgress(p, (t - this.phaseStart) / 1000)}`);
    this.drawn = true;
  }

  /** Clears the line so a summary can follow. */
  done(): void {
    if (this.enabled && this.drawn) this.out.write("\r\x1b[K");
    this.drawn = false;
  }
}

/** The text of one progress line (pure, for tests). */
export function renderProgress(p: ProgressState, elapsedSeconds: number): string {
  const frac = p.bytesTotal > 0 ? Math.min(1, p.bytesDone / p.bytesTotal) : 0;
  const width = 24;
  const filled = Math.round(frac * width);
  const bar = `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`;
  const rate = elapsedSeconds > 0 ? p.bytesDone / elapsedSeconds : 0;
  const eta = rate > 0 && frac < 1 ? (p.bytesTotal - p.bytesDone) / rate : 0;
  const count = p.filesTotal > 0 ? ` ${p.filesDone}/${p.filesTotal}` : "";
  const bytes = p.bytesTotal > 0 ? ` ${formatBytes(p.bytesDone)}/${formatBytes(p.bytesTotal)}` : "";
  const speed = rate > 0 ? ` ${formatBytes(rate)}/s` : "";
  const etaText = eta > 0 ? ` ETA ${Math.ceil(eta)}s` : "";
  return `${p.phase.padEnd(6)} ${bar} ${(frac * 100).toFixed(0).padStart(3)}%${count}${bytes}${speed}${etaText}`;
}
