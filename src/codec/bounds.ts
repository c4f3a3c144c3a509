/**
 * Checks shared by every codec: level range, declared raw length, and the
 * E_INFLATE_BOUND error raised when output is longer or shorter than declared.
 */
import { CorruptError, UsageError } from "../errors.js";
import type { Codec, CodecName } from "./codec.js";

/** Largest raw length any codec accepts (2 GiB - 1): far above SUPERCHUNK_MAX_BYTES. */
export const CODEC_MAX_RAW_BYTES = 0x7fff_ffff;

/** Throws E_USAGE unless `level` is an integer within the codec's bounds. */
export function checkLevel(codec: Codec, level: number): void {
  if (!Number.isInteger(level) || level < codec.minLevel || level > codec.maxLevel) {
    throw new UsageError(
      "E_USAGE",
      `${codec.name} level must be an integer in [${codec.minLevel}, ${codec.maxLevel}], got ${level}`,
      { codec: codec.name, level },
    );
  }
}

/** Throws E_USAGE unless `rawLength` is an integer in [0, CODEC_MAX_RAW_BYTES]. */
export function checkRawLength(codec: CodecName, rawLength: number): void {
  if (!Number.isInteger(rawLength) || rawLength < 0 || rawLength > CODEC_MAX_RAW_BYTES) {
    throw new UsageError("E_USAGE", `${codec}: invalid declared raw length ${rawLength}`, {
      codec,
      rawLength,
    });
  }
}

/** The error for output that does not match the declared length. */
export function inflateBoundError(
  codec: CodecName,
  rawLength: number,
  detail: string,
  data: Record<string, unknown> = {},
  cause?: unknown,
): CorruptError {
  return new CorruptError(
    "E_INFLATE_BOUND",
    `${codec}: inflated size does not match the declared ${rawLength} bytes (${detail})`,
    { codec, rawLength, ...data },
    cause,
  );
}

/** The error for a stream the codec cannot decode. */
export function streamCorruptError(
  codec: CodecName,
  detail: string,
  data: Record<string, unknown> = {},
  cause?: unknown,
): CorruptError {
  return new CorruptError(
    "E_CORRUPT",
    `${codec}: damaged stream (${detail})`,
    { codec, ...data },
    cause,
  );
}

/** A Buffer view of `data` without copying. */
export function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
