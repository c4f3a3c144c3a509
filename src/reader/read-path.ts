/**
 * The read path: bytes of a content at a file offset, copied straight into the caller's
 * buffer. The first extent is found by binary search over the cumulative offsets; holes
 * read as zeros; sub-block bytes come from super-chunks pinned in the working set, each
 * pin released once its bytes are copied. Synchronous when every super-chunk needed is
 * cached; otherwise it awaits only the misses. A writer's open super-chunks, which are
 * not in the working set, are read from where the writer keeps them (`DirectChunks`).
 * Every extent read out of the working set is first checked against the super-chunk that
 * holds it (chunk-checks.ts): no byte of a wrong super-chunk is copied out.
 */
import { CorruptError } from "../errors.js";
import { findExtent } from "../meta/extent-search.js";
import type { ResolvedExtent } from "../meta/records.js";
import type { WorkingSet } from "../workingset/working-set.js";
import type { PinnedBuffer } from "../workingset/working-set-types.js";
import type { ChunkChecks } from "./chunk-checks.js";
import type { ExtentTable } from "./extent-table.js";

/** Super-chunks served outside the working set: a writer's open (raw, growing) ones. */
export interface DirectChunks {
  /** True when super-chunk `id` is served here. */
  isOpen(id: number): boolean;
  /** Copies `n` bytes at raw `offset` of super-chunk `id` into `target` at `at`. */
  read(id: number, offset: number, n: number, target: Buffer, at: number): void;
}

/**
 * Reads up to `target.length` bytes of the content `t` at `offset` into `target`; answers
 * the count (short only at the end of the content).
 */
export function readExtents(
  ws: WorkingSet<number>,
  t: ExtentTable,
  offset: number,
  target: Buffer,
  checks: ChunkChecks,
  direct?: DirectChunks,
): number | Promise<number> {
  const end = Math.min(t.size, offset + target.length);
  if (offset >= end) return 0;
  const waits: Promise<void>[] = [];
  try {
    eachPiece(t, offset, end, (ext, from, n, at) => {
      const sc = ext.superChunk;
      if (sc === null) target.fill(0, at, at + n);
      else if (direct?.isOpen(sc)) direct.read(sc, ext.offset + from, n, target, at);
      else {
        const pin = ws.tryAcquire(sc, ext.offset + ext.length);
        if (pin !== undefined) copyPinned(pin, checks, ext, from, n, target, at);
        else waits.push(copyLoaded(ws, checks, ext, from, n, target, at));
      }
      return true;
    });
  } catch (err) {
    // the loads already started finish (and release their pins) before the error is told
    if (waits.length === 0) throw err;
    return Promise.allSettled(waits).then(() => Promise.reject(err));
  }
  const count = end - offset;
  return waits.length === 0 ? count : allOrFirstError(waits).then(() => count);
}

/**
 * `readExtents` of a content whose super-chunks are all cached (or a writer's open ones):
 * the count, or undefined, with nothing loaded, when one is not cached (`target` then holds
 * part of the bytes). The same checks guard every byte copied.
 */
export function readExtentsIfCached(
  ws: WorkingSet<number>,
  t: ExtentTable,
  offset: number,
  target: Buffer,
  checks: ChunkChecks,
  direct?: DirectChunks,
): number | undefined {
  const end = Math.min(t.size, offset + target.length);
  const whole = eachPiece(t, offset, end, (ext, from, n, at) => {
    const sc = ext.superChunk;
    if (sc === null) target.fill(0, at, at + n);
    else if (direct?.isOpen(sc)) direct.read(sc, ext.offset + from, n, target, at);
    else {
      const pin = ws.tryAcquire(sc, ext.offset + ext.length);
      if (pin === undefined) return false;
      copyPinned(pin, checks, ext, from, n, target, at);
    }
    return true;
  });
  if (!whole) return undefined;
  return Math.max(0, end - offset);
}

/**
 * Calls `visit` for each piece of [offset, end) of the content `t`, in order: the extent, the
 * offset into it, the piece's length and where it goes in the target. False, at once, when
 * `visit` answers false.
 */
function eachPiece(
  t: ExtentTable,
  offset: number,
  end: number,
  visit: (ext: ResolvedExtent, from: number, n: number, at: number) => boolean,
): boolean {
  let i = findExtent(t.starts, offset);
  for (let pos = offset; pos < end; i++) {
    const ext = t.extents[i];
    if (ext === undefined) throw beyondExtents(t, pos);
    const from = pos - ext.fileOffset;
    const n = Math.min(ext.length - from, end - pos);
    if (!visit(ext, from, n, pos - offset)) return false;
    pos += n;
  }
  return true;
}

/**
 * Waits for every copy; rejects with the first failure only once all have settled, so no
 * copy still writes into the caller's buffer after the read has failed.
 */
async function allOrFirstError(waits: Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(waits);
  for (const r of results) if (r.status === "rejected") throw r.reason;
}

/** The content's extents end before `pos`, inside its recorded size. */
function beyondExtents(t: ExtentTable, pos: number): CorruptError {
  return new CorruptError("E_CORRUPT", `no extent covers file offset ${pos} of ${t.size} bytes`, {
    offset: pos,
  });
}

async function copyLoaded(
  ws: WorkingSet<number>,
  checks: ChunkChecks,
  ext: ResolvedExtent,
  from: number,
  n: number,
  out: Buffer,
  at: number,
): Promise<void> {
  const pin = await ws.acquire(ext.superChunk!, ext.offset + ext.length);
  copyPinned(pin, checks, ext, from, n, out, at);
}

/**
 * Copies `n` bytes of the extent from `from` out of its pinned super-chunk, once the extent
 * is checked against it, then unpins.
 */
function copyPinned(
  pin: PinnedBuffer,
  checks: ChunkChecks,
  ext: ResolvedExtent,
  from: number,
  n: number,
  out: Buffer,
  at: number,
): void {
  try {
    checks.check(pin.data, ext);
    const start = ext.offset + from;
    if (start + n > pin.data.length) {
      throw new CorruptError("E_CORRUPT", `sub-block lies outside super-chunk ${ext.superChunk}`, {
        superChunkId: ext.superChunk,
        offset: ext.offset,
      });
    }
    pin.data.copy(out, at, start, start + n);
  } finally {
    pin.release();
  }
}
