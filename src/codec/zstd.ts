/**
 * The zstd codec (zstd-napi, libzstd). One standard zstd frame with the content size
 * recorded and no frame checksum (the super-chunk header carries CRC-32s). The window
 * is sized to the whole input (2^ceil(log2 n), at most 2^27), so a match can reach
 * back to the first byte of a super-chunk whatever the level.
 *
 * Inflate decodes in one pass straight into a buffer of exactly the declared length:
 * libzstd fails with "Destination buffer is too small" rather than write past it, so
 * a frame that claims or produces more is rejected without allocating it.
 */
import binding from "zstd-napi/binding.js";
import { checkLevel, checkRawLength, inflateBoundError, streamCorruptError } from "./bounds.js";
import { CODEC_IDS, type Codec } from "./codec.js";
import { registerCodec } from "./codec-table.js";

/** Smallest and largest window exponents this codec writes. */
const WINDOW_LOG_MIN = 10;
const WINDOW_LOG_MAX = 27;

let cctx: binding.CCtx | undefined;
let dctx: binding.DCtx | undefined;

/** Window exponent that covers `length` bytes. */
function windowLogFor(length: number): number {
  const log = Math.ceil(Math.log2(Math.max(length, 1)));
  return Math.min(WINDOW_LOG_MAX, Math.max(WINDOW_LOG_MIN, log));
}

/** Compresses `raw` at `level` on this thread (the codec's compress, typed as synchronous). */
export function compressZstd(raw: Uint8Array, level: number): Buffer {
  checkLevel(zstdCodec, level);
  cctx ??= new binding.CCtx();
  cctx.reset(binding.ResetDirective.sessionAndParameters);
  cctx.setParameter(binding.CParameter.compressionLevel, level);
  cctx.setParameter(binding.CParameter.windowLog, windowLogFor(raw.byteLength));
  cctx.setParameter(binding.CParameter.checksumFlag, 0);
  const dest = Buffer.allocUnsafe(binding.compressBound(raw.byteLength));
  const written = cctx.compress2(dest, raw);
  return Buffer.from(dest.subarray(0, written));
}

function inflateZstd(data: Uint8Array, rawLength: number): Buffer {
  checkRawLength("zstd", rawLength);
  const out = Buffer.allocUnsafe(rawLength);
  inflateIntoZstd(data, rawLength, out);
  return out;
}

/** Whole payload into `out` (out.length === rawLength), or its first out.length bytes. */
function inflateIntoZstd(data: Uint8Array, rawLength: number, out: Uint8Array): void {
  checkRawLength("zstd", rawLength);
  dctx ??= new binding.DCtx();
  if (out.length < rawLength) {
    streamPrefix(dctx, data, rawLength, out);
    return;
  }
  let produced: number;
  try {
    produced = dctx.decompress(out.subarray(0, rawLength), data);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/too small/i.test(message))
      throw inflateBoundError("zstd", rawLength, "the stream holds more", {}, err);
    throw streamCorruptError("zstd", message, {}, err);
  }
  if (produced !== rawLength) {
    throw inflateBoundError("zstd", rawLength, `got ${produced}`, { produced });
  }
}

/** Streams the frame into `out` until it is full, then drops the rest. */
function streamPrefix(ctx: binding.DCtx, data: Uint8Array, rawLength: number, out: Uint8Array) {
  ctx.reset(binding.ResetDirective.sessionOnly);
  const want = out.length;
  let produced = 0;
  let consumed = 0;
  while (produced < want) {
    let step: [number, number, number];
    try {
      step = ctx.decompressStream(out.subarray(produced), data.subarray(consumed));
    } catch (err) {
      throw streamCorruptError("zstd", err instanceof Error ? err.message : String(err), {}, err);
    }
    produced += step[1];
    consumed += step[2];
    if (produced < want && (step[0] === 0 || (step[1] === 0 && step[2] === 0))) {
      throw inflateBoundError("zstd", rawLength, `stream ended after ${produced}`, { produced });
    }
  }
}

/** zstd levels 1..22; the default is 19. */
export const zstdCodec: Codec = {
  name: "zstd",
  id: CODEC_IDS.zstd,
  defaultLevel: 19,
  minLevel: 1,
  maxLevel: binding.maxCLevel(),
  // dense data: 9 is within 0.15 % of 19 at a fourteenth of its time (dense.ts)
  denseLevel: 9,
  compress: compressZstd,
  inflate: inflateZstd,
  inflateInto: inflateIntoZstd,
};

registerCodec(zstdCodec);
