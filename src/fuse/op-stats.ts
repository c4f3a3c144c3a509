/**
 * Counts of the requests a mount served, by op: how many, how long from the binding's hand-off
 * to the answer (the time the kernel's caller waited on this process, queueing on the JS thread
 * included), the bytes read and written, and how many requests were in flight at once. Kept
 * always (a counter and a clock read per request); `mount --op-stats` prints them at unmount.
 */
import { type ListingCacheStats, OP, type OpName } from "./native-addon.js";

/** One op's figures. */
export interface OpFigures {
  readonly op: OpName;
  readonly count: number;
  readonly errors: number;
  /** sum of the time from hand-off to answer, ms */
  readonly totalMs: number;
  readonly maxMs: number;
  /** bytes answered (read) or taken (write) */
  readonly bytes: number;
}

/** What a mount served, ops with no request left out. */
export interface OpStatsReport {
  readonly ops: readonly OpFigures[];
  /** most requests in flight at once */
  readonly maxInFlight: number;
  /** ms from the first request to the last answer */
  readonly spanMs: number;
  /** the kernel may keep the listings of directories that open with cache_readdir */
  readonly kernelDirCache?: boolean;
  /** the kernel opens directories itself: no OPENDIR or RELEASEDIR reaches the server */
  readonly dirOpensInKernel?: boolean;
  /** the readdirs the binding answered from its listing cache, when it has one */
  readonly listings?: ListingCacheStats;
  /** files handed to the binding ahead of the kernel, and the reads it answered from them */
  readonly preloaded?: PreloadFigures;
  /** getattrs the binding answered from the attributes it keeps (read-write mounts) */
  readonly attrs?: AttrCacheFigures;
}

/** What the binding's attribute cache did (native/attrcache.c). */
export interface AttrCacheFigures {
  readonly answered: number;
  /** the most attributes held at once, and times JS dropped them all */
  readonly kept: number;
  readonly drops: number;
}

/** What the binding did with preloaded files (native/preload.c). */
export interface PreloadFigures {
  /** reads answered without JS, and their bytes */
  readonly reads: number;
  readonly bytes: number;
  /** files handed over, and those dropped before a read reached their end */
  readonly files: number;
  readonly dropped: number;
}

const SLOTS = Math.max(...Object.values(OP)) + 1;

/** The counters of one mount. */
export class OpStats {
  readonly #count = new Float64Array(SLOTS);
  readonly #errors = new Float64Array(SLOTS);
  readonly #totalMs = new Float64Array(SLOTS);
  readonly #maxMs = new Float64Array(SLOTS);
  readonly #bytes = new Float64Array(SLOTS);
  #inFlight = 0;
  #maxInFlight = 0;
  #first = -1;
  #last = -1;

  /** performance.now() of the last answer, -1 before the first */
  get lastAnswerAt(): number {
    return this.#last;
  }

  /** A request was handed over: counts it in flight; returns its start time for `end`. */
  begin(): number {
    const now = performance.now();
    if (this.#first < 0) this.#first = now;
    if (++this.#inFlight > this.#maxInFlight) this.#maxInFlight = this.#inFlight;
    return now;
  }

  /** The request of op `code` begun at `start` was answered with `result` (bytes or -errno). */
  end(code: number, start: number, result: number): void {
    const now = performance.now();
    const ms = now - start;
    this.#last = now;
    this.#inFlight--;
    this.#count[code]! += 1;
    this.#totalMs[code]! += ms;
    if (ms > this.#maxMs[code]!) this.#maxMs[code] = ms;
    if (result < 0) this.#errors[code]! += 1;
    else if (code === OP.read || code === OP.write) this.#bytes[code]! += result;
  }

  report(): OpStatsReport {
    const ops: OpFigures[] = [];
    for (const [op, code] of Object.entries(OP) as [OpName, number][]) {
      const count = this.#count[code]!;
      if (count === 0) continue;
      ops.push({
        op,
        count,
        errors: this.#errors[code]!,
        totalMs: this.#totalMs[code]!,
        maxMs: this.#maxMs[code]!,
        bytes: this.#bytes[code]!,
      });
    }
    ops.sort((a, b) => b.totalMs - a.totalMs);
    const spanMs = this.#first < 0 ? 0 : this.#last - this.#first;
    return { ops, maxInFlight: this.#maxInFlight, spanMs };
  }
}

/** The report as a table, one op per line, most time first. */
export function formatOpStats(r: OpStatsReport): string {
  const lines = [
    `requests over ${(r.spanMs / 1000).toFixed(2)} s, at most ${r.maxInFlight} in flight:`,
    "  op            count   errors   total ms   mean us    max ms         bytes",
  ];
  for (const f of r.ops) {
    const mean = f.count === 0 ? 0 : (f.totalMs * 1000) / f.count;
    lines.push(
      `  ${f.op.padEnd(11)} ${String(f.count).padStart(8)} ${String(f.errors).padStart(8)} ${f.totalMs.toFixed(0).padStart(10)} ${mean.toFixed(0).padStart(9)} ${f.maxMs.toFixed(1).padStart(9)} ${String(f.bytes).padStart(13)}`,
    );
  }
  const l = r.listings;
  if (l !== undefined && l.budget > 0) {
    const perEntry = l.peakEntries === 0 ? 0 : l.peakBytes / l.peakEntries;
    lines.push(
      `listings kept by the binding: ${l.hits} readdirs answered from them, ${l.misses} not; ` +
        `at most ${l.peakBytes} bytes for ${l.peakEntries} entries (${perEntry.toFixed(0)} bytes each) ` +
        `of ${l.budget}, ${l.evictions} evictions` +
        (r.kernelDirCache === true ? "; the kernel keeps them too (cache_readdir)" : "") +
        (r.dirOpensInKernel === true ? " and opens directories itself" : ""),
    );
  }
  const p = r.preloaded;
  if (p !== undefined) {
    lines.push(
      `preloaded: ${p.files} files handed to the binding, ${p.reads} reads (${p.bytes} bytes) answered there, ${p.dropped} dropped unread`,
    );
  }
  const a = r.attrs;
  if (a !== undefined) {
    lines.push(
      `attributes kept by the binding: ${a.answered} getattrs answered from them, at most ${a.kept} held, dropped ${a.drops} times`,
    );
  }
  return `${lines.join("\n")}\n`;
}
