/**
 * fsck --rebuild: brings back a store directory whose database is missing or damaged. The
 * database is judged first (missing; unreadable, failing its checksum, malformed SQLite:
 * damaged; else intact, and only the normal check runs). A damaged database's files are
 * moved aside (`<name>.damaged-<time>`, WAL and shm included, so no stale WAL is applied to
 * the restored image); the newest whole metadata copy (store/meta-copy.ts) is written back
 * as superchunk.db; then, opened for maintenance, the sub-block index and super-chunk rows
 * are corrected from the super-chunk headers and every count recomputed
 * (fsck-rebuild.ts), a new copy is committed and the database packed. The store is then
 * verified; files whose sub-blocks are gone are in that report.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { DirBlobStore } from "../blobstore/dir-blob-store.js";
import { CodecPool } from "../codec/codec-pool.js";
import { EngineError, NotFoundError, UnsupportedError } from "../errors.js";
import { maintainStoreAt } from "../location/maintain-at.js";
import { resolveStoreLocation, storeKindOf } from "../location/store-kind.js";
import { snapshotStore } from "../meta/store-snapshot.js";
import { writeFileDurably } from "../store/durable.js";
import { findNewestCopy } from "../store/meta-copy-write.js";
import { PACKED_DB_SUFFIX } from "../store/packed-db.js";
import { DB_FILE, openStore } from "../store/store-layout.js";
import { acquireStoreLock } from "../store/store-lock.js";
import { InodeKind } from "../types.js";
import { checkStore } from "./fsck-check.js";
import { rebuildIndex } from "./fsck-rebuild.js";
import type { FsckProgress, FsckReport } from "./fsck-report.js";

/** What fsck --rebuild found and did. */
export interface RestoreOutcome {
  /** the database as found */
  database: "intact" | "missing" | "damaged";
  /** why it was judged damaged */
  damage?: string;
  /** the copy generation the tree was restored from */
  generation?: number;
  /** newer copies that could not be read, and why */
  skippedCopies: string[];
  /** the damaged database files, moved aside */
  movedAside: string[];
  /** inodes, regular files and directories in the restored tree */
  inodes: number;
  files: number;
  dirs: number;
  /** index rows relocated and counts fixed by the header scan */
  rowsRelocated: number;
  countsFixed: number;
  /** the verification after the restore (or the check of an intact store) */
  report: FsckReport;
}

/** Options of restoreStore. */
export interface RestoreOptions {
  threads?: number;
  onProgress?: (p: FsckProgress) => void;
}

const DB_FILES = [DB_FILE, `${DB_FILE}${PACKED_DB_SUFFIX}`, `${DB_FILE}-wal`, `${DB_FILE}-shm`];

/**
 * Restores the database of the store directory `location` from its metadata copy when it
 * is missing or damaged, then verifies the store. E_NO_METADATA_COPY when it must be
 * restored but the store has no whole copy; E_UNSUPPORTED for an archive or S3 store.
 */
export async function restoreStore(
  location: string,
  opts: RestoreOptions = {},
): Promise<RestoreOutcome> {
  const dir = resolveStoreLocation(location);
  if (storeKindOf(dir) !== "dir") {
    throw new UnsupportedError(
      "E_UNSUPPORTED",
      `${dir}: --rebuild restores the database of a store directory (an archive is rebuilt by sealing a restored store; an S3 store keeps its older generations)`,
      { path: dir },
    );
  }
  const judged = judgeDatabase(dir);
  const pool = new CodecPool({ threads: opts.threads ?? 2 });
  try {
    if (judged.state === "intact") {
      const { meta, blobs } = openStore(dir, { readonly: true });
      try {
        const report = (await checkStore(meta, blobs, pool, opts.onProgress)).report;
        const snap = snapshotStore(meta);
        return {
          database: "intact",
          skippedCopies: [],
          movedAside: [],
          ...counts(snap),
          rowsRelocated: 0,
          countsFixed: 0,
          report,
        };
      } finally {
        meta.close();
      }
    }
    const found = await findNewestCopy(new DirBlobStore(dir), dir);
    const skippedCopies = found.skipped.map((s) => `copy ${s.generation}: ${s.error.message}`);
    if (found.copy === undefined) throw noCopy(dir, judged, skippedCopies);
    const movedAside = putBack(dir, found.copy.raw);
    const result = await maintainStoreAt(
      dir,
      { purpose: "fsck --rebuild", packAtClose: true },
      async (ms) => {
        const rebuilt = await rebuildIndex(ms, snapshotStore(ms.meta));
        const check = await checkStore(ms.meta, ms.blobs, pool, opts.onProgress);
        return { rebuilt, report: check.report, ...counts(check.snap) };
      },
      () => true,
    );
    return {
      database: judged.state,
      ...(judged.why === undefined ? {} : { damage: judged.why }),
      generation: found.copy.generation,
      skippedCopies,
      movedAside,
      inodes: result.inodes,
      files: result.files,
      dirs: result.dirs,
      rowsRelocated: result.rebuilt.rowsRelocated + result.rebuilt.superChunkRowsFixed,
      countsFixed: result.rebuilt.refcountRowsFixed,
      report: result.report,
    };
  } finally {
    await pool.close();
  }
}

