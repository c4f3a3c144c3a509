/**
 * Progress of a running command on stderr, in the mode `--progress` picks: `bar` (one
 * line redrawn in place, fitted to the terminal's width and redrawn on resize), `json`
 * (JSON lines for scripts: `status` objects about once a second and one `summary` at the
 * end, in the shape restic uses), or `none`. The figures come from ProgressTracker; the
 * line's text from progress-line.ts.
 *
 * Hand-written rather than a progress-bar package: the line needs the tracker's overall
 * ETA and labelled counters, and the JSON mode shares that state; a package would only
 * draw the bar and its width handling is the few lines below.
 */
import { UsageError } from "../errors.js";
import type { CliIO } from "./cli-io.js";
import { renderProgressLine } from "./progress-line.js";
import {
  type PhasePlan,
  type ProgressSnapshot,
  type ProgressState,
  ProgressTracker,
} from "./progress-tracker.js";

export type { PhasePlan, ProgressState } from "./progress-tracker.js";

/** What `--progress` selects. */
export type ProgressMode = "none" | "bar" | "json";

const MODES: readonly ProgressMode[] = ["none", "bar", "json"];
/** Redraws of the bar at most this often, ms. */
const BAR_INTERVAL_MS = 100;
/** JSON status lines at most this often, ms (and at every phase change). */
const JSON_INTERVAL_MS = 1000;

/** The `--progress` option, for a command's parseArgs table. */
export const PROGRESS_OPTION = { progress: { type: "string" } } as const;

/**
 * The mode for `--progress VALUE`; without it `bar` when stderr is a terminal and the
 * command prints its normal summary, else `none`. E_USAGE naming the valid values.
 */
export function progressMode(
  value: string | undefined,
  io: Pick<CliIO, "isTTY">,
  quiet: boolean,
): ProgressMode {
  if (value === undefined) return io.isTTY && !quiet ? "bar" : "none";
  if ((MODES as readonly string[]).includes(value)) return value as ProgressMode;
  throw new UsageError(
    "E_USAGE",
    `--progress: expected none, bar or json, got ${JSON.stringify(value)}`,
  );
}

type Clock = () => number;

/** A terminal's width, when the stream is one. */
function columnsOf(stream: NodeJS.WritableStream, env: NodeJS.ProcessEnv): number {
  const c = (stream as { columns?: unknown }).columns;
  if (typeof c === "number" && c > 0) return c;
  const e = Number(env.COLUMNS);
  return Number.isInteger(e) && e > 0 ? e : 80;
}

/** Progress of one command; every method is a no-op in mode `none`. */
export class Progress {
  private readonly tracker: ProgressTracker;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private lastPhase: string | undefined;
  private shown: ProgressSnapshot | undefined;
  private drawn = false;
  private readonly onResize = () => this.redraw();

  constructor(
    private readonly mode: ProgressMode,
    private readonly command: string,
    plan: readonly PhasePlan[],
    private readonly io: Pick<CliIO, "stderr" | "env">,
    private readonly now: Clock = Date.now,
  ) {
    this.tracker = new ProgressTracker(plan);
    if (mode === "bar") (io.stderr as Partial<NodeJS.EventEmitter>).on?.("resize", this.onResize);
  }

  /** Takes one report from the engine; draws or emits when due. */
  update(p: ProgressState): void {
    if (this.mode === "none") return;
    const t = this.now();
    const snap = this.tracker.update(p, t / 1000);
    const phaseChanged = p.phase !== this.lastPhase;
    this.lastPhase = p.phase;
    const interval = this.mode === "bar" ? BAR_INTERVAL_MS : JSON_INTERVAL_MS;
    const ended = p.bytesTotal > 0 ? p.bytesDone >= p.bytesTotal : p.filesDone >= p.filesTotal;
    this.shown = snap;
    if (!phaseChanged && !(ended && this.mode === "bar") && t - this.lastDraw < interval) return;
    this.lastDraw = t;
    if (this.mode === "bar") this.redraw();
    else this.emit(statusLine(snap, this.command));
  }

  /** Clears the bar so other lines can be written (a warning); it returns on the next update. */
  done(): void {
    if (this.mode === "bar" && this.drawn) this.io.stderr.write("\r\x1b[K");
    this.drawn = false;
  }

  /** A warning: a plain line, or in JSON mode a `warning` object. */
  warn(w: { code: string; message: string; path?: string }): void {
    if (this.mode === "json") {
      this.emit({ message_type: "warning", code: w.code, message: w.message, item: w.path });
      return;
    }
    this.done();
    this.io.stderr.write(`superchunk: warning: ${w.message} [${w.code}]\n`);
  }

  /** The command finished: clears the bar, or emits the JSON `summary` with `extra` fields. */
  finish(extra: Record<string, unknown> = {}): void {
    const seconds = this.tracker.finish(this.now() / 1000);
    if (this.mode === "bar") {
      (this.io.stderr as Partial<NodeJS.EventEmitter>).off?.("resize", this.onResize);
      this.done();
    }
    if (this.mode !== "json") return;
    this.emit({
      message_type: "summary",
      command: this.command,
      seconds_elapsed: round(seconds),
      percent_done: 1,
      phase_seconds: Object.fromEntries(
        Object.entries(this.tracker.phaseSeconds).map(([k, v]) => [k, round(v)]),
      ),
      ...extra,
    });
  }

  private redraw(): void {
    if (this.shown === undefined) return;
    const line = renderProgressLine(this.shown, columnsOf(this.io.stderr, this.io.env));
    this.io.stderr.write(`\r\x1b[K${line}`);
    this.drawn = true;
  }

  private emit(o: Record<string, unknown>): void {
    this.io.stderr.write(`${JSON.stringify(o)}\n`);
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** One `status` object of `--progress=json`. */
export function statusLine(s: ProgressSnapshot, command: string): Record<string, unknown> {
  return {
    message_type: "status",
    command,
    phase: s.state.phase,
    seconds_elapsed: round(s.elapsedSeconds),
    ...(s.remainingSeconds === undefined
      ? {}
      : { seconds_remaining: Math.ceil(s.remainingSeconds) }),
    percent_done: round(s.fraction),
    total_files: s.state.filesTotal,
    files_done: s.state.filesDone,
    unit: s.unit,
    total_bytes: s.state.bytesTotal,
    bytes_done: s.state.bytesDone,
    bytes_per_second: Math.round(s.bytesPerSecond),
  };
}
