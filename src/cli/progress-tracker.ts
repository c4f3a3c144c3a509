/**
 * The arithmetic of progress, kept apart from drawing: one overall fraction and one ETA
 * for a whole command whose phases cost different amounts per unit, from a plan that
 * weights each phase, and smoothed rates (exponential moving averages). Pure: the clock
 * is given with each update.
 */

/** One progress report of a running command (what the engine's onProgress hooks give). */
export interface ProgressState {
  readonly phase: string;
  readonly filesDone: number;
  readonly filesTotal: number;
  readonly bytesDone: number;
  readonly bytesTotal: number;
}

/** What a phase's `filesDone/filesTotal` counts, shown after the counter. */
export type CountUnit = "files" | "super-chunks";

/** One phase of a command's plan. */
export interface PhasePlan {
  readonly name: string;
  /** what the phase's counter counts */
  readonly unit: CountUnit;
  /**
   * Relative cost of one unit of the phase's size (its bytes when it reports a byte total,
   * else its count); 0 for a phase whose duration is not estimated.
   */
  readonly weight: number;
  /** until the phase reports its own size, assume the size of this earlier phase */
  readonly sizeFrom?: string;
}

/** The figures a renderer shows. */
export interface ProgressSnapshot {
  readonly state: ProgressState;
  readonly unit: CountUnit;
  /** overall fraction done, 0..1, never decreasing */
  readonly fraction: number;
  /** seconds since the first update */
  readonly elapsedSeconds: number;
  /** estimated seconds to the end of the command; undefined until there is a rate */
  readonly remainingSeconds: number | undefined;
  /** smoothed bytes per second of the current phase; 0 when it reports no bytes */
  readonly bytesPerSecond: number;
}

/** Time constant of the moving averages: a sample's weight halves in about 3.5 s. */
const EMA_TAU_SECONDS = 5;
/** Rates are sampled at most this often, so bursts of updates do not skew them. */
const SAMPLE_SECONDS = 0.5;

/** An exponential moving average of a rate over irregular samples. */
export class RateAverage {
  private value: number | undefined;
  private lastT: number | undefined;
  private lastX = 0;

  /** Feeds the running total `x` at `t` seconds. */
  add(t: number, x: number): void {
    if (this.lastT === undefined) {
      this.lastT = t;
      this.lastX = x;
      return;
    }
    const dt = t - this.lastT;
    if (dt < SAMPLE_SECONDS) return;
    const sample = Math.max(0, x - this.lastX) / dt;
    const alpha = 1 - Math.exp(-dt / EMA_TAU_SECONDS);
    this.value = this.value === undefined ? sample : alpha * sample + (1 - alpha) * this.value;
    this.lastT = t;
    this.lastX = x;
  }

  /** The smoothed rate per second; undefined before two samples. */
  get rate(): number | undefined {
    return this.value;
  }
}

/** Size of a report: its byte total when it has one, else its count. */
function sizeOf(p: ProgressState): number {
  return p.bytesTotal > 0 ? p.bytesTotal : p.filesTotal;
}

function doneOf(p: ProgressState): number {
  return p.bytesTotal > 0 ? p.bytesDone : p.filesDone;
}

/** Turns a command's progress reports into overall figures by its plan. */
export class ProgressTracker {
  private readonly sizes = new Map<string, number>();
  private readonly work = new RateAverage();
  private phaseBytes = new RateAverage();
  private current: ProgressState | undefined;
  private startT: number | undefined;
  private phaseStartT = 0;
  private best = 0;
  /** seconds spent in each phase seen, in order */
  readonly phaseSeconds: Record<string, number> = {};

  constructor(private readonly plan: readonly PhasePlan[]) {}

  /** Records a report made at `t` seconds (any epoch) and answers the figures to show. */
  update(p: ProgressState, t: number): ProgressSnapshot {
    this.startT ??= t;
    if (this.current?.phase !== p.phase) {
      this.closePhase(t);
      this.phaseStartT = t;
      this.phaseBytes = new RateAverage();
    }
    this.current = p;
    if (sizeOf(p) > 0) this.sizes.set(p.phase, sizeOf(p));
    const { done, total } = this.workFigures(p);
    if (total > 0) this.work.add(t, done); // nothing to measure before the first sized phase
    if (p.bytesTotal > 0 || p.bytesDone > 0) this.phaseBytes.add(t, p.bytesDone);
    if (total > 0) this.best = Math.max(this.best, Math.min(1, done / total));
    const rate = this.work.rate;
    return {
      state: p,
      unit: this.plan.find((x) => x.name === p.phase)?.unit ?? "files",
      fraction: this.best,
      elapsedSeconds: t - this.startT,
      remainingSeconds:
        rate !== undefined && rate > 0 ? Math.max(0, total - done) / rate : undefined,
      bytesPerSecond: this.phaseBytes.rate ?? 0,
    };
  }

  /** Ends the last phase at `t`; answers the total seconds since the first update. */
  finish(t: number): number {
    this.closePhase(t);
    this.current = undefined;
    this.best = 1;
    return this.startT === undefined ? 0 : t - this.startT;
  }

  private closePhase(t: number): void {
    if (this.current === undefined) return;
    const name = this.current.phase;
    this.phaseSeconds[name] = (this.phaseSeconds[name] ?? 0) + (t - this.phaseStartT);
  }

  /** Work done and total over the whole plan, in weighted units. */
  private workFigures(p: ProgressState): { done: number; total: number } {
    const at = this.plan.findIndex((x) => x.name === p.phase);
    let done = 0;
    let total = 0;
    this.plan.forEach((ph, i) => {
      const size = this.sizes.get(ph.name) ?? this.sizes.get(ph.sizeFrom ?? "") ?? 0;
      total += ph.weight * size;
      if (at >= 0 && i < at) done += ph.weight * size;
      else if (i === at) done += ph.weight * Math.min(doneOf(p), size);
    });
    return { done, total };
  }
}