interface Judged {
  state: "intact" | "missing" | "damaged";
  why?: string;
}

/** Missing, damaged (opening or SQLite's quick_check fails) or intact. */
function judgeDatabase(dir: string): Judged {
  if (!DB_FILES.slice(0, 2).some((f) => fs.existsSync(path.join(dir, f)))) {
    return { state: "missing" };
  }
  try {
    const { meta } = openStore(dir, { readonly: true });
    try {
      const bad = snapshotStore(meta).integrityErrors;
      return bad.length === 0 ? { state: "intact" } : { state: "damaged", why: bad[0] };
    } finally {
      meta.close();
    }
  } catch (err) {
    // a store not finished, or written by a newer version, is not damage: leave it be
    if (
      err instanceof EngineError &&
      ["E_STORE_INCOMPLETE", "E_FORMAT_VERSION"].includes(err.code)
    ) {
      throw err;
    }
    const why = err instanceof Error ? err.message : String(err);
    // the first line, without the hint to run what is running
    const first = why.split("\n")[0]!.replace(/; the store keeps a metadata copy.*$/, "");
    return { state: "damaged", why: first };
  }
}

/** Under the writer lock: the damaged files moved aside, the copy's image written back. */
function putBack(dir: string, raw: Buffer): string[] {
  const lock = acquireStoreLock(dir, "fsck --rebuild");
  try {
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    const moved: string[] = [];
    for (const name of DB_FILES) {
      const file = path.join(dir, name);
      if (!fs.existsSync(file)) continue;
      const aside = `${file}.damaged-${stamp}`;
      fs.renameSync(file, aside);
      moved.push(aside);
    }
    writeFileDurably(path.join(dir, DB_FILE), raw);
    return moved;
  } finally {
    lock.release();
  }
}

function counts(snap: ReturnType<typeof snapshotStore>) {
  let files = 0;
  let dirs = 0;
  for (const i of snap.inodes.values()) {
    if (i.kind === InodeKind.file) files++;
    else if (i.kind === InodeKind.dir) dirs++;
  }
  return { inodes: snap.inodes.size, files, dirs };
}

function noCopy(dir: string, judged: Judged, skipped: string[]): NotFoundError {
  const what = judged.state === "missing" ? "missing" : "damaged";
  const why =
    skipped.length === 0
      ? "the store holds no metadata copy (written before copies existed, or the copies were lost), so the tree cannot be restored"
      : `every metadata copy is damaged (${skipped.join("; ")}), so the tree cannot be restored`;
  return new NotFoundError("E_NO_METADATA_COPY", `${dir}: the database is ${what} and ${why}`, {
    path: dir,
    database: what,
  });
}

/** The text form of what --rebuild did, before the check's report. */
export function renderRestore(r: RestoreOutcome): string {
  if (r.database === "intact") return "database intact: nothing to restore\n";
  const out = [
    `database ${r.database}${r.damage === undefined ? "" : ` (${r.damage})`}: restored from metadata copy ${r.generation}`,
    `restored ${r.inodes} inodes (${r.files} files, ${r.dirs} directories); ${r.rowsRelocated} index rows corrected from the super-chunk headers, ${r.countsFixed} counts fixed`,
  ];
  for (const s of r.skippedCopies) out.push(`skipped damaged ${s}`);
  for (const f of r.movedAside) out.push(`moved aside: ${f}`);
  const lost = r.report.affectedFiles.length;
  if (lost > 0)
    out.push(
      `could not restore the bytes of ${lost} files (their sub-blocks are gone): listed below`,
    );
  return `${out.join("\n")}\n`;
}
