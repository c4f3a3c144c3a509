/**
 * fsck's metadata checks on a snapshot: every derived count (content and sub-block
 * refcounts, live bytes) recomputed from the rows it counts and compared; extents that name
 * missing sub-blocks; the invariants of the file tree (extents tile each content, an inode's
 * size is its content's, every sub-block but a file's last within the chunker's bounds);
 * and, for damaged sub-blocks, the files and byte ranges they affect.
 */
import type { StoreSnapshot } from "../meta/store-snapshot.js";
import { InodeKind } from "../types.js";
import type { AffectedFile, FsckProblem } from "./fsck-report.js";

/** Chunker bounds recorded in the store. */
export interface ChunkBounds {
  readonly minBytes: number;
  readonly maxBytes: number;
  readonly avgBytes: number;
  readonly fixed: boolean;
}

function err(
  kind: FsckProblem["kind"],
  message: string,
  extra: Partial<FsckProblem> = {},
): FsckProblem {
  return { kind, code: "E_CORRUPT", severity: "error", message, ...extra };
}

/** Refcounts and live bytes as the rows say they should be, compared with the stored ones. */
export function checkRefcounts(snap: StoreSnapshot): FsckProblem[] {
  const out: FsckProblem[] = [];
  const contentRefs = new Map<number, number>();
  for (const r of snap.inodes.values()) {
    if (r.content !== null) contentRefs.set(r.content, (contentRefs.get(r.content) ?? 0) + 1);
  }
  const subRefs = new Map<number, number>();
  for (const c of snap.contents.values()) {
    const want = contentRefs.get(c.id) ?? 0;
    if (want !== c.refcount) {
      out.push(err("refcount", `content ${c.id}: refcount ${c.refcount}, ${want} inodes use it`));
    }
    for (const code of c.codes ?? []) if (code > 0) subRefs.set(code, (subRefs.get(code) ?? 0) + 1);
  }
  const live = new Map<number, number>();
  for (const sb of snap.subBlocks.values()) {
    const want = subRefs.get(sb.id) ?? 0;
    if (want !== sb.refcount) {
      out.push(
        err("refcount", `sub-block ${sb.id}: refcount ${sb.refcount}, ${want} extents name it`, {
          subBlock: sb.id,
        }),
      );
    }
    if (want > 0) live.set(sb.superChunk, (live.get(sb.superChunk) ?? 0) + sb.length);
  }
  for (const sc of snap.superChunks.values()) {
    const want = live.get(sc.id) ?? 0;
    if (want !== sc.liveBytes) {
      out.push(
        err(
          "refcount",
          `super-chunk ${sc.id}: live_bytes ${sc.liveBytes}, its live sub-blocks hold ${want}`,
          { superChunk: sc.id },
        ),
      );
    }
  }
  return out;
}

/** Sub-block ids named by extents or rows whose target does not exist. */
export function missingReferences(snap: StoreSnapshot): {
  problems: FsckProblem[];
  missing: Set<number>;
} {
  const problems: FsckProblem[] = [];
  const missing = new Set<number>();
  for (const c of snap.contents.values()) {
    for (const code of c.codes ?? []) {
      if (code > 0 && !snap.subBlocks.has(code) && !missing.has(code)) {
        missing.add(code);
        problems.push(
          err(
            "subblock-missing",
            `sub-block ${code}: named by content ${c.id} but not in the index`,
            { code: "E_CORRUPT", subBlock: code },
          ),
        );
      }
    }
  }
  for (const sb of snap.subBlocks.values()) {
    if (!snap.superChunks.has(sb.superChunk)) {
      missing.add(sb.id);
      problems.push(
        err("subblock-missing", `sub-block ${sb.id}: its super-chunk ${sb.superChunk} has no row`, {
          superChunk: sb.superChunk,
          subBlock: sb.id,
        }),
      );
    }
  }
  return { problems, missing };
}

/** The tree's invariants: sizes, tiling, and sub-block lengths within the chunker's bounds. */
export function checkInvariants(snap: StoreSnapshot, bounds: ChunkBounds): FsckProblem[] {
  const out: FsckProblem[] = [];
  for (const r of snap.inodes.values()) {
    if (r.kind !== InodeKind.file || r.content === null) continue;
    const c = snap.contents.get(r.content);
    if (c === undefined)
      out.push(err("invariant", `inode ${r.ino}: content ${r.content} does not exist`));
    else if (c.size !== r.size)
      out.push(err("invariant", `inode ${r.ino}: size ${r.size}, its content holds ${c.size}`));
  }
  for (const c of snap.contents.values()) {
    if (c.codes === undefined) {
      out.push(err("invariant", `content ${c.id}: malformed extent list`));
      continue;
    }
    let sum = 0;
    c.codes.forEach((code, i) => {
      if (code < 0) {
        sum -= code;
        return;
      }
      const len = snap.subBlocks.get(code)?.length ?? 0;
      sum += len;
      const last = i === c.codes!.length - 1;
      const tooShort = !last && len < (bounds.fixed ? bounds.avgBytes : bounds.minBytes);
      const tooLong = len > (bounds.fixed ? bounds.avgBytes : bounds.maxBytes);
      if (len > 0 && (tooShort || tooLong)) {
        out.push(
          err(
            "invariant",
            `content ${c.id}: extent ${i} (sub-block ${code}) is ${len} bytes, outside the chunker's bounds`,
            { subBlock: code },
          ),
        );
      }
    });
    if (sum !== c.size)
      out.push(
        err("invariant", `content ${c.id}: extents add up to ${sum} bytes, size is ${c.size}`),
      );
  }
  return out;
}

/** For each damaged sub-block, the files using it and the byte ranges of those extents. */
export function affectedFiles(
  snap: StoreSnapshot,
  damaged: ReadonlySet<number>,
  paths: ReadonlyMap<number, string[]>,
): Map<number, AffectedFile[]> {
  const byContent = new Map<number, Map<number, [number, number][]>>(); // content -> sb -> ranges
  for (const c of snap.contents.values()) {
    let off = 0;
    for (const code of c.codes ?? []) {
      const len = code < 0 ? -code : (snap.subBlocks.get(code)?.length ?? 0);
      if (code > 0 && damaged.has(code)) {
        const m = byContent.get(c.id) ?? new Map<number, [number, number][]>();
        m.set(code, [...(m.get(code) ?? []), [off, len]]);
        byContent.set(c.id, m);
      }
      off += len;
    }
  }
  const out = new Map<number, AffectedFile[]>();
  for (const r of snap.inodes.values()) {
    const m = r.content === null ? undefined : byContent.get(r.content);
    if (m === undefined) continue;
    for (const [sb, ranges] of m) {
      const list = out.get(sb) ?? [];
      list.push({ ino: r.ino, paths: paths.get(r.ino) ?? [`<inode ${r.ino}>`], ranges });
      out.set(sb, list);
    }
  }
  return out;
}
