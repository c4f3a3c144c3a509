/**
 * What seal reads from a store whose files are not local (an S3 store's committed
 * generation, an archive at a path or URL): the super-chunks are fetched through the
 * store's BlobStore, a few at a time, into a staging directory beside the output (the zip
 * writer takes files), each checked against the row the database records (length, and
 * the header's codec, sizes and entry count).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { superChunkKey } from "../blobstore/blob-store.js";
import { CorruptError, throwIfAborted, wrapFsError } from "../errors.js";
import type { StoreSource } from "../location/store-source.js";
import type { SuperChunkRecord } from "../meta/records.js";
import { decodeHeader } from "../superchunk/decode-header.js";
import { checkExpected } from "../superchunk/superchunk-expect.js";
import type { ZipInput } from "../zip/zip-writer.js";

/** Super-chunks fetched at once by default. */
export const SEAL_FETCH_CONCURRENCY = 4;

/** The staged super-chunks: zip inputs in id order and their total length. */
export interface StagedSuperChunks {
  readonly inputs: ZipInput[];
  readonly superChunkBytes: number;
}

/**
 * Fetches every super-chunk the database of `src` lists into `stageDir` (which must
 * exist), `concurrency` at a time. E_SUPERCHUNK_MISSING for one the store lacks,
 * E_SUPERCHUNK_CORRUPT for one whose length or header differs from the database's row.
 */
export async function stageSuperChunks(
  src: StoreSource,
  stageDir: string,
  concurrency = SEAL_FETCH_CONCURRENCY,
  signal?: AbortSignal,
): Promise<StagedSuperChunks> {
  const scs = src.meta.listSuperChunks().sort((a, b) => a.id - b.id);
  const inputs = scs.map((sc) => ({
    key: superChunkKey(sc.id),
    file: path.join(stageDir, `${sc.id}.sc`),
  }));
  let next = 0;
  let failed = false;
  const worker = async () => {
    for (let i = next++; i < scs.length && !failed; i = next++) {
      await stageOne(src, scs[i]!, inputs[i]!, signal).catch((err: unknown) => {
        failed = true;
        throw err;
      });
    }
  };
  // every worker has stopped before this returns or throws, so the caller may remove stageDir
  const settled = await Promise.allSettled(
    Array.from({ length: Math.max(1, concurrency) }, worker),
  );
  const failure = settled.find((s) => s.status === "rejected");
  if (failure !== undefined) throw failure.reason;
  return { inputs, superChunkBytes: scs.reduce((n, sc) => n + sc.storedBytes, 0) };
}

async function stageOne(
  src: StoreSource,
  sc: SuperChunkRecord,
  input: { key: string; file: string },
  signal: AbortSignal | undefined,
): Promise<void> {
  throwIfAborted(signal, "seal");
  const data = await src.blobs.get(input.key);
  if (data.length !== sc.storedBytes) {
    const where = `${src.location}/${input.key}`;
    throw new CorruptError(
      "E_SUPERCHUNK_CORRUPT",
      `${where}: ${data.length} bytes, the database says ${sc.storedBytes}`,
      { superChunkId: sc.id, path: where, want: sc.storedBytes, got: data.length },
    );
  }
  const where = { superChunkId: sc.id, path: `${src.location}/${input.key}` };
  checkExpected(decodeHeader(data, where), sc, where);
  try {
    await fs.promises.writeFile(input.file, data, { flag: "wx" });
  } catch (err) {
    throw wrapFsError(err, input.file, "stage super-chunk");
  }
}
