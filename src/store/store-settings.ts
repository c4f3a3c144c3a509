/**
 * A store's settings: the codec and level of new super-chunks, the size they are filled
 * to, the chunker's parameters and the order unique sub-blocks entered super-chunks, as
 * recorded in the `meta` table of the store's database (spec/FORMAT.md, "meta"). This file
 * is the only reader and writer of those keys: their names, their text encodings, their
 * defaults and what makes a value valid are here and nowhere else.
 *
 * Values a caller gives are checked as usage (E_USAGE). Values read from a store are
 * input and are checked as data: a malformed or out-of-range value is E_CORRUPT and an
 * unknown codec E_CODEC_UNKNOWN, each naming the store (`path`) and the key (`key`).
 * A missing key reads as its default, as older stores may lack some.
 */
import { type ChunkerParams, chunkerParams } from "../chunker/chunker-params.js";
import type { Codec, CodecName } from "../codec/codec.js";
import { getCodec } from "../codec/codec-registry.js";
import { CorruptError, isCode, UnsupportedError, UsageError } from "../errors.js";
import type { MetaDb } from "../meta/meta-db.js";
import { KIB, MIB, SUPERCHUNK_MAX_BYTES, SUPERCHUNK_TARGET_BYTES } from "../types.js";

/** Order in which unique sub-blocks enter super-chunks. */
export type SubBlockOrder = "similarity" | "path";

/** A store's recorded settings; {@link storeSettings} fills the defaults given here. */
export interface StoreSettings {
  /** codec of new super-chunks; default "zstd" */
  codec: CodecName;
  /** codec level, within the codec's range; default the codec's default level */
  level: number;
  /**
   * raw bytes a super-chunk is filled to, from SUPERCHUNK_MIN_TARGET_BYTES (64 KiB) to
   * SUPERCHUNK_MAX_BYTES; default SUPERCHUNK_TARGET_BYTES (4 MiB)
   */
  superChunkBytes: number;
  /** how files are cut into sub-blocks; default chunkerParams(): cdc, avg 32 KiB, min 8, max 128 */
  chunk: ChunkerParams;
  /** order in which unique sub-blocks entered super-chunks; default "similarity" */
  order: SubBlockOrder;
}

/** Smallest super-chunk fill target accepted. */
export const SUPERCHUNK_MIN_TARGET_BYTES = 64 * KIB;

const DEFAULT_CODEC: CodecName = "zstd";
const DEFAULT_ORDER: SubBlockOrder = "similarity";

/** The `meta` key of each setting. On disk: never rename. */
const KEY = {
  codec: "codec",
  level: "level",
  superChunkBytes: "superchunk_bytes",
  chunkMinBytes: "chunk_min_bytes",
  chunkAvgBytes: "chunk_avg_bytes",
  chunkMaxBytes: "chunk_max_bytes",
  chunkMode: "chunk_mode",
  order: "order",
} as const;

/**
 * Fills the defaults of `p` and validates the result.
 * @throws UsageError E_USAGE on a value out of range; UnsupportedError E_CODEC_UNKNOWN.
 * @example
 * const s = storeSettings({ codec: "xz" }); // level 6, 4 MiB super-chunks, default chunker
 */
export function storeSettings(p: Partial<StoreSettings> = {}): StoreSettings {
  const codec = getCodec(p.codec ?? DEFAULT_CODEC);
  const s: StoreSettings = {
    codec: codec.name,
    level: p.level ?? codec.defaultLevel,
    superChunkBytes: p.superChunkBytes ?? SUPERCHUNK_TARGET_BYTES,
    chunk: chunkerParams(p.chunk),
    order: p.order ?? DEFAULT_ORDER,
  };
  const why =
    levelProblem(codec, s.level) ?? sizeProblem(s.superChunkBytes) ?? orderProblem(s.order);
  if (why !== undefined) throw new UsageError("E_USAGE", why);
  return s;
}

/**
 * The settings recorded in `meta`, missing keys read as their defaults.
 * @throws CorruptError E_CORRUPT on a malformed or out-of-range value; UnsupportedError
 *   E_CODEC_UNKNOWN on a codec this build does not know. Both carry `path` and `key`.
 * @example
 * const { codec, level } = readStoreSettings(store.meta);
 */
export function readStoreSettings(meta: MetaDb): StoreSettings {
  const r = new SettingsReader(meta);
  const codec = r.codec();
  const level = r.int(KEY.level) ?? codec.defaultLevel;
  r.check(KEY.level, levelProblem(codec, level));
  const superChunkBytes = r.int(KEY.superChunkBytes) ?? SUPERCHUNK_TARGET_BYTES;
  r.check(KEY.superChunkBytes, sizeProblem(superChunkBytes));
  const order = (r.text(KEY.order) ?? DEFAULT_ORDER) as SubBlockOrder;
  r.check(KEY.order, orderProblem(order));
  return { codec: codec.name, level, superChunkBytes, chunk: r.chunk(), order };
}

