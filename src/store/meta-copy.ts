/**
 * The metadata copy: a second, independently checksummed copy of a store's database, kept
 * as *metadata super-chunks* beside the data (spec/FORMAT.md, "Metadata copy"). Generation
 * `g` of the copy is the SQLite image of the database whose `meta_copy` key is `g`, cut into
 * parts of at most SUPERCHUNK_MAX_BYTES, each part an ordinary version-1 super-chunk file
 * with one entry (the SHA-256 of the part) under `sc/meta/<g: 16 hex>-<part: 4 hex>.sc`.
 * Its header's CRCs, the entry's SHA-256 and the SQLite header's own page count protect it.
 *
 * This file is the format alone: keys, encoding (from an image, or reusing the zstd frame
 * of the packed database so pack compresses once) and checked decoding.
 */
import { createHash } from "node:crypto";
import { crc32 } from "node:zlib";
import { getCodec } from "../codec/codec-registry.js";
import { CorruptError } from "../errors.js";
import { decodeHeader } from "../superchunk/decode-header.js";
import { encodeHeader } from "../superchunk/encode-header.js";
import { SUPERCHUNK_MAX_BYTES, type SubBlockHash } from "../types.js";

/** Where metadata super-chunks live, in a store directory, an archive and a bucket. */
export const META_COPY_PREFIX = "sc/meta/";
/** The `meta` table key naming the copy generation the database is (decimal). */
export const META_COPY_GENERATION_KEY = "meta_copy";
/** Raw bytes of the image in one part. */
export const META_COPY_PART_BYTES = SUPERCHUNK_MAX_BYTES;
const SQLITE_MAGIC = Buffer.from("SQLite format 3\0", "latin1");

/** The key of part `part` of copy generation `generation`. */
export function metaCopyKey(generation: number, part: number): string {
  const g = generation.toString(16).padStart(16, "0");
  return `${META_COPY_PREFIX}${g}-${part.toString(16).padStart(4, "0")}.sc`;
}

/** True for any key below sc/meta/ (a metadata super-chunk, or a temporary file of one). */
export function isMetaCopyKey(key: string): boolean {
  return key.startsWith(META_COPY_PREFIX);
}

/** Generation and part of a metadata super-chunk key, or undefined when it is not one. */
export function parseMetaCopyKey(key: string): { generation: number; part: number } | undefined {
  const m = /^sc\/meta\/([0-9a-f]{16})-([0-9a-f]{4})\.sc$/.exec(key);
  if (m === null) return undefined;
  return { generation: Number.parseInt(m[1]!, 16), part: Number.parseInt(m[2]!, 16) };
}

/** zstd level of copies written outside pack (pack reuses its packed database's level-19 frame). */
export const META_COPY_LEVEL = 9;

/** Compresses one part at META_COPY_LEVEL, on this thread (maintenance, restore). */
export function compressCopyPart(part: Buffer): Buffer {
  return getCodec("zstd").compress(part, META_COPY_LEVEL) as Buffer;
}

/** One metadata super-chunk file, from its raw part and its stored payload (codec zstd or none). */
export function encodePart(raw: Buffer, zstdFrame: Buffer | undefined): Buffer {
  const zstd = zstdFrame !== undefined && zstdFrame.length < raw.length;
  const payload = zstd ? zstdFrame : raw;
  const header = encodeHeader({
    codec: zstd ? "zstd" : "none",
    rawBytes: raw.length,
    storedBytes: payload.length,
    rawCrc: crc32(raw),
    storedCrc: crc32(payload),
    entries: [
      { hash: createHash("sha256").update(raw).digest() as SubBlockHash, length: raw.length },
    ],
  });
  return Buffer.concat([header, payload]);
}

/** The image's parts: consecutive slices of at most META_COPY_PART_BYTES. */
export function splitImage(raw: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < raw.length; at += META_COPY_PART_BYTES) {
    out.push(raw.subarray(at, Math.min(raw.length, at + META_COPY_PART_BYTES)));
  }
  return out;
}

/**
 * The metadata super-chunks of an image, each part compressed by `compress` (zstd at the
 * caller's level; e.g. on a codec pool).
 */
export async function encodeMetaCopy(
  raw: Buffer,
  compress: (part: Buffer) => Buffer | Promise<Buffer>,
): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const part of splitImage(raw)) out.push(encodePart(part, await compress(part)));
  return out;
}

/**
 * The metadata super-chunks of an image whose zstd frame is at hand already (the packed
 * database's payload): no second compression when the image fits one part.
 */
export function encodeMetaCopyFromFrame(raw: Buffer, frame: Buffer, level: number): Buffer[] {
  const parts = splitImage(raw);
  if (parts.length === 1) return [encodePart(raw, frame)];
  return parts.map((p) => encodePart(p, getCodec("zstd").compress(p, level) as Buffer));
}

/** Checks one metadata super-chunk in full and answers its raw part. */
function decodePart(file: Buffer, label: string): Buffer {
  const where = { path: label };
  const bad = (why: string) => new CorruptError("E_CORRUPT", `${label}: ${why}`, where);
  const h = decodeHeader(file, where);
  if (file.length !== h.headerBytes + h.storedBytes) throw bad("length differs from its header");
  const payload = file.subarray(h.headerBytes);
  if (crc32(payload) !== h.storedCrc) throw bad("stored checksum mismatch");
  const raw =
    h.codec === "none"
      ? Buffer.from(payload)
      : (getCodec(h.codec).inflate(payload, h.rawBytes) as Buffer);
  if (raw.length !== h.rawBytes || crc32(raw) !== h.rawCrc) throw bad("raw checksum mismatch");
  let at = 0;
  for (const e of h.entries) {
    const digest = createHash("sha256")
      .update(raw.subarray(at, at + e.length))
      .digest();
    if (!digest.equals(e.hash)) throw bad(`SHA-256 mismatch at ${at}`);
    at += e.length;
  }
  return raw;
}

/** Bytes an SQLite image declares in its header (page size × page count), or undefined. */
function declaredImageBytes(raw: Buffer): number | undefined {
  if (raw.length < 100 || !raw.subarray(0, 16).equals(SQLITE_MAGIC)) return undefined;
  const p = raw.readUInt16BE(16);
  const pageSize = p === 1 ? 65536 : p;
  return pageSize * raw.readUInt32BE(28);
}

/**
 * The SQLite image held by the parts of one copy generation, in part order, each checked
 * (header CRC, stored and raw CRCs, SHA-256), and the whole against the size the image's
 * own header declares. E_CORRUPT (or the super-chunk reader's codes) naming `label`.
 */
export function decodeMetaCopy(parts: readonly Buffer[], label: string): Buffer {
  const raws = parts.map((p, i) => decodePart(p, `${label} part ${i}`));
  const raw = Buffer.concat(raws);
  const want = declaredImageBytes(raw);
  if (want === undefined || want !== raw.length) {
    throw new CorruptError(
      "E_CORRUPT",
      `${label}: not a whole database image (${raw.length} bytes, its header says ${want ?? "nothing"})`,
      { path: label },
    );
  }
  return raw;
}
