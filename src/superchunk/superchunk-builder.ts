/**
 * SuperChunkBuilder: collects sub-blocks until the target size, then compresses them
 * as one payload (on the codec pool) and lays out the file bytes. After laying them
 * out it decodes its own header back and checks every field, and by default inflates
 * the payload back and compares it. Any failure makes the builder permanently unusable.
 */
import { crc32 } from "node:zlib";
import { checkLevel } from "../codec/bounds.js";
import type { CodecName } from "../codec/codec.js";
import type { CodecPool } from "../codec/codec-pool.js";
import { getCodec } from "../codec/codec-registry.js";
import { assert, InternalError, UsageError } from "../errors.js";
import { HASH_BYTES, SUPERCHUNK_MAX_BYTES, type SubBlockHash } from "../types.js";
import { decodeHeader } from "./decode-header.js";
import { encodeHeader, type SuperChunkHeaderInput } from "./encode-header.js";
import type { SuperChunkEntry, SuperChunkHeader } from "./superchunk-header.js";
import { SUPERCHUNK_MAX_ENTRIES } from "./superchunk-layout.js";

/** Options of a SuperChunkBuilder. */
export interface SuperChunkBuilderOptions {
  /** raw payload size to fill to, 1..SUPERCHUNK_MAX_BYTES (usually SUPERCHUNK_TARGET_BYTES) */
  targetBytes: number;
  /** codec of the payload; "none" is used instead whenever compression does not shrink it */
  codec: CodecName;
  /** codec level, within the codec's bounds */
  level: number;
  /** where compression runs */
  pool: CodecPool;
  /** inflate the payload back and compare before returning; default true */
  verify?: boolean;
}

/** The finished super-chunk: its file bytes and its decoded header. */
export interface FinishedSuperChunk {
  bytes: Buffer;
  header: SuperChunkHeader;
}

/**
 * Builds one super-chunk file.
 * @example
 * const b = new SuperChunkBuilder({ targetBytes: SUPERCHUNK_TARGET_BYTES, codec: "zstd", level: 19, pool });
 * while (b.fits(block.length)) b.add(hashSubBlock(block), block);
 * const { bytes, header } = await b.finalize();
 */
export class SuperChunkBuilder {
  readonly #opts: Required<SuperChunkBuilderOptions>;
  #buf: Buffer | undefined;
  #rawBytes = 0;
  #entries: SuperChunkEntry[] = [];
  #state: "open" | "finalizing" | "done" = "open";
  #broken: unknown;

  constructor(opts: SuperChunkBuilderOptions) {
    const t = opts.targetBytes;
    if (!Number.isInteger(t) || t < 1 || t > SUPERCHUNK_MAX_BYTES) {
      throw new UsageError(
        "E_USAGE",
        `super-chunk target must be 1..${SUPERCHUNK_MAX_BYTES} bytes, got ${t}`,
      );
    }
    checkLevel(getCodec(opts.codec), opts.level);
    this.#opts = { verify: true, ...opts };
  }

  /** Raw bytes added so far. */
  get rawBytes(): number {
    return this.#rawBytes;
  }

  /** Sub-blocks added so far. */
  get count(): number {
    return this.#entries.length;
  }

