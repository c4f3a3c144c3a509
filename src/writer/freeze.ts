/**
 * Freezing open super-chunks and deleting dead ones.
 *
 * Freeze: the raw file's committed bytes are compressed with the store's codec into a
 * normal super-chunk file (SuperChunkBuilder: same raw payload, so every sub-block keeps
 * its offset), written and fsynced under sc/, then one transaction switches the row from
 * "open" to the file's codec and sizes, then the raw file is removed. An open
 * super-chunk none of whose sub-blocks is used is deleted instead (rows, then raw file).
 *
 * Reap: frozen super-chunks with no live sub-block lose their rows in one transaction,
 * and only then their files. A crash in between leaves an orphan file, removed at the
 * next open.
 */
import { createHash } from "node:crypto";
import { type BlobStore, superChunkKey } from "../blobstore/blob-store.js";
import type { CodecName } from "../codec/codec.js";
import type { CodecPool } from "../codec/codec-pool.js";
import { assert } from "../errors.js";
import type { MetaDb } from "../meta/meta-db.js";
import { markCompactPending } from "../store/compact-pending.js";
import { type FinishedSuperChunk, SuperChunkBuilder } from "../superchunk/superchunk-builder.js";
import { MIB, SUPERCHUNK_TARGET_BYTES, type SubBlockHash, type SuperChunkId } from "../types.js";
import { BufferPool } from "../workingset/buffer-pool.js";
import type { DedupCheck } from "./dedup-check.js";
import type { OpenChunk, OpenSuperChunks } from "./open-superchunks.js";

/** What freezing needs from the store. */
export interface FreezeDeps {
  readonly meta: MetaDb;
  readonly open: OpenSuperChunks;
  readonly blobs: BlobStore;
  readonly dedup: DedupCheck;
  readonly pool: CodecPool;
  readonly codec: CodecName;
  readonly level: number;
}

/** A sealed open super-chunk's committed bytes, read for freezing. */
export interface FreezeInput {
  readonly id: number;
  /** a pooled buffer: writeFrozen gives it back, so it is passed there exactly once */
  readonly raw: Buffer;
  readonly lengths: readonly number[];
  /** each sub-block's SHA-256 when known (appended by this process), else hashed again */
  readonly hashes: readonly (Buffer | undefined)[];
}

/**
 * First phase, under the store's mutex: an open super-chunk nothing uses is deleted at once
 * (rows, then raw file; answers undefined); otherwise its committed bytes and sub-block
 * lengths are read. The chunk must be sealed, so no commit appends to it meanwhile.
 */
export function readForFreeze(deps: FreezeDeps, c: OpenChunk): FreezeInput | undefined {
  const { meta, open } = deps;
  const rec = meta.getSuperChunk(c.id);
  assert(rec !== undefined, "open super-chunk has no row", { superChunkId: c.id });
  if (rec.liveBytes === 0 || c.committedBytes === 0) {
    meta.transaction(() => meta.writes.deleteSuperChunk(c.id));
    open.drop(c.id);
    return undefined;
  }
  const lengths: number[] = [];
  const hashes: (Buffer | undefined)[] = [];
  let pos = 0;
  for (const s of meta.listSubBlocks(c.id)) {
    assert(s.offset === pos, "open super-chunk rows do not tile it", { superChunkId: c.id, pos });
    lengths.push(s.length);
    hashes.push(c.hashes.get(pos));
    pos += s.length;
  }
  const n = c.committedBytes;
  assert(pos === n, "open super-chunk rows do not cover it", { superChunkId: c.id, pos });
  const raw = takePayload(n);
  try {
    open.read(c.id, 0, n, raw, 0);
  } catch (err) {
    givePayload(raw);
    throw err;
  }
  return { id: c.id, raw, lengths, hashes };
}

/**
 * Shared memory a freeze reads a sealed chunk into, reused from freeze to freeze (a
 * workingset/ BufferPool): the serving thread then neither faults in fresh pages for every
 * chunk read nor copies the bytes for the codec, whose workers read shared memory in place.
 * A few slabs of the usual size are kept; past them, and for larger super-chunks, a freeze
 * gets memory of its own, not kept.
 */
const KEPT_PAYLOADS = 4;
const PAYLOAD_BYTES = SUPERCHUNK_TARGET_BYTES + MIB;
const payloads = new BufferPool();

function takePayload(n: number): Buffer {
  const pooled =
    n <= PAYLOAD_BYTES ? payloads.takeNow(n, KEPT_PAYLOADS * PAYLOAD_BYTES) : undefined;
  return pooled ?? Buffer.from(new SharedArrayBuffer(n));
}

function givePayload(b: Buffer): void {
  const slab = payloads.slabOf(b);
  if (slab !== undefined) payloads.giveBack(slab);
}

/**
 * Second phase, outside the mutex (commits go on meanwhile): compresses the bytes into a
 * super-chunk file and writes it durably under sc/. Answers what the switch records.
 */
export async function writeFrozen(deps: FreezeDeps, input: FreezeInput): Promise<FrozenFile> {
  const builder = new SuperChunkBuilder({
    targetBytes: input.raw.length,
    codec: deps.codec,
    level: deps.level,
    pool: deps.pool,
  });
  let finished: FinishedSuperChunk;
  try {
    let pos = 0;
    const entries = input.lengths.map((length, i) => {
      const bytes = input.raw.subarray(pos, pos + length);
      pos += length;
      const hash = input.hashes[i] ?? createHash("sha256").update(bytes).digest();
      return { hash: hash as SubBlockHash, length };
    });
    builder.adopt(input.raw, entries);
    finished = await builder.finalize();
  } finally {
    givePayload(input.raw);
  }
  const { bytes, header } = finished;
  await deps.blobs.put(superChunkKey(input.id), bytes);
  return {
    id: input.id,
    codec: header.codec,
    rawBytes: header.rawBytes,
    storedBytes: bytes.length,
    subBlocks: header.entries.length,
  };
}

/** What a frozen super-chunk's row becomes. */
export interface FrozenFile {
  readonly id: number;
  readonly codec: CodecName;
  readonly rawBytes: number;
  readonly storedBytes: number;
  readonly subBlocks: number;
}

/**
 * Third phase, under the mutex: one transaction switches the row (and lists it as waiting for
 * compaction: it is in write order, at the fast level), then the raw file goes.
 */
export function switchFrozen(deps: FreezeDeps, f: FrozenFile): void {
  const { id, ...row } = f;
  deps.meta.transaction(() => {
    deps.meta.writes.freezeSuperChunk(id as SuperChunkId, row);
    markCompactPending(deps.meta, id);
  });
  deps.open.drop(id);
}

/** Freezes (or deletes, when all dead) one open super-chunk, all under the store's mutex. */
export async function freezeChunk(deps: FreezeDeps, c: OpenChunk): Promise<void> {
  const input = readForFreeze(deps, c);
  if (input === undefined) return;
  switchFrozen(deps, await writeFrozen(deps, input));
}

/** Deletes every frozen super-chunk with no live sub-block: rows first, then files. */
export async function reapDead(deps: FreezeDeps): Promise<number> {
  const dead = deps.meta.writes.deadSuperChunks();
  if (dead.length === 0) return 0;
  deps.meta.transaction(() => {
    for (const id of dead) deps.meta.writes.deleteSuperChunk(id);
  });
  await deps.open.syncDurable(); // the files go only once their rows' deletion is durable
  for (const id of dead) {
    deps.dedup.forget(id);
    await deps.blobs.delete(superChunkKey(id));
  }
  return dead.length;
}
