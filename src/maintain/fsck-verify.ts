/**
 * fsck's data check of one super-chunk: the file exists, its header decodes and agrees with
 * the metadata row, its stored and raw CRCs hold, and every sub-block row names a header
 * entry (same offset, length and hash key) whose SHA-256 the bytes match. A payload whose
 * stored CRC fails is still inflated (bounded) when the codec accepts it, so a damaged
 * uncompressed or lightly damaged payload names exactly the sub-blocks that are wrong.
 */
import { createHash } from "node:crypto";
import { crc32 } from "node:zlib";
import type { BlobStore } from "../blobstore/blob-store.js";
import { superChunkKey } from "../blobstore/blob-store.js";
import type { CodecPool } from "../codec/codec-pool.js";
import { EngineError, isCode } from "../errors.js";
import { hashKey } from "../meta/hash-key.js";
import type { SuperChunkRecord } from "../meta/records.js";
import type { SnapshotSubBlock } from "../meta/store-snapshot.js";
import { decodeHeader } from "../superchunk/decode-header.js";
import { entryOffsets } from "../superchunk/entry-offsets.js";
import type { SuperChunkHeader } from "../superchunk/superchunk-header.js";
import type { FsckProblem } from "./fsck-report.js";

/** What verifying one super-chunk found. */
export interface ScVerdict {
  readonly id: number;
  readonly storedBytes: number;
  /** the decoded header, when it decodes */
  header?: SuperChunkHeader;
  /** the inflated payload, when it inflates (kept only if asked) */
  raw?: Buffer;
  /** sub-block ids whose bytes are damaged or cannot be found */
  readonly damaged: Set<number>;
  readonly problems: FsckProblem[];
}

/** Verifies super-chunk `sc` whose sub-block rows are `rows`. */
export async function verifySuperChunk(
  sc: SuperChunkRecord,
  rows: readonly SnapshotSubBlock[],
  blobs: BlobStore,
  pool: CodecPool,
  keepRaw = false,
): Promise<ScVerdict> {
  const v: ScVerdict = { id: sc.id, storedBytes: 0, damaged: new Set(), problems: [] };
  const key = superChunkKey(sc.id);
  const all = () => {
    for (const r of rows) v.damaged.add(r.id);
  };
  let file: Buffer;
  try {
    file = await blobs.get(key);
  } catch (err) {
    if (!isCode(err, "E_SUPERCHUNK_MISSING")) throw err;
    v.problems.push(
      problem(
        sc.id,
        "superchunk-missing",
        "E_SUPERCHUNK_MISSING",
        `super-chunk ${sc.id}: file ${key} is missing`,
      ),
    );
    all();
    return v;
  }
  (v as { storedBytes: number }).storedBytes = file.length;
  try {
    v.header = decodeHeader(file, { superChunkId: sc.id, path: key });
  } catch (err) {
    v.problems.push(corrupt(sc.id, err, "header does not decode"));
    all();
    return v;
  }
  checkRow(sc, v.header, file.length, v);
  const raw = await payload(sc.id, file, v.header, pool, v);
  if (raw === undefined) {
    all();
    return v;
  }
  checkEntries(sc.id, rows, v.header, raw, v);
  // readers refuse a file with trailing bytes: every file it holds fails to read
  if (file.length > v.header.headerBytes + v.header.storedBytes) all();
  if (keepRaw) v.raw = raw;
  return v;
}

function problem(
  sc: number,
  kind: FsckProblem["kind"],
  code: FsckProblem["code"],
  message: string,
): FsckProblem {
  return { kind, code, severity: "error", message, superChunk: sc };
}

function corrupt(sc: number, err: unknown, what: string): FsckProblem {
  const code = err instanceof EngineError ? err.code : "E_SUPERCHUNK_CORRUPT";
  const detail = err instanceof Error ? err.message : String(err);
  return problem(sc, "superchunk-corrupt", code, `super-chunk ${sc}: ${what}: ${detail}`);
}

/**
 * The metadata row must describe the file: sizes and entry count (errors). A codec that
 * differs is a warning: the header is the authority readers use (pack records the codec
 * asked for even where a payload fell back to none).
 */
