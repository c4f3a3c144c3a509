/**
 * fsck --rebuild-index: makes the sub-block index agree with the super-chunk headers, which
 * are the authority. Every readable super-chunk file's header is read; a sub-block row whose
 * place does not hold an entry with its hash key and length is moved to the entry that does
 * (adopting an orphan file as a super-chunk when the entry is there); super-chunk rows are
 * corrected from their headers; then every refcount and live_bytes is recomputed from the
 * file tree. All in one transaction.
 */
import { parseSuperChunkKey } from "../blobstore/blob-store.js";
import type { MaintainedStore } from "../location/maintained-store.js";
import { hashKey } from "../meta/hash-key.js";
import type { StoreSnapshot } from "../meta/store-snapshot.js";
import { decodeHeader } from "../superchunk/decode-header.js";
import { entryOffsets } from "../superchunk/entry-offsets.js";
import type { SuperChunkHeader } from "../superchunk/superchunk-header.js";
import type { SubBlockId, SuperChunkId } from "../types.js";

interface Place {
  readonly sc: number;
  readonly offset: number;
}

/** What the rebuild changed. */
export interface RebuildOutcome {
  rowsRelocated: number;
  superChunksAdopted: number;
  superChunkRowsFixed: number;
  refcountRowsFixed: number;
}

/** Decodes the header of every super-chunk file that has one; bad files are skipped. */
async function readHeaders(
  ms: MaintainedStore,
): Promise<Map<number, { h: SuperChunkHeader; bytes: number }>> {
  const out = new Map<number, { h: SuperChunkHeader; bytes: number }>();
  for await (const key of ms.blobs.list("sc/")) {
    const id = parseSuperChunkKey(key);
    if (id === undefined) continue;
    try {
      const file = await ms.blobs.get(key);
      out.set(id, { h: decodeHeader(file), bytes: file.length });
    } catch {
      // unreadable: its rows stay where they are (fsck reports them)
    }
  }
  return out;
}

/** Rebuilds the index from the headers and the refcounts from the tree. */
export async function rebuildIndex(
  ms: MaintainedStore,
  snap: StoreSnapshot,
): Promise<RebuildOutcome> {
  const headers = await readHeaders(ms);
  const where = new Map<string, Place>(); // hkey:length -> first entry holding it
  const holds = new Set<string>(); // sc:offset:hkey:length of every entry
  for (const [sc, { h }] of headers) {
    const offs = entryOffsets(h);
    h.entries.forEach((e, i) => {
      const k = `${hashKey(e.hash)}:${e.length}`;
      holds.add(`${sc}:${offs[i]}:${k}`);
      if (!where.has(k) || !snap.superChunks.has(where.get(k)!.sc))
        where.set(k, { sc, offset: offs[i]! });
    });
  }
  const out: RebuildOutcome = {
    rowsRelocated: 0,
    superChunksAdopted: 0,
    superChunkRowsFixed: 0,
    refcountRowsFixed: 0,
  };
  const rw = ms.rewrite;
  rw.transaction(() => {
    const adopt = (sc: number) => {
      if (snap.superChunks.has(sc)) return;
      const { h, bytes } = headers.get(sc)!;
      rw.insertSuperChunk({
        id: sc as SuperChunkId,
        codec: h.codec,
        rawBytes: h.rawBytes,
        storedBytes: bytes,
        subBlocks: h.entries.length,
      });
      snap.superChunks.set(sc, {
        id: sc as SuperChunkId,
        codec: h.codec,
        rawBytes: h.rawBytes,
        storedBytes: bytes,
        liveBytes: 0,
        subBlocks: h.entries.length,
      });
      out.superChunksAdopted++;
    };
    for (const sb of snap.subBlocks.values()) {
      const k = `${sb.hkey}:${sb.length}`;
      if (holds.has(`${sb.superChunk}:${sb.offset}:${k}`)) continue;
      const p = where.get(k);
      if (p === undefined) continue;
      adopt(p.sc);
      rw.moveSubBlock(sb.id as SubBlockId, p.sc as SuperChunkId, p.offset);
      out.rowsRelocated++;
    }
    for (const sc of snap.superChunks.values()) {
      const f = headers.get(sc.id);
      if (f === undefined) continue;
      const same =
        f.h.codec === sc.codec &&
        f.h.rawBytes === sc.rawBytes &&
        f.bytes === sc.storedBytes &&
        f.h.entries.length === sc.subBlocks;
      if (same) continue;
      rw.fixSuperChunk(sc.id, {
        codec: f.h.codec,
        rawBytes: f.h.rawBytes,
        storedBytes: f.bytes,
        subBlocks: f.h.entries.length,
      });
      out.superChunkRowsFixed++;
    }
    const r = rw.recomputeRefcounts();
    out.refcountRowsFixed = r.contents + r.subBlocks + r.superChunks;
  });
  return out;
}
