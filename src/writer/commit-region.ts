/**
 * What a commit must cut again, found in O(extents) without reading a byte. The old
 * content's extents that end at or before the first changed byte are kept as they are
 * (except the last one, whose end was forced by the end of the file, not chosen by the
 * chunker); cutting restarts at the end of the last kept extent. From there to the end
 * the file splits into *pieces*: data (staged bytes, or committed sub-blocks) to cut and
 * hash, and holes (old holes, ranges past a truncation or past the old end that nothing
 * wrote) that become hole extents at no cost per byte. A hole shorter than `holeMin`
 * between data is read as data (zeros), so tiny gaps do not split sub-blocks.
 */
import type { Extent } from "../types.js";
import type { StagingFile } from "./staging-file.js";

/** A range of the new file to cut and hash (`data`), or zeros to record as a hole. */
export interface Piece {
  readonly kind: "data" | "hole";
  readonly start: number;
  end: number;
}

/** The kept prefix of the old extents, and the pieces after it. */
export interface Region {
  readonly keep: readonly Extent[];
  readonly pieces: Piece[];
}

/** The part of the file a commit must redo; `old` tiles the committed `oldSize` bytes. */
export function planRegion(
  old: readonly Extent[],
  oldSize: number,
  staging: StagingFile | undefined,
  holeMin: number,
): Region {
  if (staging === undefined) return { keep: old, pieces: [] };
  const size = staging.size;
  const first = firstChange(oldSize, staging);
  if (first === undefined) return { keep: old, pieces: [] };
  let restart = 0;
  let k = 0;
  while (k < old.length - 1 && restart + old[k]!.length <= first) restart += old[k++]!.length;
  const pieces: Piece[] = [];
  const push = (kind: Piece["kind"], start: number, end: number) => {
    if (end <= start) return;
    const prev = pieces[pieces.length - 1];
    if (prev?.kind === kind && prev.end === start) prev.end = end;
    else pieces.push({ kind, start, end });
  };
  const limit = Math.min(staging.baseLimit, oldSize);
  const walk = new OldWalk(old, k, restart);
  for (const s of staging.segments(restart, size)) {
    if (s.inSet) push("data", s.start, s.end);
    else {
      walk.split(s.start, Math.min(s.end, limit), push);
      push("hole", Math.max(s.start, limit), s.end);
    }
  }
  return { keep: old.slice(0, k), pieces: fillGaps(pieces, holeMin) };
}

/** The first byte that may differ from the committed content; undefined when none does. */
function firstChange(oldSize: number, staging: StagingFile): number | undefined {
  let first = Number.POSITIVE_INFINITY;
  const written = staging.segments(0, staging.size).find((s) => s.inSet);
  if (written !== undefined) first = written.start;
  if (staging.baseLimit < oldSize) first = Math.min(first, staging.baseLimit);
  if (staging.size !== oldSize) first = Math.min(first, staging.size, oldSize);
  return first === Number.POSITIVE_INFINITY ? undefined : first;
}

/** Walks the old extents forward, splitting committed ranges into data and holes. */
class OldWalk {
  #i: number;
  #at: number;

  constructor(
    private readonly old: readonly Extent[],
    i: number,
    at: number,
  ) {
    this.#i = i;
    this.#at = at;
  }

  split(start: number, end: number, push: (k: Piece["kind"], s: number, e: number) => void) {
    while (this.#i < this.old.length && start < end) {
      const e = this.old[this.#i]!;
      const eEnd = this.#at + e.length;
      if (eEnd <= start) {
        this.#at = eEnd;
        this.#i++;
        continue;
      }
      const to = Math.min(end, eEnd);
      push(e.subBlock === null ? "hole" : "data", Math.max(start, this.#at), to);
      start = to;
    }
  }
}

/** Holes shorter than `holeMin` next to data become data; adjacent data pieces merge. */
function fillGaps(pieces: Piece[], holeMin: number): Piece[] {
  const out: Piece[] = [];
  for (const p of pieces) {
    const kind = p.kind === "hole" && p.end - p.start < holeMin ? "data" : p.kind;
    const prev = out[out.length - 1];
    if (prev !== undefined && prev.kind === kind) prev.end = p.end;
    else out.push({ kind, start: p.start, end: p.end });
  }
  return out;
}
