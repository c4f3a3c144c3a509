/**
 * Writing and finding the metadata copy (meta-copy.ts) through a BlobStore, so a store
 * directory, a working copy writing to a bucket and a restore share one path.
 *
 * A commit path takes the copy last: (1) one transaction sets `meta_copy` to the next
 * generation g, (2) the image is taken (`MetaDb.serialize`), so the copy holds g itself,
 * (3) its parts are put (written and synced), (4) only then are older generations deleted.
 * A crash before (3) ends leaves the database at g and the copy at g − 1 (a lagging copy,
 * still whole); never a store without a whole copy once it had one.
 */
import type { BlobStore } from "../blobstore/blob-store.js";
import { CorruptError, EngineError } from "../errors.js";
import type { MetaDb } from "../meta/meta-db.js";
import {
  decodeMetaCopy,
  encodeMetaCopy,
  encodeMetaCopyFromFrame,
  encodePart,
  isMetaCopyKey,
  META_COPY_GENERATION_KEY,
  META_COPY_PART_BYTES,
  META_COPY_PREFIX,
  metaCopyKey,
  parseMetaCopyKey,
} from "./meta-copy.js";
import {
  decodePackedDatabase,
  type PartCompressor,
  packDatabaseFileByParts,
  packedPayload,
} from "./packed-db.js";

/** What a copy commit wrote. */
export interface MetaCopyWritten {
  readonly generation: number;
  readonly parts: number;
  readonly bytes: number;
}

/** The copy generation the database is (its `meta_copy` key), 0 when it has none. */
export function copyGenerationOf(meta: MetaDb): number {
  const v = Number(meta.getMeta(META_COPY_GENERATION_KEY) ?? "0");
  return Number.isSafeInteger(v) && v > 0 ? v : 0;
}

/** Step 1 and 2, under the writer: the next generation in one transaction, then its image. */
export function takeCopyImage(meta: MetaDb): { generation: number; raw: Buffer } {
  const generation = copyGenerationOf(meta) + 1;
  meta.transaction(() => meta.setMeta(META_COPY_GENERATION_KEY, String(generation)));
  return { generation, raw: meta.serialize() };
}

/** Steps 3 and 4: puts the parts of `generation`, then deletes every older copy. */
export async function putMetaCopy(
  blobs: BlobStore,
  generation: number,
  files: readonly Buffer[],
): Promise<MetaCopyWritten> {
  let bytes = 0;
  for (let i = 0; i < files.length; i++) {
    await blobs.put(metaCopyKey(generation, i), files[i]!);
    bytes += files[i]!.length;
  }
  await dropCopiesBefore(blobs, generation);
  return { generation, parts: files.length, bytes };
}

/** Deletes the parts of every copy older than `generation` (and stray files below sc/meta/). */
export async function dropCopiesBefore(blobs: BlobStore, generation: number): Promise<void> {
  const old: string[] = [];
  for await (const key of blobs.list(META_COPY_PREFIX)) {
    if (!isMetaCopyKey(key)) continue;
    const k = parseMetaCopyKey(key);
    if (k === undefined || k.generation < generation) old.push(key);
  }
  for (const key of old) await blobs.delete(key);
}

/**
 * A whole copy commit (steps 1–4) for a writer that can take its time on this thread (pack,
 * maintenance): `compress` codes each part (zstd).
 */
export async function commitMetaCopy(
  meta: MetaDb,
  blobs: BlobStore,
  compress: (part: Buffer) => Buffer | Promise<Buffer>,
): Promise<MetaCopyWritten> {
  const { generation, raw } = takeCopyImage(meta);
  return putMetaCopy(blobs, generation, await encodeMetaCopy(raw, compress));
}

/** What a search for a copy found. */
export interface FoundCopy {
  /** the newest whole copy, if any */
  readonly copy: { generation: number; raw: Buffer } | undefined;
  /** newer generations that could not be read, and why */
  readonly skipped: { generation: number; error: EngineError }[];
}

/**
 * The newest whole copy below sc/meta/ of `blobs` (every part present and sound), and the
 * generations skipped on the way; `label` names the store in errors.
 */
export async function findNewestCopy(blobs: BlobStore, label: string): Promise<FoundCopy> {
  const gens = new Map<number, Map<number, string>>();
  for await (const key of blobs.list(META_COPY_PREFIX)) {
    const k = parseMetaCopyKey(key);
    if (k === undefined) continue;
    const parts = gens.get(k.generation) ?? new Map<number, string>();
    parts.set(k.part, key);
    gens.set(k.generation, parts);
  }
  const skipped: { generation: number; error: EngineError }[] = [];
  for (const g of [...gens.keys()].sort((a, b) => b - a)) {
    const keys = gens.get(g)!;
    try {
      const files: Buffer[] = [];
      for (let i = 0; i < keys.size; i++) {
        const key = keys.get(i);
        if (key === undefined) {
          throw new CorruptError("E_CORRUPT", `${label}: metadata copy ${g} lacks part ${i}`, {
            path: label,
          });
        }
        files.push(Buffer.from(await blobs.get(key)));
      }
      const raw = decodeMetaCopy(files, `${label}/${metaCopyKey(g, 0)}`);
      return { copy: { generation: g, raw }, skipped };
    } catch (err) {
      if (!(err instanceof EngineError)) throw err;
      skipped.push({ generation: g, error: err });
    }
  }
  return { copy: undefined, skipped };
}

/**
 * Packs the closed database file `dbFile` (packed-db.ts) after writing its copy, generation
 * `generation` (the `meta_copy` key the file holds), into `blobs` from the same zstd frames:
 * pack compresses its database once, one part of the image at a time (never whole), and
 * each part's frame serves both the copy's part and the packed database's payload. Answers
 * the bytes of both (packed database + copy). `compress` codes each part (packed-db.ts
 * PartCompressor; by default on this thread).
 */
export async function packDatabaseWithCopy(
  dbFile: string,
  generation: number,
  blobs: BlobStore,
  compress?: PartCompressor,
): Promise<number> {
  let copyBytes = 0;
  const packedBytes = await packDatabaseFileByParts(
    dbFile,
    META_COPY_PART_BYTES,
    async (raw, frame, index) => {
      const file = encodePart(raw, frame);
      await blobs.put(metaCopyKey(generation, index), file);
      copyBytes += file.length;
    },
    compress,
  );
  await dropCopiesBefore(blobs, generation);
  return packedBytes + copyBytes;
}

/**
 * The metadata copy of a packed database image (`packed`, named `label` in errors) as
 * archive entries, generation `generation`, from its own zstd frame: what seal puts in an
 * archive beside the database entry, so the archive's copy is exactly its database.
 */
export function copyEntriesOfPacked(
  packed: Buffer,
  generation: number,
  label: string,
): { key: string; data: Buffer }[] {
  const raw = decodePackedDatabase(packed, label);
  const files = encodeMetaCopyFromFrame(raw, packedPayload(packed), 19);
  return files.map((data, i) => ({ key: metaCopyKey(generation, i), data }));
}