  /** True if a sub-block of `length` bytes still fits; always true while empty. */
  fits(length: number): boolean {
    this.#checkOpen();
    if (this.#entries.length === 0) return true;
    return (
      this.#rawBytes + length <= this.#opts.targetBytes &&
      this.#entries.length < SUPERCHUNK_MAX_ENTRIES
    );
  }

  /** Copies a sub-block in; returns its offset in the raw payload. Throws if it does not fit. */
  add(hash: SubBlockHash, data: Uint8Array): number {
    this.#checkOpen();
    try {
      return this.#add(hash, data);
    } catch (err) {
      this.#broken = err;
      throw err;
    }
  }

  /**
   * Takes a payload already laid out, sub-block after sub-block as `entries` list them, on
   * an empty builder, without copying it: `payload` must not change until `finalize` ends.
   */
  adopt(payload: Buffer, entries: readonly SuperChunkEntry[]): void {
    this.#checkOpen();
    if (this.#entries.length > 0) throw new UsageError("E_USAGE", "adopt needs an empty builder");
    const total = entries.reduce((n, e) => n + e.length, 0);
    if (total !== payload.byteLength || total > SUPERCHUNK_MAX_BYTES || entries.length === 0) {
      throw new UsageError("E_USAGE", `entries cover ${total} of ${payload.byteLength} bytes`);
    }
    if (entries.length > SUPERCHUNK_MAX_ENTRIES) {
      throw new UsageError("E_USAGE", `${entries.length} sub-blocks do not fit`);
    }
    // every entry checked before any is taken: a refused payload leaves the builder empty
    const checked = entries.map((e) => entryOf(e.hash, e.length));
    this.#entries.push(...checked);
    this.#buf = payload;
    this.#rawBytes = total;
  }

  /** Compresses and lays out the file; the builder is spent afterwards (or broken on error). */
  async finalize(): Promise<FinishedSuperChunk> {
    this.#checkOpen();
    this.#state = "finalizing";
    try {
      const done = await this.#finalize();
      this.#state = "done";
      this.#buf = undefined;
      return done;
    } catch (err) {
      this.#broken = err;
      throw err;
    }
  }

  #checkOpen(): void {
    if (this.#broken !== undefined) throw this.#broken;
    if (this.#state !== "open")
      throw new UsageError("E_USAGE", `super-chunk builder is ${this.#state}`);
  }

  #add(hash: SubBlockHash, data: Uint8Array): number {
    const entry = entryOf(hash, data.byteLength);
    if (!this.fits(data.byteLength) || this.#rawBytes + data.byteLength > SUPERCHUNK_MAX_BYTES) {
      throw new UsageError("E_USAGE", `sub-block of ${data.byteLength} bytes does not fit`, {
        rawBytes: this.#rawBytes,
        targetBytes: this.#opts.targetBytes,
      });
    }
    const offset = this.#rawBytes;
    this.#reserve(offset + data.byteLength).set(data, offset);
    this.#rawBytes += data.byteLength;
    this.#entries.push(entry);
    return offset;
  }

  /** The payload buffer, grown to hold at least `need` bytes. */
  #reserve(need: number): Buffer {
    const have = this.#buf?.byteLength ?? 0;
    if (need <= have) return this.#buf!;
    const size = Math.min(SUPERCHUNK_MAX_BYTES, Math.max(need, this.#opts.targetBytes, have * 2));
    const grown = Buffer.allocUnsafe(size);
    this.#buf?.copy(grown, 0, 0, this.#rawBytes);
    this.#buf = grown;
    return grown;
  }

  async #finalize(): Promise<FinishedSuperChunk> {
    if (this.#entries.length === 0)
      throw new UsageError("E_USAGE", "cannot finalize an empty super-chunk");
    const raw = this.#buf!.subarray(0, this.#rawBytes);
    const { codec, level, pool } = this.#opts;
    let stored = codec === "none" ? raw : await pool.compress(codec, level, raw);
    const used: CodecName = stored.byteLength < raw.byteLength ? codec : "none";
    if (used === "none") stored = raw;
    const input: SuperChunkHeaderInput = {
      codec: used,
      rawBytes: raw.byteLength,
      storedBytes: stored.byteLength,
      rawCrc: crc32(raw),
      storedCrc: crc32(stored),
      entries: this.#entries,
    };
    const bytes = Buffer.concat([encodeHeader(input), stored]);
    const header = decodeHeader(bytes);
    verifyHeader(header, input, bytes);
    if (this.#opts.verify && used !== "none") await verifyPayload(pool, header, stored, raw);
    return { bytes, header };
  }
}

/** A sub-block's entry, its hash copied: E_USAGE unless a 32-byte hash and a length. */
function entryOf(hash: Uint8Array, length: number): SuperChunkEntry {
  if (hash.byteLength !== HASH_BYTES)
    throw new UsageError("E_USAGE", "sub-block hash must be 32 bytes");
  if (!(length > 0)) throw new UsageError("E_USAGE", "empty sub-block");
  return { hash: Buffer.from(hash) as SubBlockHash, length };
}

/** Checks that the header read back says exactly what was written. */
function verifyHeader(h: SuperChunkHeader, input: SuperChunkHeaderInput, bytes: Buffer): void {
  const same =
    h.codec === input.codec &&
    h.rawBytes === input.rawBytes &&
    h.storedBytes === input.storedBytes &&
    h.rawCrc === input.rawCrc &&
    h.storedCrc === input.storedCrc &&
    h.entries.length === input.entries.length &&
    h.headerBytes + h.storedBytes === bytes.byteLength;
  assert(same, "super-chunk header does not read back as written");
  for (let i = 0; i < h.entries.length; i++) {
    const a = h.entries[i]!;
    const b = input.entries[i]!;
    assert(a.length === b.length && a.hash.equals(b.hash), "entry does not read back", {
      entry: i,
    });
  }
}

/** Inflates the stored payload back and compares it with the raw payload. */
async function verifyPayload(
  pool: CodecPool,
  h: SuperChunkHeader,
  stored: Buffer,
  raw: Buffer,
): Promise<void> {
  let back: Buffer;
  try {
    back = await pool.inflate(h.codec, stored, h.rawBytes);
  } catch (err) {
    throw new InternalError(`${h.codec} payload does not inflate back`, { codec: h.codec }, err);
  }
  assert(back.equals(raw), "payload inflates to different bytes", { codec: h.codec });
}
