/**
 * Write phase of pack: unique sub-blocks are read again from the source in the
 * planned order, checked against their scan-time hash, packed into super-chunks,
 * compressed on the codec pool and written to the blob store. At most
 * `threads + 1` super-chunks are in flight, which bounds memory. Super-chunks of dense
 * sub-blocks are compressed at the codec's dense level (codec/dense.ts), and last: they
 * take a fraction of the others' time, so they fill the cores while the last others end.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import type { BlobStore } from "../blobstore/blob-store.js";
import { superChunkKey } from "../blobstore/blob-store.js";
import type { CodecName } from "../codec/codec.js";
import type { CodecPool } from "../codec/codec-pool.js";
import { getCodec } from "../codec/codec-registry.js";
import { levelFor } from "../codec/dense.js";
import { CorruptError, wrapFsError } from "../errors.js";
import { SuperChunkBuilder } from "../superchunk/superchunk-builder.js";
import type { SubBlockHash } from "../types.js";
import type { PackIndex } from "./pack-index.js";
import type { PackHooks, PackOptions } from "./pack-options.js";

/** Where each unique sub-block landed, and what each super-chunk holds. */
export interface WrittenSuperChunk {
  readonly id: number;
  /** the codec the payload was stored with (`none` when compressing did not pay) */
  readonly codec: CodecName;
  readonly rawBytes: number;
  readonly storedBytes: number;
  readonly count: number;
}

export interface WriteResult {
  readonly superChunks: WrittenSuperChunk[];
  /** per unique index: super-chunk id */
  readonly uSuperChunk: Uint32Array;
  /** per unique index: offset in the super-chunk's raw payload */
  readonly uOffset: Float64Array;
  readonly storedBytes: number;
  /** raw bytes of the super-chunks compressed at the codec's dense level */
  readonly denseBytes: number;
}

export async function writeSuperChunks(
  index: PackIndex,
  groups: readonly Uint32Array[],
  blobs: BlobStore,
  pool: CodecPool,
  opts: PackOptions,
  hooks: PackHooks,
): Promise<WriteResult> {
  const n = index.uniqueCount;
  const uSuperChunk = new Uint32Array(n);
  const uOffset = new Float64Array(n);
  const written: WrittenSuperChunk[] = [];
  const reader = new SourceReader(index);
  // jobs compressing or being written; at most threads + 1, and a new one starts as soon as
  // any of them ends (not the oldest: super-chunks take very different times to compress)
  const inFlight = new Set<Promise<void>>();
  let bytesDone = 0;
  let storedBytes = 0;
  let denseBytes = 0;
  const codec = getCodec(opts.codec);
  hooks.onProgress?.({
    phase: "write",
    filesDone: 0,
    filesTotal: groups.length,
    bytesDone: 0,
    bytesTotal: index.uniqueBytes,
  });
  try {
    for (const g of writeOrder(groups, index)) {
      const id = g + 1;
      const level = levelFor(codec, opts.level, index.uDense(groups[g]![0]!));
      const builder = new SuperChunkBuilder({
        targetBytes: opts.superChunkBytes,
        codec: opts.codec,
        level,
        pool,
      });
      for (const u of groups[g]!) {
        uSuperChunk[u] = id;
        uOffset[u] = builder.add(index.uHash(u) as SubBlockHash, reader.read(u));
      }
      const job = builder.finalize().then(async ({ bytes, header }) => {
        await blobs.put(superChunkKey(id), bytes);
        storedBytes += bytes.length;
        if (level !== opts.level) denseBytes += header.rawBytes;
        written.push({
          id,
          codec: header.codec,
          rawBytes: header.rawBytes,
          storedBytes: bytes.length,
          count: header.entries.length,
        });
        // reported when written (compression is the slow part), not when handed over
        bytesDone += header.rawBytes;
        hooks.onProgress?.({
          phase: "write",
          filesDone: written.length,
          filesTotal: groups.length,
          bytesDone,
          bytesTotal: index.uniqueBytes,
        });
      });
      inFlight.add(job);
      // a failed job stays in the set, so the race below or the final wait reports it; this
      // handler also keeps an early failure from going unhandled
      job.then(
        () => inFlight.delete(job),
        () => {},
      );
      if (inFlight.size > opts.threads) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  } finally {
    await Promise.allSettled(inFlight);
    reader.close();
  }
  written.sort((a, b) => a.id - b.id);
  return { superChunks: written, uSuperChunk, uOffset, storedBytes, denseBytes };
}

/**
 * Group indices in the order they are compressed: the others first, then the dense ones
 * (the plan never mixes the two in a group), each in plan order. Ids follow the plan.
 */
function writeOrder(groups: readonly Uint32Array[], index: PackIndex): Uint32Array {
  const out = new Uint32Array(groups.length);
  let n = 0;
  for (const dense of [false, true])
    for (let g = 0; g < groups.length; g++)
      if (index.uDense(groups[g]![0]!) === dense) out[n++] = g;
  return out.subarray(0, n);
}

/** Reads unique sub-blocks back from the source files, with a small cache of open descriptors. */
class SourceReader {
  private readonly fds = new Map<number, number>();

  constructor(private readonly index: PackIndex) {}

  read(u: number): Buffer {
    const entry = this.index.uEntry(u);
    const abs = this.index.entries.abs(entry);
    const len = this.index.uLength(u);
    const buf = Buffer.allocUnsafe(len);
    try {
      const fd = this.fd(entry, abs);
      let got = 0;
      while (got < len) {
        const r = fs.readSync(fd, buf, got, len - got, this.index.uOffset(u) + got);
        if (r === 0) break;
        got += r;
      }
      if (got !== len) throw new Error("file became shorter");
    } catch (err) {
      throw wrapFsError(err, abs.toString(), "re-read during pack");
    }
    const hash = createHash("sha256").update(buf).digest();
    if (!hash.equals(this.index.uHash(u))) {
      throw new CorruptError("E_SOURCE_CHANGED", `${abs.toString()}: changed while being packed`, {
        path: abs.toString(),
        offset: this.index.uOffset(u),
      });
    }
    return buf;
  }

  private fd(entry: number, abs: Buffer): number {
    let fd = this.fds.get(entry);
    if (fd === undefined) {
      if (this.fds.size >= 64) this.closeOldest();
      fd = fs.openSync(abs, "r");
      this.fds.set(entry, fd);
    }
    return fd;
  }

  private closeOldest(): void {
    const [entry, fd] = this.fds.entries().next().value as [number, number];
    fs.closeSync(fd);
    this.fds.delete(entry);
  }

  close(): void {
    for (const fd of this.fds.values()) fs.closeSync(fd);
    this.fds.clear();
  }
}
