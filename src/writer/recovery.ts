/**
 * What a writable open does before serving anything: finish or undo whatever a crash
 * (or kill -9) left in flight. Staging files are discarded (never durable). Open
 * super-chunk rows are adopted: their raw files cut back to the committed length (or,
 * after a power cut that kept the database ahead of them, filled up with zeros), a
 * half-written frozen copy removed, then frozen. Raw files and super-chunk files no
 * row names are orphans and are removed, and so are inodes no entry names (a file
 * unlinked while open). Finally dead frozen super-chunks are deleted.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseSuperChunkKey, superChunkKey } from "../blobstore/blob-store.js";
import { CorruptError } from "../errors.js";
import { OPEN_CODEC } from "../meta/write-table.js";
import { isMetaCopyKey } from "../store/meta-copy.js";
import { type FreezeDeps, freezeChunk, reapDead } from "./freeze.js";
import { OPEN_DIR, openFileName } from "./open-superchunks.js";
import { STAGING_DIR } from "./staging-file.js";

/** What recovery found and fixed. */
export interface RecoveryReport {
  stagingFiles: number;
  openSuperChunks: number;
  /** committed raw bytes missing from open super-chunks' files (filled with zeros) */
  missingRawBytes: number;
  orphanRawFiles: number;
  orphanBlobs: number;
  orphanInodes: number;
  deadSuperChunks: number;
}

/** Brings a store back to a clean state after a crash; run right after taking the lock. */
export async function recoverStore(dir: string, deps: FreezeDeps): Promise<RecoveryReport> {
  const report: RecoveryReport = {
    stagingFiles: clearDir(path.join(dir, STAGING_DIR)),
    openSuperChunks: 0,
    missingRawBytes: 0,
    orphanRawFiles: 0,
    orphanBlobs: 0,
    orphanInodes: 0,
    deadSuperChunks: 0,
  };
  const adopted = await adoptOpen(dir, deps, report);
  report.openSuperChunks = adopted.size;
  report.orphanRawFiles = removeStrayRaw(dir, adopted);
  report.orphanBlobs = await removeOrphanBlobs(deps);
  report.orphanInodes = removeOrphanInodes(deps);
  for (const c of deps.open.toFreeze(true)) await freezeChunk(deps, c);
  report.deadSuperChunks = await reapDead(deps);
  await deps.open.syncDurable();
  return report;
}

function clearDir(dir: string): number {
  let n = 0;
  for (const name of safeReaddir(dir)) {
    fs.rmSync(path.join(dir, name), { force: true, recursive: true });
    n++;
  }
  return n;
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** Adopts every committed open super-chunk; returns the raw file names kept. */
async function adoptOpen(
  dir: string,
  deps: FreezeDeps,
  report: RecoveryReport,
): Promise<Set<string>> {
  const kept = new Set<string>();
  for (const id of deps.meta.writes.openSuperChunks()) {
    const rec = deps.meta.getSuperChunk(id)!;
    const name = openFileName(id);
    const file = path.join(dir, OPEN_DIR, name);
    if (!fs.existsSync(file)) {
      if (rec.rawBytes !== 0) {
        throw new CorruptError("E_SUPERCHUNK_MISSING", `${file}: open super-chunk is missing`, {
          superChunkId: id,
          path: file,
        });
      }
      deps.meta.transaction(() => deps.meta.writes.deleteSuperChunk(id));
      continue;
    }
    await deps.blobs.delete(superChunkKey(id)); // a freeze that never committed
    report.missingRawBytes += deps.open.adopt(id, rec.rawBytes, rec.subBlocks);
    kept.add(name);
  }
  return kept;
}

function removeStrayRaw(dir: string, kept: Set<string>): number {
  let n = 0;
  for (const name of safeReaddir(path.join(dir, OPEN_DIR))) {
    if (kept.has(name)) continue;
    fs.rmSync(path.join(dir, OPEN_DIR, name), { force: true });
    n++;
  }
  return n;
}

/** Super-chunk files (and temporary files) under sc/ that no frozen row names. */
async function removeOrphanBlobs(deps: FreezeDeps): Promise<number> {
  const orphans: string[] = [];
  for await (const key of deps.blobs.list("sc/")) {
    if (isMetaCopyKey(key)) continue; // the metadata copy (store/meta-copy.ts)
    const id = parseSuperChunkKey(key);
    const rec = id === undefined ? undefined : deps.meta.getSuperChunk(id as never);
    if (rec === undefined || rec.codec === OPEN_CODEC) orphans.push(key);
  }
  for (const key of orphans) await deps.blobs.delete(key);
  return orphans.length;
}

/** Inodes no entry names: their content is released and they are deleted, in one transaction. */
function removeOrphanInodes(deps: FreezeDeps): number {
  const { meta } = deps;
  const orphans = meta.writes.orphanInodes();
  if (orphans.length === 0) return 0;
  meta.transaction(() => {
    for (const ino of orphans) {
      const rec = meta.getInode(ino);
      if (rec?.content != null) meta.writes.releaseContent(rec.content);
      meta.writes.deleteInode(ino);
    }
  });
  return orphans.length;
}
