/**
 * The Codec contract: one compression algorithm, addressed by name in options and by a
 * one-byte id on disk. Every inflate is bounded by the length the caller declares.
 */

/** Names of the codecs superchunk knows. */
export type CodecName = "zstd" | "xz" | "lz4" | "none";

/** Ids stored in super-chunk headers. Values are on disk: never renumber. */
export const CODEC_IDS: Readonly<Record<CodecName, number>> = {
  none: 0,
  zstd: 1,
  xz: 2,
  lz4: 3,
};

/** One compression algorithm. Implementations register themselves in the registry. */
export interface Codec {
  /** Name used in options, the CLI and the worker protocol. */
  readonly name: CodecName;
  /** Id stored on disk (see {@link CODEC_IDS}). */
  readonly id: number;
  /** Level used when the caller has no preference. */
  readonly defaultLevel: number;
  /** Smallest accepted level; lower throws E_USAGE. */
  readonly minLevel: number;
  /** Largest accepted level; higher throws E_USAGE. */
  readonly maxLevel: number;
  /**
   * Level for a super-chunk of dense sub-blocks (dense.ts) when the chosen level is higher;
   * undefined when the chosen level always applies.
   */
  readonly denseLevel?: number;
  /** Compresses `raw` at `level`. The result never shares memory with `raw`. */
  compress(raw: Uint8Array, level: number): Buffer | Promise<Buffer>;
  /**
   * Inflates `data`; the result is exactly `rawLength` bytes. More or fewer throws
   * CorruptError("E_INFLATE_BOUND"); a damaged stream throws CorruptError("E_CORRUPT").
   * Never allocates more than `rawLength` plus a small constant slack.
   */
  inflate(data: Uint8Array, rawLength: number): Buffer | Promise<Buffer>;
  /**
   * Inflates into `out` (any memory, shared included): the whole payload when `out.length` is
   * `rawLength` (checked as by `inflate`), else only its first `out.length` bytes, stopping
   * there; a stream that ends early throws CorruptError("E_INFLATE_BOUND"). Optional: codecs
   * without it are inflated whole and copied.
   */
  inflateInto?(data: Uint8Array, rawLength: number, out: Uint8Array): void;
}

/** The codec name stored under on-disk `id`, or undefined when this build has none. */
export function codecNameOfId(id: number): CodecName | undefined {
  for (const [name, value] of Object.entries(CODEC_IDS)) {
    if (value === id) return name as CodecName;
  }
  return undefined;
}