function checkRow(
  sc: SuperChunkRecord,
  h: SuperChunkHeader,
  fileBytes: number,
  v: ScVerdict,
): void {
  const row = `${sc.rawBytes}/${sc.storedBytes} bytes, ${sc.subBlocks} sub-blocks`;
  const file = `${h.rawBytes}/${fileBytes} bytes, ${h.entries.length} sub-blocks`;
  if (row !== file) {
    v.problems.push(
      problem(
        sc.id,
        "superchunk-row",
        "E_CORRUPT",
        `super-chunk ${sc.id}: row says ${row}, file says ${file}`,
      ),
    );
  }
  if (sc.codec !== h.codec) {
    v.problems.push({
      ...problem(
        sc.id,
        "superchunk-row",
        "E_CORRUPT",
        `super-chunk ${sc.id}: row says codec ${sc.codec}, header says ${h.codec}`,
      ),
      severity: "warning",
    });
  }
}

/** Checks length and CRCs and inflates; undefined when no payload can be had. */
async function payload(
  id: number,
  file: Buffer,
  h: SuperChunkHeader,
  pool: CodecPool,
  v: ScVerdict,
): Promise<Buffer | undefined> {
  const end = h.headerBytes + h.storedBytes;
  if (file.length !== end) {
    v.problems.push(
      problem(
        id,
        "superchunk-corrupt",
        "E_SUPERCHUNK_CORRUPT",
        `super-chunk ${id}: file has ${file.length} bytes, header says ${end}`,
      ),
    );
    if (file.length < end) return undefined;
  }
  const stored = file.subarray(h.headerBytes, end);
  if (crc32(stored) !== h.storedCrc) {
    v.problems.push(
      problem(
        id,
        "superchunk-corrupt",
        "E_SUPERCHUNK_CORRUPT",
        `super-chunk ${id}: stored payload CRC mismatch`,
      ),
    );
  }
  let raw: Buffer;
  try {
    raw = await pool.inflate(h.codec, stored, h.rawBytes);
  } catch (err) {
    v.problems.push(corrupt(id, err, "payload does not inflate"));
    return undefined;
  }
  if (crc32(raw) !== h.rawCrc) {
    v.problems.push(
      problem(
        id,
        "superchunk-corrupt",
        "E_SUPERCHUNK_CORRUPT",
        `super-chunk ${id}: raw payload CRC mismatch`,
      ),
    );
  }
  return raw;
}

/** Every row must name a header entry, and the entry's bytes must hash to its hash. */
function checkEntries(
  id: number,
  rows: readonly SnapshotSubBlock[],
  h: SuperChunkHeader,
  raw: Buffer,
  v: ScVerdict,
): void {
  const offsets = entryOffsets(h);
  const at = new Map<number, number>();
  for (let i = 0; i < h.entries.length; i++) at.set(offsets[i]!, i);
  const hashOk = new Map<number, boolean>();
  for (const r of rows) {
    const i = at.get(r.offset);
    const e = i === undefined ? undefined : h.entries[i];
    if (e === undefined || e.length !== r.length || hashKey(e.hash) !== r.hkey) {
      v.damaged.add(r.id);
      v.problems.push({
        ...problem(
          id,
          "subblock-missing",
          "E_CORRUPT",
          `sub-block ${r.id}: super-chunk ${id} has no entry at offset ${r.offset} of ${r.length} bytes with its hash`,
        ),
        subBlock: r.id,
      });
      continue;
    }
    let ok = hashOk.get(i!);
    if (ok === undefined) {
      const got = createHash("sha256")
        .update(raw.subarray(r.offset, r.offset + r.length))
        .digest();
      ok = got.equals(e.hash);
      hashOk.set(i!, ok);
    }
    if (!ok) {
      v.damaged.add(r.id);
      v.problems.push({
        ...problem(
          id,
          "subblock-damaged",
          "E_SUBBLOCK_HASH",
          `sub-block ${r.id}: bytes at offset ${r.offset} of super-chunk ${id} do not match its hash`,
        ),
        subBlock: r.id,
      });
    }
  }
}
