/**
 * The work of one scan job: reads one file, cuts it into sub-blocks, hashes each one
 * and the whole file, sketches each for similarity ordering and marks the dense ones
 * (codec/dense.ts). Run by scan-worker.ts on a
 * worker thread; pure apart from reading the file.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import type { ChunkerParams } from "../chunker/chunker-params.js";
import { nextCut } from "../chunker/fastcdc.js";
import { isDense } from "../codec/dense.js";
import { wrapFsError } from "../errors.js";
import { SKETCH_WORDS, sketchSubBlock } from "../similarity/sketch.js";
import { HASH_BYTES } from "../types.js";
import type { ScanRequest, ScanResult } from "./scan-protocol.js";

const WINDOW_BYTES = 8 * 1024 * 1024;
/** The read window, allocated once per thread and reused for every file: a fresh 8 MiB
 * buffer per file costs an allocation and a GC of external memory for each small file. */
let window: Buffer | undefined;

function readWindow(params: ChunkerParams): Buffer {
  const want = WINDOW_BYTES + params.maxBytes;
  if (window === undefined || window.length !== want) window = Buffer.allocUnsafeSlow(want);
  return window;
}

/** Scans one file; pure apart from reading it. */
export function scanFile(req: ScanRequest): ScanResult {
  const fd = openFile(req.path);
  try {
    return scanFd(fd, req.params);
  } catch (err) {
    throw wrapFsError(err, Buffer.from(req.path).toString(), "read");
  } finally {
    fs.closeSync(fd);
  }
}

function openFile(p: Uint8Array): number {
  try {
    return fs.openSync(Buffer.from(p), "r");
  } catch (err) {
    throw wrapFsError(err, Buffer.from(p).toString(), "open");
  }
}

function scanFd(fd: number, params: ChunkerParams): ScanResult {
  const buf = readWindow(params);
  const fileHash = createHash("sha256");
  const hashes: Buffer[] = [];
  const lengths: number[] = [];
  const zero: number[] = [];
  const dense: number[] = [];
  const sketches: Uint32Array[] = [];
  let filled = 0;
  let eof = false;
  let size = 0;
  while (!eof || filled > 0) {
    while (!eof && filled < buf.length) {
      const n = fs.readSync(fd, buf, filled, buf.length - filled, null);
      if (n === 0) eof = true;
      filled += n;
    }
    let pos = 0;
    while (pos < filled && (eof || filled - pos >= params.maxBytes)) {
      const cut = nextCut(buf, pos, filled, params);
      const piece = buf.subarray(pos, cut);
      fileHash.update(piece);
      lengths.push(piece.length);
      const isZero = allZero(piece);
      zero.push(isZero ? 1 : 0);
      dense.push(!isZero && isDense(piece) ? 1 : 0);
      hashes.push(isZero ? Buffer.alloc(HASH_BYTES) : createHash("sha256").update(piece).digest());
      sketches.push(isZero ? new Uint32Array(SKETCH_WORDS) : sketchSubBlock(piece));
      size += piece.length;
      pos = cut;
    }
    buf.copyWithin(0, pos, filled);
    filled -= pos;
  }
  return pack(fileHash.digest(), size, hashes, lengths, { zero, dense }, sketches);
}

function pack(
  fileHash: Buffer,
  size: number,
  hashes: Buffer[],
  lengths: number[],
  flags: { zero: number[]; dense: number[] },
  sketches: Uint32Array[],
): ScanResult {
  const sk = new Uint32Array(sketches.length * SKETCH_WORDS);
  sketches.forEach((s, i) => {
    sk.set(s, i * SKETCH_WORDS);
  });
  return {
    fileHash: new Uint8Array(fileHash),
    size,
    hashes: new Uint8Array(Buffer.concat(hashes)),
    lengths: Uint32Array.from(lengths),
    zero: Uint8Array.from(flags.zero),
    dense: Uint8Array.from(flags.dense),
    sketches: sk,
  };
}

/** True when every byte is zero; data rarely passes the first bytes, zero runs cost one pass. */
function allZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.byteLength; i++) if (b[i] !== 0) return false;
  return true;
}
