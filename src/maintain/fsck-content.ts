/**
 * fsck's whole-file check: every content's bytes, read through the one read path
 * (reader/ContentReader: extents in order, holes as zeros), hashed with SHA-256 and
 * compared with the content's hash key (`contents.hkey`). This catches what no per-sub-block
 * check can: extents of a content swapped or replaced by other valid sub-blocks. Contents
 * whose sub-blocks are already known damaged or missing, or whose extents do not tile
 * their size, are skipped (reported elsewhere); so is a content of more than
 * MAX_HOLE_BYTES of holes (a warning), so a hostile size cannot make fsck hash forever.
 */
import { createHash } from "node:crypto";
import type { BlobStore } from "../blobstore/blob-store.js";
import type { CodecPool } from "../codec/codec-pool.js";
import { CorruptError, EngineError } from "../errors.js";
import { extentDigest } from "../meta/extent-digest.js";
import { hashKey } from "../meta/hash-key.js";
import type { MetaDb } from "../meta/meta-db.js";
import type { ContentId } from "../meta/records.js";
import type { StoreSnapshot } from "../meta/store-snapshot.js";
import { ContentReader } from "../reader/content-reader.js";
import { MIB, type SubBlockId } from "../types.js";
import type { FsckProblem } from "./fsck-report.js";

const READ_BYTES = 4 * MIB;
const CACHE_BYTES = 256 * MIB;
/** Holes hashed per content at most (zeros hash at ~1.5 GB/s). */
const MAX_HOLE_BYTES = 64 * 1024 * MIB;

/** Hashes every content and compares it with its key; `paths` names each inode's files. */
export async function checkContentHashes(
  meta: MetaDb,
  blobs: BlobStore,
  pool: CodecPool,
  snap: StoreSnapshot,
  keys: ReadonlyMap<number, bigint>,
  damaged: ReadonlySet<number>,
  paths: ReadonlyMap<number, string[]>,
): Promise<FsckProblem[]> {
  const users = new Map<number, string[]>();
  for (const r of snap.inodes.values()) {
    if (r.content === null) continue;
    const list = users.get(r.content) ?? [];
    list.push(...(paths.get(r.ino) ?? [`<inode ${r.ino}>`]));
    users.set(r.content, list);
  }
  const reader = new ContentReader(meta, blobs, pool, { cacheBytes: CACHE_BYTES });
  const out: FsckProblem[] = [];
  const buf = Buffer.allocUnsafe(READ_BYTES);
  try {
    for (const c of [...snap.contents.values()].sort((a, b) => a.id - b.id)) {
      if (c.codes === undefined || c.codes.some((x) => x > 0 && damaged.has(x))) continue;
      let sum = 0;
      let holes = 0;
      for (const x of c.codes) {
        const len = x < 0 ? -x : (snap.subBlocks.get(x)?.length ?? Number.NaN);
        sum += len;
        if (x < 0) holes += len;
      }
      if (sum !== c.size) continue; // fsck-meta reports it
      const files = users.get(c.id) ?? [];
      const say = (severity: FsckProblem["severity"], message: string): void => {
        const p: FsckProblem = {
          kind: "content-hash",
          check: "content-hash",
          code: "E_CORRUPT",
          severity,
          message: `content ${c.id}: ${message}`,
        };
        if (files.length > 0) p.affected = [{ ino: 0, paths: files, ranges: [] }];
        out.push(p);
      };
      if (holes > MAX_HOLE_BYTES) {
        say("warning", `not hashed: ${holes} bytes of holes`);
        continue;
      }
      let got: bigint;
      try {
        got = await hashContent(reader, c.id as ContentId, c.size, buf);
      } catch (err) {
        const code = err instanceof EngineError ? err.code : "E_INTERNAL";
        say(
          "error",
          `cannot be read: ${err instanceof Error ? err.message : String(err)} [${code}]`,
        );
        continue;
      }
      const key = keys.get(c.id);
      const extents = () =>
        c.codes!.map((x) =>
          x < 0
            ? { subBlock: null, length: -x }
            : { subBlock: x as SubBlockId, length: snap.subBlocks.get(x)?.length ?? 0 },
        );
      // pack keys a content by its bytes, a writer in place by its extent list
      if (got !== key && (key === undefined || hashKey(extentDigest(extents())) !== key))
        say("error", "its bytes do not hash to its key (extents swapped or replaced)");
    }
  } finally {
    reader.close();
  }
  return out;
}

async function hashContent(
  reader: ContentReader,
  id: ContentId,
  size: number,
  buf: Buffer,
): Promise<bigint> {
  const t = reader.table(id, size);
  const h = createHash("sha256");
  for (let off = 0; off < size; ) {
    const n = await reader.readInto(t, off, buf.subarray(0, Math.min(buf.length, size - off)));
    if (n <= 0) throw new CorruptError("E_CORRUPT", `short read at offset ${off}`, { offset: off });
    h.update(buf.subarray(0, n));
    off += n;
  }
  return hashKey(h.digest());
}