/**
 * Records the settings given in `s` (all of them, or the ones a repack changes) in `meta`;
 * keys of fields left out keep their values. `s` holds values made by
 * {@link storeSettings} (they are not checked again here).
 */
export function writeStoreSettings(meta: MetaDb, s: Partial<StoreSettings>): void {
  const put = (key: string, value: string | number | undefined) => {
    if (value !== undefined) meta.setMeta(key, String(value));
  };
  // one transaction: a kill in between must not leave a codec with the other codec's level
  meta.transaction(() => {
    put(KEY.codec, s.codec);
    put(KEY.level, s.level);
    put(KEY.superChunkBytes, s.superChunkBytes);
    put(KEY.chunkAvgBytes, s.chunk?.avgBytes);
    put(KEY.chunkMinBytes, s.chunk?.minBytes);
    put(KEY.chunkMaxBytes, s.chunk?.maxBytes);
    put(KEY.chunkMode, s.chunk?.mode);
    put(KEY.order, s.order);
  });
}

function levelProblem(codec: Codec, level: number): string | undefined {
  if (Number.isInteger(level) && level >= codec.minLevel && level <= codec.maxLevel) return;
  return `level ${level} out of range for ${codec.name} (${codec.minLevel}..${codec.maxLevel})`;
}

function sizeProblem(bytes: number): string | undefined {
  if (bytes >= SUPERCHUNK_MIN_TARGET_BYTES && bytes <= SUPERCHUNK_MAX_BYTES) return;
  return `super-chunk size must be between ${SUPERCHUNK_MIN_TARGET_BYTES / KIB}K and ${SUPERCHUNK_MAX_BYTES / MIB}M`;
}

function orderProblem(order: string): string | undefined {
  if (order === "similarity" || order === "path") return;
  return `order must be similarity or path, got ${String(order)}`;
}

/** Reads keys of one store's `meta` table; every error names the store and the key. */
class SettingsReader {
  readonly #meta: MetaDb;

  constructor(meta: MetaDb) {
    this.#meta = meta;
  }

  text(key: string): string | undefined {
    return this.#meta.getMeta(key);
  }

  /** A decimal integer, or undefined when the key is missing. */
  int(key: string): number | undefined {
    const v = this.text(key);
    if (v === undefined) return undefined;
    if (!/^-?[0-9]+$/.test(v) || !Number.isSafeInteger(Number(v))) {
      throw this.#bad(key, "not a decimal integer");
    }
    return Number(v);
  }

  /** Throws E_CORRUPT naming `key` when `why` says what is wrong with its value. */
  check(key: string, why: string | undefined, cause?: unknown): void {
    if (why !== undefined) throw this.#bad(key, why, cause);
  }

  codec(): Codec {
    const name = this.text(KEY.codec) ?? DEFAULT_CODEC;
    try {
      return getCodec(name);
    } catch (err) {
      throw new UnsupportedError(
        "E_CODEC_UNKNOWN",
        `${this.#meta.path}: store setting ${KEY.codec} names an unknown codec ${JSON.stringify(name)}`,
        { path: this.#meta.path, key: KEY.codec, value: name },
        err,
      );
    }
  }

  /** The chunker's parameters; a value the chunker rejects names the first key that breaks its rules. */
  chunk(): ChunkerParams {
    const mode = this.text(KEY.chunkMode) ?? "cdc";
    if (mode !== "cdc" && mode !== "fixed") throw this.#bad(KEY.chunkMode, 'not "cdc" or "fixed"');
    const avgBytes = this.int(KEY.chunkAvgBytes);
    const minBytes = this.int(KEY.chunkMinBytes);
    const maxBytes = this.int(KEY.chunkMaxBytes);
    const steps: [string, Partial<ChunkerParams>][] = [
      [KEY.chunkAvgBytes, { avgBytes }],
      [KEY.chunkMinBytes, { avgBytes, minBytes }],
      [KEY.chunkMaxBytes, { avgBytes, minBytes, maxBytes, mode }],
    ];
    let params = chunkerParams();
    for (const [key, given] of steps) {
      const p = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
      try {
        params = chunkerParams(p as Partial<ChunkerParams>);
      } catch (err) {
        if (!isCode(err, "E_USAGE")) throw err;
        this.check(key, (err as Error).message, err);
      }
    }
    return params;
  }

  #bad(key: string, why: string, cause?: unknown): CorruptError {
    const where = this.#meta.path;
    const value = this.text(key);
    return new CorruptError(
      "E_CORRUPT",
      `${where}: store setting ${key} ${JSON.stringify(value)} is invalid: ${why}`,
      { path: where, key, value },
      cause,
    );
  }
}
