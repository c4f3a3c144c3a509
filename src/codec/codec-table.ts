/**
 * The table behind the codec registry, keyed by name and by on-disk id. Each codec
 * file registers itself here on import; import `codec-registry.ts` (which imports
 * every codec file) to look codecs up.
 */
import { assert, UnsupportedError } from "../errors.js";
import type { Codec, CodecName } from "./codec.js";

const byName = new Map<string, Codec>();
const byId = new Map<number, Codec>();

/** Adds a codec; registering the same name or id twice is a bug. */
export function registerCodec(codec: Codec): void {
  assert(!byName.has(codec.name), "codec registered twice", { codec: codec.name });
  assert(!byId.has(codec.id), "codec id registered twice", { id: codec.id });
  byName.set(codec.name, codec);
  byId.set(codec.id, codec);
}

/**
 * Looks a codec up by name ("zstd") or on-disk id (1).
 * @throws UnsupportedError E_CODEC_UNKNOWN when nothing is registered under it.
 * @example getCodec("zstd").compress(raw, 19)
 */
export function getCodec(nameOrId: string | number): Codec {
  const codec = typeof nameOrId === "number" ? byId.get(nameOrId) : byName.get(nameOrId);
  if (codec === undefined) {
    const valid = typeof nameOrId === "string" ? ` (valid: ${codecNames().join(", ")})` : "";
    throw new UnsupportedError(
      "E_CODEC_UNKNOWN",
      `unknown codec ${JSON.stringify(nameOrId)}${valid}`,
      {
        codec: nameOrId,
      },
    );
  }
  return codec;
}

/** Names of every registered codec, in id order. */
export function codecNames(): CodecName[] {
  return [...byId.values()].sort((a, b) => a.id - b.id).map((c) => c.name);
}
